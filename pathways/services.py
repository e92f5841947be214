"""Operations that change needs, actions, pathway statuses and referrals.

Each function checks the user may make the change, runs in one transaction and
writes the access log. The browser views, the panels app and the API all call these.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.audit import log_access
from cases.locking import lock_for_change, save_next_version
from cases.models import AccessLogEntry, Agency, Offender, Role, User
from cases.services import ensure_casework_allowed, share_with_agency

from . import events
from .models import (
    OPEN_ACTION_STATUSES,
    AccommodationStatus,
    Action,
    ActionStatus,
    BenefitStatus,
    EteStatus,
    NeedAssessment,
    NeedLevel,
    Pathway,
    Referral,
    ReferralStatus,
    Service,
    TreatmentEngagement,
    possible_action_owners,
)

Log = AccessLogEntry.Action

__all__ = [
    "create_action",
    "record_accommodation_status",
    "record_benefit_status",
    "record_ete_status",
    "record_need",
    "record_needs",
    "record_referral",
    "record_treatment_engagement",
    "update_action",
    "update_referral",
]


def _pathway_in_use(pathway, field="pathway"):
    """The pathway row, refusing unknown and retired pathways (accepts a Pathway, its id or its key)."""
    if isinstance(pathway, Pathway):
        pathway_obj = pathway
    else:
        lookup = {"key": pathway} if isinstance(pathway, str) and not pathway.isdigit() else {"pk": pathway}
        pathway_obj = Pathway.objects.filter(**lookup).first()
    if pathway_obj is None:
        raise ValidationError({field: "Select a pathway from the list."})
    if pathway_obj.retired:
        raise ValidationError({field: f"The {pathway_obj.name} pathway has been retired; choose another."})
    return pathway_obj


def _save(instance):
    """full_clean then save; a constraint the database still refuses becomes a ValidationError."""
    instance.full_clean()
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as error:
        raise ValidationError("The change could not be saved because it conflicts with existing records.") from error
    return instance


def agency_can_see(agency, offender):
    """Whether the agency's staff may see the person, by the one visibility rule (as a read-only member)."""
    member = User(agency=agency, role=Role.READ_ONLY, is_active=True)
    return Offender.objects.visible_to(member).filter(pk=offender.pk).exists()


def _share_if_unseen(user, offender, agency, reason):
    """Open the case to an agency given work on it, when the user chose to; logged as a disclosure."""
    if agency is not None and not agency_can_see(agency, offender):
        share_with_agency(user, offender, agency, reason=reason)
        return True
    return False


# Needs


@transaction.atomic
def record_need(user, offender, *, pathway, level, rationale="", assessed_on=None):
    """Add an assessment of the person's need on one pathway. Earlier assessments are kept as history."""
    ensure_casework_allowed(user, offender)
    pathway = _pathway_in_use(pathway)
    assessed_on = assessed_on or timezone.localdate()
    if assessed_on > timezone.localdate():
        raise ValidationError({"assessed_on": "The date of the assessment cannot be in the future."})
    if level not in NeedLevel.values:
        raise ValidationError({"level": "Select the level of need."})
    rationale = (rationale or "").strip()
    assessment = _save(NeedAssessment(
        offender=offender, pathway=pathway, level=level, rationale=rationale, assessed_on=assessed_on,
        assessed_by=user, agency_id=user.agency_id,
    ))
    log_access(user, Log.CREATE, assessment, offender=offender,
               detail=f"{pathway.name}: {assessment.get_level_display()}")
    return assessment


