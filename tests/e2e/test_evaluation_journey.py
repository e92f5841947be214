"""An analyst asks whether the demo's Checkpoint cohort reduced reoffending, and reads the answer."""

import random

import pytest
from playwright.sync_api import expect

from cases.models import Agency
from evaluation import demo
from evaluation.models import Evaluation

from .browser import give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_analyst_sets_up_an_evaluation_of_checkpoint_watches_it_run_and_reads_the_result(journey, partnership):
    p = partnership
    demo.seed({"areas": {"northtown": p.area}, "agencies": {Agency.Kind.POLICE: p.police}, "people": [None] * 300},
              random.Random(2026))
    start, end = demo.demo_period()
    give_authenticator_app(p.analyst)
    j = journey("evaluation of checkpoint")

    j.sign_in(p.analyst)
    nav = j.page.get_by_role("navigation", name="Primary navigation")
    j.follow("Evaluations", within=nav)
    j.expect_heading("Evaluations")
    j.checkpoint("no evaluations yet")
    j.follow("Set up an evaluation")
    j.expect_heading("Set up an evaluation")
    j.checkpoint("the set-up form")

    j.fill("Name of the evaluation", "Checkpoint against similar cautioned adults")
    j.choose("People who started a cohort or scheme")
    j.select("Cohort or scheme (optional)", "Checkpoint")
    j.fill_date("Start of the period", start)
    j.fill_date("End of the period", end)
    j.tick("Previous convictions")
    j.press("Run the evaluation")

    j.expect_heading("Checkpoint against similar cautioned adults")
    j.expect_success("The evaluation has started")
    # The run is a Celery task; the page shows its progress until it is done (at once here: tasks run eagerly).
    expect(j.page.get_by_role("heading", name="What it found")).to_be_visible()
    assert Evaluation.objects.get().status == Evaluation.Status.DONE
    verdict = j.page.locator("#verdict")
    expect(verdict).to_contain_text("reoffended within a year")
    outcomes = j.page.get_by_role("table", name="Reoffending of the matched groups")
    expect(outcomes.get_by_role("rowheader", name="Proven reoffending rate", exact=True)).to_be_visible()
    balance = j.page.get_by_role("table", name="Balance before and after matching")
    expect(balance.get_by_role("rowheader", name="Age", exact=True)).to_be_visible()
    expect(balance.get_by_role("rowheader", name="Previous convictions", exact=True)).to_be_visible()
    # Analysts see figures only: no link to the people in the groups.
    expect(j.page.get_by_role("link", name="Download the people in the groups", exact=False)).to_have_count(0)
    j.checkpoint("the result and its balance table")

    j.follow("Version to print for the board")
    j.expect_heading("Checkpoint against similar cautioned adults")
    expect(j.page.locator("#verdict")).to_have_text(Evaluation.objects.get().result["verdict"])
    j.checkpoint("the version to print")
