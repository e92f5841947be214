"""What a member of a panel sees of a meeting's agenda: each person with their current case facts.

A constant number of queries whatever the agenda's length: the items, then one query each
for needs, actions, missed appointments, notes, enforcement, other panels, MAPPA decisions
and Checkpoint contracts, all for the people on the agenda at once.

An agenda item about a person the viewer's agency may not see is left out entirely: the
viewer is told only how many such items there are ("2 cases not shared with your agency").
The panel still discusses them; members whose agencies see the person read the detail.
"""

import datetime
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Subquery
from django.utils import timezone

from cases.models import Appointment, CaseNote, EnforcementAction, Offender
from pathways.models import Action, NeedAssessment, NeedLevel

from .models import AgendaItem, CheckpointContract, MappaLevelDecision

MISSED_LOOKBACK_DAYS = 90
NOTES_LOOKBACK_DAYS = 60
ENFORCEMENT_LOOKBACK_DAYS = 180
# Domain rule: not engaging for 3+ months triggers background checks; unlocated 6+ months, a media appeal.
NON_ENGAGEMENT_DAYS = 91
UNLOCATED_DAYS = 183
CROSS_PANEL_DAYS = 92


@dataclass
class AgendaEntry:
    item: AgendaItem
    needs: list = field(default_factory=list)
    open_actions: list = field(default_factory=list)
    missed_appointments: list = field(default_factory=list)
    latest_note: CaseNote | None = None
    enforcement: list = field(default_factory=list)
    other_panels: list = field(default_factory=list)
    mappa_decision: MappaLevelDecision | None = None
    checkpoint: CheckpointContract | None = None
    meeting_actions: list = field(default_factory=list)
    engagement_flag: str = ""
    checkpoint_near_end: bool = False
    starts_at: datetime.time | None = None

    @property
    def offender(self):
        return self.item.offender


def engagement_flag(last_attended_at, missed_since_3m, missed_since_6m, today):
    """The enforcement flag the agenda shows: unlocated 6+ months, or not engaging 3+ months."""
    last_attended = timezone.localtime(last_attended_at).date() if last_attended_at is not None else None
    if missed_since_6m and (last_attended is None or (today - last_attended).days >= UNLOCATED_DAYS):
        return "unlocated"
    if missed_since_3m and (last_attended is None or (today - last_attended).days >= NON_ENGAGEMENT_DAYS):
        return "not_engaging"
    return ""


def _day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def agenda_items(meeting):
    """The meeting's items with the person's engagement facts annotated (two subqueries, no joins)."""
    today = meeting.held_on
    appointments = Appointment.objects.filter(offender=OuterRef("offender_id"))
    return (
        meeting.items.select_related("offender", "offender__lead_agency", "rag_change")
        .annotate(
            last_attended_at=Subquery(
                appointments.filter(outcome__in=Appointment.ATTENDED_OUTCOMES, scheduled_at__lt=_day_start(today)
                                    + datetime.timedelta(days=1))
                .order_by("-scheduled_at").values("scheduled_at")[:1]
            ),
            missed_3m=Exists(appointments.filter(
                outcome__in=Appointment.MISSED_OUTCOMES,
                scheduled_at__gte=_day_start(today - datetime.timedelta(days=NON_ENGAGEMENT_DAYS)),
            )),
            missed_6m=Exists(appointments.filter(
                outcome__in=Appointment.MISSED_OUTCOMES,
                scheduled_at__gte=_day_start(today - datetime.timedelta(days=UNLOCATED_DAYS)),
            )),
        )
        .order_by("position", "pk")
    )


