"""Operations that change case records.

Each function checks the user may make the change, runs in one transaction,
and writes the access log. The browser views and the API both call these.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, Q
from django.utils import timezone

from . import events
from .audit import log_access
from .locking import lock_for_change, save_next_version
from .models import (
    AccessLogEntry,
    Alias,
    Appointment,
    CaseNote,
    CaseShare,
    CohortMembership,
    EnforcementAction,
    Offence,
    Offender,
    RagChange,
    RagStatus,
    Requirement,
    Role,
    Supervision,
)

Action = AccessLogEntry.Action


def ensure_casework_allowed(user, offender):
    """Refuse unless the user's role does case work and their agency may see the person."""
    if not Offender.objects.editable_by(user).filter(pk=offender.pk).exists():
        raise PermissionDenied("Your role cannot change this case.")


def can_edit_personal_details(user, offender):
    """Identity details belong to the lead agency: its case workers change them (and system administrators)."""
    if user.is_superuser:
        return True
    return user.does_casework and offender.lead_agency_id == user.agency_id


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
    """Change a person's details as the lead agency.

    Refused with ConcurrentEditError when someone saved the person after `expected_version`.
    `aliases` of None leaves the aliases as they are; a list replaces them.
    """
    if not can_edit_personal_details(user, offender) or not Offender.objects.visible_to(user).filter(
        pk=offender.pk
    ).exists():
        raise PermissionDenied("Only the lead agency can change this person's details.")
    locked = lock_for_change(Offender.objects.all(), offender.pk, expected=expected_version,
                             subject=f"{offender.full_name}'s record")
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.full_clean()
    changed = list(fields)
    try:
        with transaction.atomic():
            save_next_version(locked, fields)
    except IntegrityError as error:
        raise _friendly_integrity_error(error) from error
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
    if ended_on > timezone.localdate():
        raise ValidationError({"ended_on": "The end date cannot be in the future: end the membership on the day."})
    if not exit_reason:
        raise ValidationError({"exit_reason": "Select why the person left the cohort."})
    membership.ended_on = ended_on
    membership.exit_reason = exit_reason
    membership.save(update_fields=["ended_on", "exit_reason"])
    log_access(user, Action.CHANGE, membership, offender=membership.offender_id, detail="Ended membership")
    return membership


@transaction.atomic
def record_rag_change(user, offender, *, to_status, reason, source=RagChange.Source.CASE_REVIEW, source_system="",
                      source_reference="", changed_at=None, expected_status=None):
    """Change the person's RAG status, keeping who, agency, when, from, to and why.

    The person's row is locked so two simultaneous changes cannot both start from
    the same previous status. With `expected_status` (the status the user saw),
    a change made by someone else in the meantime refuses this one with
    ConcurrentEditError instead of silently stacking on top of it.

    `changed_at` may be in the past (an old tracker being brought in), never in the
    future. A change dated before later ones starts from the status that stood at
    its time and leaves the current status as the latest change says.
    """
    ensure_casework_allowed(user, offender)
    locked = lock_for_change(Offender.objects.all(), offender.pk, expected=expected_status, field="rag_status")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter the reason for the change of RAG status."})
    now = timezone.now()
    changed_at = changed_at or now
    if changed_at > now:
        raise ValidationError({"changed_at": "The date of a change of RAG status cannot be in the future."})
    history = RagChange.objects.filter(offender=locked)
    is_latest = not history.filter(changed_at__gt=changed_at).exists()
    status_then = locked.rag_status if is_latest else (
        history.filter(changed_at__lte=changed_at).order_by("-changed_at", "-pk").values_list("to_status", flat=True)
        .first() or ""
    )
    if to_status == status_then:
        label = RagStatus(to_status).label
        message = (f"The RAG status is already {label}." if is_latest
                   else f"The RAG status was already {label} on {timezone.localtime(changed_at):%-d %B %Y}.")
        raise ValidationError({"to_status": message})
    change = RagChange.objects.create(
        offender=locked,
        from_status=status_then,
        to_status=to_status,
        reason=reason,
        changed_by=user,
        agency_id=user.agency_id,
        changed_at=changed_at,
        source=source,
        source_system=source_system,
        source_reference=source_reference,
    )
    if is_latest:
        Offender.objects.filter(pk=locked.pk).update(rag_status=to_status, updated_at=now)
        offender.rag_status = to_status
    log_access(
        user, Action.CHANGE, change, offender=locked, detail=f"RAG {change.from_status or 'none'} to {to_status}"
    )
    events.publish(events.rag_changed, change=change, actor=user)
    return change


