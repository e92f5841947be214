"""Operations that change panels, meetings, their decisions and Checkpoint contracts.

Each function checks the user may make the change, runs in one transaction and writes
the access log for personal data. The browser views call these; RAG decisions go
through `cases.services.record_rag_change` and actions through `pathways.services`,
so the case page and the action plans show what the panel decided.
"""

import datetime
from typing import NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, OuterRef, Q
from django.utils import timezone
from django.utils.text import slugify

from cases.audit import log_access, log_many_by_id
from cases.locking import lock_for_change, save_next_version
from cases.models import AccessLogEntry, CohortMembership, ExistsPerRow, Offender, RagChange, RagStatus, Supervision
from cases.services import ensure_casework_allowed, record_rag_change
from pathways.models import Action
from pathways.services import create_action

from .models import (
    AgendaItem,
    AgendaRule,
    Attendance,
    CheckpointContract,
    MappaLevelDecision,
    Meeting,
    MeetingAction,
    Panel,
    PanelMembership,
    PanelType,
)
from .timeplan import MAX_MINUTES, item_reasons, priority_key, suggested_minutes

Log = AccessLogEntry.Action

# Without an earlier meeting, "since the last meeting" looks back one cadence.
DEFAULT_LOOKBACK = {Panel.Cadence.MONTHLY: 31, Panel.Cadence.FORTNIGHTLY: 14, Panel.Cadence.WEEKLY: 7}


class MeetingClosedError(PermissionDenied):
    """The meeting is closed: its minutes are read-only."""

    def __init__(self):
        super().__init__("This meeting is closed. Its minutes can no longer be changed.")


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
    locked = Meeting.objects.select_for_update(of=("self",)).select_related("panel__kind").get(pk=meeting.pk)
    if locked.is_closed:
        raise MeetingClosedError()
    return locked


# Panels and meetings


