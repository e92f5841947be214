"""Checklists that open themselves as release dates come within the window, and a calendar kept ahead."""

import datetime

from celery import shared_task
from django.utils import timezone

from .calendar import extend_calendar
from .services import open_due_checklists

OPEN_TASK = "resettlement.tasks.open_release_checklists"
# The working-day table runs at least this far ahead of today.
CALENDAR_AHEAD = datetime.timedelta(days=3 * 366)


@shared_task(name=OPEN_TASK)
def open_release_checklists():
    extend_calendar(timezone.localdate() + CALENDAR_AHEAD)
    return open_due_checklists()
