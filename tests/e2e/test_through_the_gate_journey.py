"""Journey 7: through the gate. A prison resettlement worker opens the releases board, sees a Friday release
with no bed booked, books it on the checklist, records the person's goals and agreement, and prints the
person's own copy of the plan."""

import datetime
import importlib

import pytest
from django.apps import apps
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Agency, Cohort, Role, SharingAgreement
from resettlement import calendar, services
from resettlement.models import ItemStatus, PlanVersion

from ..factories import UserFactory
from ..resettlement_factories import ReleaseFactory
from .browser import give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def release(partnership):
    p = partnership
    importlib.import_module("resettlement.migrations.0002_seed_checklist_and_schedule").seed_items(apps, None)
    p.prison = Agency.objects.create(name="HMP Northtown", kind=Agency.Kind.PRISON, area=p.area)
    SharingAgreement.objects.create(agency=p.prison, cohort=Cohort.IOM)
    p.worker = UserFactory(username="prison.resettlement", first_name="Dana", last_name="Okafor", agency=p.prison,
                           role=Role.OFFENDER_MANAGER)
    friday = timezone.localdate() + datetime.timedelta(days=7)
    while not calendar.is_friday(friday):
        friday += datetime.timedelta(days=1)
    p.release = ReleaseFactory(offender=p.iom_person, released_on=friday, responsible_agency=p.prison)
    services.open_due_checklists()
    give_authenticator_app(p.worker)
    return p


@pytest.mark.parametrize("variant, javascript", [("with the mouse", True), ("without JavaScript", False)])
def test_a_friday_release_gets_a_bed_and_the_person_agrees_their_own_plan(journey, release, variant, javascript):
    p = release
    worker = journey(f"7 resettlement worker prepares a release {variant}", javascript=javascript)
    worker.sign_in(p.worker)
    worker.follow("Releases", within=worker.page.get_by_role("navigation", name="Primary navigation"))
    worker.expect_heading("Releases")
    worker.checkpoint("releases board")
    row = worker.page.get_by_role("row").filter(has_text="Jordan Ashworth")
    expect(row).to_contain_text("Friday release")
    expect(row).to_contain_text("No accommodation")
    expect(row).to_contain_text("0 of 8")

    # The checklist: the bed for the night of release is booked.
    worker.follow("Jordan Ashworth", within=row)
    worker.expect_heading("Jordan Ashworth")
    worker.checkpoint("release and checklist")
    worker.follow("Update accommodation for the night of release")
    worker.expect_heading("Update the checklist: accommodation for the night of release")
    worker.checkpoint("update a checklist item")
    worker.choose("Done")
    worker.select("Owner (optional)", "HMP Northtown")
    worker.fill_date("Date (optional)", timezone.localdate())
    worker.fill("Notes (optional)", "Bed at Riverside House from Friday night")
    worker.press("Save")
    worker.expect_success("Accommodation for the night of release updated.")
    worker.follow("Update first probation appointment booked")
    worker.choose("In progress")
    worker.press("Save")
    worker.expect_success("First probation appointment booked updated.")
    worker.follow("Releases", within=worker.page.get_by_role("navigation", name="Primary navigation"))
    row = worker.page.get_by_role("row").filter(has_text="Jordan Ashworth")
    expect(row).to_contain_text("1 of 8")
    expect(row).not_to_contain_text("No accommodation")
    expect(row).to_contain_text("Friday release")

    # The person's own plan, in their words, and their agreement.
    worker.follow("Jordan Ashworth", within=row)
    worker.follow("Own plan", within=worker.page.get_by_role("navigation", name="Case sections"))
    worker.expect_heading("Jordan Ashworth")
    worker.press("Start the plan")
    worker.expect_success("Plan started")
    worker.follow("Add a goal")
    worker.fill("The goal, in the person's own words", "I want to get my own place and see my daughter again")
    worker.press("Save")
    worker.expect_success("Goal added.")
    worker.follow("Add a step to goal 1")
    worker.fill("What will happen", "Phone the family centre the week I get out")
    worker.press("Save")
    worker.expect_success("Step added.")
    worker.checkpoint("own plan with a goal")
    worker.follow("Record the person's agreement")
    worker.choose("Agreed")
    worker.fill("What the person said (optional)", "Said it is the first plan that sounds like them")
    worker.press("Save")
    worker.expect_success("The person's answer is recorded.")
    expect(worker.page.get_by_text("Agreed", exact=True)).to_be_visible()

    worker.follow("Print the person's copy")
    worker.expect_heading("My plan")
    worker.checkpoint("the person's copy")
    expect(worker.page.get_by_text("I will: Phone the family centre the week I get out")).to_be_visible()
    expect(worker.page.get_by_text(f"I agreed to this plan on {timezone.localdate():%-d %B %Y}.")).to_be_visible()

    accommodation = p.release.release_checklist.items.get(item_type__key="accommodation")
    assert accommodation.status == ItemStatus.DONE and accommodation.owner_agency == p.prison
    assert PlanVersion.objects.get(plan__offender=p.iom_person).agreement == "agreed"
