"""The agenda's order of priority and its time plan.

Who comes first follows a fixed rule, the way chairs run a tight panel: people who are red or
whose RAG rose since the last meeting, then new referrals, releases from prison, reviews due,
overdue actions, actions carried forward, and people the chair added by hand. Each person is
given suggested minutes from why they are there; the chair may reorder and change the minutes,
and the plan shows when each discussion should start and when the meeting should finish.
"""

import datetime
from dataclasses import dataclass

from .models import AgendaItem

# Reasons in order of priority; reasons in the same tuple rank together.
PRIORITY = (
    ("red", "escalating"),
    ("new_referral",),
    ("released",),
    ("review_due",),
    ("overdue_actions",),
    ("carried_forward",),
    ("added_by_hand",),
)
RANK = {reason: rank for rank, reasons in enumerate(PRIORITY) for reason in reasons}

# Minutes a discussion usually takes, by why the person is there; the longest reason wins.
SUGGESTED_MINUTES = {
    "red": 10,
    "escalating": 10,
    "new_referral": 10,
    "released": 8,
    "review_due": 5,
    "overdue_actions": 5,
    "carried_forward": 3,
    "added_by_hand": 5,
}
DEFAULT_MINUTES = 5
MAX_MINUTES = 60


def item_reasons(item):
    return {reason for reason in RANK if getattr(item, reason, False)}


def priority_key(reasons, offender_id):
    """Sort key: most urgent reason first, then the person with more reasons, then a stable tie-break."""
    return (min((RANK[reason] for reason in reasons), default=len(PRIORITY)), -len(reasons), offender_id)


def suggested_minutes(reasons):
    return max((SUGGESTED_MINUTES[reason] for reason in reasons), default=DEFAULT_MINUTES)


@dataclass
class PlannedItem:
    item: object
    starts_at: datetime.time


@dataclass
class TimePlan:
    items: list
    starts_at: datetime.time
    total_minutes: int

    @property
    def finishes_at(self):
        return _after(self.starts_at, self.total_minutes)


def _after(start, minutes):
    moment = datetime.datetime.combine(datetime.date(2000, 1, 1), start) + datetime.timedelta(minutes=minutes)
    return moment.time()


def time_plan(items, starts_at):
    """When each item's discussion should start, in agenda order, and when the meeting should end."""
    planned, elapsed = [], 0
    for item in sorted(items, key=lambda item: (item.position, item.pk)):
        planned.append(PlannedItem(item=item, starts_at=_after(starts_at, elapsed)))
        elapsed += item.minutes
    return TimePlan(items=planned, starts_at=starts_at, total_minutes=elapsed)


def meeting_plan(meeting):
    """The time plan of every item on the meeting's agenda, seen or not (one query)."""
    items = AgendaItem.objects.filter(meeting_id=meeting.pk).only("pk", "position", "minutes")
    return time_plan(list(items), meeting.starts_at)
