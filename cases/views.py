import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from web.pagination import CappedPaginator
from web.shortcuts import form_page, posted_version
from web.widgets import aware_datetime

from . import overview, services
from .access import person_for_casework, person_or_404, require_people_access
from .access_log import (
    agency_entries,
    filter_entries,
    may_read_agency_access_log,
    may_read_person_access_log,
    readable_page,
)
from .audit import log_access
from .compliance import compliance_for
from .filters import CaseFilter
from .forms import (
    AccessLogFilterForm,
    ActivityFilterForm,
    AppointmentForm,
    AppointmentOutcomeForm,
    CaseNoteForm,
    CohortMembershipForm,
    ConcludeEnforcementForm,
    EndMembershipForm,
    EnforcementForm,
    OffenceForm,
    OffenceOutcomeForm,
    OffenderForm,
    PersonAccessLogFilterForm,
    RagChangeForm,
    ShareForm,
    SupervisionForm,
    WithdrawShareForm,
)
from .models import AccessLogEntry, CohortMembership, EnforcementAction, Offender
from .sections import get_case_section
from .timeline import describe_page, timeline

CASES_PER_PAGE = 25
# Lists stop counting here and ask the user to narrow the search (see CappedPaginator).
CASE_LIST_CAP = 1000


@login_required
def case_list(request):
    require_people_access(request.user)
    visible = Offender.objects.visible_to(request.user)
    case_filter = CaseFilter(request.GET or None, queryset=visible, user=request.user)
    people = case_filter.qs.select_related("area", "lead_agency", "lead_offender_manager").prefetch_related(
        Prefetch(
            "cohort_memberships",
            queryset=CohortMembership.objects.filter(ended_on__isnull=True).order_by("cohort"),
            to_attr="open_memberships",
        )
    )
    page = CappedPaginator(people, CASES_PER_PAGE, cap=CASE_LIST_CAP).get_page(request.GET.get("page"))
    if case_filter.form.is_bound and (request.GET.get("q") or "").strip():
        log_access(
            request.user, AccessLogEntry.Action.SEARCH, object_type="cases.offender",
            detail=f"Searched for: {request.GET['q'][:200]}",
        )
    paginator = page.paginator
    caption = (f"More than {paginator.cap:,} people" if paginator.more_than_cap
               else f"{paginator.count:,} {'person' if paginator.count == 1 else 'people'}")
    return render(request, "cases/offender_list.html", {"filter": case_filter, "page": page, "caption": caption})


@login_required
@require_http_methods(["GET", "POST"])
def case_create(request):
    if not (request.user.is_superuser or request.user.does_casework):
        raise PermissionDenied("Your role cannot create cases.")
    form = OffenderForm(request.POST or None, user=request.user)

    def perform(data):
        return services.create_offender(request.user, aliases=data["aliases"], **form.model_fields())

    return form_page(request, form, perform, template="cases/offender_form.html", context={"title": "Add a person"},
                     success_message=lambda offender: f"Case created for {offender.full_name}.",
                     success_url=lambda offender: offender)


def case_page(request, offender, current, template, context, *, title=""):
    """A page of the case under its sub-navigation, logged as a consultation of the person's record."""
    log_access(request.user, AccessLogEntry.Action.VIEW, offender, detail=title or "Overview")
    return render(request, template, {"offender": offender, "current": current, "section_title": title,
                                      "can_work": request.user.works_on_visible_cases, **context})


@login_required
def case_detail(request, pk):
    """The case overview: summary cards and what needs attention, each section a tab away."""
    offender = person_or_404(request.user, pk)
    return case_page(request, offender, "overview", "cases/overview.html", overview.overview_context(
        offender, request.user
    ))


@login_required
def case_personal(request, pk):
    offender = person_or_404(request.user, pk)
    user = request.user
    shares = offender.shares.select_related("agency", "shared_by", "shared_by_agency", "withdrawn_by")
    return case_page(request, offender, "personal", "cases/personal.html", {
        "aliases": offender.aliases.all(),
        "memberships": offender.cohort_memberships.all(),
        "shares": [{"share": share, "can_withdraw": share.withdrawn_at is None and services.can_withdraw_share(
            user, share)} for share in shares],
        "can_edit_details": services.can_edit_personal_details(user, offender),
        "can_read_access_log": may_read_person_access_log(user, offender),
    }, title="Personal details")