@transaction.atomic
def record_needs(user, offender, *, levels, assessed_on=None):
    """Assess several pathways at once: `levels` maps pathway to (level, rationale).

    Pathways whose level and rationale are unchanged from the current assessment are
    skipped, so saving the whole form again does not pile up identical history.
    All or nothing: one bad row refuses the lot.
    """
    ensure_casework_allowed(user, offender)
    current = {
        a.pathway_id: a for a in NeedAssessment.objects.filter(offender=offender).current()
    }
    created = []
    for pathway, (level, rationale) in levels.items():
        pathway = _pathway_in_use(pathway)
        before = current.get(pathway.pk)
        if before is not None and before.level == level and before.rationale == (rationale or "").strip():
            continue
        created.append(record_need(user, offender, pathway=pathway, level=level, rationale=rationale,
                                   assessed_on=assessed_on))
    return created


# Actions


def _check_owner(owner, owner_agency):
    """The OPCC never owns actions; an owner is someone of the owning agency whose role can update it."""
    if owner_agency.kind == Agency.Kind.OPCC:
        raise ValidationError({"owner_agency": (
            f"{owner_agency.name} oversees the partnership's work and cannot own actions: choose a partner agency."
        )})
    if owner is None:
        return
    if owner.agency_id != owner_agency.pk:
        raise ValidationError({"owner": f"Choose a member of staff of {owner_agency.name}, or nobody."})
    if not owner.is_active:
        raise ValidationError({"owner": "That member of staff no longer has an active account."})
    if not possible_action_owners(owner_agency).filter(pk=owner.pk).exists():
        raise ValidationError({"owner": (
            f"{owner} cannot update actions in their role ({owner.get_role_display().lower()}): choose an offender "
            f"manager, panel chair or administrator of {owner_agency.name}, or nobody."
        )})


def can_update_action(user, action):
    return Action.objects.editable_by(user).filter(pk=action.pk).exists()


@transaction.atomic
def create_action(user, offender, *, pathway, description, owner_agency, due_on, owner=None, need=None,
                  source_reference="", raised_on=None, share_with_owner=False):
    """Add an action to the person's plan, owned by any partner agency.

    Any case worker who may see the person may assign an action to another agency
    (that is how panels share out work); only the owner agency can then update it,
    and only while it may see the person. With `share_with_owner` the case is
    shared with an owner agency that cannot see the person yet.
    """
    ensure_casework_allowed(user, offender)
    pathway = _pathway_in_use(pathway)
    description = (description or "").strip()
    if not description:
        raise ValidationError({"description": "Enter what needs to be done."})
    if not isinstance(owner_agency, Agency):
        raise ValidationError({"owner_agency": "Select the agency that owns the action."})
    raised_on = raised_on or timezone.localdate()
    if not isinstance(due_on, datetime.date):
        raise ValidationError({"due_on": "Enter the date the action is due."})
    if due_on < raised_on:
        raise ValidationError({"due_on": "The due date cannot be before the action is raised."})
    _check_owner(owner, owner_agency)
    if need is not None and (need.offender_id != offender.pk or need.pathway_id != pathway.pk):
        raise ValidationError({"need": "The need must be this person's, on the same pathway."})
    action = _save(Action(
        offender=offender, pathway=pathway, need=need, description=description, owner_agency=owner_agency,
        owner=owner, raised_on=raised_on, due_on=due_on, created_by=user, source_reference=source_reference,
    ))
    log_access(user, Log.CREATE, action, offender=offender,
               detail=f"{pathway.name} action for {owner_agency.name}, due {due_on:%d %b %Y}")
    if share_with_owner:
        _share_if_unseen(user, offender, owner_agency, f"{pathway.name} action assigned: {description}"[:300])
    events.publish(events.action_assigned, action=action, actor=user)
    return action


