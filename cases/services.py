"""Operations that change case records.

Each function checks the user may make the change, runs in one transaction,
and writes the access log. The browser views and the API both call these.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, ProtectedError
from django.utils import timezone
from guardian.shortcuts import assign_perm

from .audit import log_access
from .models import (
    AccessLogEntry,
    Alias,
    Appointment,
    CaseNote,
    CohortMembership,
    EnforcementAction,
    Offence,
    Offender,
    RagChange,
    Role,
    Supervision,
)

Action = AccessLogEntry.Action


class ConcurrentEditError(Exception):
    """Somebody else saved the record after this user opened it."""

    def __init__(self, current):
        self.current = current
        super().__init__("This record was changed by someone else after you opened it.")


def ensure_casework_allowed(user, offender):
    """Refuse unless the user's role does case work and their agency may see the person."""
    if not Offender.objects.editable_by(user).filter(pk=offender.pk).exists():
        raise PermissionDenied("You cannot change this case.")


def can_edit_personal_details(user, offender):
    """Identity details belong to the lead agency, or to an agency granted change rights."""
    if user.is_superuser:
        return True
    if not user.does_casework:
        return False
    return offender.lead_agency_id == user.agency_id or user.has_perm("cases.change_offender", offender)


def _friendly_integrity_error(error):
    message = str(error)
    known = {
        "unique_pnc_number": ("pnc_number", "Another person already has this PNC number."),
        "unique_crn": ("crn", "Another person already has this CRN."),
        "unique_prison_number": ("prison_number", "Another person already has this prison number."),
        "one_open_membership_per_cohort": ("cohort", "The person is already on this cohort."),
    }
    for constraint, (field, text) in known.items():
        if constraint in message:
            return ValidationError({field: text})
    return ValidationError("The change could not be saved because it conflicts with existing records.")


@transaction.atomic
def create_offender(user, *, aliases=(), **fields):
    """Create a person led by the user's agency (unless another lead agency is given)."""
    if not (user.is_superuser or user.does_casework):
        raise PermissionDenied("Your role cannot create cases.")
    fields.setdefault("lead_agency_id", user.agency_id)
    offender = Offender(**fields)
    offender.full_clean()
    try:
        with transaction.atomic():
            offender.save()
    except IntegrityError as error:
        raise _friendly_integrity_error(error) from error
    for name in aliases:
        offender.aliases.create(name=name)
    log_access(user, Action.CREATE, offender)
    return offender


@transaction.atomic
def update_offender(user, offender, *, expected_version, aliases=None, **fields):
    """Change a person's details, refusing the save if someone else saved since `expected_version`."""
    if not can_edit_personal_details(user, offender) or not Offender.objects.visible_to(user).filter(
        pk=offender.pk
    ).exists():
        raise PermissionDenied("Only the lead agency can change this person's details.")
    for name, value in fields.items():
        setattr(offender, name, value)
    offender.full_clean()
    changed = list(fields)
    try:
        with transaction.atomic():
            updated = Offender.objects.filter(pk=offender.pk, version=expected_version).update(
                **fields, version=F("version") + 1, updated_at=timezone.now()
            )
    except IntegrityError as error:
        raise _friendly_integrity_error(error) from error
    if not updated:
        raise ConcurrentEditError(Offender.objects.get(pk=offender.pk))
    if aliases is not None:
        offender.aliases.all().delete()
        offender.aliases.bulk_create([Alias(offender=offender, name=name) for name in aliases])
        changed.append("aliases")
    offender.refresh_from_db()
    log_access(user, Action.CHANGE, offender, detail="Changed: " + ", ".join(sorted(changed)))
    return offender


@transaction.atomic
def enrol_in_cohort(user, offender, *, cohort, started_on=None, **details):
    """Open a cohort membership; a person has at most one open membership per cohort."""
    ensure_casework_allowed(user, offender)
    membership = CohortMembership(
        offender=offender, cohort=cohort, started_on=started_on or timezone.localdate(), created_by=user, **details
    )
    membership.full_clean(validate_constraints=False)
    if CohortMembership.objects.filter(offender=offender, cohort=cohort, ended_on__isnull=True).exists():
        raise ValidationError({"cohort": "The person is already on this cohort."})
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as error:
        raise _friendly_integrity_error(error) from error
    log_access(user, Action.CREATE, membership, offender=offender, detail=f"Joined {membership.description}")
    return membership


@transaction.atomic
def end_cohort_membership(user, membership, *, ended_on, exit_reason):
    """Close an open membership with its end date and exit reason."""
    ensure_casework_allowed(user, membership.offender)
    membership = CohortMembership.objects.select_for_update().get(pk=membership.pk)
    if not membership.is_open:
        raise ValidationError("This cohort membership has already ended.")
    if ended_on < membership.started_on:
        raise ValidationError({"ended_on": "The end date must be on or after the start date."})
    if not exit_reason:
        raise ValidationError({"exit_reason": "Select why the person left the cohort."})
    membership.ended_on = ended_on
    membership.exit_reason = exit_reason
    membership.save(update_fields=["ended_on", "exit_reason"])
    log_access(user, Action.CHANGE, membership, offender=membership.offender_id, detail="Ended membership")
    return membership


