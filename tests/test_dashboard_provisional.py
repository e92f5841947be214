"""Provisional figures: a quarter whose follow-up is not over is marked, with how much is in, and never compared."""

import datetime

import pytest
from django.urls import reverse

from cases.models import Offence, Supervision
from dashboard.figures import default_quarter, latest_final_quarter, load_figures
from dashboard.measures import get_measure
from dashboard.models import Dimension
from dashboard.periods import Quarter
from dashboard.rollup import run_rollup
from tests.factories import OffenderFactory

Q = Quarter.from_key("2024-04-01")  # April to June 2024


def test_a_quarter_without_follow_up_is_final_the_day_after_it_ends():
    entries = get_measure("cohort_entries")
    assert entries.final_on(Q) == datetime.date(2024, 7, 1)
    assert entries.completeness(Q, datetime.date(2024, 7, 1)) == 1
    assert entries.completeness(Q, datetime.date(2024, 4, 1)) == 0
    assert entries.completeness(Q, datetime.date(2024, 5, 16)) == pytest.approx(45 / 91)


def test_proven_reoffending_is_final_eighteen_months_after_the_quarter_ends():
    reoffending = get_measure("proven_reoffending")
    # Someone starting on 30 June 2024 has a follow-up to 30 June 2025 and a waiting period to 30 December 2025.
    assert reoffending.final_on(Q) == datetime.date(2025, 12, 31)
    assert reoffending.completeness(Q, datetime.date(2025, 12, 30)) < 1
    assert reoffending.completeness(Q, datetime.date(2025, 12, 31)) == 1
    # On 1 December 2025 the waiting period is over for starts up to 31 May 2024 (61 of the 91 days).
    assert reoffending.completeness(Q, datetime.date(2025, 12, 1)) == pytest.approx(61 / 91)
    assert reoffending.completeness(Q, datetime.date(2025, 11, 1)) == pytest.approx(30 / 91)
    assert reoffending.completeness(Q, datetime.date(2025, 10, 1)) == 0


def test_the_latest_final_quarter_steps_back_past_the_provisional_ones():
    reoffending, entries = get_measure("proven_reoffending"), get_measure("cohort_entries")
    today = datetime.date(2026, 4, 10)
    current = Quarter.containing(today)  # April to June 2026
    assert latest_final_quarter(entries, current.previous(), today) == current.previous()
    assert latest_final_quarter(reoffending, current.previous(), today) == Q.next()  # July to September 2024
    assert latest_final_quarter(reoffending, Q, today) == Q


def rate_falls_from_all_to_none(partnership, selected):
    """Everyone reoffended in the quarter before `selected`, and nobody in `selected`: 100% to 0%."""
    for quarter, reoffends in ((selected.previous(), True), (selected, False)):
        for _ in range(6):
            person = OffenderFactory(area=partnership.area, lead_agency=partnership.police)
            Supervision.objects.create(offender=person, kind=Supervision.Kind.COMMUNITY_ORDER,
                                       started_on=quarter.start + datetime.timedelta(days=3),
                                       responsible_agency=partnership.probation)
            if reoffends:
                Offence.objects.create(offender=person, committed_on=quarter.start + datetime.timedelta(days=20),
                                       offence_group="theft", outcome="conviction",
                                       outcome_on=quarter.start + datetime.timedelta(days=40))
    run_rollup(quarters=[selected.previous(), selected])
    return selected


def test_a_provisional_quarter_is_never_compared(partnership, client_for):
    selected = rate_falls_from_all_to_none(partnership, default_quarter())
    [figures] = load_figures([get_measure("proven_reoffending")], selected, Dimension.ALL, "", True)
    assert figures.headline.text == "0.0%" and figures.previous.text == "100.0%"
    assert figures.selected_provisional
    assert figures.change == ""
    assert 0 <= figures.selected_completeness < 100

    html = client_for(partnership.analyst).get(reverse("dashboard:index")).content.decode()
    assert "percentage points" not in html
    assert "Not compared while provisional" in html
    latest = latest_final_quarter(get_measure("proven_reoffending"), selected)
    assert f"{latest.short_label}:" in html

    api = client_for(partnership.analyst).get("/api/v1/measures/proven_reoffending/").json()
    assert api["latest_final_quarter"] == latest.start.isoformat()
    newest = api["figures"][-1]
    assert newest["provisional"] is True and newest["complete_percent"] < 100


def test_two_final_quarters_are_compared(partnership, client_for):
    final = latest_final_quarter(get_measure("proven_reoffending"), default_quarter())
    rate_falls_from_all_to_none(partnership, final)
    [figures] = load_figures([get_measure("proven_reoffending")], final, Dimension.ALL, "", True)
    assert not figures.selected_provisional
    assert figures.change == "Down 100.0 percentage points"
    html = client_for(partnership.analyst).get(reverse("dashboard:index"), {"quarter": final.key}).content.decode()
    assert "Down 100.0 percentage points" in html