@transaction.atomic
def add_supervision(user, offender, *, requirements=(), **fields):
    """Record a sentence, order or licence with its requirements; a release date cannot be in the future."""
    ensure_casework_allowed(user, offender)
    supervision = Supervision(offender=offender, **fields)
    supervision.full_clean()
    supervision.save()
    Requirement.objects.bulk_create([Requirement(supervision=supervision, kind=kind) for kind in set(requirements)])
    log_access(user, Action.CREATE, supervision, offender=offender)
    return supervision


def current_orders(offender, today=None):
    """Orders in force today: started, and not yet ended."""
    today = today or timezone.localdate()
    return Supervision.objects.filter(offender=offender, started_on__lte=today).filter(
        Q(ends_on__isnull=True) | Q(ends_on__gte=today)
    ).exclude(kind__in=[Supervision.Kind.CUSTODY, Supervision.Kind.OUT_OF_COURT])


def may_record_appointment_outcome(user, appointment):
    """An appointment belongs to the agency that holds it; only that agency records what happened."""
    return user.is_superuser or (user.does_casework and appointment.agency_id == user.agency_id)


@transaction.atomic
def record_appointment(user, offender, **fields):
    """Record a contact or appointment, held by the user's own agency.

    A probation supervision appointment belongs to the order it supervises: only the agency
    responsible for a current order of the person may book one. An attendance or absence cannot be
    recorded for an appointment whose time has not come (the model's rule, also a database constraint).
    """
    ensure_casework_allowed(user, offender)
    fields.setdefault("agency_id", user.agency_id)
    if fields.get("kind") == Appointment.Kind.SUPERVISION and not user.is_superuser:
        holders = set(current_orders(offender).values_list("responsible_agency__name", flat=True))
        if not current_orders(offender).filter(responsible_agency_id=user.agency_id).exists():
            held_by = f" ({', '.join(sorted(holders))})" if holders else ": the person has no current order"
            raise ValidationError({"kind": "Only the agency responsible for the person's current order can record "
                                           f"supervision appointments{held_by}."})
    appointment = Appointment(offender=offender, recorded_at=timezone.now(), **fields)
    appointment.full_clean()
    appointment.save()
    log_access(user, Action.CREATE, appointment, offender=offender, detail=appointment.get_outcome_display())
    return appointment


@transaction.atomic
def record_appointment_outcome(user, appointment, *, outcome, absence_reason="", notes=None):
    """Record what happened at an appointment, by the agency that holds it.

    Refused for another agency's appointment, for an attendance or absence at an appointment still in
    the future, and for an acceptable absence without its reason. Never starts enforcement: the page
    prompts the practitioner to consider it (`cases.compliance`).
    """
    ensure_casework_allowed(user, appointment.offender)
    if not may_record_appointment_outcome(user, appointment):
        raise PermissionDenied(f"Only {appointment.agency}, which holds this appointment, can record its outcome.")
    appointment.outcome = outcome
    appointment.absence_reason = absence_reason or ""
    appointment.recorded_at = timezone.now()
    if notes is not None:
        appointment.notes = notes
    appointment.full_clean()
    appointment.save(update_fields=["outcome", "absence_reason", "notes", "recorded_at"])
    log_access(user, Action.CHANGE, appointment, offender=appointment.offender_id,
               detail=f"Outcome {appointment.get_outcome_display()}")
    events.publish(events.appointment_outcome_recorded, appointment=appointment, actor=user)
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
    events.publish(events.note_added, note=note, actor=user)
    return note