APPOINTMENTS_ON_SENTENCE_PAGE = 20


@login_required
def case_sentence(request, pk):
    offender = person_or_404(request.user, pk)
    user = request.user
    appointments = list(offender.appointments.select_related("agency", "staff")[:APPOINTMENTS_ON_SENTENCE_PAGE + 1])
    return case_page(request, offender, "sentence", "cases/sentence.html", {
        "compliance": compliance_for(offender),
        "supervisions": offender.supervisions.select_related("responsible_agency").prefetch_related("requirements"),
        "appointments": appointments[:APPOINTMENTS_ON_SENTENCE_PAGE],
        "more_appointments": len(appointments) > APPOINTMENTS_ON_SENTENCE_PAGE,
        "offences": offender.offences.all(),
        "enforcement_actions": offender.enforcement_actions.select_related("agency"),
        "user_agency_id": user.agency_id,
        "is_superuser": user.is_superuser,
    }, title="Sentence and compliance")


ACTIVITY_PER_PAGE = 25


@login_required
def case_activity(request, pk):
    """Everything recorded about the person, newest first, filtered by keywords, dates, compliance and kind."""
    offender = person_or_404(request.user, pk)
    form = ActivityFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    day = datetime.timedelta(days=1)
    rows = timeline(
        offender, request.user, categories=filters.get("category") or (), keywords=filters.get("q", ""),
        since=aware_datetime(filters["date_from"], datetime.time()) if filters.get("date_from") else None,
        until=aware_datetime(filters["date_to"] + day, datetime.time()) if filters.get("date_to") else None,
        compliance=filters.get("compliance", ""),
    )
    page = Paginator(rows if rows is not None else [], ACTIVITY_PER_PAGE).get_page(request.GET.get("page"))
    return case_page(request, offender, "activity", "cases/activity.html", {
        "form": form, "page": page, "entries": describe_page(list(page.object_list), offender),
    }, title="Activity log")


NOTES_PER_PAGE = 25


@login_required
def case_notes(request, pk):
    offender = person_or_404(request.user, pk)
    notes = offender.notes.readable_by(request.user).select_related("author", "agency")
    page = CappedPaginator(notes, NOTES_PER_PAGE).get_page(request.GET.get("page"))
    return case_page(request, offender, "notes", "cases/notes.html", {"page": page}, title="Notes")


@login_required
def case_section(request, pk, key):
    """A section another app adds to the case (`cases.sections`), on a page of its own."""
    section = get_case_section(key)
    if section is None or section.context is None:
        raise Http404("No such section.")
    offender = person_or_404(request.user, pk)
    return case_page(request, offender, key, "cases/section.html", {
        "section_template": section.template_name, "section": section.context(offender, request.user),
    }, title=section.title)


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request, pk):
    offender = person_or_404(request.user, pk)
    if not services.can_edit_personal_details(request.user, offender):
        raise PermissionDenied("Only the lead agency can change this person's details.")
    form = OffenderForm(request.POST or None, instance=offender, user=request.user)
    version = posted_version(request, offender.version)

    def perform(data):
        return services.update_offender(request.user, Offender.objects.get(pk=pk), expected_version=version,
                                        aliases=data["aliases"], **form.model_fields())

    return form_page(request, form, perform, template="cases/offender_form.html",
                     context={"title": f"Change details of {offender.full_name}", "offender": offender,
                              "version": version},
                     success_message="Personal details updated.", success_url=offender)