@transaction.atomic
def schedule_meeting(user, panel, *, held_on, location="", starts_at=None):
    """Add a meeting of the panel on a day (one a day per panel)."""
    ensure_chair(user, panel)
    meeting = Meeting(panel=panel, held_on=held_on, location=(location or "").strip(),
                      starts_at=starts_at or panel.usual_start)
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
    - escalating: a change of RAG after P and on or before D raised the status (green to amber, say);
    - review_due: an earlier meeting of this panel set a next review on or before D (for a panel
      with a cohort, of someone still on it), a MAPPA
      level decision's review is due by D (MAPPA panels), or a Checkpoint contract ends within
      two weeks of D (Checkpoint panels);
    - overdue_actions: an open action due before D (on the panel's cohort);
    - released: released from prison after P and on or before D (on the panel's cohort);
    - carried_forward: an action set at an earlier meeting of this panel is still open,
      whether or not the person is still on the cohort.
    People on the cohort are those in the panel's area with a membership open on D. Only the
    rules the panel's type uses are applied; a type without a cohort applies none of the cohort's.
    """
    panel = meeting.panel
    panel_type = panel.kind
    since, until = agenda_window(meeting)
    open_on_day = Q(cohort_memberships__cohort=panel.cohort, cohort_memberships__started_on__lte=until) & (
        Q(cohort_memberships__ended_on__isnull=True) | Q(cohort_memberships__ended_on__gte=until)
    )
    cohort = people.filter(open_on_day, area_id=panel.area_id) if panel.cohort else people.none()
    reasons = {}

    def add(ids, reason):
        if not panel_type.uses(reason):
            return
        for offender_id in ids:
            reasons.setdefault(offender_id, set()).add(reason)

    add(
        people.filter(
            area_id=panel.area_id, cohort_memberships__cohort=panel.cohort,
            cohort_memberships__started_on__gt=since, cohort_memberships__started_on__lte=until,
        ).values_list("pk", flat=True),
        "new_referral",
    )
    # Red, overdue actions and releases are facts about each person on the cohort: one pass over
    # the cohort answers all three, rather than one visibility check a rule.
    checks = {}
    if panel_type.uses("overdue_actions"):
        checks["agenda_overdue"] = ExistsPerRow(
            Action.objects.open().filter(offender=OuterRef("pk"), due_on__lt=until))
    if panel_type.uses("released"):
        checks["agenda_released"] = ExistsPerRow(
            Supervision.objects.filter(offender=OuterRef("pk"), released_on__gt=since, released_on__lte=until))
    if panel.cohort and (checks or panel_type.uses("red")):
        # Each check is an index probe per person on the cohort, never a read of every open action.
        rows = cohort.annotate(**checks).order_by().values_list("pk", "rag_status", *checks)
        red, overdue, released = set(), set(), set()
        for pk, rag_status, *found in rows:
            flags = dict(zip(checks, found, strict=True))
            if rag_status == RagStatus.RED:
                red.add(pk)
            if flags.get("agenda_overdue"):
                overdue.add(pk)
            if flags.get("agenda_released"):
                released.add(pk)
        add(red, "red")
        add(overdue, "overdue_actions")
        add(released, "released")
    raised = RagChange.objects.filter(
        offender__in=cohort, changed_at__gte=_day_after(since), changed_at__lt=_day_after(until)
    ).values_list("offender_id", "from_status", "to_status")
    add({pk for pk, before, after in raised if RAG_SEVERITY.get(after, 0) > RAG_SEVERITY.get(before, 0)},
        "escalating")
    # A review set at an earlier meeting brings the person back while they are still the panel's to
    # review: on its cohort in its area, or anyone the chair may see for a panel without a cohort.
    earlier_items = AgendaItem.objects.filter(
        meeting__panel=panel, meeting__held_on__lt=meeting.held_on, offender__in=cohort if panel.cohort else people
    )
    latest_review = {}
    for offender_id, next_review_on in earlier_items.order_by("meeting__held_on", "pk").values_list(
        "offender_id", "next_review_on"
    ):
        latest_review[offender_id] = next_review_on
    add([pk for pk, review_on in latest_review.items() if review_on and review_on <= until], "review_due")
    if panel.is_mappa:
        latest = (
            MappaLevelDecision.objects.filter(offender__in=cohort).values("offender_id")
            .annotate(latest=Max("decided_at"))
        )
        latest_at = {row["offender_id"]: row["latest"] for row in latest}
        due = MappaLevelDecision.objects.filter(
            offender_id__in=list(latest_at), review_on__lte=until, level__gte=2
        ).values_list("offender_id", "decided_at")
        add([pk for pk, decided_at in due if latest_at.get(pk) == decided_at], "review_due")
    if panel.is_checkpoint:
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


REASON_FIELDS = ("new_referral", "red", "escalating", "review_due", "overdue_actions", "released", "carried_forward")
RAG_SEVERITY = {RagStatus.GREEN: 1, RagStatus.AMBER: 2, RagStatus.RED: 3}


def _day_after(day):
    return timezone.make_aware(datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min))


class AddedItem(NamedTuple):
    """An item `generate_agenda` put on the agenda: its id, the person's id and its place in the order."""

    id: int
    offender_id: int
    position: int


def _insert_items(meeting, newcomers, *, now):
    """Put `newcomers` ((person's id, position, reasons), in agenda order) on the agenda.

    On PostgreSQL this is one INSERT from an array a column (the person, the position, the
    minutes and each reason); every other column takes its default. Returns an `AddedItem`
    each, in the order given: a busy panel's agenda adds thousands of people, and building a
    model instance for each would cost more than writing them.
    """
    if not newcomers:
        return []
    offender_ids, positions, reasons = zip(*newcomers, strict=True)
    varying = {
        "offender_id": offender_ids, "position": positions, "minutes": [suggested_minutes(r) for r in reasons],
        **{name: [name in r for r in reasons] for name in REASON_FIELDS},
    }
    if connection.vendor != "postgresql":
        items = AgendaItem.objects.bulk_create(
            AgendaItem(meeting=meeting, **{name: values[index] for name, values in varying.items()})
            for index in range(len(newcomers))
        )
        return [AddedItem(item.pk, item.offender_id, item.position) for item in items]
    fixed = {"meeting_id": meeting.pk, "updated_at": now}
    quote = connection.ops.quote_name
    columns, selected, params, arrays = [], [], [], []
    for field in AgendaItem._meta.concrete_fields:
        if field.primary_key:
            continue
        db_type = field.db_type(connection)
        if field.attname in varying:
            selected.append(f"c{len(arrays)}")
            arrays.append((db_type, _array_text(varying[field.attname])))
        else:
            value = fixed[field.attname] if field.attname in fixed else field.get_default()
            if hasattr(value, "resolve_expression"):
                continue  # a default the database fills in
            selected.append(f"%s::{db_type}")
            params.append(field.get_db_prep_save(value, connection))
        columns.append(quote(field.column))
    unnest = ", ".join(f"%s::{db_type}[]" for db_type, _ in arrays)
    names = ", ".join(f"c{index}" for index in range(len(arrays)))
    with connection.cursor() as cursor:
        # Names and types come from the model; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {quote(AgendaItem._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(selected)} FROM unnest({unnest}) AS rows({names}) RETURNING id, offender_id",
            [*params, *(values for _, values in arrays)],
        )
        ids = {offender_id: pk for pk, offender_id in cursor.fetchall()}
    return [AddedItem(ids[offender_id], offender_id, position)
            for offender_id, position in zip(offender_ids, positions, strict=True)]


def _update_items(items, *, now):
    """Save the reasons, position and minutes of items already on the agenda, and stamp them updated.

    On PostgreSQL one UPDATE joins the items to an array a column (a bulk update's CASE per
    column would compare every item with every other); elsewhere a bulk update.
    """
    if not items:
        return
    names = [*REASON_FIELDS, "position", "minutes"]
    for item in items:
        item.updated_at = now  # a bulk update does not stamp auto_now fields itself
    if connection.vendor != "postgresql":
        AgendaItem.objects.bulk_update(items, [*names, "updated_at"], batch_size=500)
        return
    quote = connection.ops.quote_name
    fields = [AgendaItem._meta.pk, *(AgendaItem._meta.get_field(name) for name in names)]
    updated = AgendaItem._meta.get_field("updated_at")
    assignments = ", ".join(f"{quote(field.column)} = rows.c{index}" for index, field in enumerate(fields) if index)
    unnest = ", ".join(f"%s::{field.db_type(connection)}[]" for field in fields)
    columns = ", ".join(f"c{index}" for index in range(len(fields)))
    with connection.cursor() as cursor:
        # Names and types come from the model; every value is a parameter.
        cursor.execute(
            f"UPDATE {quote(AgendaItem._meta.db_table)} AS item SET {assignments}, "  # noqa: S608
            f"{quote(updated.column)} = %s FROM unnest({unnest}) AS rows({columns}) "
            f"WHERE item.{quote(AgendaItem._meta.pk.column)} = rows.c0",
            [updated.get_db_prep_save(now, connection),
             *(_array_text([getattr(item, field.attname) for item in items]) for field in fields)],
        )


def _array_text(values):
    """A PostgreSQL array literal of whole numbers or flags: far quicker to send than a list, value by value."""
    if all(type(value) is bool for value in values):
        return "{" + ",".join("t" if value else "f" for value in values) + "}"
    return "{" + ",".join(str(int(value)) for value in values) + "}"


@transaction.atomic
def generate_agenda(user, meeting):
    """Put everyone the rules select (see `select_agenda`) on the meeting's agenda.

    Run again before the meeting, it adds people who now qualify and refreshes the reasons
    of those already listed; it never removes anyone (the chair may have added them by hand
    or the panel may already have discussed them). The agenda draws only on people the
    chair's agency may see; other members see each item only if they may see the person.
    Returns an `AddedItem` for each item added, in agenda order. The number of queries does not grow with the
    number of people selected.
    """
    ensure_meeting_editable(user, meeting)
    meeting = _lock_meeting(meeting)
    people = Offender.objects.visible_to(user)
    selected = select_agenda(meeting, people)
    existing = {item.offender_id: item for item in meeting.items.all()}
    for offender_id, item in existing.items():
        if offender_id in selected:
            for name in REASON_FIELDS:
                setattr(item, name, name in selected[offender_id])
    newcomers = sorted((priority_key(reasons, offender_id), offender_id, reasons)
                       for offender_id, reasons in selected.items() if offender_id not in existing)
    if meeting.ordered_by_chair:
        # The chair's order stands; newcomers join at the end, most urgent first.
        position = max((item.position for item in existing.values()), default=0)
        placed = [(offender_id, position + index, reasons)
                  for index, (_, offender_id, reasons) in enumerate(newcomers, start=1)]
    else:
        everyone = sorted([*((priority_key(item_reasons(item), item.offender_id), item.offender_id, item)
                             for item in existing.values()), *newcomers])
        placed = []
        for position, (_, offender_id, entry) in enumerate(everyone, start=1):
            if isinstance(entry, AgendaItem):
                entry.position = position
                if not entry.added_by_hand:
                    entry.minutes = suggested_minutes(item_reasons(entry))
            else:
                placed.append((offender_id, position, entry))
    now = timezone.now()
    _update_items(list(existing.values()), now=now)
    added = _insert_items(meeting, placed, now=now)
    meeting.status = Meeting.Status.OPEN
    meeting.agenda_generated_at = now
    meeting.save(update_fields=["status", "agenda_generated_at"])
    log_many_by_id(user, Log.CREATE, [item.offender_id for item in added], object_type="panels.agendaitem",
                   detail=f"Put on the agenda of {meeting.reference}")
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
def plan_agenda(user, meeting, *, starts_at, plan):
    """The chair's order and minutes: `plan` maps each agenda item's id to (position, minutes).

    Only items about people the chair may see can be moved; they are put in the order given,
    into the places such items held, so items the chair cannot see keep their places. Of two items
    given the same number, the one whose number the chair changed comes first; otherwise ties keep
    the earlier order. From now on a refresh of the agenda adds newcomers at the end.
    """
    ensure_meeting_editable(user, meeting)
    meeting = _lock_meeting(meeting)
    visible = set(Offender.objects.visible_to(user).filter(panel_agenda_items__meeting=meeting)
                  .values_list("pk", flat=True))
    items = list(meeting.items.order_by("position", "pk"))
    movable = [item for item in items if item.offender_id in visible]
    if set(plan) - {item.pk for item in movable}:
        raise ValidationError("The agenda has changed since you opened it. Check the order and save again.")
    plan = {pk: plan[pk] for pk in plan}
    for item in movable:
        plan.setdefault(item.pk, (None, item.minutes))
    errors = {
        f"minutes_{pk}": f"Allow between 1 and {MAX_MINUTES} minutes."
        for pk, (_, minutes) in plan.items() if not 1 <= minutes <= MAX_MINUTES
    }
    if errors:
        raise ValidationError(errors)
    slots = [item.position for item in movable]

    def wanted(pair):
        index, item = pair
        position = plan[item.pk][0]
        if position is None:
            return (index + 1, 1, index)
        # A number the chair typed over goes before one left as it was: typing 1 puts that person first.
        return (position, 0 if position != index + 1 else 1, index)

    for slot, (_, item) in zip(slots, sorted(enumerate(movable), key=wanted), strict=True):
        item.position = slot
        item.minutes = plan[item.pk][1]
    # Positions are not unique, so a straight bulk update cannot trip over itself midway.
    AgendaItem.objects.bulk_update(movable, ["position", "minutes"])
    meeting.starts_at = starts_at
    meeting.ordered_by_chair = True
    meeting.save(update_fields=["starts_at", "ordered_by_chair"])
    return meeting


@transaction.atomic
def record_attendance(user, meeting, *, agency, name, status=Attendance.Status.PRESENT, deputy=""):
    """One member agency's representative: present (perhaps by a deputy), apologies or absent."""
    ensure_meeting_editable(user, meeting)
    meeting = _lock_meeting(meeting)
    if not meeting.panel.memberships.filter(agency=agency).exists():
        raise ValidationError({"agency": "Choose one of the panel's member agencies."})
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Enter the name of the person attending."})
    if meeting.attendance.filter(agency=agency, name=name).exists():
        raise ValidationError({"name": "That person is already recorded for this meeting."})
    deputy = (deputy or "").strip()
    if deputy and status != Attendance.Status.PRESENT:
        raise ValidationError({"deputy": "A deputy is recorded only when someone attended."})
    return Attendance.objects.create(meeting=meeting, agency=agency, name=name, status=status, deputy=deputy)


@transaction.atomic
def record_all_attendance(user, meeting, *, members, guests):
    """The whole attendance in one go, replacing what was recorded before.

    `members` is a list of dicts (agency, name, status, deputy), one per member agency the chair
    records; `guests` a list of dicts (name, guest_agency), who attend. Either everything is
    recorded or nothing changes.
    """
    ensure_meeting_editable(user, meeting)
    meeting = _lock_meeting(meeting)
    member_ids = set(meeting.panel.memberships.values_list("agency_id", flat=True))
    rows, seen = [], set()
    for member in members:
        agency, name = member["agency"], (member.get("name") or "").strip()
        status, deputy = member["status"], (member.get("deputy") or "").strip()
        if agency.pk not in member_ids:
            raise ValidationError({"agency": f"{agency.name} is not a member of the panel."})
        if agency.pk in seen:
            raise ValidationError({"agency": f"{agency.name} is recorded twice."})
        seen.add(agency.pk)
        if not name:
            raise ValidationError({f"name_{agency.pk}": f"Enter the name of {agency.name}'s representative."})
        if deputy and status != Attendance.Status.PRESENT:
            raise ValidationError({f"deputy_{agency.pk}": "A deputy is recorded only when someone attended."})
        rows.append(Attendance(meeting=meeting, agency=agency, name=name[:150], status=status, deputy=deputy[:150]))
    guest_names = set()
    for guest in guests:
        name, organisation = (guest.get("name") or "").strip(), (guest.get("guest_agency") or "").strip()
        if not name or not organisation:
            raise ValidationError("Enter both the name and the agency of each guest.")
        if (name.lower(), organisation.lower()) in guest_names:
            raise ValidationError(f"{name} of {organisation} is listed twice.")
        guest_names.add((name.lower(), organisation.lower()))
        rows.append(Attendance(meeting=meeting, guest_agency=organisation[:150], name=name[:150]))
    meeting.attendance.all().delete()
    Attendance.objects.bulk_create(rows)
    log_access(user, Log.CHANGE, meeting, detail=f"Attendance of {meeting.reference}"[:500])
    return rows


def _item_for_change(user, item, *, expected_version=None):
    """Lock the meeting and the item, and refuse a person the chair may not see as if the item did not exist.

    With `expected_version`, a save of the item by someone else since refuses the change.
    """
    ensure_meeting_editable(user, item.meeting)
    _lock_meeting(item.meeting)
    if not Offender.objects.visible_to(user).filter(pk=item.offender_id).exists():
        raise AgendaItem.DoesNotExist("No such agenda item.")
    return lock_for_change(AgendaItem.objects.select_related("offender", "meeting__panel"), item.pk,
                           expected=expected_version)


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
    item = _item_for_change(user, item, expected_version=expected_version)
    meeting = item.meeting
    if next_review_on is not None and next_review_on <= meeting.held_on:
        raise ValidationError({"next_review_on": "The next review must be after the meeting."})
    if to_status and to_status != item.offender.rag_status:
        if to_status not in RagStatus.values:
            raise ValidationError({"to_status": "Select a RAG status."})
        if not (rag_reason or "").strip():
            raise ValidationError({"rag_reason": "Enter the reason for the RAG decision."})
        change = record_rag_change(
            user, item.offender, to_status=to_status, reason=rag_reason.strip(),
            source=RagChange.Source.PANEL, source_reference=meeting.reference[:200],
            expected_status=expected_status,
        )
        item.rag_change = change
    item.discussion = (discussion or "").strip()
    item.next_review_on = next_review_on
    item.discussed_at = timezone.now()
    save_next_version(item, ["discussion", "next_review_on", "discussed_at", "rag_change"])
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
        save_next_version(item, ["next_review_on"])
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
def close_meeting(user, meeting, *, next_held_on=None, next_location=""):
    """Close the meeting: from now on its minutes are read-only.

    With `next_held_on`, the panel's next meeting is scheduled in the same step (at
    `next_location`), unless the panel already meets that day.
    """
    ensure_meeting_editable(user, meeting)
    meeting = _lock_meeting(meeting)
    if next_held_on is not None and next_held_on <= meeting.held_on:
        raise ValidationError({"next_held_on": "The next meeting must be after this one."})
    meeting.status = Meeting.Status.CLOSED
    meeting.closed_at = timezone.now()
    meeting.closed_by = user
    meeting.save(update_fields=["status", "closed_at", "closed_by"])
    log_access(user, Log.CHANGE, meeting, detail=f"Closed {meeting.reference}"[:500])
    if next_held_on is not None:
        following, _ = Meeting.objects.get_or_create(
            panel=meeting.panel, held_on=next_held_on,
            defaults={"location": (next_location or "").strip()[:200], "starts_at": meeting.panel.usual_start},
        )
        meeting.next_meeting = following
    return meeting


def next_meeting_defaults(meeting):
    """What the next meeting usually is: the panel's date rule, its usual place (or this one's)."""
    panel = meeting.panel
    return {"next_held_on": panel.next_meeting_on(meeting.held_on),
            "next_location": panel.usual_place or meeting.location}


# Checkpoint


def _check_contract(contract):
    """The rules of a Checkpoint contract, with a message against the field that breaks one."""
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
    if contract.victim_satisfaction and not contract.outcome:
        raise ValidationError({"victim_satisfaction": "Record the victim's satisfaction once the contract has an "
                                                      "outcome."})
    if contract.outcome_on and not contract.outcome:
        raise ValidationError({"outcome": "Select the outcome."})
    if contract.outcome_on and contract.outcome_on < contract.started_on:
        raise ValidationError({"outcome_on": "The outcome cannot come before the contract started."})
    if contract.needs_assessment_id and contract.needs_assessment.offender_id != contract.offender_id:
        raise ValidationError({"needs_assessment": "Choose one of this person's needs assessments."})


def _saving_contract(save):
    """Run `save`, turning a constraint the database still refuses into a ValidationError."""
    try:
        with transaction.atomic():
            save()
    except IntegrityError as error:
        if "one_open_checkpoint_contract" in str(error):
            raise ValidationError("The person already has an open Checkpoint contract.") from error
        raise ValidationError("The contract conflicts with the person's other records.") from error


@transaction.atomic
def create_checkpoint_contract(user, offender, **fields):
    """Start a 4-month Checkpoint contract; its end date follows from the start date."""
    ensure_casework_allowed(user, offender)
    contract = CheckpointContract(offender=offender, agency_id=user.agency_id, created_by=user, **fields)
    if not contract.agency_id:
        raise PermissionDenied("Only staff of a partner agency can make a Checkpoint contract.")
    _check_contract(contract)
    _saving_contract(contract.save)
    log_access(user, Log.CREATE, contract, offender=offender, detail="Checkpoint contract started")
    return contract


@transaction.atomic
def update_checkpoint_contract(user, contract, *, expected_version, **fields):
    """Record the victim's consultation, restorative justice and the outcome, refusing a stale save."""
    ensure_casework_allowed(user, contract.offender)
    locked = lock_for_change(CheckpointContract.objects.all(), contract.pk, expected=expected_version,
                             subject="This Checkpoint contract")
    if locked.outcome and fields.get("outcome", locked.outcome) != locked.outcome:
        raise ValidationError({"outcome": "The contract already has an outcome."})
    for name, value in fields.items():
        setattr(locked, name, value)
    _check_contract(locked)
    _saving_contract(lambda: save_next_version(locked, [*fields, "ends_on", "victim_consulted_on"]))
    log_access(user, Log.CHANGE, locked, offender=locked.offender_id,
               detail="Changed: " + ", ".join(sorted(fields)))
    return locked


# Panel types and panels, kept by the partnership's system administrators


def can_set_up_panels(user):
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.is_superuser)


