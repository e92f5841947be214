import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cases.access import person_for_casework, person_or_404, require_people_access
from cases.audit import log_access, log_many
from cases.models import AccessLogEntry, Offender
from web.pagination import CappedPaginator
from web.shortcuts import form_page, posted_version, submit

from . import services
from .forms import (
    AccommodationStatusForm,
    ActionForm,
    ActionUpdateForm,
    BenefitStatusForm,
    EteStatusForm,
    NeedsAssessmentForm,
    ReferralForm,
    ReferralUpdateForm,
    TreatmentEngagementForm,
)
from .models import (
    AccommodationStatus,
    Action,
    BenefitStatus,
    EteStatus,
    NeedAssessment,
    Pathway,
    Referral,
    Service,
    TreatmentEngagement,
    current_needs,
)

Log = AccessLogEntry.Action
ACTIONS_PER_PAGE = 50
DUE_SOON_DAYS = 14


def pathways_url(offender, anchor=""):
    return reverse("pathways:person", args=[offender.pk]) + (f"#{anchor}" if anchor else "")


@login_required
def person(request, pk):
    """Everything on the person's resettlement pathways: needs with history, actions, statuses and referrals."""
    offender = person_or_404(request.user, pk)
    user = request.user
    can_work = Offender.objects.editable_by(user).filter(pk=pk).exists()
    assessments = list(
        NeedAssessment.objects.filter(offender=offender).select_related("pathway", "assessed_by", "agency")
        .order_by("pathway__order", "pathway__name", "-assessed_on", "-pk")
    )
    current = current_needs(offender)
    actions = list(
        Action.objects.filter(offender=offender).select_related("pathway", "owner_agency", "owner")
        .order_by("pathway__order", "due_on", "pk")
    )
    today = timezone.localdate()
    # One check per owning agency (a handful), not per action.
    owners = {action.owner_agency_id: action.owner_agency for action in actions}
    blind = {pk for pk, agency in owners.items() if not services.agency_can_see(agency, offender)}
    for action in actions:
        action.editable = can_work and (user.is_superuser or action.owner_agency_id == user.agency_id)
        action.is_late = action.is_overdue(today)
        action.owner_cannot_see = action.owner_agency_id in blind
    pathways = list(Pathway.objects.filter(Q(retired=False) | Q(pk__in={a.pathway_id for a in assessments})))
    log_access(user, Log.VIEW, offender, object_type="pathways.pathways", detail="Resettlement pathways")
    return render(request, "pathways/person.html", {
        "offender": offender,
        "can_work": can_work,
        "rows": [{"pathway": p, "need": current.get(p.pk)} for p in pathways],
        "assessments": assessments,
        "actions": actions,
        "accommodation": AccommodationStatus.objects.filter(offender=offender).select_related("agency"),
        "ete": EteStatus.objects.filter(offender=offender).select_related("agency"),
        "benefits": BenefitStatus.objects.filter(offender=offender).select_related("agency"),
        "treatment": TreatmentEngagement.objects.filter(offender=offender).select_related("agency", "provider"),
        "referrals": Referral.objects.filter(offender=offender).select_related(
            "service__pathway", "service__provider", "referring_agency"
        ),
    })


def person_form_page(request, offender, form, perform, *, title, anchor, success_message):
    """A form about one person's pathways, back to their pathways page (at `anchor`) once it is saved."""
    return form_page(request, form, perform, template="pathways/form.html",
                     context={"offender": offender, "title": title},
                     success_message=success_message, success_url=pathways_url(offender, anchor))


