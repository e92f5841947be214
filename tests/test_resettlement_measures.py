"""The through-the-gate measures on small hand-made partnerships: the checklist at release, the day of release
and the first appointment after it. Every date is worked out by hand from the bank holidays of England and Wales."""

import datetime
import zoneinfo

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases.models import Appointment, Supervision
from dashboard.definition import Tables
from dashboard.measures import get_measure
from dashboard.models import Dimension, RollupValue
from dashboard.partner_measures import _before_bank_holiday, _working_days_after
from dashboard.periods import Quarter
from dashboard.rollup import run_rollup
from resettlement import calendar
from resettlement.models import ChecklistItem, ChecklistItemType, ItemStatus, ReleaseChecklist, WorkingDay

from .factories import AreaFactory, OffenderFactory

D = datetime.date
LONDON = zoneinfo.ZoneInfo("Europe/London")
SUMMER = Quarter.from_key("2026-07-01")  # July to September 2026
SPRING = Quarter.from_key("2026-04-01")  # April to June 2026
WINTER_2025 = Quarter.from_key("2025-10-01")  # October to December 2025


@pytest.fixture(autouse=True)
def working_days(db):
    """The calendar the migration fills (a test that flushed the database may have emptied it)."""
    if not WorkingDay.objects.exists():
        WorkingDay.objects.bulk_create(
            WorkingDay(day=day, weekday=weekday, is_bank_holiday=holiday, is_working_day=working,
                       working_day_number=n)
            for day, weekday, holiday, working, n in calendar.calendar_rows(D(2020, 1, 1), D(2030, 12, 31))
        )


def figure(measure, quarter, category="", dimension=Dimension.ALL, slice_key=""):
    value = RollupValue.objects.get(measure=measure, period_start=quarter.start, dimension=dimension,
                                    slice_key=slice_key, category=category)
    return value.numerator, value.denominator


def released(on, person=None, **person_fields):
    person = person or OffenderFactory(**person_fields)
    return Supervision.objects.create(
        offender=person, kind=Supervision.Kind.LICENCE, started_on=on - datetime.timedelta(days=200),
        released_on=on, release_type=Supervision.ReleaseType.PLANNED, responsible_agency=person.lead_agency,
    )


def london(day, hour, minute=0):
    return datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=LONDON)


def appointment(person, when, outcome=Appointment.Outcome.ATTENDED_COMPLIED, kind=Appointment.Kind.SUPERVISION):
    return Appointment.objects.create(
        offender=person, agency=person.lead_agency, kind=kind, scheduled_at=when, outcome=outcome,
        absence_reason="medical" if outcome == Appointment.Outcome.ACCEPTABLE_ABSENCE else "",
    )


def checklist(supervision, *, settled_on, open_items=(), late=(), declined=(), not_needed=()):
    """A checklist with every item done on `settled_on`, except the items named (by key)."""
    made = ReleaseChecklist.objects.create(supervision=supervision, offender=supervision.offender,
                                           opened_on=supervision.released_on - datetime.timedelta(weeks=12))
    for item_type in ChecklistItemType.objects.in_use():
        key = item_type.key
        status, on = ItemStatus.DONE, settled_on
        if key in open_items:
            status, on = ItemStatus.IN_PROGRESS, None
        elif key in late:
            on = supervision.released_on + datetime.timedelta(days=1)
        elif key in declined:
            status = ItemStatus.DECLINED
        elif key in not_needed:
            status = ItemStatus.NOT_NEEDED
        ChecklistItem.objects.create(checklist=made, item_type=item_type, status=status, settled_on=on,
                                     due_on=on if status == ItemStatus.DONE else None)
    return made


# -- Checklist complete at release -------------------------------------------------------------------------------


def test_a_checklist_is_complete_at_release_when_every_item_was_settled_by_the_day():
    release_day = D(2026, 8, 12)
    before = release_day - datetime.timedelta(days=3)
    complete = released(release_day)
    checklist(complete, settled_on=before)
    on_the_day = released(release_day)
    checklist(on_the_day, settled_on=release_day, declined=("gp",), not_needed=("treatment",))
    settled_late = released(release_day)
    checklist(settled_late, settled_on=before, late=("accommodation",))
    still_open = released(release_day)
    checklist(still_open, settled_on=before, open_items=("bank_account",))
    released(release_day)  # no checklist: not counted at all

    run_rollup(quarters=[SUMMER])

    assert figure("checklist_complete_at_release", SUMMER) == (2, 4)


