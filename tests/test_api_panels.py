"""The REST API for panel meetings, their agendas, decisions and actions."""

import datetime

import pytest
from django.utils import timezone

from cases.models import Cohort, RagChange, Role
from panels.models import Meeting, PanelKind

from .factories import MembershipFactory, OffenderFactory, UserFactory
from .panels_factories import AgendaItemFactory, MeetingFactory, PanelFactory

API = "/api/v1"
TODAY = timezone.localdate()


@pytest.fixture
def iom(partnership):
    """An IOM panel of police and probation chaired by a police panel chair, with today's meeting."""
    p = partnership
    p.chair = UserFactory(username="police.chair", agency=p.police, role=Role.PANEL_CHAIR)
    p.panel = PanelFactory(name="Northtown IOM panel", area=p.area, chair=p.chair, members=[p.police, p.probation])
    p.meeting = MeetingFactory(panel=p.panel, held_on=TODAY, status=Meeting.Status.OPEN)
    p.item = AgendaItemFactory(meeting=p.meeting, offender=p.iom_person, position=1, red=True)
    p.hidden = OffenderFactory(area=p.area, lead_agency=p.police, last_name="Notshared")
    MembershipFactory(offender=p.hidden, cohort=Cohort.SGV)
    p.hidden_item = AgendaItemFactory(meeting=p.meeting, offender=p.hidden, position=2)
    return p


def test_members_see_the_panel_and_its_meetings_others_do_not(iom, api_for):
    probation = api_for(iom.probation_om)
    assert [p["id"] for p in probation.get(f"{API}/panels/").json()["results"]] == [iom.panel.pk]
    assert probation.get(f"{API}/panel-meetings/{iom.meeting.pk}/").status_code == 200
    housing = api_for(iom.housing_om)
    assert housing.get(f"{API}/panel-meetings/").json()["count"] == 0
    assert housing.get(f"{API}/panel-meetings/{iom.meeting.pk}/").status_code == 404
    assert housing.get(f"{API}/panel-meetings/{iom.meeting.pk}/items/").status_code == 404
    assert housing.post(f"{API}/panel-meetings/{iom.meeting.pk}/close/").status_code == 404
    assert api_for(iom.analyst).get(f"{API}/panel-meetings/").status_code == 403


def test_panels_are_filtered_by_the_code_of_their_type(iom, api_for):
    mappa = PanelFactory(name="Northtown MAPPA", kind=PanelKind.MAPPA, area=iom.area, members=[iom.probation])
    probation = api_for(iom.probation_om)
    assert [p["id"] for p in probation.get(f"{API}/panels/", {"kind": "iom_main"}).json()["results"]] == [iom.panel.pk]
    mappa_panels = probation.get(f"{API}/panels/", {"kind": "mappa"}).json()["results"]
    assert [(p["id"], p["kind"]) for p in mappa_panels] == [(mappa.pk, "mappa")]
    assert probation.get(f"{API}/panels/", {"kind": "no_such_type"}).json()["count"] == 0
    assert probation.get(f"{API}/panels/", {"kind": ""}).status_code == 400


def test_the_agenda_lists_only_people_the_member_may_see(iom, api_for):
    police = api_for(iom.chair).get(f"{API}/panel-meetings/{iom.meeting.pk}/items/").json()
    assert {i["person"] for i in police["results"]} == {iom.iom_person.pk, iom.hidden.pk}
    probation = api_for(iom.probation_om)
    items = probation.get(f"{API}/panel-meetings/{iom.meeting.pk}/items/").json()
    assert [i["person"] for i in items["results"]] == [iom.iom_person.pk]
    assert items["results"][0]["reasons"] == ["Red status"]
    assert "Notshared" not in str(items)
    url = f"{API}/panel-meetings/{iom.meeting.pk}/items/{iom.hidden_item.pk}/"
    assert probation.get(url).status_code == 404


def test_the_chair_records_a_rag_decision_and_an_action_then_closes_the_meeting(iom, api_for):
    chair = api_for(iom.chair)
    item_url = f"{API}/panel-meetings/{iom.meeting.pk}/items/{iom.item.pk}/"
    no_reason = chair.patch(item_url, {"discussion": "Engaging again", "to_status": "amber", "expected_status": ""},
                            format="json")
    assert no_reason.status_code == 400 and "rag_reason" in no_reason.json()
    decided = chair.patch(item_url, {"discussion": "Engaging again", "to_status": "amber", "expected_status": "",
                                     "rag_reason": "Attending every appointment"}, format="json")
    assert decided.status_code == 200, decided.json()
    assert decided.json()["rag_decision"] == "amber"
    assert RagChange.objects.get(offender=iom.iom_person).source == RagChange.Source.PANEL
    actions_url = f"{API}/panel-meetings/{iom.meeting.pk}/actions/"
    due = (TODAY + datetime.timedelta(days=14)).isoformat()
    created = chair.post(actions_url, {"agenda_item": iom.item.pk, "pathway": "accommodation",
                                       "description": "Housing referral", "owner_agency": iom.probation.pk,
                                       "due_on": due}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["action"]["owner_agency"] == iom.probation.pk
    not_member = chair.post(actions_url, {"agenda_item": iom.item.pk, "pathway": "accommodation",
                                          "description": "x", "owner_agency": iom.housing.pk, "due_on": due},
                            format="json")
    assert not_member.status_code == 400 and "owner_agency" in not_member.json()
    assert api_for(iom.probation_om).get(actions_url).json()["count"] == 1
    closed = chair.post(f"{API}/panel-meetings/{iom.meeting.pk}/close/")
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    assert chair.patch(item_url, {"discussion": "Too late"}, format="json").status_code == 403


def test_a_stale_rag_decision_is_409(iom, api_for):
    from cases import services

    services.record_rag_change(iom.police_om, iom.iom_person, to_status="green", reason="Doing well")
    response = api_for(iom.chair).patch(
        f"{API}/panel-meetings/{iom.meeting.pk}/items/{iom.item.pk}/",
        {"discussion": "x", "to_status": "red", "rag_reason": "Arrested", "expected_status": ""}, format="json",
    )
    assert response.status_code == 409
    assert response.json()["current"] == {"rag_status": "green"}
    assert response.json()["changed"] == {"rag_status": {"current": "green", "yours": ""}}


def test_only_the_chair_may_change_a_meeting(iom, api_for):
    probation = api_for(iom.probation_om)
    url = f"{API}/panel-meetings/{iom.meeting.pk}/items/{iom.item.pk}/"
    assert probation.patch(url, {"discussion": "x"}, format="json").status_code == 403
    assert probation.post(f"{API}/panel-meetings/{iom.meeting.pk}/close/").status_code == 403
    scheduled = probation.post(f"{API}/panel-meetings/", {"panel": iom.panel.pk, "held_on": "2030-01-01"},
                               format="json")
    assert scheduled.status_code == 403


def test_the_chair_schedules_a_meeting_once_a_day(iom, api_for):
    chair = api_for(iom.chair)
    body = {"panel": iom.panel.pk, "held_on": (TODAY + datetime.timedelta(days=28)).isoformat()}
    assert chair.post(f"{API}/panel-meetings/", body, format="json").status_code == 201
    again = chair.post(f"{API}/panel-meetings/", body, format="json")
    assert again.status_code == 400 and "held_on" in again.json()
    housing_panel = PanelFactory(name="Council panel", kind="sgv", area=iom.area)
    other = chair.post(f"{API}/panel-meetings/", {"panel": housing_panel.pk, "held_on": "2030-01-01"}, format="json")
    assert other.status_code == 400 and "panel" in other.json()
