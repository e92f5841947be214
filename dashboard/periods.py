"""Reporting periods: quarters of the financial year (April to March), as boards report them."""

import calendar
import datetime
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone


def add_months(day, months):
    """The same day `months` later, or the month's last day when it has fewer days (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


@dataclass(frozen=True, order=True)
class Quarter:
    start: datetime.date

    @classmethod
    def containing(cls, day):
        first_month = (day.month - 1) // 3 * 3 + 1
        return cls(datetime.date(day.year, first_month, 1))

    @classmethod
    def from_key(cls, key):
        """A quarter from its start date in ISO form; ValueError when it is not a quarter start."""
        start = datetime.date.fromisoformat(key)
        if start.day != 1 or (start.month - 1) % 3:
            raise ValueError(f"{key} is not the first day of a quarter")
        return cls(start)

    @property
    def key(self):
        return self.start.isoformat()

    @property
    def end(self):
        """The last day of the quarter."""
        return self.next().start - datetime.timedelta(days=1)

    def next(self):
        month = self.start.month + 3
        year = self.start.year + (month > 12)
        return Quarter(datetime.date(year, (month - 1) % 12 + 1, 1))

    def previous(self):
        month = self.start.month - 3
        year = self.start.year - (month < 1)
        return Quarter(datetime.date(year, (month - 1) % 12 + 1, 1))

    @property
    def financial_year(self):
        year = self.start.year if self.start.month >= 4 else self.start.year - 1
        return f"{year}-{str(year + 1)[-2:]}"

    @property
    def number(self):
        """Quarter of the financial year: Q1 is April to June."""
        return (self.start.month - 4) % 12 // 3 + 1

    @property
    def short_label(self):
        return f"{self.financial_year} Q{self.number}"

    @property
    def label(self):
        end = self.end
        return (
            f"{self.short_label} ({MONTH_NAMES[self.start.month - 1]} to "
            f"{MONTH_NAMES[end.month - 1]} {end.year})"
        )

    def __str__(self):
        return self.label


def reporting_quarters(today=None, count=None):
    """The quarters the roll-up covers, oldest first, ending with the current (partial) quarter."""
    count = count or settings_quarter_count()
    current = Quarter.containing(today or timezone.localdate())
    quarters = [current]
    for _ in range(count - 1):
        quarters.append(quarters[-1].previous())
    return sorted(quarters)


def settings_quarter_count():
    return getattr(settings, "DASHBOARD_QUARTERS", 12)
