"""Running a panel on time: the agenda's order and time plan, attendance in one form, reasons for
decisions, and the next meeting prefilled by the panel's usual date rule and place."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.models import Cohort, RagChange, RagStatus, Role, Supervision
from cases.services import record_rag_change
from panels import services
from panels.models import Attendance, Meeting, Panel, PanelKind, UsualWeek, Weekday, weekday_of_month
from panels.timeplan import meeting_plan

from .factories import MembershipFactory, OffenderFactory, UserFactory
from .panels_factories import MeetingFactory, PanelFactory
from .pathways_factories import ActionFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def iom(partnership):
    p = partnership
    p.chair = UserFactory(username="police.chair", agency=p.police, role=Role.PANEL_CHAIR)
    p.panel = PanelFactory(name="Northtown IOM panel", kind=PanelKind.IOM_MAIN, area=p.area, chair=p.chair,
                           members=[p.police, p.probation])
    p.last = MeetingFactory(panel=p.panel, held_on=TODAY - 28 * DAY, status=Meeting.Status.OPEN)
    p.meeting = MeetingFactory(panel=p.panel, starts_at=datetime.time(10, 0))
    return p


def iom_person(p, name, **fields):
    person = OffenderFactory(area=p.area, lead_agency=p.police, last_name=name, **fields)
    MembershipFactory(offender=person, cohort=Cohort.IOM, started_on=TODAY - 200 * DAY)
    return person


def order(meeting):
    return [item.offender.last_name for item in meeting.items.select_related("offender").order_by("position")]


# Order of priority and the time plan


def test_agenda_puts_red_and_escalating_first_then_referrals_releases_reviews_and_overdue_actions(iom):
    p = iom
    overdue = iom_person(p, "Overdue")
    ActionFactory(offender=overdue, due_on=TODAY - DAY, raised_on=TODAY - 20 * DAY)
    new = OffenderFactory(area=p.area, lead_agency=p.police, last_name="Referral")
    MembershipFactory(offender=new, cohort=Cohort.IOM, started_on=TODAY - 3 * DAY)
    released = iom_person(p, "Released")
    Supervision.objects.create(offender=released, kind=Supervision.Kind.LICENCE, started_on=TODAY - 400 * DAY,
                               released_on=TODAY - 10 * DAY, responsible_agency=p.probation)
    escalating = iom_person(p, "Escalating", rag_status=RagStatus.GREEN)
    record_rag_change(p.police_om, escalating, to_status=RagStatus.AMBER, reason="Missed two appointments")
    improving = iom_person(p, "Improving", rag_status=RagStatus.RED)
    record_rag_change(p.police_om, improving, to_status=RagStatus.AMBER, reason="Engaging again")
    iom_person(p, "Red", rag_status=RagStatus.RED)

    services.generate_agenda(p.chair, p.meeting)

    assert order(p.meeting) == ["Escalating", "Red", "Referral", "Released", "Overdue"]
    assert "Improving" not in order(p.meeting)
    items = {item.offender.last_name: item for item in p.meeting.items.select_related("offender")}
    assert items["Escalating"].reasons == ["RAG raised since last meeting"]
    assert {name: item.minutes for name, item in items.items()} == {
        "Escalating": 10, "Red": 10, "Referral": 10, "Released": 8, "Overdue": 5,
    }
    plan = meeting_plan(p.meeting)
    assert plan.total_minutes == 43
    assert plan.finishes_at == datetime.time(10, 43)
    assert [planned.starts_at for planned in plan.items] == [
        datetime.time(10, 0), datetime.time(10, 10), datetime.time(10, 20), datetime.time(10, 30),
        datetime.time(10, 38),
    ]


def test_a_refresh_brings_the_reasons_order_and_minutes_of_people_already_listed_up_to_date(iom):
    p = iom
    red = iom_person(p, "Red", rag_status=RagStatus.RED)
    overdue = iom_person(p, "Overdue", rag_status=RagStatus.AMBER)
    ActionFactory(offender=overdue, due_on=TODAY - DAY, raised_on=TODAY - 20 * DAY)
    by_hand = iom_person(p, "Hand", rag_status=RagStatus.GREEN)
    services.add_to_agenda(p.chair, p.meeting, by_hand, reason="New associates")
    services.generate_agenda(p.chair, p.meeting)
    assert order(p.meeting) == ["Red", "Overdue", "Hand"]
    before = {item.offender_id: item for item in p.meeting.items.all()}
    assert before[overdue.pk].minutes == 5

    record_rag_change(p.police_om, overdue, to_status=RagStatus.RED, reason="Arrested")
    assert services.generate_agenda(p.chair, p.meeting) == []

    after = {item.offender_id: item for item in p.meeting.items.all()}
    assert order(p.meeting) == ["Overdue", "Red", "Hand"]  # two reasons come before one
    assert set(after[overdue.pk].reasons) == {"Red status", "RAG raised since last meeting", "Overdue actions"}
    assert after[overdue.pk].minutes == 10
    assert set(after[red.pk].reasons) == {"Red status"} and after[red.pk].minutes == 10
    assert after[by_hand.pk].added_reason == "New associates" and after[by_hand.pk].minutes == 5
    assert all(after[pk].updated_at > before[pk].updated_at for pk in after)


def test_the_chair_reorders_the_agenda_and_sees_the_expected_finish(iom, client_for):
    p = iom
    first, second, third = (iom_person(p, name, rag_status=RagStatus.RED) for name in ("Adams", "Baker", "Cole"))
    services.generate_agenda(p.chair, p.meeting)
    items = {item.offender_id: item for item in p.meeting.items.all()}
    client = client_for(p.chair)
    url = reverse("panels:plan", args=[p.meeting.pk])
    page = client.get(url).content.decode()
    assert "should finish at <strong>10:30</strong>" in page

    response = client.post(url, {
        "starts_at": "2pm",
        f"position_{items[first.pk].pk}": "3", f"minutes_{items[first.pk].pk}": "20",
        f"position_{items[second.pk].pk}": "2", f"minutes_{items[second.pk].pk}": "10",
        f"position_{items[third.pk].pk}": "1", f"minutes_{items[third.pk].pk}": "5",
    })
    assert response.status_code == 302
    assert order(p.meeting) == ["Cole", "Baker", "Adams"]
    p.meeting.refresh_from_db()
    assert p.meeting.starts_at == datetime.time(14, 0) and p.meeting.ordered_by_chair
    meeting_page = client.get(reverse("panels:meeting", args=[p.meeting.pk])).content.decode()
    assert "expected to finish at <strong>14:35</strong>" in meeting_page
    assert "About 14:15, 20 minutes" in meeting_page

    # A refresh keeps the chair's order and puts a newcomer at the end.
    newcomer = iom_person(p, "Davies", rag_status=RagStatus.RED)
    services.generate_agenda(p.chair, p.meeting)
    assert order(p.meeting) == ["Cole", "Baker", "Adams", "Davies"]
    assert newcomer.pk in {item.offender_id for item in p.meeting.items.all()}

    refused = client.post(url, {"starts_at": "14:00", **{
        f"position_{item.pk}": "1" for item in p.meeting.items.all()
    }, **{f"minutes_{item.pk}": "90" for item in p.meeting.items.all()}})
    assert refused.status_code == 200 and "Ensure this value is less than or equal to 60" in refused.content.decode()
    assert order(p.meeting) == ["Cole", "Baker", "Adams", "Davies"]


def test_reordering_leaves_items_the_chair_cannot_see_in_their_places(iom):
    p = iom
    shared = [iom_person(p, name, rag_status=RagStatus.RED) for name in ("Adams", "Baker")]
    hidden = OffenderFactory(area=p.area, lead_agency=p.probation, last_name="Hidden")
    probation_chair = UserFactory(agency=p.probation, role=Role.PANEL_CHAIR)
    for person in (shared[0], hidden, shared[1]):
        services.add_to_agenda(probation_chair, p.meeting, person, reason="Risk")
    items = {item.offender_id: item.pk for item in p.meeting.items.all()}
    services.plan_agenda(p.chair, p.meeting, starts_at=datetime.time(9, 30), plan={
        items[shared[0].pk]: (2, 5), items[shared[1].pk]: (1, 5),
    })
    assert order(p.meeting) == ["Baker", "Hidden", "Adams"]
    with pytest.raises(ValidationError):
        services.plan_agenda(p.chair, p.meeting, starts_at=datetime.time(9, 30), plan={items[hidden.pk]: (1, 5)})
    with pytest.raises(PermissionDenied):
        services.plan_agenda(p.probation_om, p.meeting, starts_at=datetime.time(9, 30), plan={})


# Attendance


def attendance_rows(meeting):
    return {(row.agency_name, row.name, row.status, row.deputy) for row in meeting.attendance.select_related("agency")}


def test_the_chair_records_every_member_and_guests_in_one_form(iom, client_for):
    p = iom
    p.panel.memberships.filter(agency=p.police).update(representative="DI Ann Lowe, IOM lead")
    client = client_for(p.chair)
    url = reverse("panels:attendance", args=[p.meeting.pk])
    page = client.get(url).content.decode()
    assert "Northtown Police" in page and "Probation Service North" in page and 'value="DI Ann Lowe, IOM lead"' in page

    response = client.post(url, {
        f"status_{p.police.pk}": "present", f"name_{p.police.pk}": "DI Ann Lowe, IOM lead",
        f"deputy_{p.police.pk}": "DS Priya Shah",
        f"status_{p.probation.pk}": "apologies", f"name_{p.probation.pk}": "Tom Reid, SPO",
        "guest_name_0": "Sam Patel, housing options", "guest_agency_0": "Northtown Council",
    })
    assert response.status_code == 302
    assert attendance_rows(p.meeting) == {
        ("Northtown Police", "DI Ann Lowe, IOM lead", "present", "DS Priya Shah"),
        ("Probation Service North", "Tom Reid, SPO", "apologies", ""),
        ("Northtown Council", "Sam Patel, housing options", "present", ""),
    }
    # The form reopens with what was recorded; saving it again replaces the attendance, never doubles it.
    page = client.get(url).content.decode()
    assert 'value="Sam Patel, housing options"' in page and 'value="DS Priya Shah"' in page
    assert client.post(url, {
        f"status_{p.police.pk}": "present", f"name_{p.police.pk}": "DI Ann Lowe, IOM lead",
        f"status_{p.probation.pk}": "absent", f"name_{p.probation.pk}": "Tom Reid, SPO",
    }).status_code == 302
    assert attendance_rows(p.meeting) == {
        ("Northtown Police", "DI Ann Lowe, IOM lead", "present", ""),
        ("Probation Service North", "Tom Reid, SPO", "absent", ""),
    }
    minutes = client.get(reverse("panels:minutes", args=[p.meeting.pk])).content.decode()
    assert "Absent" in minutes


def test_attendance_form_refuses_gaps_and_keeps_what_was_recorded(iom, client_for):
    p = iom
    services.record_attendance(p.chair, p.meeting, agency=p.police, name="DI Ann Lowe")
    client = client_for(p.chair)
    url = reverse("panels:attendance", args=[p.meeting.pk])
    cases = [
        ({f"status_{p.police.pk}": "present", f"name_{p.police.pk}": "DI Ann Lowe"}, "This field is required"),
        ({f"status_{p.police.pk}": "apologies", f"name_{p.police.pk}": "DI Ann Lowe",
          f"deputy_{p.police.pk}": "DS Shah", f"status_{p.probation.pk}": "present",
          f"name_{p.probation.pk}": "Tom Reid"}, "Leave the deputy blank unless someone attended"),
        ({f"status_{p.police.pk}": "present", f"name_{p.police.pk}": "DI Ann Lowe",
          f"status_{p.probation.pk}": "present", f"name_{p.probation.pk}": "Tom Reid",
          "guest_name_0": "Sam Patel"}, "Enter the guest&#x27;s agency"),
    ]
    for data, message in cases:
        response = client.post(url, data)
        assert response.status_code == 200 and message in response.content.decode(), message
    assert attendance_rows(p.meeting) == {("Northtown Police", "DI Ann Lowe", "present", "")}
    with pytest.raises(ValidationError):
        services.record_all_attendance(p.chair, p.meeting, members=[
            {"agency": p.housing, "name": "Not a member", "status": "present", "deputy": ""}], guests=[])
    assert client_for(p.probation_om).post(url, cases[0][0]).status_code == 403


# Reasons for decisions


def test_a_rag_change_at_the_panel_needs_its_own_reason(iom, client_for):
    p = iom
    person = iom_person(p, "Ashworth", rag_status=RagStatus.AMBER)
    item = services.add_to_agenda(p.chair, p.meeting, person, reason="Escalating")
    client = client_for(p.chair)
    response = client.post(reverse("panels:item", args=[p.meeting.pk, item.pk]), {
        "discussion": "Arrested twice this month.", "to_status": "red", "expected_status": "amber",
    })
    assert response.status_code == 200 and "Enter the reason for the RAG decision." in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        services.record_discussion(p.chair, item, discussion="Arrested twice", to_status="red")
    assert "rag_reason" in refused.value.message_dict
    person.refresh_from_db()
    assert person.rag_status == RagStatus.AMBER and not RagChange.objects.filter(offender=person).exists()


def test_a_mappa_level_change_needs_a_reason(partnership, client_for):
    p = partnership
    chair = UserFactory(agency=p.police, role=Role.PANEL_CHAIR)
    panel = PanelFactory(kind=PanelKind.MAPPA, area=p.area, chair=chair, members=[p.police, p.probation])
    meeting = MeetingFactory(panel=panel)
    person = OffenderFactory(area=p.area, lead_agency=p.police)
    MembershipFactory(offender=person, cohort=Cohort.MAPPA)
    item = services.add_to_agenda(chair, meeting, person, reason="Level review")
    response = client_for(chair).post(reverse("panels:item_mappa", args=[meeting.pk, item.pk]), {
        "category": "2", "level": "2", "review_on": (TODAY + 60 * DAY).isoformat(), "reason": "",
    })
    assert response.status_code == 200 and "This field is required" in response.content.decode()
    with pytest.raises(ValidationError):
        services.record_mappa_level(chair, item, category=2, level=2, review_on=TODAY + 60 * DAY, reason=" ")
    assert not person.mappa_level_decisions.exists()


# The next meeting


def test_the_usual_date_rule_gives_the_next_meeting():
    assert weekday_of_month(2026, 12, UsualWeek.SECOND, Weekday.TUESDAY) == datetime.date(2026, 12, 8)
    assert weekday_of_month(2027, 1, UsualWeek.LAST, Weekday.FRIDAY) == datetime.date(2027, 1, 29)
    panel = Panel(cadence=Panel.Cadence.MONTHLY, usual_week=UsualWeek.SECOND, usual_weekday=Weekday.TUESDAY)
    assert panel.next_meeting_on(datetime.date(2026, 11, 10)) == datetime.date(2026, 12, 8)
    assert panel.next_meeting_on(datetime.date(2026, 12, 1)) == datetime.date(2026, 12, 8)
    assert panel.date_rule == "the second Tuesday of each month"
    assert Panel(cadence=Panel.Cadence.FORTNIGHTLY).next_meeting_on(datetime.date(2026, 11, 10)) == datetime.date(
        2026, 11, 24)


def test_closing_the_meeting_adds_the_next_one_prefilled_by_the_date_rule_and_place(iom, client_for):
    p = iom
    Panel.objects.filter(pk=p.panel.pk).update(usual_week=UsualWeek.FIRST, usual_weekday=Weekday.WEDNESDAY,
                                               usual_place="Northtown police station, room 4")
    expected = p.panel.__class__.objects.get(pk=p.panel.pk).next_meeting_on(p.meeting.held_on)
    client = client_for(p.chair)
    url = reverse("panels:close", args=[p.meeting.pk])
    page = client.get(url).content.decode()
    assert "usually meets the first Wednesday of each month" in page
    assert f'value="{expected.day}"' in page and 'value="Northtown police station, room 4"' in page

    too_early = client.post(url, {"schedule_next": "on", "next_held_on": p.meeting.held_on.isoformat()})
    assert too_early.status_code == 200 and "The next meeting must be after this one." in too_early.content.decode()
    p.meeting.refresh_from_db()
    assert not p.meeting.is_closed

    response = client.post(url, {"schedule_next": "on", "next_held_on": expected.isoformat(),
                                 "next_location": "Northtown police station, room 4"}, follow=True)
    assert f"Next meeting: {expected:%-d %B %Y} at Northtown police station, room 4." in response.content.decode()
    following = Meeting.objects.get(panel=p.panel, held_on=expected)
    assert following.location == "Northtown police station, room 4" and following.status == Meeting.Status.SCHEDULED
    p.meeting.refresh_from_db()
    assert p.meeting.is_closed


def test_closing_without_the_next_meeting_adds_none(iom, client_for):
    p = iom
    assert client_for(p.chair).post(reverse("panels:close", args=[p.meeting.pk])).status_code == 302
    assert set(Meeting.objects.filter(panel=p.panel).values_list("pk", flat=True)) == {p.last.pk, p.meeting.pk}
    assert Attendance.objects.count() == 0


def test_the_meeting_form_prefilled_with_the_usual_start_time_is_accepted_as_it_stands(iom, client_for):
    p = iom
    client = client_for(p.chair)
    url = reverse("panels:meeting_create", args=[p.panel.pk])
    page = client.get(url).content.decode()
    assert 'value="10:00"' in page
    day = TODAY + 40 * DAY
    response = client.post(url, {"held_on": day.isoformat(), "starts_at": "10:00", "location": "Room 2"})
    assert response.status_code == 302
    assert Meeting.objects.get(panel=p.panel, held_on=day).starts_at == datetime.time(10, 0)
    plan = client.get(reverse("panels:plan", args=[p.meeting.pk])).content.decode()
    assert 'value="10:00"' in plan


def test_typing_a_place_already_taken_puts_that_person_there(iom):
    p = iom
    for name in ("Adams", "Baker", "Cole"):
        iom_person(p, name, rag_status=RagStatus.RED)
    services.generate_agenda(p.chair, p.meeting)
    items = {item.offender.last_name: item for item in p.meeting.items.select_related("offender")}
    services.plan_agenda(p.chair, p.meeting, starts_at=datetime.time(10, 0), plan={
        items["Adams"].pk: (1, 5), items["Baker"].pk: (2, 5), items["Cole"].pk: (1, 5),
    })
    assert order(p.meeting) == ["Cole", "Adams", "Baker"]