def ensure_panel_administrator(user):
    if not can_set_up_panels(user):
        raise PermissionDenied("Only a system administrator can set up panel types and panels.")


@transaction.atomic
def add_panel_type(user, *, name, cohort="", agenda_rules=(), member_agencies=(), opened_by_agreement=False,
                   sets_mappa_levels=False, runs_checkpoint_contracts=False):
    """A new kind of panel, as data: its cohort, agenda rules from the fixed menu and usual members."""
    ensure_panel_administrator(user)
    name = (name or "").strip()
    code = slugify(name).replace("-", "_")[:30]
    if not code:
        raise ValidationError({"name": "Enter the name of the panel type."})
    if PanelType.objects.filter(Q(pk=code) | Q(name__iexact=name)).exists():
        raise ValidationError({"name": "There is already a panel type with that name."})
    panel_type = PanelType(
        code=code, name=name, cohort=cohort or "", agenda_rules=[r for r in AgendaRule.values if r in agenda_rules],
        opened_by_agreement=opened_by_agreement, sets_mappa_levels=sets_mappa_levels,
        runs_checkpoint_contracts=runs_checkpoint_contracts,
    )
    panel_type.full_clean()
    panel_type.save()
    panel_type.member_agencies.set(member_agencies)
    return panel_type


@transaction.atomic
def set_up_panel(user, *, name, kind, area, members, chair=None, cadence=Panel.Cadence.MONTHLY, usual_week=None,
                 usual_weekday=None, usual_place=""):
    """A new panel of a type, with its member agencies (the type's usual members unless chosen otherwise)."""
    ensure_panel_administrator(user)
    name = (name or "").strip()
    if Panel.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": "There is already a panel with that name."})
    if not members:
        raise ValidationError({"members": "Choose the panel's member agencies."})
    if (usual_week is None) != (usual_weekday is None):
        raise ValidationError({"usual_weekday": "Give both the week of the month and the day, or neither."})
    if usual_week is not None and cadence != Panel.Cadence.MONTHLY:
        raise ValidationError({"usual_week": "A usual week of the month is for a monthly panel."})
    panel = Panel(name=name, kind=kind, area=area, chair=chair, cadence=cadence, usual_week=usual_week,
                  usual_weekday=usual_weekday, usual_place=(usual_place or "").strip())
    panel.full_clean(validate_constraints=False)
    panel.save()
    for agency in members:
        PanelMembership(panel=panel, agency=agency).save()
    log_access(user, Log.CREATE, panel, detail=f"Set up {panel.name} ({kind.name})"[:500])
    return panel