@transaction.atomic
def update_action(user, action, *, expected_version, status=None, outcome=None, due_on=None, owner=None):
    """Change an action's status, outcome, due date or owner, as its owner agency.

    Refused with ConcurrentEditError when someone saved the action after `expected_version`.
    Done and cancelled actions get today's completion date; reopening clears it.
    `owner` of None leaves the owner unchanged.
    """
    if not Action.objects.visible_to(user).filter(pk=action.pk).exists():
        raise Action.DoesNotExist("No such action.")
    if not can_update_action(user, action):
        raise PermissionDenied("Only the agency that owns this action can change it.")
    locked = lock_for_change(Action.objects.select_related("owner_agency"), action.pk, expected=expected_version)
    changes = {}
    if status is not None and status != locked.status:
        if status not in ActionStatus.values:
            raise ValidationError({"status": "Select a status."})
        changes["status"] = status
        changes["completed_on"] = None if status in OPEN_ACTION_STATUSES else timezone.localdate()
    if outcome is not None and outcome.strip() != locked.outcome:
        changes["outcome"] = outcome.strip()
    if due_on is not None and due_on != locked.due_on:
        if due_on < locked.raised_on:
            raise ValidationError({"due_on": "The due date cannot be before the action was raised."})
        changes["due_on"] = due_on
    if owner is not None and owner.pk != locked.owner_id:
        _check_owner(owner, locked.owner_agency)
        changes["owner"] = owner
    if not changes:
        return locked
    for name, value in changes.items():
        setattr(locked, name, value)
    locked.full_clean()
    save_next_version(locked, changes)
    detail = ", ".join(sorted(changes.keys() - {"completed_on"}))
    if "status" in changes:
        detail += f" (now {locked.get_status_display()})"
    log_access(user, Log.CHANGE, locked, offender=locked.offender_id, detail=f"Changed: {detail}")
    if "owner" in changes:
        events.publish(events.action_assigned, action=locked, actor=user)
    action.refresh_from_db()
    return action


# Pathway statuses


def _record_status(user, offender, model, *, effective_on=None, **fields):
    ensure_casework_allowed(user, offender)
    effective_on = effective_on or timezone.localdate()
    if effective_on > timezone.localdate():
        raise ValidationError({"effective_on": "The date cannot be in the future."})
    record = _save(model(offender=offender, effective_on=effective_on, recorded_by=user, agency_id=user.agency_id,
                         **fields))
    log_access(user, Log.CREATE, record, offender=offender, detail=str(record))
    return record


@transaction.atomic
def record_accommodation_status(user, offender, *, status, effective_on=None, on_release_day=False, notes=""):
    """Record where the person is living from a date; `on_release_day` marks the status on release from prison."""
    return _record_status(user, offender, AccommodationStatus, status=status, effective_on=effective_on,
                          on_release_day=on_release_day, notes=notes)


@transaction.atomic
def record_ete_status(user, offender, *, status, effective_on=None, notes=""):
    return _record_status(user, offender, EteStatus, status=status, effective_on=effective_on, notes=notes)


@transaction.atomic
def record_benefit_status(user, offender, *, status, effective_on=None, notes=""):
    return _record_status(user, offender, BenefitStatus, status=status, effective_on=effective_on, notes=notes)


@transaction.atomic
def record_treatment_engagement(user, offender, *, substance, stage, requirement=TreatmentEngagement.Requirement.NONE,
                                provider=None, effective_on=None, notes=""):
    """Record the stage of drug or alcohol treatment; a DRR goes with drugs and an ATR with alcohol."""
    return _record_status(user, offender, TreatmentEngagement, substance=substance, stage=stage,
                          requirement=requirement, provider=provider, effective_on=effective_on, notes=notes)


# Referrals


def can_update_referral(user, referral):
    """The referring agency and the agency that runs the service keep a referral up to date."""
    if not Referral.objects.visible_to(user).filter(pk=referral.pk).exists():
        return False
    if user.is_superuser:
        return True
    if not user.does_casework:
        return False
    return user.agency_id in {referral.referring_agency_id, referral.service.provider_id}