def casework_view(form_class, change, *, title, success_message, record=None, form_kwargs=None, success_url=None,
                  template="cases/case_form.html", context=None):
    """A page with one form that changes the case, back to the case once the change is made.

    `change(user, target, **cleaned_data)` is the service; the target is the person or, with
    `record(offender, **url_kwargs)`, one of the case's own records (404 when it is not theirs).
    `title` may be a callable of the target, and `form_kwargs(request, target)` gives the form's own
    arguments. `success_url(offender, result)` says where to go next (the case overview unless given);
    `context(request, target)` adds to what `template` is shown with.
    """

    @login_required
    @require_http_methods(["GET", "POST"])
    def view(request, pk, **url_kwargs):
        offender = person_for_casework(request.user, pk)
        target = record(offender, **url_kwargs) if record else offender
        form = form_class(request.POST or None, **(form_kwargs(request, target) if form_kwargs else {}))
        return form_page(
            request, form, lambda data: change(request.user, target, **data), template=template,
            context={"title": title(target) if callable(title) else title, "offender": offender,
                     **(context(request, target) if context else {})},
            success_message=success_message,
            success_url=(lambda result: success_url(offender, result)) if success_url else offender,
        )

    return view


def own_appointment(request, appointment):
    """An appointment's outcome is recorded by the agency that holds it (403 for anyone else)."""
    if not services.may_record_appointment_outcome(request.user, appointment):
        raise PermissionDenied(f"Only {appointment.agency}, which holds this appointment, can record its outcome.")
    return {"instance": appointment}


def withdrawable_share(request, share):
    if not services.can_withdraw_share(request.user, share):
        raise PermissionDenied("Only the agency that shared the case or the lead agency can withdraw the share.")
    return {}


def to_appointment(offender, appointment):
    return reverse("cases:appointment_detail", args=[offender.pk, appointment.pk])


def to_page(name, anchor=""):
    return lambda offender, _result: reverse(name, args=[offender.pk]) + anchor


membership_create = casework_view(
    CohortMembershipForm, services.enrol_in_cohort, title="Add to a cohort", success_message="Cohort membership added."
)
membership_end = casework_view(
    EndMembershipForm, services.end_cohort_membership,
    record=lambda offender, membership_pk: get_object_or_404(
        offender.cohort_memberships, pk=membership_pk, ended_on__isnull=True
    ),
    title=lambda membership: f"End {membership.description} membership", success_message="Cohort membership ended.",
)
rag_change = casework_view(
    RagChangeForm,
    lambda user, offender, *, status_seen, **data: services.record_rag_change(
        user, offender, expected_status=status_seen, **data
    ),
    form_kwargs=lambda request, offender: {"initial": {"status_seen": offender.rag_status or RagChangeForm.NO_STATUS}},
    title="Change RAG status", success_message="RAG status changed.",
)
supervision_create = casework_view(
    SupervisionForm, services.add_supervision, title="Add a sentence or order",
    success_message="Sentence or order added.",
)
appointment_create = casework_view(
    AppointmentForm, lambda user, offender, **data: services.record_appointment(user, offender, staff=user, **data),
    title="Record a contact or appointment", success_message="Appointment recorded.", success_url=to_appointment,
)
appointment_outcome = casework_view(
    AppointmentOutcomeForm, services.record_appointment_outcome,
    record=lambda offender, appointment_pk: get_object_or_404(
        offender.appointments.select_related("agency"), pk=appointment_pk
    ),
    form_kwargs=own_appointment, template="cases/appointment_outcome.html",
    context=lambda request, appointment: {"appointment": appointment, "compliance": compliance_for(
        appointment.offender
    )},
    title="Record the outcome of an appointment", success_message="Appointment outcome recorded.",
    success_url=to_appointment,
)
note_create = casework_view(
    CaseNoteForm, services.add_case_note, title="Add a case note", success_message="Note added."
)
share = casework_view(
    ShareForm, services.share_with_agency, form_kwargs=lambda request, offender: {"user": request.user},
    title="Share this case with another agency", success_message=lambda share: f"Case shared with {share.agency}.",
    success_url=to_page("cases:personal", "#sharing"),
)
share_withdraw = casework_view(
    WithdrawShareForm, services.withdraw_share,
    record=lambda offender, share_pk: get_object_or_404(
        offender.shares.select_related("agency", "offender"), pk=share_pk, withdrawn_at__isnull=True
    ),
    form_kwargs=withdrawable_share, title=lambda share: f"Withdraw the share with {share.agency}",
    success_message=lambda share: f"Share with {share.agency} withdrawn.",
    success_url=to_page("cases:personal", "#sharing"),
)
offence_create = casework_view(
    OffenceForm, services.record_offence, title="Record an offence", success_message="Offence recorded."
)
offence_outcome = casework_view(
    OffenceOutcomeForm, services.record_offence_outcome,
    record=lambda offender, offence_pk: get_object_or_404(offender.offences, pk=offence_pk),
    title="Record the outcome of an offence", success_message="Outcome recorded.",
)
enforcement_create = casework_view(
    EnforcementForm, services.record_enforcement, title="Record enforcement action",
    form_kwargs=lambda request, offender: {"initial": {"kind": request.GET.get("kind", "")}},
    success_message="Enforcement action recorded.", success_url=to_page("cases:sentence", "#enforcement"),
)
enforcement_conclude = casework_view(
    ConcludeEnforcementForm, services.conclude_enforcement,
    record=lambda offender, enforcement_pk: get_object_or_404(
        offender.enforcement_actions.filter(kind__in=EnforcementAction.ENFORCEMENT_OF_ORDER_KINDS),
        pk=enforcement_pk, concluded_on__isnull=True,
    ),
    title=lambda enforcement: f"Record the conclusion of the {enforcement.get_kind_display().lower()}",
    success_message="Conclusion recorded.", success_url=to_page("cases:sentence", "#enforcement"),
)