def test_a_person_released_twice_in_a_quarter_counts_once_at_the_first_release():
    person = OffenderFactory()
    first = released(D(2026, 7, 8), person=person)
    checklist(first, settled_on=D(2026, 7, 1), open_items=("id",))
    second = released(D(2026, 9, 2), person=person)  # recalled and released again
    checklist(second, settled_on=D(2026, 8, 28))

    run_rollup(quarters=[SUMMER])

    assert figure("checklist_complete_at_release", SUMMER) == (0, 1)


def test_the_checklist_measure_is_sliced_and_its_small_numbers_hidden_like_the_others():
    north, south = AreaFactory(code="north"), AreaFactory(code="south")
    for index in range(7):
        supervision = released(D(2026, 8, 3) + datetime.timedelta(days=index), area=north if index < 5 else south)
        checklist(supervision, settled_on=D(2026, 7, 20), open_items=("travel",) if index == 0 else ())

    run_rollup(quarters=[SUMMER])

    assert figure("checklist_complete_at_release", SUMMER) == (6, 7)
    assert figure("checklist_complete_at_release", SUMMER, dimension=Dimension.AREA,
                  slice_key=str(north.pk)) == (4, 5)
    south_figure = RollupValue.objects.get(measure="checklist_complete_at_release", period_start=SUMMER.start,
                                           dimension=Dimension.AREA, slice_key=str(south.pk), category="")
    assert (south_figure.numerator, south_figure.denominator) == (2, 2)
    assert south_figure.numerator_hidden and south_figure.denominator_hidden
    # North's 5 is not small, but with south hidden it would give south away from the whole: hidden too.
    north_figure = RollupValue.objects.get(measure="checklist_complete_at_release", period_start=SUMMER.start,
                                           dimension=Dimension.AREA, slice_key=str(north.pk), category="")
    assert north_figure.denominator_hidden


# -- The day of release ------------------------------------------------------------------------------------------


def test_releases_on_fridays_and_before_bank_holidays():
    days = [
        D(2026, 4, 2),   # Thursday before Good Friday: before a bank holiday
        D(2026, 4, 3),   # Good Friday itself: a Friday
        D(2026, 4, 7),   # Tuesday after Easter Monday: neither
        D(2026, 5, 22),  # Friday before the spring bank holiday: counted once
        D(2026, 6, 12),  # an ordinary Friday
        D(2026, 6, 10),  # an ordinary Wednesday: neither
        D(2026, 5, 24),  # Sunday before the spring bank holiday Monday: before a bank holiday
    ]
    for day in days:
        released(day)
    twice = OffenderFactory()
    released(D(2026, 4, 8), person=twice)  # a Wednesday: the first release in the quarter is the one counted
    released(D(2026, 6, 19), person=twice)  # a Friday, not counted

    run_rollup(quarters=[SPRING])

    assert figure("friday_releases", SPRING) == (5, 8)


def test_christmas_eve_is_before_a_bank_holiday_and_the_day_before_it_is_not():
    released(D(2025, 12, 24))  # Wednesday: Christmas Day follows
    released(D(2025, 12, 23))  # Tuesday: Christmas Eve is a working day
    released(D(2025, 12, 31))  # Wednesday: New Year's Day follows

    run_rollup(quarters=[WINTER_2025])

    assert figure("friday_releases", WINTER_2025) == (2, 3)


def test_the_calendar_in_sql_agrees_with_the_calendar_the_board_uses():
    """Every day of two years, worked out by the measures' SQL and by `resettlement.calendar`."""
    t = Tables()
    first, last = D(2025, 1, 1), D(2026, 12, 31)
    with connection.cursor() as cursor:
        # Table names and the measures' own SQL; the dates are parameters.
        sql = (
            f"SELECT d0.day, {_working_days_after(t, 'd0.day', 2)}, d0.weekday, {_before_bank_holiday(t, 'd0')} "  # noqa: S608
            f"FROM {t.resettlement_workingday} d0 WHERE d0.day BETWEEN %s AND %s ORDER BY d0.day"
        )
        cursor.execute(sql, [first, last])
        rows = cursor.fetchall()
    assert len(rows) == (last - first).days + 1
    for day, second_working_day, weekday, before_holiday in rows:
        assert second_working_day == calendar.add_working_days(day, 2), day
        assert (weekday == calendar.FRIDAY) is calendar.is_friday(day), day
        assert bool(before_holiday) is calendar.is_before_bank_holiday(day), day


# -- First appointment kept within two working days -------------------------------------------------------------


