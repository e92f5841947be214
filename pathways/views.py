import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cases.audit import log_access, log_many
from cases.models import AccessLogEntry, Offender
from cases.views import apply_validation_error, offender_for_casework, require_people_access, visible_offender_or_404
from reoffending.pagination import CappedPaginator

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


def version_from(request, default):
    try:
        return int(request.POST.get("version", default))
    except (TypeError, ValueError):
        return 0  # a mangled version can only be treated as out of date


@login_required
def person(request, pk):
    """Everything on the person's resettlement pathways: needs with history, actions, statuses and referrals."""
    offender = visible_offender_or_404(request.user, pk)
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


@login_required
@require_http_methods(["GET", "POST"])
def assess(request, pk):
    offender = offender_for_casework(request.user, pk)
    form_class = NeedsAssessmentForm.for_pathways(Pathway.objects.in_use(), current_needs(offender))
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.record_needs(
                request.user, offender, levels=form.levels(), assessed_on=form.cleaned_data["assessed_on"]
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            if created:
                noun = "pathway" if len(created) == 1 else "pathways"
                messages.success(request, f"Needs assessed on {len(created)} {noun}.")
            else:
                messages.info(request, "Nothing changed since the last assessment, so nothing new was recorded.")
            return redirect(pathways_url(offender, "needs"))
    return render(request, "pathways/assess.html", {"form": form, "offender": offender,
                                                    "title": "Assess needs across the pathways"})


@login_required
@require_http_methods(["GET", "POST"])
def action_create(request, pk):
    offender = offender_for_casework(request.user, pk)
    initial = {"owner_agency": request.user.agency_id}
    pathway_key = request.GET.get("pathway")
    if pathway_key:
        initial["pathway"] = Pathway.objects.in_use().filter(key=pathway_key).values_list("pk", flat=True).first()
    form = ActionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        need = NeedAssessment.objects.filter(offender=offender, pathway=data["pathway"]).current().first()
        try:
            action = services.create_action(
                request.user, offender, pathway=data["pathway"], description=data["description"],
                owner_agency=data["owner_agency"], owner=data["owner"], due_on=data["due_on"], need=need,
                share_with_owner=data["share_with_owner"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Action added for {action.owner_agency}.")
            return redirect(pathways_url(offender, "actions"))
    return render(request, "pathways/form.html", {"form": form, "offender": offender, "title": "Add an action"})


@login_required
@require_http_methods(["GET", "POST"])
def action_detail(request, pk):
    """The action; its owner agency updates it here, everyone else who may see the person reads it."""
    user = request.user
    action = get_object_or_404(
        Action.objects.visible_to(user).select_related(
            "offender", "pathway", "owner_agency", "owner", "need", "created_by"
        ),
        pk=pk,
    )
    editable = services.can_update_action(user, action)
    if request.method == "POST" and not editable:
        raise PermissionDenied("Only the agency that owns this action can change it.")
    version = version_from(request, action.version)
    form = ActionUpdateForm(request.POST or None, action=action) if editable else None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_action(user, action, expected_version=version, status=data["status"],
                                   outcome=data["outcome"], due_on=data["due_on"], owner=data["owner"])
        except services.ConcurrentEditError as conflict:
            form.add_error(None, (
                f"This action was changed by someone else at "
                f"{timezone.localtime(conflict.current.updated_at):%H:%M on %d %B %Y} after you opened it. "
                "Your changes have not been saved. Reload the page to see the latest version."
            ))
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Action updated.")
            return redirect(pathways_url(action.offender, "actions"))
    if request.method == "GET":
        log_access(user, Log.VIEW, action, offender=action.offender_id)
    return render(request, "pathways/action_detail.html", {
        "action": action, "offender": action.offender, "form": form, "version": version, "editable": editable,
        "referrals": action.referrals.select_related("service"),
    })


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
    offender = offender_for_casework(request.user, pk)
    form = form_class(request.POST or None, initial={"effective_on": timezone.localdate()})
    if request.method == "POST" and form.is_valid():
        try:
            record(request.user, offender, **form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Status recorded.")
            return redirect(pathways_url(offender, "statuses"))
    return render(request, "pathways/form.html", {"form": form, "offender": offender, "title": title})


@login_required
@require_http_methods(["GET", "POST"])
def referral_create(request, pk):
    offender = offender_for_casework(request.user, pk)
    form = ReferralForm(request.POST or None, offender=offender)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.record_referral(
                request.user, offender, service=data["service"], urgency=data["urgency"], reason=data["reason"],
                referred_at=data["referred_at"], share_with_provider=data["share_with_provider"],
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Referral to {referral.service} recorded.")
            return redirect(pathways_url(offender, "referrals"))
    return render(request, "pathways/form.html", {"form": form, "offender": offender, "title": "Refer to a service"})


@login_required
@require_http_methods(["GET", "POST"])
def referral_detail(request, pk):
    user = request.user
    referral = get_object_or_404(
        Referral.objects.visible_to(user).select_related(
            "offender", "service__pathway", "service__provider", "referring_agency", "referred_by", "action"
        ),
        pk=pk,
    )
    editable = services.can_update_referral(user, referral)
    if request.method == "POST" and not editable:
        raise PermissionDenied("Only the referring agency or the service provider can update this referral.")
    version = version_from(request, referral.version)
    form = ReferralUpdateForm(request.POST or None, referral=referral) if editable else None
    if request.method == "POST" and form.is_valid():
        try:
            services.update_referral(user, referral, expected_version=version, **form.cleaned_data)
        except services.ConcurrentEditError as conflict:
            form.add_error(None, (
                f"This referral was changed by someone else at "
                f"{timezone.localtime(conflict.current.updated_at):%H:%M on %d %B %Y} after you opened it. "
                "Your changes have not been saved. Reload the page to see the latest version."
            ))
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Referral updated.")
            return redirect(pathways_url(referral.offender, "referrals"))
    if request.method == "GET":
        log_access(user, Log.VIEW, referral, offender=referral.offender_id)
    return render(request, "pathways/referral_detail.html", {
        "referral": referral, "offender": referral.offender, "form": form, "version": version, "editable": editable,
    })


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
    return render(request, "pathways/my_actions.html", {
        "page": page, "whose": whose, "due": due, "counts": counts, "today": today, "soon_days": DUE_SOON_DAYS,
    })


@login_required
def service_directory(request):
    """The partnership's service directory (no personal data)."""
    services_list = Service.objects.in_use().filter(pathway__retired=False).select_related(
        "pathway", "provider", "area"
    )
    return render(request, "pathways/services.html", {"services": services_list})