@login_required
def appointment_detail(request, pk, appointment_pk):
    """One appointment and its outcome. After a failure to comply that makes two within 12 months, the
    page prompts the practitioner to consider breach (or recall): it links to the enforcement form and
    never starts enforcement itself."""
    offender = person_or_404(request.user, pk)
    appointment = get_object_or_404(offender.appointments.select_related("agency", "staff"), pk=appointment_pk)
    compliance = compliance_for(offender)
    return case_page(request, offender, "sentence", "cases/appointment_detail.html", {
        "appointment": appointment,
        "compliance": compliance,
        "prompt": appointment.is_failure_to_comply and compliance.should_consider_enforcement,
        "may_record_outcome": services.may_record_appointment_outcome(request.user, appointment),
    }, title=f"{appointment.get_kind_display()} on {timezone.localtime(appointment.scheduled_at):%-d %B %Y}")


ACCESS_LOG_PER_PAGE = 50


@login_required
def access_log(request):
    """For agency administrators: what their staff did, and who from any agency viewed or changed the
    people their agency leads (everything, for system administrators)."""
    user = request.user
    if not may_read_agency_access_log(user):
        raise PermissionDenied("Only agency administrators can read the access log.")
    form = AccessLogFilterForm(request.GET or None)
    entries = agency_entries(user).select_related("user", "agency")
    if form.is_valid():
        entries = filter_entries(entries, form.cleaned_data)
    page = CappedPaginator(entries, ACCESS_LOG_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "cases/access_log.html", {
        "form": form, "page": page, "rows": readable_page(page.object_list, user),
    })


@login_required
def person_access_log(request, pk):
    """Who from any agency has viewed or changed this person, for the lead agency."""
    offender = person_or_404(request.user, pk)
    if not may_read_person_access_log(request.user, offender):
        raise PermissionDenied("Only the lead agency can see who has viewed or changed this person's record.")
    form = PersonAccessLogFilterForm(request.GET or None)
    entries = AccessLogEntry.objects.filter(offender_id=offender.pk).select_related("user", "agency")
    if form.is_valid():
        entries = filter_entries(entries, form.cleaned_data)
    page = CappedPaginator(entries, ACCESS_LOG_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "cases/person_access_log.html", {
        "offender": offender, "current": "personal", "form": form, "page": page,
        "rows": readable_page(page.object_list, request.user),
    })
