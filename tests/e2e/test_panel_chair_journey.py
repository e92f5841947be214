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
    panel = Panel.objects.create(name="Northtown IOM panel", kind=PanelKind.IOM_MAIN, area=p.area, chair=chair,
                                 usual_place="Northtown police station, room 4")
    for agency in (p.police, p.probation):
        PanelMembership.objects.create(panel=panel, agency=agency)
    meeting = Meeting.objects.create(panel=panel, held_on=today, location="Northtown police station, room 4")
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

    # The chair puts the second referral first and gives them more time.
    j.follow("Order the agenda")
    j.expect_heading("Order the agenda")
    j.checkpoint("order the agenda")
    j.fill("Start time", "14:00")
    j.fill(f"Order of {referrals[1].full_name}", "1")
    j.fill(f"Order of {referrals[0].full_name}", "2")
    j.fill(f"Minutes for {referrals[1].full_name}", "15")
    j.press("Save the order")
    j.expect_success("Agenda order and timings saved.")
    expect(j.page.get_by_text("expected to finish at 14:25")).to_be_visible()
    headings = j.page.locator(".app-agenda-item__heading")
    expect(headings.first).to_have_text(referrals[1].full_name)

    # Attendance for every member in one form, with a deputy and a guest.
    j.follow("Record attendance")
    j.expect_heading("Record attendance")
    police = j.page.get_by_role("group", name="Northtown Police")
    probation = j.page.get_by_role("group", name="Probation Service North")
    j.fill("Member's name and role", "DI Ann Lowe, IOM lead", within=police)
    j.choose("Present", within=police)
    j.fill("Deputy's name and role (optional)", "DS Priya Shah, IOM team", within=police)
    j.fill("Member's name and role", "Tom Reid, senior probation officer", within=probation)
    j.choose("Apologies", within=probation)
    guest = j.page.get_by_role("group", name="Guest 1")
    j.fill("Guest's name and role (optional)", "Sam Patel, housing options", within=guest)
    j.fill("Guest's agency (optional)", "Northtown Council", within=guest)
    j.checkpoint("attendance form")
    j.press("Save the attendance")
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
    next_month = panel.next_meeting_on(today)
    next_date = j.page.get_by_role("group", name="Next meeting date (optional)")
    expect(next_date.get_by_label("Day", exact=True)).to_have_value(str(next_month.day))
    expect(j.field("Place (optional)")).to_have_value("Northtown police station, room 4")
    j.checkpoint("close the meeting")
    j.press("Close the meeting")
    j.expect_success(f"Next meeting: {next_month:%-d %B %Y} at Northtown police station, room 4.")
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
    assert set(meeting.attendance.values_list("name", "status", "deputy", "guest_agency")) == {
        ("DI Ann Lowe, IOM lead", Attendance.Status.PRESENT, "DS Priya Shah, IOM team", ""),
        ("Tom Reid, senior probation officer", Attendance.Status.APOLOGIES, "", ""),
        ("Sam Patel, housing options", Attendance.Status.PRESENT, "", "Northtown Council"),
    }
    for (person, _status, reason), expected in zip(decisions, (RagStatus.RED, RagStatus.AMBER), strict=True):
        person.refresh_from_db()
        assert person.rag_status == expected
        change = RagChange.objects.get(offender=person)
        assert (change.reason, change.source, change.changed_by) == (reason, RagChange.Source.PANEL, chair)
    action = MeetingAction.objects.get(meeting=meeting).action
    assert (action.offender, action.owner_agency) == (referrals[1], p.probation)

    # Next month: the open action is carried forward onto the new agenda.
    assert Meeting.objects.get(panel=panel, held_on=next_month).location == "Northtown police station, room 4"
    j.follow("Back to the meeting")
    j.follow("Back to Northtown IOM panel")
    j.follow(f"{next_month:%-d %B %Y}")
    j.press("Generate the agenda")
    j.expect_success("Agenda generated:")
    expect(j.page.get_by_text("Carried forward from").first).to_be_visible()
    j.checkpoint("next month's agenda")


def test_an_administrator_adds_a_panel_type_sets_up_its_panel_and_generates_its_first_agenda(journey, partnership):
    p = partnership
    today = timezone.localdate()
    admin = UserFactory(username="system.admin", agency=p.police, role=Role.AGENCY_ADMIN, is_superuser=True)
    give_authenticator_app(admin)
    referred = OffenderFactory(first_names="Dana", last_name="Whitfield", area=p.area, lead_agency=p.probation)
    MembershipFactory(offender=referred, cohort=Cohort.WOMENS_JUSTICE, started_on=today - datetime.timedelta(days=2))
    j = journey("2 administrator adds a panel type")

    j.sign_in(admin)
    j.follow("Panels", within=j.page.get_by_role("navigation", name="Primary navigation"))
    j.follow("Panel types")
    j.expect_heading("Panel types")
    expect(j.page.get_by_role("cell", name="ASB and Community MARAC", exact=True)).to_be_visible()
    j.checkpoint("panel types")
    j.follow("Add a panel type")
    j.expect_heading("Add a panel type")
    j.fill("Name", "Women's justice panel")
    j.select("Cohort (optional)", "Women's justice intervention")
    j.tick("New referrals to the cohort since the last meeting")
    j.tick("Everyone red")
    j.tick("Probation Service North")
    j.tick("Northtown Council Housing")
    j.checkpoint("add a panel type")
    j.press("Add the panel type")
    j.expect_success("Panel type Women's justice panel added.")

    j.follow("Set up a panel")
    j.expect_heading("Set up a panel")
    j.fill("Name of the panel", "Northtown women's justice panel")
    j.select("Panel type", "Women's justice panel")
    j.select("Area", "Northtown")
    j.select("Usual week of the month (optional)", "Second")
    j.select("Usual day of the week (optional)", "Wednesday")
    j.fill("Usual meeting place (optional)", "Women's centre, Market Street")
    j.checkpoint("set up a panel")
    j.press("Set up the panel")
    j.expect_success("Northtown women's justice panel set up.")
    j.expect_heading("Northtown women's justice panel")
    expect(j.page.get_by_text("Probation Service North").first).to_be_visible()

    j.follow("Add a meeting")
    expect(j.field("Location (optional)")).to_have_value("Women's centre, Market Street")
    j.fill_date("Meeting date", today)
    j.press("Save")
    j.expect_heading(f"Meeting on {today:%-d %B %Y}")
    j.press("Generate the agenda")
    j.expect_success("Agenda generated: 1 person added.")
    expect(j.page.get_by_role("link", name="Dana Whitfield", exact=True)).to_be_visible()
    j.checkpoint("first agenda")
