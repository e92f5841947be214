"""Working days in England and Wales: releases just before a weekend or a bank holiday, and days counted
after release. Bank holidays (substitute days and one-off holidays included) come from `holidays`."""

import datetime
from functools import lru_cache

import holidays

FRIDAY = 4


@lru_cache(maxsize=64)
def _bank_holidays(year):
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_bank_holiday(day):
    return day in _bank_holidays(day.year)


def is_working_day(day):
    return day.weekday() < 5 and not is_bank_holiday(day)


def next_working_day(day):
    day += datetime.timedelta(days=1)
    while not is_working_day(day):
        day += datetime.timedelta(days=1)
    return day


def add_working_days(day, count):
    """The working day `count` working days after `day`."""
    for _ in range(count):
        day = next_working_day(day)
    return day


def is_friday(day):
    return day.weekday() == FRIDAY


def is_before_bank_holiday(day):
    """A release with a bank holiday before the next working day: housing, benefits and treatment are shut."""
    following = day + datetime.timedelta(days=1)
    while not is_working_day(following):
        if is_bank_holiday(following):
            return True
        following += datetime.timedelta(days=1)
    return False


def calendar_rows(first, last, *, number_before=0):
    """(day, weekday, is_bank_holiday, is_working_day, working_day_number) for each day from `first` to `last`,
    numbering working days on from `number_before`."""
    number = number_before
    day = first
    while day <= last:
        working = is_working_day(day)
        number += working
        yield day, day.weekday(), is_bank_holiday(day), working, number
        day += datetime.timedelta(days=1)


def extend_calendar(until):
    """Make sure the working-day table covers every day up to `until`; returns how many days it added."""
    from .models import WorkingDay

    latest = WorkingDay.objects.order_by("-day").first()
    if latest is None or latest.day >= until:
        return 0
    rows = [
        WorkingDay(day=day, weekday=weekday, is_bank_holiday=holiday, is_working_day=working, working_day_number=n)
        for day, weekday, holiday, working, n in calendar_rows(
            latest.day + datetime.timedelta(days=1), until, number_before=latest.working_day_number)
    ]
    WorkingDay.objects.bulk_create(rows, ignore_conflicts=True)
    return len(rows)