@transaction.atomic
def record_referral(user, offender, *, service, urgency=Referral.Urgency.ROUTINE, reason="", referred_at=None,
                    action=None, share_with_provider=False):
    """Refer the person to a service in the directory.

    With `share_with_provider` a partner agency that runs the service and cannot
    see the person yet is given the case, so it can record the referral's progress.
    """
    ensure_casework_allowed(user, offender)
    if not isinstance(service, Service):
        raise ValidationError({"service": "Select a service from the directory."})
    if service.retired:
        raise ValidationError({"service": "This service no longer takes referrals."})
    referred_at = referred_at or timezone.now()
    if referred_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"referred_at": "The referral cannot be in the future."})
    if action is not None and action.offender_id != offender.pk:
        raise ValidationError({"action": "The action must be on this person's plan."})
    referral = _save(Referral(
        offender=offender, service=service, urgency=urgency, reason=(reason or "").strip(), referred_at=referred_at,
        referred_by=user, referring_agency_id=user.agency_id, action=action,
    ))
    log_access(user, Log.CREATE, referral, offender=offender,
               detail=f"Referred to {service.name} ({referral.get_urgency_display().lower()})")
    if share_with_provider:
        _share_if_unseen(user, offender, service.provider, f"Referred to {service.name}")
    events.publish(events.referral_made, referral=referral, actor=user)
    return referral


# Which dates each status needs, so the time taken at each step can be measured.
_REFERRAL_DATES = {
    ReferralStatus.REFERRED: (),
    ReferralStatus.ACCEPTED: ("decided_on",),
    ReferralStatus.DECLINED: ("decided_on",),
    ReferralStatus.STARTED: ("decided_on", "started_on"),
    ReferralStatus.COMPLETED: ("decided_on", "started_on", "ended_on"),
    ReferralStatus.WITHDRAWN: ("ended_on",),
}
_DATE_LABELS = {
    "decided_on": "the date the service accepted or declined the referral",
    "started_on": "the date the person started with the service",
    "ended_on": "the date the referral ended",
}


@transaction.atomic
def update_referral(user, referral, *, expected_version, status=None, first_contact_at=None, decided_on=None,
                    started_on=None, ended_on=None, outcome=None):
    """Record the progress of a referral (accepted, declined, started, completed, withdrawn) with its dates."""
    if not Referral.objects.visible_to(user).filter(pk=referral.pk).exists():
        raise Referral.DoesNotExist("No such referral.")
    if not can_update_referral(user, referral):
        raise PermissionDenied("Only the referring agency or the service provider can update this referral.")
    locked = lock_for_change(Referral.objects.all(), referral.pk, expected=expected_version)
    today = timezone.localdate()
    changes = {}
    for name, value in {
        "status": status, "first_contact_at": first_contact_at, "decided_on": decided_on,
        "started_on": started_on, "ended_on": ended_on,
    }.items():
        if value is not None and value != getattr(locked, name):
            changes[name] = value
    if outcome is not None and outcome.strip() != locked.outcome:
        changes["outcome"] = outcome.strip()
    for name, value in changes.items():
        setattr(locked, name, value)
    errors = {}
    if locked.status not in ReferralStatus.values:
        errors["status"] = "Select a status."
    else:
        for needed in _REFERRAL_DATES[ReferralStatus(locked.status)]:
            if getattr(locked, needed) is None:
                errors[needed] = f"Enter {_DATE_LABELS[needed]}."
    referred_on = timezone.localtime(locked.referred_at).date()
    for name in ("decided_on", "started_on", "ended_on"):
        value = getattr(locked, name)
        if value is not None and value > today:
            errors.setdefault(name, "The date cannot be in the future.")
        elif value is not None and value < referred_on:
            errors.setdefault(name, "The date cannot be before the referral was made.")
    if locked.first_contact_at is not None:
        if locked.first_contact_at < locked.referred_at:
            errors["first_contact_at"] = "The first contact cannot be before the referral."
        elif locked.first_contact_at > timezone.now() + datetime.timedelta(minutes=5):
            errors["first_contact_at"] = "The first contact cannot be in the future."
    if locked.started_on and locked.ended_on and locked.ended_on < locked.started_on:
        errors.setdefault("ended_on", "The end date cannot be before the start date.")
    if errors:
        raise ValidationError(errors)
    if not changes:
        return locked
    save_next_version(locked, changes)
    log_access(user, Log.CHANGE, locked, offender=locked.offender_id,
               detail=f"Referral {locked.get_status_display().lower()}; changed: {', '.join(sorted(changes))}")
    return locked



