"""The board's delivery plan: the OPCC analyst adds to it, a service reports progress, and the board pack prints."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Role
from dashboard.periods import Quarter
from delivery.models import ProgressUpdate
from tests.factories import UserFactory

from .browser import give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_board_keeps_its_delivery_plan_and_prints_the_quarters_pack(journey, partnership):
    p = partnership
    today = timezone.localdate()
    analyst = UserFactory(username="opcc.board", agency=p.opcc, role=Role.ANALYST)
    housing = UserFactory(username="housing.lead", agency=p.housing, role=Role.OFFENDER_MANAGER)
    for user in (analyst, housing):
        give_authenticator_app(user)
    j = journey("board keeps its delivery plan")

    j.sign_in(analyst)
    j.follow("Delivery plan", within=j.page.get_by_role("navigation", name="Primary navigation"))
    j.expect_heading("Delivery plan")
    j.checkpoint("empty plan")
    j.follow("Add an objective")
    j.fill("Objective", "Reduce reoffending by people released from short sentences")
    j.checkpoint("add an objective")
    j.press("Save")
    j.expect_success("Objective 1 added.")
    j.follow("Add an action under objective 1")
    j.fill("Action", "Open a supported housing pathway for IOM releases")
    j.fill("Intended outcome", "Nobody on IOM released to no fixed abode")
    j.select("Responsible service", "Northtown Council Housing")
    j.fill("Lead person", "Sam Patel, housing options manager")
    j.fill_date("Timescale", today + datetime.timedelta(days=180))
    j.checkpoint("add an action")
    j.press("Save")
    j.expect_success("Action added to the plan.")
    j.page.get_by_role("button", name="Sign out").click()

    j.sign_in(housing)
    j.follow("Delivery plan", within=j.page.get_by_role("navigation", name="Primary navigation"))
    j.follow("Open a supported housing pathway for IOM releases")
    j.choose("Amber: at risk")
    j.fill("Progress to date", "Twelve units agreed; two landlords still to sign.")
    j.fill("Evidence links (optional)", "https://example.org/housing-report")
    j.checkpoint("report progress")
    j.press("Save the update")
    j.expect_success("recorded.")
    expect(j.page.get_by_text("Twelve units agreed; two landlords still to sign.")).to_be_visible()
    j.follow("Back to the delivery plan")
    quarter = Quarter.containing(today)
    j.follow(f"Board pack for {quarter.short_label}")
    j.expect_heading(f"Board pack: {quarter.label}")
    expect(j.page.get_by_role("main")).to_contain_text("Twelve units agreed")
    expect(j.page.get_by_role("heading", name="Outcome measures")).to_be_visible()
    j.checkpoint("board pack")
    j.page.emulate_media(media="print")
    expect(j.page.get_by_role("link", name="Download the pack (CSV)")).to_be_hidden()
    j.page.emulate_media(media="screen")
    assert ProgressUpdate.objects.get().recorded_by == housing
