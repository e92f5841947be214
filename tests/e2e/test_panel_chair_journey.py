"""Journey 2: a panel chair runs the month's IOM panel from agenda to printable minutes."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Cohort, RagChange, RagStatus, Role
from panels.models import Attendance, Meeting, MeetingAction, Panel, PanelKind, PanelMembership
from tests.factories import MembershipFactory, OffenderFactory, UserFactory

from .browser import give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("variant, javascript", [("with the mouse", True), ("without JavaScript", False)])
def test_panel_chair_generates_the_agenda_records_decisions_and_closes_the_meeting(
    journey, partnership, variant, javascript
):
    p = partnership
    today = timezone.localdate()
    chair = UserFactory(username="police.chair", agency=p.police, role=Role.PANEL_CHAIR)
    panel = Panel.objects.create(name="Northtown IOM panel", kind=PanelKind.IOM_MAIN, area=p.area, chair=chair)
    for agency in (p.police, p.probation):
        PanelMembership.objects.create(panel=panel, agency=agency)
    meeting = Meeting.objects.create(panel=panel, held_on=today)
    # Two people referred to IOM since the last panel: the agenda picks them up as new referrals.
    referrals = []
    for first, last in (("Riley", "Hartley"), ("Morgan", "Okafor")):
        person = OffenderFactory(first_names=first, last_name=last, area=p.area, lead_agency=p.police)
        MembershipFactory(offender=person, cohort=Cohort.IOM, started_on=today - datetime.timedelta(days=3))
        referrals.append(person)
    give_authenticator_app(chair)
    j = journey(f"2 panel chair runs the IOM panel {variant}", javascript=javascript)

    j.sign_in(chair)
    j.follow("Panels", within=j.page.get_by_role("navigation", name="Primary navigation"))
    j.expect_heading("Panels")
    j.checkpoint("panels")
    j.follow("Northtown IOM panel")
    j.expect_heading("Northtown IOM panel")
    j.checkpoint("panel")
    j.follow(f"{today:%-d %B %Y}")
    j.expect_heading(f"Meeting on {today:%-d %B %Y}")
    j.checkpoint("meeting before the agenda")

    j.press("Generate the agenda")
    j.expect_success("Agenda generated:")
    for person in referrals:
        expect(j.page.get_by_role("link", name=person.full_name, exact=True)).to_be_visible()
    j.checkpoint("agenda")

    for agency, name, status in (
        ("Northtown Police", "DS Priya Shah, IOM team", "Present"),
        ("Probation Service North", "Tom Reid, senior probation officer", "Apologies"),
    ):
        j.follow("Record attendance")
        j.expect_heading("Record attendance")
        j.select("Agency", agency)
        j.fill("Name and role", name)
        j.choose(status)
        j.press("Record attendance")
        j.expect_success("Attendance recorded.")
    j.checkpoint("attendance")

    decisions = [
        (referrals[0], "Red", "Arrested for burglary on Friday; not engaging with probation."),
        (referrals[1], "Amber", "Engaging with WDP; housing still unsettled."),
    ]
    for person, status, reason in decisions:
        j.follow(person.full_name, exact=True)
        j.expect_heading(person.full_name)
        j.checkpoint(f"agenda item {person.last_name}")
        j.fill("Discussion summary (optional)", f"Partners updated the panel on {person.first_names}.")
        j.choose(status, within=j.page.get_by_role("group", name="RAG decision"))
        j.fill("Reason for the RAG decision (optional)", reason)
        j.press("Save the discussion")
        j.expect_success(f"Discussion of {person.full_name} recorded.")

    # An action for probation on the second person.
    j.follow(referrals[1].full_name, exact=True)
    j.select("Pathway", "Accommodation")
    j.fill("What needs to be done", "Refer to supported housing before the next panel.")
    j.select("Agency that owns the action", "Probation Service North")
    j.fill_date("Due date", today + datetime.timedelta(days=21))
    j.press("Add the action")
    j.expect_success("Action set for Probation Service North.")
    j.checkpoint("agenda item with an action")
    j.follow("Back to the agenda")

    j.follow("Close the meeting")
    j.expect_heading("Close the meeting")
    j.checkpoint("close the meeting")
    j.press("Close the meeting")
    j.expect_success("Meeting closed.")
    j.expect_heading(f"Minutes: {today:%-d %B %Y}")
    minutes = j.page.get_by_role("main")
    expect(minutes).to_contain_text("Red")
    expect(minutes).to_contain_text("Action for Probation Service North: Refer to supported housing")
    j.checkpoint("minutes")
    # The printable minutes: in print media the navigation and buttons are left out.
    j.page.emulate_media(media="print")
    expect(j.page.get_by_role("link", name="Back to the meeting")).to_be_hidden()
    expect(j.page.get_by_role("button", name="Sign out")).to_be_hidden()
    j.page.screenshot(path=j.folder / f"{j.steps + 1:02d}-minutes-printed.png", full_page=True)
    j.page.emulate_media(media="screen")

    meeting.refresh_from_db()
    assert meeting.is_closed
    assert set(meeting.attendance.values_list("name", "status")) == {
        ("DS Priya Shah, IOM team", Attendance.Status.PRESENT),
        ("Tom Reid, senior probation officer", Attendance.Status.APOLOGIES),
    }
    for (person, _status, reason), expected in zip(decisions, (RagStatus.RED, RagStatus.AMBER), strict=True):
        person.refresh_from_db()
        assert person.rag_status == expected
        change = RagChange.objects.get(offender=person)
        assert (change.reason, change.source, change.changed_by) == (reason, RagChange.Source.PANEL, chair)
    action = MeetingAction.objects.get(meeting=meeting).action
    assert (action.offender, action.owner_agency) == (referrals[1], p.probation)

    # Next month: the open action is carried forward onto the new agenda.
    next_month = today + datetime.timedelta(days=28)
    Meeting.objects.create(panel=panel, held_on=next_month)
    j.follow("Back to the meeting")
    j.follow("Back to Northtown IOM panel")
    j.follow(f"{next_month:%-d %B %Y}")
    j.press("Generate the agenda")
    j.expect_success("Agenda generated:")
    expect(j.page.get_by_text("Carried forward from").first).to_be_visible()
    j.checkpoint("next month's agenda")
