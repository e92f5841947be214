"""Operations that change panels, meetings, their decisions and Checkpoint contracts.

Each function checks the user may make the change, runs in one transaction and writes
the access log for personal data. The browser views call these; RAG decisions go
through `cases.services.record_rag_change` and actions through `pathways.services`,
so the case page and the action plans show what the panel decided.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from cases.audit import log_access, log_many
from cases.models import AccessLogEntry, CohortMembership, Offender, RagChange, RagStatus, Supervision
from cases.services import ConcurrentEditError, ensure_casework_allowed, record_rag_change
from pathways.models import Action
from pathways.services import create_action

from .models import (
    AgendaItem,
    Attendance,
    CheckpointContract,
    MappaLevelDecision,
    Meeting,
    MeetingAction,
    Panel,
    PanelKind,
)

Log = AccessLogEntry.Action

# Without an earlier meeting, "since the last meeting" looks back one cadence.
DEFAULT_LOOKBACK = {Panel.Cadence.MONTHLY: 31, Panel.Cadence.FORTNIGHTLY: 14, Panel.Cadence.WEEKLY: 7}


class MeetingClosedError(PermissionDenied):
    """The meeting is closed: its minutes are read-only."""

    def __init__(self):
        super().__init__("This meeting is closed. Its minutes can no longer be changed.")


class DiscussionChangedError(Exception):
    """Someone else recorded a decision on the agenda item after this user opened it."""

    def __init__(self, current):
        self.current = current
        super().__init__("The discussion was changed by someone else after you opened it.")


def ensure_chair(user, panel):
    if not panel.is_chaired_by(user):
        raise PermissionDenied("Only the chair of this panel can change its meetings.")


def ensure_meeting_editable(user, meeting):
    """The chair may change a meeting until it is closed."""
    ensure_chair(user, meeting.panel)
    if Meeting.objects.filter(pk=meeting.pk, status=Meeting.Status.CLOSED).exists():
        raise MeetingClosedError()


def _lock_meeting(meeting):
    """Lock the meeting row so a close and an edit cannot interleave."""
    locked = Meeting.objects.select_for_update().select_related("panel").get(pk=meeting.pk)
    if locked.is_closed:
        raise MeetingClosedError()
    return locked


# Panels and meetings


@transaction.atomic
def schedule_meeting(user, panel, *, held_on, location=""):
    """Add a meeting of the panel on a day (one a day per panel)."""
    ensure_chair(user, panel)
    meeting = Meeting(panel=panel, held_on=held_on, location=(location or "").strip())
    meeting.full_clean(validate_constraints=False)
    if Meeting.objects.filter(panel=panel, held_on=held_on).exists():
        raise ValidationError({"held_on": "The panel already meets on that day."})
    try:
        with transaction.atomic():
            meeting.save()
    except IntegrityError as error:
        raise ValidationError({"held_on": "The panel already meets on that day."}) from error
    return meeting


def previous_meeting(meeting):
    return (
        Meeting.objects.filter(panel_id=meeting.panel_id, held_on__lt=meeting.held_on)
        .order_by("-held_on", "-pk").first()
    )


def agenda_window(meeting):
    """The days "since the last meeting": after the previous meeting, up to and including this one."""
    previous = previous_meeting(meeting)
    if previous is not None:
        return previous.held_on, meeting.held_on
    return meeting.held_on - datetime.timedelta(days=DEFAULT_LOOKBACK[meeting.panel.cadence]), meeting.held_on


def select_agenda(meeting, people):
    """{offender_id: set of reasons} for a meeting, from `people` (a queryset the caller may see).

    The rules, for a meeting on day D whose previous meeting of the same panel was on day P:
    - new_referral: joined the panel's cohort after P and on or before D;
    - red: RAG status red now (and on the panel's cohort);
    - review_due: an earlier meeting of this panel set a next review on or before D, a MAPPA
      level decision's review is due by D (MAPPA panels), or a Checkpoint contract ends within
      two weeks of D (Checkpoint panels);
    - overdue_actions: an open action due before D (on the panel's cohort);
    - released: released from prison after P and on or before D (on the panel's cohort);
    - carried_forward: an action set at an earlier meeting of this panel is still open,
      whether or not the person is still on the cohort.
    People on the cohort are those in the panel's area with a membership open on D.
    """
    panel = meeting.panel
    since, until = agenda_window(meeting)
    open_on_day = Q(cohort_memberships__cohort=panel.cohort, cohort_memberships__started_on__lte=until) & (
        Q(cohort_memberships__ended_on__isnull=True) | Q(cohort_memberships__ended_on__gte=until)
    )
    cohort = people.filter(open_on_day, area_id=panel.area_id)
    reasons = {}

    def add(ids, reason):
        for offender_id in ids:
            reasons.setdefault(offender_id, set()).add(reason)

    add(
        people.filter(
            area_id=panel.area_id, cohort_memberships__cohort=panel.cohort,
            cohort_memberships__started_on__gt=since, cohort_memberships__started_on__lte=until,
        ).values_list("pk", flat=True),
        "new_referral",
    )
    add(cohort.filter(rag_status=RagStatus.RED).values_list("pk", flat=True), "red")
    add(
        cohort.filter(
            pk__in=Action.objects.open().filter(due_on__lt=until).values("offender_id")
        ).values_list("pk", flat=True),
        "overdue_actions",
    )
    add(
        cohort.filter(
            pk__in=Supervision.objects.filter(released_on__gt=since, released_on__lte=until).values("offender_id")
        ).values_list("pk", flat=True),
        "released",
    )
    earlier_items = AgendaItem.objects.filter(
        meeting__panel=panel, meeting__held_on__lt=meeting.held_on, offender__in=people
    )
    latest_review = {}
    for offender_id, next_review_on in earlier_items.order_by("meeting__held_on", "pk").values_list(
        "offender_id", "next_review_on"
    ):
        latest_review[offender_id] = next_review_on
    add([pk for pk, review_on in latest_review.items() if review_on and review_on <= until], "review_due")
    if panel.kind == PanelKind.MAPPA:
        latest = (
            MappaLevelDecision.objects.filter(offender__in=cohort).values("offender_id")
            .annotate(latest=Max("decided_at"))
        )
        latest_at = {row["offender_id"]: row["latest"] for row in latest}
        due = MappaLevelDecision.objects.filter(
            offender_id__in=list(latest_at), review_on__lte=until, level__gte=2
        ).values_list("offender_id", "decided_at")
        add([pk for pk, decided_at in due if latest_at.get(pk) == decided_at], "review_due")
    if panel.kind == PanelKind.CHECKPOINT:
        add(
            CheckpointContract.objects.filter(offender__in=people).near_end(until).values_list(
                "offender_id", flat=True),
            "review_due",
        )
    add(
        Action.objects.open().filter(
            panel_link__meeting__panel=panel, panel_link__meeting__held_on__lt=meeting.held_on,
            offender__in=people,
        ).values_list("offender_id", flat=True),
        "carried_forward",
    )
    return reasons


REASON_FIELDS = ("new_referral", "red", "review_due", "overdue_actions", "released", "carried_forward")


@transaction.atomic
def generate_agenda(user, meeting):
    """Put everyone the rules select (see `select_agenda`) on the meeting's agenda.

    Run again before the meeting, it adds people who now qualify and refreshes the reasons
    of those already listed; it never removes anyone (the chair may have added them by hand
    or the panel may already have discussed them). The agenda draws only on people the
    chair's agency may see; other members see each item only if they may see the person.
    """
    ensure_meeting_editable(user, meeting)
    meeting = _lock_meeting(meeting)
    people = Offender.objects.visible_to(user)
    selected = select_agenda(meeting, people)
    existing = {item.offender_id: item for item in meeting.items.all()}
    position = max((item.position for item in existing.values()), default=0)
    added = []
    for offender_id in sorted(selected, key=lambda pk: (-len(selected[pk]), pk)):
        flags = {name: name in selected[offender_id] for name in REASON_FIELDS}
        item = existing.get(offender_id)
        if item is None:
            position += 1
            added.append(AgendaItem(meeting=meeting, offender_id=offender_id, position=position, **flags))
        else:
            for name, value in flags.items():
                setattr(item, name, value)
            item.save(update_fields=[*REASON_FIELDS, "updated_at"])
    AgendaItem.objects.bulk_create(added)
    meeting.status = Meeting.Status.OPEN
    meeting.agenda_generated_at = timezone.now()
    meeting.save(update_fields=["status", "agenda_generated_at"])
    if added:
        log_many(user, Log.CREATE, [item.offender for item in AgendaItem.objects.filter(
            meeting=meeting, offender_id__in=[i.offender_id for i in added]).select_related("offender")],
            object_type="panels.agendaitem", detail=f"Put on the agenda of {meeting.reference}")
    return added


@transaction.atomic
def add_to_agenda(user, meeting, offender, *, reason):
    """The chair adds a person by hand, with why."""
    ensure_meeting_editable(user, meeting)
    meeting = _lock_meeting(meeting)
    if not Offender.objects.visible_to(user).filter(pk=offender.pk).exists():
        raise Offender.DoesNotExist("No such person.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter why the person should be discussed."})
    item = meeting.items.filter(offender=offender).first()
    if item is not None:
        raise ValidationError({"person": "The person is already on this agenda."})
    position = (meeting.items.aggregate(last=Max("position"))["last"] or 0) + 1
    item = AgendaItem.objects.create(
        meeting=meeting, offender=offender, position=position, added_by_hand=True, added_reason=reason[:300]
    )
    if meeting.status == Meeting.Status.SCHEDULED:
        meeting.status = Meeting.Status.OPEN
        meeting.save(update_fields=["status"])
    log_access(user, Log.CREATE, item, offender=offender, detail=f"Added by hand to {meeting.reference}")
    return item


@transaction.atomic
def record_attendance(user, meeting, *, agency, name, status=Attendance.Status.PRESENT):
    ensure_meeting_editable(user, meeting)
    meeting = _lock_meeting(meeting)
    if not meeting.panel.memberships.filter(agency=agency).exists():
        raise ValidationError({"agency": "Choose one of the panel's member agencies."})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Enter the name of the person attending."})
    if meeting.attendance.filter(agency=agency, name=name).exists():
        raise ValidationError({"name": "That person is already recorded for this meeting."})
    return Attendance.objects.create(meeting=meeting, agency=agency, name=name, status=status)


@transaction.atomic
def remove_attendance(user, attendance):
    ensure_meeting_editable(user, attendance.meeting)
    _lock_meeting(attendance.meeting)
    attendance.delete()


def _item_for_change(user, item):
    """Lock the meeting, and refuse a person the chair may not see as if the item did not exist."""
    ensure_meeting_editable(user, item.meeting)
    _lock_meeting(item.meeting)
    if not Offender.objects.visible_to(user).filter(pk=item.offender_id).exists():
        raise AgendaItem.DoesNotExist("No such agenda item.")
    return AgendaItem.objects.select_for_update().select_related("offender", "meeting__panel").get(pk=item.pk)


@transaction.atomic
def record_discussion(user, item, *, discussion, to_status="", rag_reason="", next_review_on=None,
                      expected_status=None, expected_version=None):
    """Record the panel's discussion of a person and, when it changes, the RAG decision.

    The RAG decision goes into the person's RAG history through `record_rag_change`,
    with the panel as its source and the meeting as its reference, so the case page
    shows it beside every other change. With `expected_status` (the status shown on the
    agenda), a change made elsewhere in the meantime refuses this one; with `expected_version`
    (the item's version when the form was opened), so does another chair's save of the item.
    """
    item = _item_for_change(user, item)
    if expected_version is not None and item.version != expected_version:
        raise DiscussionChangedError(item)
    meeting = item.meeting
    if next_review_on is not None and next_review_on <= meeting.held_on:
        raise ValidationError({"next_review_on": "The next review must be after the meeting."})
    if to_status and to_status != item.offender.rag_status:
        if to_status not in RagStatus.values:
            raise ValidationError({"to_status": "Select a RAG status."})
        change = record_rag_change(
            user, item.offender, to_status=to_status,
            reason=(rag_reason or "").strip() or (discussion or "").strip(),
            source=RagChange.Source.PANEL, source_reference=meeting.reference[:200],
            expected_status=expected_status,
        )
        item.rag_change = change
    item.discussion = (discussion or "").strip()
    item.next_review_on = next_review_on
    item.discussed_at = timezone.now()
    item.version += 1
    item.save(update_fields=["discussion", "next_review_on", "discussed_at", "rag_change", "version", "updated_at"])
    log_access(user, Log.CHANGE, item, offender=item.offender_id, detail=f"Discussed at {meeting.reference}")
    return item


@transaction.atomic
def record_mappa_level(user, item, *, category, level, review_on, reason):
    """Set a person's MAPPA category and level at a MAPPA panel, keeping the history.

    Level 2 and 3 cases must have a review date. The person's open MAPPA cohort
    membership is kept in step so the case page shows the current level.
    """
    item = _item_for_change(user, item)
    if not item.meeting.panel.is_mappa:
        raise ValidationError("MAPPA levels are set at MAPPA meetings only.")
    ensure_casework_allowed(user, item.offender)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Enter the reason for the decision."})
    if level >= 2 and review_on is None:
        raise ValidationError({"review_on": "Level 2 and 3 cases must have a review date."})
    if review_on is not None and review_on <= item.meeting.held_on:
        raise ValidationError({"review_on": "The review date must be after the meeting."})
    decision = MappaLevelDecision(
        offender=item.offender, meeting=item.meeting, category=category, level=level, review_on=review_on,
        reason=reason, decided_by=user,
    )
    decision.full_clean()
    decision.save()
    if review_on is not None and (item.next_review_on is None or review_on < item.next_review_on):
        item.next_review_on = review_on
        item.version += 1
        item.save(update_fields=["next_review_on", "version", "updated_at"])
    CohortMembership.objects.filter(offender=item.offender, cohort="mappa", ended_on__isnull=True).update(
        mappa_category=category, mappa_level=level
    )
    log_access(user, Log.CREATE, decision, offender=item.offender_id,
               detail=f"MAPPA category {category}, level {level} at {item.meeting.reference}"[:500])
    return decision


@transaction.atomic
def add_meeting_action(user, item, *, pathway, description, owner_agency, due_on, owner=None):
    """Set an action for an agency at the meeting; it joins the person's action plan.

    Only member agencies of the panel can be given actions. Open actions are carried
    forward onto the panel's next agenda until their owner closes them.
    """
    item = _item_for_change(user, item)
    meeting = item.meeting
    if not meeting.panel.memberships.filter(agency=owner_agency).exists():
        raise ValidationError({"owner_agency": "Choose one of the panel's member agencies."})
    action = create_action(
        user, item.offender, pathway=pathway, description=description, owner_agency=owner_agency,
        due_on=due_on, owner=owner, source_reference=meeting.reference[:200],
    )
    return MeetingAction.objects.create(meeting=meeting, agenda_item=item, action=action)


@transaction.atomic
def close_meeting(user, meeting):
    """Close the meeting: from now on its minutes are read-only."""
    ensure_meeting_editable(user, meeting)
    meeting = _lock_meeting(meeting)
    meeting.status = Meeting.Status.CLOSED
    meeting.closed_at = timezone.now()
    meeting.closed_by = user
    meeting.save(update_fields=["status", "closed_at", "closed_by"])
    log_access(user, Log.CHANGE, meeting, detail=f"Closed {meeting.reference}"[:500])
    return meeting


# Checkpoint


def _save_contract(contract):
    contract.full_clean(exclude=["ends_on", "version"], validate_constraints=False)
    if not contract.eligible:
        raise ValidationError({"eligible": "Only an eligible person can be given a Checkpoint contract."})
    if contract.victim_consulted and not contract.victim_consulted_on:
        raise ValidationError({"victim_consulted_on": "Enter the date the victim was consulted."})
    if not contract.victim_consulted:
        contract.victim_consulted_on = None
    if contract.restorative_justice_taken_up and not contract.restorative_justice_offered:
        raise ValidationError({"restorative_justice_taken_up": "Restorative justice must be offered first."})
    if contract.outcome and not contract.outcome_on:
        raise ValidationError({"outcome_on": "Enter the date of the outcome."})
    if contract.outcome_on and not contract.outcome:
        raise ValidationError({"outcome": "Select the outcome."})
    if contract.outcome_on and contract.outcome_on < contract.started_on:
        raise ValidationError({"outcome_on": "The outcome cannot come before the contract started."})
    if contract.needs_assessment_id and contract.needs_assessment.offender_id != contract.offender_id:
        raise ValidationError({"needs_assessment": "Choose one of this person's needs assessments."})
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError as error:
        if "one_open_checkpoint_contract" in str(error):
            raise ValidationError("The person already has an open Checkpoint contract.") from error
        raise ValidationError("The contract conflicts with the person's other records.") from error
    return contract


@transaction.atomic
def create_checkpoint_contract(user, offender, **fields):
    """Start a 4-month Checkpoint contract; its end date follows from the start date."""
    ensure_casework_allowed(user, offender)
    contract = CheckpointContract(offender=offender, agency_id=user.agency_id, created_by=user, **fields)
    if not contract.agency_id:
        raise PermissionDenied("Only staff of a partner agency can make a Checkpoint contract.")
    _save_contract(contract)
    log_access(user, Log.CREATE, contract, offender=offender, detail="Checkpoint contract started")
    return contract


@transaction.atomic
def update_checkpoint_contract(user, contract, *, expected_version, **fields):
    """Record the victim's consultation, restorative justice and the outcome, refusing a stale save."""
    ensure_casework_allowed(user, contract.offender)
    locked = CheckpointContract.objects.select_for_update().get(pk=contract.pk)
    if locked.version != expected_version:
        raise ConcurrentEditError(locked)
    if locked.outcome and fields.get("outcome", locked.outcome) != locked.outcome:
        raise ValidationError({"outcome": "The contract already has an outcome."})
    for name, value in fields.items():
        setattr(locked, name, value)
    locked.version = F("version") + 1
    _save_contract(locked)
    locked.refresh_from_db()
    log_access(user, Log.CHANGE, locked, offender=locked.offender_id,
               detail="Changed: " + ", ".join(sorted(fields)))
    return locked