@transaction.atomic
def record_rag_change(user, offender, *, to_status, reason, source=RagChange.Source.CASE_REVIEW,
                      source_reference="", changed_at=None, expected_status=None):
    """Change the person's RAG status, keeping who, agency, when, from, to and why.

    The person's row is locked so two simultaneous changes cannot both start from
    the same previous status. With `expected_status` (the status the user saw),
    a change made by someone else in the meantime refuses this one with
    ConcurrentEditError instead of silently stacking on top of it.
    """
    ensure_casework_allowed(user, offender)
    locked = Offender.objects.select_for_update().get(pk=offender.pk)
    if expected_status is not None and locked.rag_status != expected_status:
        raise ConcurrentEditError(locked)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter the reason for the change of RAG status."})
    if to_status == locked.rag_status:
        raise ValidationError({"to_status": f"The RAG status is already {locked.get_rag_status_display()}."})
    change = RagChange.objects.create(
        offender=locked,
        from_status=locked.rag_status,
        to_status=to_status,
        reason=reason,
        changed_by=user,
        agency_id=user.agency_id,
        changed_at=changed_at or timezone.now(),
        source=source,
        source_reference=source_reference,
    )
    Offender.objects.filter(pk=locked.pk).update(rag_status=to_status, updated_at=timezone.now())
    offender.rag_status = to_status
    log_access(
        user, Action.CHANGE, change, offender=locked, detail=f"RAG {change.from_status or 'none'} to {to_status}"
    )
    return change


@transaction.atomic
def add_supervision(user, offender, **fields):
    ensure_casework_allowed(user, offender)
    supervision = Supervision(offender=offender, **fields)
    supervision.full_clean()
    supervision.save()
    log_access(user, Action.CREATE, supervision, offender=offender)
    return supervision


@transaction.atomic
def record_appointment(user, offender, **fields):
    """Record a contact or appointment; the agency is the user's own."""
    ensure_casework_allowed(user, offender)
    fields.setdefault("agency_id", user.agency_id)
    appointment = Appointment(offender=offender, **fields)
    appointment.full_clean()
    appointment.save()
    log_access(user, Action.CREATE, appointment, offender=offender, detail=appointment.get_outcome_display())
    return appointment


@transaction.atomic
def record_appointment_outcome(user, appointment, *, outcome, notes=None):
    ensure_casework_allowed(user, appointment.offender)
    appointment.outcome = outcome
    if notes is not None:
        appointment.notes = notes
    appointment.full_clean()
    appointment.save(update_fields=["outcome", "notes", "recorded_at"])
    log_access(user, Action.CHANGE, appointment, offender=appointment.offender_id,
               detail=f"Outcome {appointment.get_outcome_display()}")
    return appointment


@transaction.atomic
def add_case_note(user, offender, *, text, sharing=CaseNote.Sharing.PARTNERSHIP):
    ensure_casework_allowed(user, offender)
    note = CaseNote(
        offender=offender, author=user, agency_id=user.agency_id, text=(text or "").strip(), sharing=sharing
    )
    note.full_clean()
    note.save()
    log_access(user, Action.CREATE, note, offender=offender, detail=note.get_sharing_display())
    return note


@transaction.atomic
def share_with_agency(user, offender, agency, *, reason):
    """Let another agency see the person (a referral or a shared case), as a guardian object permission."""
    ensure_casework_allowed(user, offender)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Enter why the case is being shared."})
    assign_perm("cases.view_offender", agency.group, offender)
    log_access(user, Action.SHARE, offender, detail=f"Shared with {agency.name}: {reason}"[:500])


@transaction.atomic
def record_offence(user, offender, **fields):
    """Record an offence and, when known, its outcome (the basis of proven reoffending)."""
    ensure_casework_allowed(user, offender)
    offence = Offence(offender=offender, recorded_by_agency_id=user.agency_id, **fields)
    offence.full_clean()
    offence.save()
    log_access(user, Action.CREATE, offence, offender=offender, detail=offence.get_outcome_display())
    return offence


@transaction.atomic
def record_offence_outcome(user, offence, *, outcome, outcome_on):
    ensure_casework_allowed(user, offence.offender)
    offence.outcome, offence.outcome_on = outcome, outcome_on
    offence.full_clean()
    offence.save(update_fields=["outcome", "outcome_on"])
    log_access(user, Action.CHANGE, offence, offender=offence.offender_id, detail=offence.get_outcome_display())
    return offence


@transaction.atomic
def record_enforcement(user, offender, *, kind, taken_on=None, details=""):
    """Record an enforcement step taken by the user's agency."""
    ensure_casework_allowed(user, offender)
    enforcement = EnforcementAction(
        offender=offender, kind=kind, taken_on=taken_on or timezone.localdate(), agency_id=user.agency_id,
        recorded_by=user, details=details,
    )
    enforcement.full_clean()
    enforcement.save()
    log_access(user, Action.CREATE, enforcement, offender=offender, detail=enforcement.get_kind_display())
    return enforcement


@transaction.atomic
def erase_offender(user, offender, *, reason):
    """Erase a person's record and everything held about them (DPA 2018 Part 3 erasure).

    Only an administrator of the lead agency (or a system administrator) may, and
    must say why. Every row that belongs to the person goes with the record; the
    access log keeps the erasure and the earlier entries, which hold the person's
    id but none of their details. A record another app protects is refused with
    the kinds of record in the way, and nothing is erased.
    """
    if not (user.is_superuser or (
        user.is_active and user.role == Role.AGENCY_ADMIN and offender.lead_agency_id == user.agency_id
    )):
        raise PermissionDenied("Only an administrator of the lead agency can erase a person's record.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter why the record is being erased."})
    offender_id = offender.pk
    try:
        with transaction.atomic():
            offender.delete()
    except ProtectedError as error:
        kinds = sorted({str(obj._meta.verbose_name_plural) for obj in error.protected_objects})
        raise ValidationError(
            "The record cannot be erased while these records refer to it: " + ", ".join(kinds) + "."
        ) from error
    log_access(user, Action.DELETE, object_type="cases.offender", object_id=offender_id, offender=offender_id,
               detail=f"Erased: {reason}")