def build_agenda(meeting, user, *, only_item=None):
    """(entries the user may see, number of items about people the user's agency may not see)."""
    items = list(agenda_items(meeting) if only_item is None else agenda_items(meeting).filter(pk=only_item))
    ids = [item.offender_id for item in items]
    visible = set(Offender.objects.visible_to(user).filter(pk__in=ids).values_list("pk", flat=True))
    shown = [item for item in items if item.offender_id in visible]
    hidden_count = len(items) - len(shown)
    entries = {
        item.offender_id: AgendaEntry(
            item=item,
            engagement_flag=engagement_flag(item.last_attended_at, item.missed_3m, item.missed_6m, meeting.held_on),
        )
        for item in shown
    }
    if not entries:
        return [], hidden_count
    people = list(entries)
    today = meeting.held_on

    for need in (
        NeedAssessment.objects.filter(offender_id__in=people).current()
        .filter(level__in=[NeedLevel.SOME, NeedLevel.SIGNIFICANT]).select_related("pathway")
        .order_by("pathway__order", "pathway__name")
    ):
        entries[need.offender_id].needs.append(need)

    for action in (
        Action.objects.filter(offender_id__in=people).open()
        .select_related("pathway", "owner_agency", "owner", "panel_link__meeting__panel")
        .order_by("due_on", "pk")
    ):
        action.overdue_at_meeting = action.due_on < today
        link = getattr(action, "panel_link", None)
        action.set_at = link.meeting if link is not None else None
        action.carried_forward = bool(
            link and link.meeting.panel_id == meeting.panel_id and link.meeting.held_on < meeting.held_on
        )
        entries[action.offender_id].open_actions.append(action)

    missed_from = _day_start(today - datetime.timedelta(days=MISSED_LOOKBACK_DAYS))
    for appointment in (
        Appointment.objects.filter(offender_id__in=people, outcome__in=Appointment.MISSED_OUTCOMES,
                                   scheduled_at__gte=missed_from)
        .select_related("agency").order_by("-scheduled_at")
    ):
        entries[appointment.offender_id].missed_appointments.append(appointment)

    # Agenda and minutes are read by every member agency: a restricted note never appears,
    # not even to its own agency, so nothing from it is copied into shared minutes by mistake.
    notes_from = _day_start(today - datetime.timedelta(days=NOTES_LOOKBACK_DAYS))
    for note in (
        CaseNote.objects.filter(offender_id__in=people, sharing=CaseNote.Sharing.PARTNERSHIP,
                                created_at__gte=notes_from)
        .select_related("agency").order_by("offender_id", "-created_at", "-pk")
    ):
        entry = entries[note.offender_id]
        if entry.latest_note is None:
            entry.latest_note = note

    for enforcement in (
        EnforcementAction.objects.filter(
            offender_id__in=people, taken_on__gte=today - datetime.timedelta(days=ENFORCEMENT_LOOKBACK_DAYS)
        ).select_related("agency").order_by("-taken_on", "-pk")
    ):
        entries[enforcement.offender_id].enforcement.append(enforcement)

    window = (today - datetime.timedelta(days=CROSS_PANEL_DAYS), today + datetime.timedelta(days=CROSS_PANEL_DAYS))
    other = (
        AgendaItem.objects.filter(offender_id__in=people, meeting__held_on__range=window)
        .exclude(meeting__panel_id=meeting.panel_id)
        .values_list("offender_id", "meeting__panel__name").distinct().order_by("meeting__panel__name")
    )
    for offender_id, panel_name in other:
        entries[offender_id].other_panels.append(panel_name)

    if meeting.panel.is_mappa:
        latest = MappaLevelDecision.objects.filter(offender_id=OuterRef("offender_id")).order_by(
            "-decided_at", "-pk").values("pk")[:1]
        for decision in MappaLevelDecision.objects.filter(offender_id__in=people, pk=Subquery(latest)):
            entries[decision.offender_id].mappa_decision = decision

    for contract in CheckpointContract.objects.filter(offender_id__in=people).order_by("offender_id", "-started_on"):
        entry = entries[contract.offender_id]
        if entry.checkpoint is None:
            entry.checkpoint = contract
            entry.checkpoint_near_end = contract.is_near_end(today)

    for link in meeting.meeting_actions.filter(agenda_item__offender_id__in=people).select_related(
        "action__pathway", "action__owner_agency", "action__owner"
    ):
        entries[link.action.offender_id].meeting_actions.append(link.action)

    return [entries[item.offender_id] for item in shown], hidden_count

