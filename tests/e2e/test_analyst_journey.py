"""Journey 3: an OPCC analyst reads the partnership's figures and can never open a person's case."""

import csv
import datetime

import pytest
from playwright.sync_api import expect

from cases.models import Agency, Cohort, CohortMembership
from dashboard.figures import default_quarter, quarter_choices
from dashboard.measures import get_measure
from dashboard.rollup import run_rollup
from tests.factories import AgencyFactory, AreaFactory, MembershipFactory, OffenderFactory

from .browser import give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def joiners(count, *, area, agency, quarter):
    for _ in range(count):
        person = OffenderFactory(area=area, lead_agency=agency)
        MembershipFactory(offender=person, cohort=Cohort.IOM, started_on=quarter.start + datetime.timedelta(days=10))


def test_analyst_filters_the_dashboard_exports_a_table_and_cannot_open_a_case(journey, partnership):
    p = partnership
    board_quarter = default_quarter()
    earlier = board_quarter.previous()
    CohortMembership.objects.filter(offender=p.iom_person).update(
        started_on=earlier.start - datetime.timedelta(days=400)
    )
    southtown = AreaFactory(name="Southtown", code="southtown")
    south_police = AgencyFactory(name="Southtown Police", kind=Agency.Kind.POLICE, area=southtown)
    joiners(6, area=p.area, agency=p.police, quarter=earlier)
    joiners(12, area=p.area, agency=p.police, quarter=board_quarter)
    joiners(7, area=southtown, agency=south_police, quarter=earlier)
    run_rollup(quarters=[earlier.previous(), earlier, board_quarter])
    entries = get_measure("cohort_entries")
    give_authenticator_app(p.analyst)
    j = journey("3 analyst reads the dashboard")

    j.sign_in(p.analyst)
    j.expect_heading("Partnership performance")
    nav = j.page.get_by_role("navigation", name="Primary navigation")
    expect(nav.get_by_role("link")).to_have_text(["Dashboard", "Evaluations", "Delivery plan"])
    j.checkpoint("dashboard")

    quarter_label = earlier.label + (" (so far)" if earlier == quarter_choices()[0] else "")
    j.select("Quarter (optional)", quarter_label)
    j.select("Area (optional)", "Northtown")
    j.press("Show figures")
    expect(j.page.get_by_text(f"{earlier.label}, area: Northtown.")).to_be_visible()
    table = j.page.get_by_role("table", name=entries.label)
    expect(table.get_by_role("row").last).to_contain_text("6")
    # Analysts see counts only: no figure links through to the people behind it.
    expect(j.page.locator("main a[href*='/people/'], main a[href^='/cases/']")).to_have_count(0)
    j.checkpoint("dashboard for Northtown in the earlier quarter")

    with j.page.expect_download() as download:
        link = j.page.get_by_role("link", name=f"CSV of {entries.label}", exact=True)
        if j.keyboard:
            j.tab_to(link)
            j.page.keyboard.press("Enter")
        else:
            link.click()
    with open(download.value.path(), encoding="utf-8-sig") as exported:
        rows = list(csv.reader(exported))
    assert download.value.suggested_filename.endswith(".csv")
    assert rows[0][0] and rows[-1][1] == "6", rows

    person = p.iom_person
    for path, status, heading in (
        ("/cases/", 403, "You do not have permission to do this"),
        (person.get_absolute_url(), 404, "Page not found"),
        (f"/cases/?q={person.pnc_number}", 403, "You do not have permission to do this"),
        (f"/dashboard/measures/{entries.name}/people/?quarter={earlier.key}&dimension=all", 403,
         "You do not have permission to do this"),
    ):
        response = j.visit(path)
        assert response.status == status, path
        j.expect_heading(heading)
        expect(j.page.get_by_text("Ashworth")).to_have_count(0)
    j.checkpoint("people behind a figure refused")