# The incoming referrals queue: the agency that runs the service answers its referrals.


def incoming_referrals(user):
    """Referrals to services the user's agency runs, about people the agency may see."""
    if not getattr(user, "is_authenticated", False) or not user.sees_people or not user.agency_id:
        return Referral.objects.none()
    return Referral.objects.visible_to(user).filter(service__provider_id=user.agency_id)


def answers_referral(user, referral):
    """Whether the user may accept, decline and record first contact: case work at the agency that runs the service."""
    return user.is_active and user.does_casework and referral.service.provider_id == user.agency_id


def _incoming_for_change(user, referral, expected_version):
    if not incoming_referrals(user).filter(pk=referral.pk).exists():
        raise Referral.DoesNotExist("No such referral.")
    if not answers_referral(user, referral):
        raise PermissionDenied("Only case workers of the agency that runs the service can answer this referral.")
    return lock_for_change(Referral.objects.select_related("service"), referral.pk, expected=expected_version)


@transaction.atomic
def decide_referral(user, referral, *, expected_version, accept, reason=""):
    """Accept or decline a new referral, as the agency that runs the service; a decline says why.

    Refused once the referral has been decided (or withdrawn), and with ConcurrentEditError
    when someone saved it after `expected_version`.
    """
    locked = _incoming_for_change(user, referral, expected_version)
    if locked.status != ReferralStatus.REFERRED:
        raise ValidationError(f"This referral has already been {locked.get_status_display().lower()}.")
    reason = (reason or "").strip()
    if not accept and not reason:
        raise ValidationError({"reason": "Enter why the referral is declined."})
    locked.status = ReferralStatus.ACCEPTED if accept else ReferralStatus.DECLINED
    locked.decided_on = timezone.localdate()
    locked.decided_by = user
    locked.decision_reason = reason
    locked.full_clean()
    save_next_version(locked, ["status", "decided_on", "decided_by", "decision_reason"])
    log_access(user, Log.CHANGE, locked, offender=locked.offender_id,
               detail=f"Referral {locked.get_status_display().lower()} by the service")
    return locked


@transaction.atomic
def record_first_contact(user, referral, *, expected_version, contacted_at):
    """Record when the service first saw or spoke to the person: after the referral, never in the future, once."""
    locked = _incoming_for_change(user, referral, expected_version)
    if locked.first_contact_at is not None:
        raise ValidationError(
            f"First contact was already recorded, at {timezone.localtime(locked.first_contact_at):%H:%M on %-d %B %Y}."
        )
    if locked.status in (ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN):
        status = locked.get_status_display().lower()
        raise ValidationError(f"This referral was {status}: there is no contact to record.")
    if contacted_at < locked.referred_at.replace(second=0, microsecond=0):
        raise ValidationError({"contacted_at": "The first contact cannot be before the referral was made."})
    # Times are given to the minute: a contact in the minute of the referral is at the referral, not before it.
    contacted_at = max(contacted_at, locked.referred_at)
    if contacted_at > timezone.now() + datetime.timedelta(minutes=5):
        raise ValidationError({"contacted_at": "The first contact cannot be in the future."})
    locked.first_contact_at = contacted_at
    save_next_version(locked, ["first_contact_at"])
    met = locked.met_contact_target
    log_access(user, Log.CHANGE, locked, offender=locked.offender_id, detail="First contact recorded" + (
        "" if met is None else (" within the target" if met else " after the target")))
    return locked
