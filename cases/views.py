from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from reoffending.pagination import CappedPaginator

from . import services
from .audit import log_access
from .filters import CaseFilter
from .forms import (
    AccessLogFilterForm,
    AppointmentForm,
    AppointmentOutcomeForm,
    CaseNoteForm,
    CohortMembershipForm,
    EndMembershipForm,
    EnforcementForm,
    OffenceForm,
    OffenceOutcomeForm,
    OffenderForm,
    RagChangeForm,
    ShareForm,
    SupervisionForm,
)
from .models import AccessLogEntry, Appointment, CohortMembership, Offender, Role
from .sections import case_sections

CASES_PER_PAGE = 25
# Lists stop counting here and ask the user to narrow the search (see CappedPaginator).
CASE_LIST_CAP = 1000


def visible_offender_or_404(user, pk):
    """The person, if the user's agency may see them; otherwise 404 so existence is not disclosed."""
    return get_object_or_404(
        Offender.objects.visible_to(user).select_related("area", "lead_agency", "lead_offender_manager"), pk=pk
    )


def offender_for_casework(user, pk):
    """The person, if the user may work on the case: 404 when unseen, 403 when the role may not change it."""
    offender = visible_offender_or_404(user, pk)
    if not Offender.objects.editable_by(user).filter(pk=pk).exists():
        raise PermissionDenied("Your role cannot change this case.")
    return offender


def apply_validation_error(form, error):
    """Show a service's ValidationError on the form, against the field it names where the form has it."""
    if hasattr(error, "error_dict"):
        for field, field_errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, field_errors)
    else:
        form.add_error(None, error)


