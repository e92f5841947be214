"""Through-the-gate changes: each checks the user may work on the case, runs in one transaction and is logged.

Case workers of any agency that may see the person may update the checklist and the plan: release is
work the prison, probation, housing, DWP and treatment services share.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from cases.audit import log_access
from cases.locking import lock_for_change, save_next_version
from cases.models import AccessLogEntry, Agency, Supervision
from cases.services import ensure_casework_allowed

from .models import (
    SETTLED_STATUSES,
    Agreement,
    ChecklistItem,
    ChecklistItemType,
    ChecklistSettings,
    Goal,
    GoalStep,
    ItemStatus,
    PersonalPlan,
    PlanVersion,
    ReleaseChecklist,
)

Action = AccessLogEntry.Action


def release_window(today=None):
    """The first and last release dates the checklist and the board cover today."""
    today = today or timezone.localdate()
    return today, today + datetime.timedelta(weeks=ChecklistSettings.weeks())


def _owner_for(kind, area_id, agencies):
    """The agency of the kind in the person's area, else a partnership-wide one, else none."""
    if not kind:
        return None
    local = [a for a in agencies if a.kind == kind and a.area_id == area_id]
    wide = [a for a in agencies if a.kind == kind and a.area_id is None]
    return (local or wide or [None])[0]


def _open(supervision, *, today, user=None):
    offender = supervision.offender
    responsible = supervision.responsible_agency
    checklist = ReleaseChecklist.objects.create(
        supervision=supervision, offender=offender, opened_on=today, opened_by=user,
        prison=responsible if responsible.kind == Agency.Kind.PRISON else None,
    )
    agencies = list(Agency.objects.order_by("name", "pk"))
    ChecklistItem.objects.bulk_create([
        ChecklistItem(checklist=checklist, item_type=item_type,
                      owner_agency=_owner_for(item_type.owner_kind, offender.area_id, agencies))
        for item_type in ChecklistItemType.objects.in_use()
    ])
    return checklist


@transaction.atomic
def open_checklist(user, supervision, *, today=None):
    """Open the checklist of a custody episode by hand (before its window, for example).

    Refuses an order without a release date, and one whose checklist is already open.
    """
    ensure_casework_allowed(user, supervision.offender)
    if supervision.released_on is None:
        raise ValidationError("Give the order a release date before opening its checklist.")
    if ReleaseChecklist.objects.filter(supervision=supervision).exists():
        raise ValidationError("The checklist for this release is already open.")
    try:
        with transaction.atomic():
            checklist = _open(supervision, today=today or timezone.localdate(), user=user)
    except IntegrityError as error:
        raise ValidationError("The checklist for this release is already open.") from error
    log_access(user, Action.CREATE, checklist, offender=supervision.offender_id,
               detail=f"Opened the pre-release checklist for release on {supervision.released_on:%d %b %Y}")
    return checklist


def open_due_checklists(today=None):
    """Open the checklist of every release now within the window that has none. Safe to run again.

    Run daily, and when a release date is recorded or changed; returns how many it opened.
    """
    first, last = release_window(today)
    due = Supervision.objects.filter(released_on__gte=first, released_on__lte=last).filter(
        ~Exists(ReleaseChecklist.objects.filter(supervision=OuterRef("pk")))
    ).select_related("offender", "responsible_agency").order_by("released_on", "pk")
    opened = 0
    for supervision in due:
        try:
            with transaction.atomic():
                _open(supervision, today=first)
        except IntegrityError:
            continue  # opened meanwhile by hand or by another run
        opened += 1
    return opened


@transaction.atomic
def update_checklist_item(user, item, *, status, owner_agency=None, due_on=None, notes="", expected_version=None):
    """Record where an item stands, who owns it and its date.

    Refuses (with `expected_version`) a change made from a page someone else has saved since, and a
    done item without the day it was done.
    """
    ensure_casework_allowed(user, item.checklist.offender)
    item = lock_for_change(ChecklistItem.objects.select_related("item_type", "checklist"), item.pk,
                           expected=expected_version, subject=f"The {item.item_type.name.lower()} item")
    if status not in ItemStatus.values:
        raise ValidationError({"status": "Select where the item stands."})
    if status == ItemStatus.DONE and due_on is None:
        raise ValidationError({"due_on": "Enter the day it was done."})
    if status == ItemStatus.DONE and due_on > timezone.localdate():
        raise ValidationError({"due_on": "The day it was done cannot be in the future."})
    before = f"{item.get_status_display()}, {item.owner_agency or 'no owner'}"
    if status not in SETTLED_STATUSES:
        item.settled_on = None
    elif not item.is_settled:
        item.settled_on = timezone.localdate()
    item.status, item.owner_agency, item.due_on, item.notes, item.updated_by = (
        status, owner_agency, due_on, notes or "", user
    )
    save_next_version(item, ["status", "owner_agency", "due_on", "notes", "updated_by", "settled_on"])
    after = f"{item.get_status_display()}, {item.owner_agency or 'no owner'}"
    log_access(user, Action.CHANGE, item, offender=item.checklist.offender_id,
               detail=f"Pre-release checklist, {item.item_type.name}: {before} to {after}")
    return item