def test_first_appointment_within_two_working_days_across_a_weekend_and_a_bank_holiday():
    # Released Friday 28 August 2026; Monday 31 is the late summer bank holiday: day two is Wednesday 2 September.
    bank_holiday_weekend = D(2026, 8, 28)
    on_wednesday = released(bank_holiday_weekend).offender
    appointment(on_wednesday, london(D(2026, 9, 2), 16))
    on_thursday = released(bank_holiday_weekend).offender
    appointment(on_thursday, london(D(2026, 9, 3), 10))
    # Released Friday 11 September 2026, an ordinary weekend: day two is Tuesday 15 September.
    ordinary = D(2026, 9, 11)
    late_tuesday = released(ordinary).offender
    appointment(late_tuesday, london(D(2026, 9, 15), 23, 30))  # 22:30 UTC
    # Half past midnight on Wednesday in summer time is 23:30 on Tuesday in UTC: still Wednesday here.
    just_after_midnight = released(ordinary).offender
    appointment(just_after_midnight, london(D(2026, 9, 16), 0, 30))
    # Late on the Friday of release and just after its midnight: both on the day, or in the window.
    friday_night = released(ordinary).offender
    appointment(friday_night, london(ordinary, 23, 45))
    released_at_midnight = released(ordinary).offender
    appointment(released_at_midnight, london(ordinary, 0, 30))  # 23:30 on Thursday in UTC

    run_rollup(quarters=[SUMMER])

    assert figure("first_appointment_kept", SUMMER) == (4, 6)
    people = set(_kept_people(SUMMER))
    assert people == {on_wednesday.pk, late_tuesday.pk, friday_night.pk, released_at_midnight.pk}


def test_the_window_crosses_christmas_and_boxing_day():
    # Released Wednesday 24 December 2025: Thursday and Friday are bank holidays, then the weekend,
    # so the two working days are Monday 29 and Tuesday 30 December.
    christmas_eve = D(2025, 12, 24)
    on_tuesday = released(christmas_eve).offender
    appointment(on_tuesday, london(D(2025, 12, 30), 11))
    on_new_years_eve = released(christmas_eve).offender
    appointment(on_new_years_eve, london(D(2025, 12, 31), 9))

    run_rollup(quarters=[WINTER_2025])

    assert figure("first_appointment_kept", WINTER_2025) == (1, 2)


def test_only_the_first_probation_appointment_after_release_counts_and_only_if_attended():
    release_day = D(2026, 7, 15)  # Wednesday: the window runs to Friday 17 July
    missed_first = released(release_day).offender
    appointment(missed_first, london(D(2026, 7, 16), 10), Appointment.Outcome.UNACCEPTABLE_ABSENCE)
    appointment(missed_first, london(D(2026, 7, 17), 10))
    excused_first = released(release_day).offender
    appointment(excused_first, london(D(2026, 7, 16), 10), Appointment.Outcome.ACCEPTABLE_ABSENCE)
    cancelled_first = released(release_day).offender
    appointment(cancelled_first, london(D(2026, 7, 15), 14), Appointment.Outcome.CANCELLED)
    appointment(cancelled_first, london(D(2026, 7, 17), 14), Appointment.Outcome.FAILED_TO_COMPLY)
    seen_in_prison = released(release_day).offender
    appointment(seen_in_prison, london(D(2026, 7, 14), 10))
    housing_only = released(release_day).offender
    appointment(housing_only, london(D(2026, 7, 16), 10), kind=Appointment.Kind.HOUSING)
    released(release_day)  # no appointment at all

    run_rollup(quarters=[SUMMER])

    assert figure("first_appointment_kept", SUMMER) == (1, 6)
    assert set(_kept_people(SUMMER)) == {cancelled_first.pk}


def test_a_quarter_is_final_for_the_first_appointment_a_month_after_it_ends():
    # A release on Wednesday 30 September has until Friday 2 October; the quarter is final from 31 October.
    measure = get_measure("first_appointment_kept")
    assert measure.final_on(SUMMER) == D(2026, 10, 31)
    assert get_measure("friday_releases").final_on(SUMMER) == D(2026, 10, 1)


def _kept_people(quarter):
    from dashboard.rollup import offender_ids_for

    return offender_ids_for(get_measure("first_appointment_kept"), quarter, Dimension.ALL, "")


def test_times_are_compared_in_uk_time():
    # The measures read the partnership's time zone: make sure the test's hand-worked times mean what they say.
    assert timezone.get_current_timezone_name() == "Europe/London"
    assert london(D(2026, 9, 16), 0, 30).astimezone(datetime.UTC).date() == D(2026, 9, 15)


@pytest.mark.parametrize(("name", "words"), [
    ("checklist_complete_at_release", "done or not needed, or declined by the person, on or before the day"),
    ("friday_releases", "Christmas Eve"),
    ("first_appointment_kept", "until the end of Wednesday"),
])
def test_each_measure_page_says_how_it_is_measured(partnership, client_for, name, words):
    run_rollup(quarters=[SUMMER])

    response = client_for(partnership.analyst).get(reverse("dashboard:measure", args=[name]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "How this is measured" in page and words in page
