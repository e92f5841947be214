"""Journeys 1 and 4: an offender manager works a case; a user of another agency cannot reach it."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Appointment, RagChange, RagStatus
from pathways.models import Action, NeedAssessment, NeedLevel

from .browser import give_authenticator_app

# Seeded reference data (the pathways catalogue) is put back for each test.
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNC = "2015/0123456X"


@pytest.mark.parametrize(
    "variant, javascript, keyboard",
    [
        ("with the mouse", True, False),
        ("without JavaScript", False, False),
        ("with the keyboard only", True, True),
    ],
)
def test_offender_manager_finds_a_person_by_pnc_and_records_case_work(
    journey, partnership, variant, javascript, keyboard
):
    p = partnership
    give_authenticator_app(p.police_om)
    j = journey(f"1 offender manager records case work {variant}", javascript=javascript, keyboard=keyboard)

    j.sign_in(p.police_om)
    j.expect_heading("Cases")
    j.checkpoint("case list")

    j.fill("Name, PNC number or CRN (optional)", PNC)
    j.press("Apply")
    results = j.page.get_by_role("table")
    expect(results.get_by_role("caption")).to_have_text("1 person")
    j.checkpoint("search by PNC")
    j.follow("ASHWORTH, Jordan", within=results)
    j.expect_heading("Jordan Ashworth")
    j.checkpoint("case overview")
    j.follow("Pathways")

    # A new need on the accommodation pathway, then an action for the council's housing team.
    j.follow("Assess needs")
    j.expect_heading("Assess needs across the pathways")
    j.checkpoint("assess needs")
    accommodation = j.page.get_by_role("group", name="Accommodation (optional)", exact=True)
    j.choose("Significant need", within=accommodation)
    j.fill("Why: accommodation (optional)", "No fixed abode since release; sofa surfing.")
    j.press("Save assessment")
    j.expect_success("Needs assessed on 1 pathway.")
    j.expect_heading("Resettlement pathways", level=2)
    j.checkpoint("pathways after assessment")
    j.follow("Add action on Accommodation")
    j.expect_heading("Add an action")
    j.checkpoint("add an action")
    due = timezone.localdate() + datetime.timedelta(days=14)
    j.fill("What needs to be done", "Refer to the rent deposit scheme and book a housing options interview.")
    j.select("Agency that owns the action", "Northtown Council Housing")
    j.fill_date("Due date", due)
    j.press("Save")
    j.expect_success("Action added for Northtown Council Housing.")
    plan = j.page.get_by_role("table").filter(has=j.page.get_by_role("columnheader", name="Owner"))
    expect(plan.get_by_role("row").filter(has_text="rent deposit scheme")).to_contain_text("Northtown Council Housing")
    j.checkpoint("pathways after adding an action")
    j.follow("Sentence and compliance")
    j.expect_heading("Sentence and compliance", level=2)
    j.checkpoint("sentence and compliance")

    # A missed home visit: the early warning the partnership watches for.
    j.follow("Record a contact or appointment")
    j.expect_heading("Record a contact or appointment")
    j.checkpoint("record an appointment")
    yesterday_morning = (timezone.localtime() - datetime.timedelta(days=1)).replace(
        hour=10, minute=30, second=0, microsecond=0
    )
    j.select("Kind", "Police home visit")
    j.fill_date("Date", yesterday_morning.date())
    j.fill("Time", "10:30")
    j.choose("Unacceptable absence")
    j.fill("Notes (optional)", "Did not answer the door; no phone contact.")
    j.press("Save")
    j.expect_success("Appointment recorded.")
    expect(j.page.get_by_role("main")).to_contain_text("Unacceptable absence")
    expect(j.page.get_by_role("main")).to_contain_text("1 failure to comply within 12 months")
    j.checkpoint("appointment after missed home visit")

    # The RAG status changes with a reason; leaving the status out once shows the error summary.
    j.follow("Overview")
    j.follow("Change RAG status")
    j.expect_heading("Change RAG status")
    j.checkpoint("change RAG status")
    reason = "Missed home visit and intelligence of renewed shoplifting."
    j.fill("Reason", reason)
    j.press("Save")
    status_group = j.page.get_by_role("group", name="New RAG status")
    j.follow_error("Select the new RAG status", status_group.get_by_role("radio").first)
    j.checkpoint("change RAG status with an error")
    j.choose("Red", within=status_group)
    expect(j.field("Reason")).to_have_value(reason)
    j.press("Save")
    j.expect_success("RAG status changed.")
    rag_card = j.page.locator(".govuk-summary-card").filter(has=j.page.get_by_role("heading", name="RAG status"))
    expect(rag_card).to_contain_text(reason)
    j.checkpoint("overview after RAG change")

    person = p.iom_person
    person.refresh_from_db()
    assert person.rag_status == RagStatus.RED
    change = RagChange.objects.get(offender=person)
    assert (change.to_status, change.reason, change.changed_by) == (RagStatus.RED, reason, p.police_om)
    need = NeedAssessment.objects.get(offender=person)
    assert (need.pathway.key, need.level, need.assessed_by) == ("accommodation", NeedLevel.SIGNIFICANT, p.police_om)
    action = Action.objects.get(offender=person)
    assert (action.owner_agency, action.need, action.due_on, action.created_by) == (p.housing, need, due, p.police_om)
    missed = Appointment.objects.get(offender=person)
    assert missed.outcome == Appointment.Outcome.UNACCEPTABLE_ABSENCE
    assert timezone.localtime(missed.scheduled_at) == yesterday_morning


def test_user_of_another_agency_cannot_reach_the_person_by_url_or_search(journey, partnership):
    p = partnership
    person = p.iom_person
    give_authenticator_app(p.housing_om)
    j = journey("4 another agency cannot reach the person")

    j.sign_in(p.housing_om)
    j.expect_heading("Cases")
    j.checkpoint("case list")

    for path in (
        person.get_absolute_url(), f"/cases/{person.pk}/rag/", f"/cases/{person.pk}/appointments/new/",
        f"/pathways/people/{person.pk}/", f"/pathways/people/{person.pk}/actions/new/",
    ):
        response = j.visit(path)
        assert response.status == 404, path
        j.expect_heading("Page not found")
    expect(j.page.get_by_text("Ashworth")).to_have_count(0)
    j.checkpoint("case page by URL")

    j.visit("/cases/")
    for search in (PNC, "Ashworth", person.crn):
        j.fill("Name, PNC number or CRN (optional)", search)
        j.press("Apply")
        j.expect_heading("No people match", level=2)
        expect(j.page.get_by_role("link", name="ASHWORTH, Jordan")).to_have_count(0)
    j.checkpoint("search finds nobody")