# The person's own plan.


def current_version(offender):
    return PlanVersion.objects.filter(plan__offender=offender).select_related("plan").order_by("-number").first()


def _draft(offender):
    """The version being drafted; refuses when the current one has the person's answer recorded."""
    version = current_version(offender)
    if version is None:
        raise ValidationError("Start the person's plan first.")
    if version.is_settled:
        raise ValidationError("The person has given their answer to this version: start a review to change it.")
    return version


@transaction.atomic
def start_plan(user, offender):
    """Start the person's plan with an empty first version; refuses a second plan."""
    ensure_casework_allowed(user, offender)
    try:
        with transaction.atomic():
            plan = PersonalPlan.objects.create(offender=offender)
    except IntegrityError as error:
        raise ValidationError("The person already has a plan.") from error
    version = PlanVersion.objects.create(plan=plan, number=1, started_at=timezone.now(), started_by=user,
                                         agency_id=user.agency_id)
    log_access(user, Action.CREATE, plan, offender=offender, detail="Started the person's own plan")
    return version


@transaction.atomic
def add_goal(user, offender, *, text, pathway=None):
    """Add a goal, in the person's words, to the version being drafted."""
    ensure_casework_allowed(user, offender)
    PersonalPlan.objects.select_for_update().filter(offender=offender).first()
    version = _draft(offender)
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Enter the goal in the person's own words."})
    goal = Goal.objects.create(version=version, text=text, pathway=pathway, order=version.goals.count() + 1)
    log_access(user, Action.CHANGE, version.plan, offender=offender, detail=f"Added a goal to plan version "
               f"{version.number}")
    return goal


@transaction.atomic
def add_step(user, goal, *, text, owner_agency=None, due_on=None):
    """Add a step to a goal of the version being drafted: the person's own when no agency owns it."""
    offender = goal.version.plan.offender
    ensure_casework_allowed(user, offender)
    PersonalPlan.objects.select_for_update().filter(offender=offender).first()
    version = _draft(offender)
    if goal.version_id != version.pk:
        raise ValidationError("This goal belongs to an earlier version of the plan.")
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Enter what will happen."})
    step = GoalStep.objects.create(goal=goal, text=text, owner_agency=owner_agency, due_on=due_on,
                                   order=goal.steps.count() + 1)
    log_access(user, Action.CHANGE, version.plan, offender=offender, detail=f"Added a step to plan version "
               f"{version.number}")
    return step


@transaction.atomic
def record_agreement(user, offender, *, agreement, agreement_on, note=""):
    """Record the person's answer to the version being drafted; the version then stands unchanged.

    Refuses a plan without goals, a date in the future, and "did not agree" or "could not answer"
    without a note of why.
    """
    ensure_casework_allowed(user, offender)
    PersonalPlan.objects.select_for_update().filter(offender=offender).first()
    version = _draft(offender)
    note = (note or "").strip()
    errors = {}
    if agreement not in Agreement.values:
        errors["agreement"] = "Select the person's answer."
    elif agreement != Agreement.AGREED and not note:
        errors["note"] = "Enter what the person said, or why they could not answer."
    if agreement_on and agreement_on > timezone.localdate():
        errors["agreement_on"] = "The date cannot be in the future."
    if not version.goals.exists():
        errors["__all__"] = "Add at least one goal before recording the person's answer."
    if errors:
        raise ValidationError(errors)
    version.agreement, version.agreement_on, version.agreement_note = agreement, agreement_on, note
    version.agreement_recorded_by = user
    version.save(update_fields=["agreement", "agreement_on", "agreement_note", "agreement_recorded_by"])
    log_access(user, Action.CHANGE, version.plan, offender=offender,
               detail=f"Plan version {version.number}: {version.get_agreement_display().lower()}")
    return version


@transaction.atomic
def review_plan(user, offender, *, reason):
    """Start the next version from the current one, its goals and steps copied; the earlier one is kept.

    Refuses while a version is still being drafted.
    """
    ensure_casework_allowed(user, offender)
    PersonalPlan.objects.select_for_update().filter(offender=offender).first()
    version = current_version(offender)
    if version is None:
        raise ValidationError("Start the person's plan first.")
    if not version.is_settled:
        raise ValidationError("This version has not been put to the person yet: change it instead.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter why the plan is being reviewed."})
    new = PlanVersion.objects.create(plan=version.plan, number=version.number + 1, started_at=timezone.now(),
                                     started_by=user, agency_id=user.agency_id, review_reason=reason)
    for goal in version.goals.prefetch_related("steps"):
        copy = Goal.objects.create(version=new, text=goal.text, pathway_id=goal.pathway_id, order=goal.order)
        GoalStep.objects.bulk_create([
            GoalStep(goal=copy, text=step.text, owner_agency_id=step.owner_agency_id, due_on=step.due_on,
                     order=step.order)
            for step in goal.steps.all()
        ])
    log_access(user, Action.CHANGE, version.plan, offender=offender,
               detail=f"Started review of the plan: version {new.number}")
    return new
