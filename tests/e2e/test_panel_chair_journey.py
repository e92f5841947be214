"""Journey: a panel chair prepares, runs and closes the monthly IOM panel, then prints the minutes."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Cohort, RagChange, RagStatus, Role
from panels.models import Meeting, Panel, PanelKind, PanelMembership
from pathways.models import Action

from ..factories import MembershipFactory, OffenderFactory, UserFactory
from .browser import give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


@pytest.mark.parametrize("variant, javascript", [("with the mouse", True), ("without JavaScript", False)])
def test_chair_runs_the_iom_panel_and_the_next_agenda_carries_actions_forward(
    journey, partnership, variant, javascript
):
    p = partnership
    today = timezone.localdate()
    chair = UserFactory(username="police.chair", first_name="Helen", last_name="Marsh", agency=p.police,
                        role=Role.PANEL_CHAIR)
    give_authenticator_app(chair)
    panel = Panel.objects.create(name="Northtown IOM panel", kind=PanelKind.IOM_MAIN, area=p.area, chair=chair)
    for agency in (p.police, p.probation):
        PanelMembership.objects.create(panel=panel, agency=agency)
    Meeting.objects.create(panel=panel, held_on=today)
    red = OffenderFactory(first_names="Riley", last_name="Redmond", area=p.area, lead_agency=p.police,
                          rag_status=RagStatus.RED)
    MembershipFactory(offender=red, cohort=Cohort.IOM, started_on=today - datetime.timedelta(days=200))

    j = journey(f"panel chair runs the IOM panel {variant}", javascript=javascript)
    j.sign_in(chair)
    j.follow("Panels")
    j.expect_heading("Panels")
    j.checkpoint("panels")
    j.follow("Northtown IOM panel")
    j.expect_heading("Northtown IOM panel")
    j.checkpoint("panel")
    j.follow(today.strftime("%-d %B %Y"))
    j.press("Generate the agenda")
    j.expect_success("Agenda generated: 1 person added.")
    j.checkpoint("agenda")

    j.follow("Record attendance")
    j.select("Agency", "Probation Service North")
    j.fill("Name and role", "Ruth Owens, senior probation officer")
    j.choose("Present")
    j.press("Record attendance")
    j.expect_success("Attendance recorded.")

    j.follow("Riley Redmond")
    j.expect_heading("Riley Redmond")
    j.checkpoint("agenda item")
    j.fill("Discussion summary (optional)", "Engaging since the last panel; housing found.")
    j.choose("Amber")
    j.fill("Reason for the RAG decision (optional)", "Engaging with probation and housed")
    j.press("Save the discussion")
    j.expect_success("Discussion of Riley Redmond recorded.")

    j.follow("Riley Redmond")
    j.select("Pathway", "Accommodation")
    j.fill("What needs to be done", "Refer to the rent deposit scheme")
    j.select("Agency that owns the action", "Probation Service North")
    j.fill_date("Due date", today + datetime.timedelta(days=14))
    j.press("Add the action")
    j.expect_success("Action set for Probation Service North.")

    j.follow("Back to the agenda")
    j.follow("Close the meeting")
    j.expect_heading("Close the meeting")
    j.checkpoint("close the meeting")
    j.press("Close the meeting")
    j.expect_success("Meeting closed.")
    j.expect_heading(f"Minutes: {today.strftime('%-d %B %Y')}")
    expect(j.page.get_by_text("Refer to the rent deposit scheme")).to_be_visible()
    j.checkpoint("minutes")
    j.page.emulate_media(media="print")
    j.page.screenshot(path=j.folder / "minutes-print.png", full_page=True)
    expect(j.page.get_by_role("button", name="Sign out")).to_be_hidden()
    j.page.emulate_media(media="screen")

    change = RagChange.objects.get(offender=red)
    assert change.source == RagChange.Source.PANEL and change.to_status == "amber"
    assert Action.objects.get(offender=red).owner_agency == p.probation

    # Next month: the open action is carried forward onto the new agenda.
    Meeting.objects.create(panel=panel, held_on=today + datetime.timedelta(days=28))
    j.follow("Back to the meeting")
    j.follow("Back to Northtown IOM panel")
    j.follow((today + datetime.timedelta(days=28)).strftime("%-d %B %Y"))
    j.press("Generate the agenda")
    j.expect_success("Agenda generated: 1 person added.")
    expect(j.page.get_by_text("Carried forward from")).to_be_visible()
    j.checkpoint("next agenda")