@login_required
@require_http_methods(["GET", "POST"])
def assess(request, pk):
    offender = person_for_casework(request.user, pk)
    form_class = NeedsAssessmentForm.for_pathways(Pathway.objects.in_use(), current_needs(offender))
    form = form_class(request.POST or None)

    def perform(data):
        return services.record_needs(request.user, offender, levels=form.levels(), assessed_on=data["assessed_on"])

    def outcome(created):
        if not created:
            return messages.INFO, "Nothing changed since the last assessment, so nothing new was recorded."
        return f"Needs assessed on {len(created)} {'pathway' if len(created) == 1 else 'pathways'}."

    return submit(request, form, perform, success_message=outcome,
                  success_url=pathways_url(offender, "needs")) or render(
        request, "pathways/assess.html",
        {"form": form, "offender": offender, "title": "Assess needs across the pathways"},
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_create(request, pk):
    offender = person_for_casework(request.user, pk)
    initial = {"owner_agency": request.user.agency_id}
    pathway_key = request.GET.get("pathway")
    if pathway_key:
        initial["pathway"] = Pathway.objects.in_use().filter(key=pathway_key).values_list("pk", flat=True).first()
    form = ActionForm(request.POST or None, initial=initial)

    def perform(data):
        need = NeedAssessment.objects.filter(offender=offender, pathway=data["pathway"]).current().first()
        return services.create_action(request.user, offender, need=need, **data)

    return person_form_page(request, offender, form, perform, title="Add an action", anchor="actions",
                            success_message=lambda action: f"Action added for {action.owner_agency}.")


def owner_update_page(request, record, form, update, *, editable, refusal, template, context, anchor,
                      success_message):
    """A record its owners keep up to date (an action, a referral); everyone else who may see the person reads it.

    `update(user, record, expected_version=..., **cleaned_data)` is the service. The form carries the
    version the page was opened on, so a save by someone else in between is refused on the form.
    """
    if request.method == "POST" and not editable:
        raise PermissionDenied(refusal)
    version = posted_version(request, record.version)
    form = form if editable else None
    if form is not None:
        response = submit(
            request, form, lambda data: update(request.user, record, expected_version=version, **data),
            success_message=success_message, success_url=pathways_url(record.offender, anchor),
        )
        if response is not None:
            return response
    if request.method == "GET":
        log_access(request.user, Log.VIEW, record, offender=record.offender_id)
    return render(request, template, {
        **context, "offender": record.offender, "form": form, "version": version, "editable": editable,
    })


@login_required
@require_http_methods(["GET", "POST"])
def action_detail(request, pk):
    """The action; its owner agency updates it here, everyone else who may see the person reads it."""
    action = get_object_or_404(
        Action.objects.visible_to(request.user).select_related(
            "offender", "pathway", "owner_agency", "owner", "need", "created_by"
        ),
        pk=pk,
    )
    return owner_update_page(
        request, action, ActionUpdateForm(request.POST or None, action=action), services.update_action,
        editable=services.can_update_action(request.user, action),
        refusal="Only the agency that owns this action can change it.",
        template="pathways/action_detail.html",
        context={"action": action, "referrals": action.referrals.select_related("service")},
        anchor="actions", success_message="Action updated.",
    )


STATUS_KINDS = {
    "accommodation": (AccommodationStatusForm, services.record_accommodation_status, "Record accommodation"),
    "ete": (EteStatusForm, services.record_ete_status, "Record education, training and employment"),
    "benefits": (BenefitStatusForm, services.record_benefit_status, "Record benefits"),
    "treatment": (TreatmentEngagementForm, services.record_treatment_engagement, "Record drug or alcohol treatment"),
}


@login_required
@require_http_methods(["GET", "POST"])
def status_create(request, pk, kind):
    if kind not in STATUS_KINDS:
        raise Http404("No such status.")
    form_class, record, title = STATUS_KINDS[kind]
    offender = person_for_casework(request.user, pk)
    form = form_class(request.POST or None, initial={"effective_on": timezone.localdate()})
    return person_form_page(request, offender, form, lambda data: record(request.user, offender, **data),
                            title=title, anchor="statuses", success_message="Status recorded.")


@login_required
@require_http_methods(["GET", "POST"])
def referral_create(request, pk):
    offender = person_for_casework(request.user, pk)
    form = ReferralForm(request.POST or None, offender=offender)
    return person_form_page(
        request, offender, form, lambda data: services.record_referral(request.user, offender, **data),
        title="Refer to a service", anchor="referrals",
        success_message=lambda referral: f"Referral to {referral.service} recorded.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def referral_detail(request, pk):
    referral = get_object_or_404(
        Referral.objects.visible_to(request.user).select_related(
            "offender", "service__pathway", "service__provider", "referring_agency", "referred_by", "action"
        ),
        pk=pk,
    )
    return owner_update_page(
        request, referral, ReferralUpdateForm(request.POST or None, referral=referral), services.update_referral,
        editable=services.can_update_referral(request.user, referral),
        refusal="Only the referring agency or the service provider can update this referral.",
        template="pathways/referral_detail.html", context={"referral": referral},
        anchor="referrals", success_message="Referral updated.",
    )


@login_required
def my_actions(request):
    """Open actions owned by the user, or by their agency, on people they may see: overdue first, then by due date."""
    user = request.user
    require_people_access(user)
    whose = "agency" if request.GET.get("whose") == "agency" else "mine"
    due = request.GET.get("due") if request.GET.get("due") in {"overdue", "soon"} else "open"
    today = timezone.localdate()
    soon = today + datetime.timedelta(days=DUE_SOON_DAYS)

    actions = Action.objects.visible_to(user).open()
    actions = actions.filter(owner_agency_id=user.agency_id) if whose == "agency" else actions.filter(owner=user)
    counts = actions.aggregate(
        open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)),
        soon=Count("pk", filter=Q(due_on__gte=today, due_on__lte=soon)),
    )
    if due == "overdue":
        actions = actions.filter(due_on__lt=today)
    elif due == "soon":
        actions = actions.filter(due_on__lte=soon)
    actions = actions.select_related("offender", "pathway", "owner", "owner_agency").order_by("due_on", "pk")
    listed = {"open": counts["open"], "overdue": counts["overdue"], "soon": counts["overdue"] + counts["soon"]}[due]
    page = CappedPaginator(actions, ACTIONS_PER_PAGE, known_count=listed).get_page(request.GET.get("page"))
    for action in page.object_list:
        action.is_late = action.due_on < today
    people = {action.offender_id: action.offender for action in page.object_list}
    log_many(user, Log.VIEW, people.values(), detail="My actions list")
    paginator = page.paginator
    listed_text = f"More than {paginator.cap:,}" if paginator.more_than_cap else f"{paginator.count:,}"
    caption = f"{listed_text} action{'' if paginator.count == 1 else 's'}, earliest due first"
    return render(request, "pathways/my_actions.html", {
        "page": page, "whose": whose, "due": due, "counts": counts, "today": today, "soon_days": DUE_SOON_DAYS,
        "caption": caption,
    })


@login_required
def service_directory(request):
    """The partnership's service directory (no personal data)."""
    services_list = Service.objects.in_use().filter(pathway__retired=False).select_related(
        "pathway", "provider", "area"
    )
    return render(request, "pathways/services.html", {"services": services_list})