@transaction.atomic
def share_with_agency(user, offender, agency, *, reason, ends_on=None):
    """Let another agency see the person (a referral or a shared case) until `ends_on`, or until withdrawn.

    Keeps who shared, from which agency, when and why. Sharing again with an agency that already
    has a share replaces it (a new reason or end date), and the old one is kept as withdrawn.
    Refused for the user's own agency, without a reason, and with an end date in the past.
    """
    ensure_casework_allowed(user, offender)
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Enter why the case is being shared."
    if agency.pk == user.agency_id:
        errors["agency"] = "Your own agency can already see the case."
    if ends_on is not None and ends_on < timezone.localdate():
        errors["ends_on"] = "The end date cannot be in the past."
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    CaseShare.objects.select_for_update().filter(offender=offender, agency=agency, withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawn_by=user, withdrawal_reason="Replaced by a new share."
    )
    share = CaseShare.objects.create(
        offender=offender, agency=agency, reason=reason, ends_on=ends_on, shared_by=user,
        shared_by_agency_id=user.agency_id, shared_at=now,
    )
    until = f" until {ends_on:%d %b %Y}" if ends_on else ""
    log_access(user, Action.SHARE, offender, detail=f"Shared with {agency.name}{until}: {reason}")
    return share


def can_withdraw_share(user, share):
    """The agency that shared the case, or the lead agency, may withdraw a share (case work roles only)."""
    if user.is_superuser:
        return True
    return user.does_casework and user.agency_id in {share.shared_by_agency_id, share.offender.lead_agency_id}


@transaction.atomic
def withdraw_share(user, share, *, reason):
    """End a share at once: the agency no longer sees the person (unless the agreement or another share
    lets it). Who withdrew it, when and why are kept. Refused for a share already withdrawn, without a
    reason, and for users outside the sharing and lead agencies."""
    ensure_casework_allowed(user, share.offender)
    if not can_withdraw_share(user, share):
        raise PermissionDenied("Only the agency that shared the case or the lead agency can withdraw the share.")
    share = CaseShare.objects.select_for_update().get(pk=share.pk)
    if share.withdrawn_at is not None:
        raise ValidationError("This share has already been withdrawn.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter why the share is being withdrawn."})
    share.withdrawn_at, share.withdrawn_by, share.withdrawal_reason = timezone.now(), user, reason
    share.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
    log_access(user, Action.CHANGE, share, offender=share.offender_id,
               detail=f"Withdrew the share with {share.agency.name}: {reason}")
    return share


@transaction.atomic
def record_offence(user, offender, **fields):
    """Record an offence and, when known, its outcome (the basis of proven reoffending)."""
    ensure_casework_allowed(user, offender)
    offence = Offence(offender=offender, recorded_by_agency_id=user.agency_id, **fields)
    offence.full_clean()
    offence.save()
    log_access(user, Action.CREATE, offence, offender=offender, detail=offence.get_outcome_display())
    events.publish(events.offence_recorded, offence=offence, actor=user)
    return offence


@transaction.atomic
def record_offence_outcome(user, offence, *, outcome, outcome_on, court=None):
    """Record a charge or a final outcome; its date cannot be in the future or before the offence."""
    ensure_casework_allowed(user, offence.offender)
    offence.outcome, offence.outcome_on = outcome, outcome_on
    if court is not None:
        offence.court = court
    offence.full_clean()
    offence.save(update_fields=["outcome", "outcome_on", "court"])
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
    events.publish(events.enforcement_recorded, enforcement=enforcement, actor=user)
    return enforcement


@transaction.atomic
def conclude_enforcement(user, enforcement, *, concluded_on, outcome):
    """Record that breach proceedings or a recall have concluded, and how; until then they are in progress.

    Refused for other kinds of enforcement, for proceedings already concluded, without an outcome, and
    for a date in the future or before the action was taken.
    """
    ensure_casework_allowed(user, enforcement.offender)
    enforcement = EnforcementAction.objects.select_for_update().get(pk=enforcement.pk)
    if not enforcement.in_progress:
        raise ValidationError("Only breach proceedings or a recall still in progress can be concluded.")
    outcome = (outcome or "").strip()
    errors = {}
    if not outcome:
        errors["outcome"] = "Enter how the proceedings concluded."
    if concluded_on > timezone.localdate():
        errors["concluded_on"] = "The date cannot be in the future."
    elif concluded_on < enforcement.taken_on:
        errors["concluded_on"] = "The proceedings cannot conclude before they were taken."
    if errors:
        raise ValidationError(errors)
    enforcement.concluded_on, enforcement.outcome = concluded_on, outcome
    enforcement.save(update_fields=["concluded_on", "outcome"])
    log_access(user, Action.CHANGE, enforcement, offender=enforcement.offender_id,
               detail=f"Concluded {enforcement.get_kind_display().lower()}")
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