def require_people_access(user):
    if not user.sees_people:
        raise PermissionDenied("Your role gives access to aggregate figures only.")


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
    return render(request, "cases/offender_list.html", {"filter": case_filter, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def case_create(request):
    if not (request.user.is_superuser or request.user.does_casework):
        raise PermissionDenied("Your role cannot create cases.")
    form = OffenderForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            offender = services.create_offender(
                request.user, aliases=form.cleaned_data["aliases"], **form.model_fields()
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, f"Case created for {offender.full_name}.")
            return redirect(offender)
    return render(request, "cases/offender_form.html", {"form": form, "title": "Add a person"})


@login_required
def case_detail(request, pk):
    offender = visible_offender_or_404(request.user, pk)
    user = request.user
    memberships = offender.cohort_memberships.all()
    rag_history = offender.rag_changes.select_related("changed_by", "agency")
    appointments = offender.appointments.select_related("agency", "staff")[:20]
    one_month_ago = timezone.now() - timezone.timedelta(days=30)
    appointment_counts = offender.appointments.aggregate(
        missed=Count("pk", filter=Q(outcome=Appointment.Outcome.MISSED)),
        missed_last_month=Count(
            "pk", filter=Q(outcome=Appointment.Outcome.MISSED, scheduled_at__gte=one_month_ago)
        ),
        total=Count("pk"),
    )
    notes = offender.notes.readable_by(user).select_related("author", "agency")[:50]
    sections = [
        {"section": section, "context": section.context(offender, user)} for section in case_sections()
    ]
    log_access(user, AccessLogEntry.Action.VIEW, offender)
    return render(
        request,
        "cases/offender_detail.html",
        {
            "offender": offender,
            "memberships": memberships,
            "rag_history": rag_history,
            "appointments": appointments,
            "appointment_counts": appointment_counts,
            "supervisions": offender.supervisions.select_related("responsible_agency"),
            "offences": offender.offences.all(),
            "enforcement_actions": offender.enforcement_actions.select_related("agency"),
            "notes": notes,
            "aliases": offender.aliases.all(),
            "sections": sections,
            "can_work": user.works_on_visible_cases,
            "can_edit_details": services.can_edit_personal_details(user, offender),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_edit(request, pk):
    offender = visible_offender_or_404(request.user, pk)
    if not services.can_edit_personal_details(request.user, offender):
        raise PermissionDenied("Only the lead agency can change this person's details.")
    form = OffenderForm(request.POST or None, instance=offender, user=request.user)
    try:
        version = int(request.POST.get("version", offender.version))
    except (TypeError, ValueError):
        version = 0  # a mangled version can only be treated as out of date
    if request.method == "POST" and form.is_valid():
        try:
            services.update_offender(
                request.user, Offender.objects.get(pk=pk), expected_version=version,
                aliases=form.cleaned_data["aliases"], **form.model_fields(),
            )
        except services.ConcurrentEditError as conflict:
            form.add_error(
                None,
                f"{conflict.current.full_name}'s record was changed by someone else at "
                f"{timezone.localtime(conflict.current.updated_at):%H:%M on %d %B %Y} after you opened it. "
                "Your changes have not been saved. Reload the page to see the latest details.",
            )
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, "Personal details updated.")
            return redirect(offender)
    return render(
        request, "cases/offender_form.html",
        {"form": form, "title": f"Change details of {offender.full_name}", "offender": offender, "version": version},
    )


def casework_form_view(request, pk, form_class, perform, *, title, success_message, instance_kwargs=None):
    """A case form: show it, validate it, hand the cleaned data to a service, report the outcome."""
    offender = offender_for_casework(request.user, pk)
    form = form_class(request.POST or None, **(instance_kwargs or {}))
    if request.method == "POST" and form.is_valid():
        try:
            perform(offender, form.cleaned_data)
        except ValidationError as error:
            apply_validation_error(form, error)
        else:
            messages.success(request, success_message)
            return redirect(offender)
    return render(request, "cases/case_form.html", {"form": form, "title": title, "offender": offender})


@login_required
@require_http_methods(["GET", "POST"])
def membership_create(request, pk):
    def perform(offender, data):
        services.enrol_in_cohort(request.user, offender, **data)

    return casework_form_view(request, pk, CohortMembershipForm, perform,
                              title="Add to a cohort", success_message="Cohort membership added.")


@login_required
@require_http_methods(["GET", "POST"])
def membership_end(request, pk, membership_pk):
    offender = offender_for_casework(request.user, pk)
    membership = get_object_or_404(offender.cohort_memberships, pk=membership_pk, ended_on__isnull=True)

    def perform(offender, data):
        services.end_cohort_membership(request.user, membership, **data)

    return casework_form_view(request, pk, EndMembershipForm, perform,
                              title=f"End {membership.description} membership",
                              success_message="Cohort membership ended.")


@login_required
@require_http_methods(["GET", "POST"])
def rag_change(request, pk):
    seen = visible_offender_or_404(request.user, pk).rag_status

    def perform(offender, data):
        shown = data.pop("status_seen", None)
        expected = None if shown is None else ("" if shown == RagChangeForm.NO_STATUS else shown)
        try:
            services.record_rag_change(request.user, offender, expected_status=expected, **data)
        except services.ConcurrentEditError as conflict:
            current = conflict.current.get_rag_status_display() or "not set"
            raise ValidationError(
                f"Someone else changed the RAG status to {current} after you opened this page. "
                "Your change has not been saved. Check the RAG history before trying again."
            ) from conflict

    return casework_form_view(request, pk, RagChangeForm, perform,
                              title="Change RAG status", success_message="RAG status changed.",
                              instance_kwargs={"initial": {"status_seen": seen or RagChangeForm.NO_STATUS}})


@login_required
@require_http_methods(["GET", "POST"])
def supervision_create(request, pk):
    def perform(offender, data):
        services.add_supervision(request.user, offender, **data)

    return casework_form_view(request, pk, SupervisionForm, perform,
                              title="Add a sentence or order", success_message="Sentence or order added.")


@login_required
@require_http_methods(["GET", "POST"])
def appointment_create(request, pk):
    def perform(offender, data):
        services.record_appointment(request.user, offender, staff=request.user, **data)

    return casework_form_view(request, pk, AppointmentForm, perform,
                              title="Record a contact or appointment", success_message="Appointment recorded.")


@login_required
@require_http_methods(["GET", "POST"])
def appointment_outcome(request, pk, appointment_pk):
    offender = offender_for_casework(request.user, pk)
    appointment = get_object_or_404(offender.appointments, pk=appointment_pk)

    def perform(offender, data):
        services.record_appointment_outcome(request.user, appointment, **data)

    return casework_form_view(request, pk, AppointmentOutcomeForm, perform,
                              title="Record the outcome of an appointment",
                              success_message="Appointment outcome recorded.",
                              instance_kwargs={"instance": appointment})


@login_required
@require_http_methods(["GET", "POST"])
def note_create(request, pk):
    def perform(offender, data):
        services.add_case_note(request.user, offender, **data)

    return casework_form_view(request, pk, CaseNoteForm, perform,
                              title="Add a case note", success_message="Note added.")


@login_required
@require_http_methods(["GET", "POST"])
def share(request, pk):
    def perform(offender, data):
        services.share_with_agency(request.user, offender, data["agency"], reason=data["reason"])

    return casework_form_view(request, pk, ShareForm, perform,
                              title="Share this case with another agency",
                              success_message="Case shared.", instance_kwargs={"user": request.user})


@login_required
@require_http_methods(["GET", "POST"])
def offence_create(request, pk):
    def perform(offender, data):
        services.record_offence(request.user, offender, **data)

    return casework_form_view(request, pk, OffenceForm, perform,
                              title="Record an offence", success_message="Offence recorded.")


@login_required
@require_http_methods(["GET", "POST"])
def offence_outcome(request, pk, offence_pk):
    offender = offender_for_casework(request.user, pk)
    offence = get_object_or_404(offender.offences, pk=offence_pk)

    def perform(offender, data):
        services.record_offence_outcome(request.user, offence, **data)

    return casework_form_view(request, pk, OffenceOutcomeForm, perform,
                              title="Record the outcome of an offence", success_message="Outcome recorded.")


@login_required
@require_http_methods(["GET", "POST"])
def enforcement_create(request, pk):
    def perform(offender, data):
        services.record_enforcement(request.user, offender, **data)

    return casework_form_view(request, pk, EnforcementForm, perform,
                              title="Record enforcement action", success_message="Enforcement action recorded.")


@login_required
def access_log(request):
    """The agency's own access log, for agency administrators (everyone's, for superusers)."""
    user = request.user
    if not (user.is_superuser or user.role == Role.AGENCY_ADMIN):
        raise PermissionDenied("Only agency administrators can read the access log.")
    entries = AccessLogEntry.objects.all()
    if not user.is_superuser:
        entries = entries.filter(agency_id=user.agency_id)
    form = AccessLogFilterForm(request.GET or None)
    if form.is_valid():
        data = form.cleaned_data
        if data["person"]:
            entries = entries.filter(offender_id=data["person"])
        if data["username"]:
            entries = entries.filter(username__iexact=data["username"])
        if data["date_from"]:
            entries = entries.filter(occurred_at__date__gte=data["date_from"])
        if data["date_to"]:
            entries = entries.filter(occurred_at__date__lte=data["date_to"])
    page = CappedPaginator(entries, 50).get_page(request.GET.get("page"))
    return render(request, "cases/access_log.html", {"form": form, "page": page})
