"""Panels: agenda rules, running and closing a meeting, minutes, Checkpoint and MAPPA, and who may see what."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.locking import ConcurrentEditError
from cases.models import (
    AccessLogEntry,
    Agency,
    Appointment,
    CaseNote,
    Cohort,
    CohortMembership,
    RagChange,
    RagStatus,
    Role,
    Supervision,
)
from panels import services
from panels.models import (
    AgendaItem,
    CheckpointContract,
    MappaLevelDecision,
    Meeting,
    Panel,
    PanelKind,
    PanelMembership,
    add_months,
)
from pathways.models import Action

from .factories import (
    AgencyFactory,
    AppointmentFactory,
    CaseNoteFactory,
    MembershipFactory,
    OffenderFactory,
    SharingAgreementFactory,
    UserFactory,
)
from .panels_factories import AgendaItemFactory, MeetingFactory, PanelFactory
from .pathways_factories import ActionFactory, NeedAssessmentFactory, pathway

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def make_panel(p, *, kind=PanelKind.IOM_MAIN, name="Northtown IOM panel", agencies=None, chair=None):
    members = agencies if agencies is not None else [p.police, p.probation]
    return PanelFactory(name=name, kind=kind, area=p.area, chair=chair, members=members)


@pytest.fixture
def iom(partnership):
    """An IOM panel of police and probation, chaired by a police panel chair; last met a month ago."""
    p = partnership
    p.chair = UserFactory(username="police.chair", agency=p.police, role=Role.PANEL_CHAIR)
    p.panel = make_panel(p, chair=p.chair)
    p.last = MeetingFactory(panel=p.panel, held_on=TODAY - 28 * DAY, status=Meeting.Status.OPEN)
    p.meeting = MeetingFactory(panel=p.panel)
    return p


def iom_person(p, **fields):
    person = OffenderFactory(area=p.area, lead_agency=p.police, **fields)
    MembershipFactory(offender=person, cohort=Cohort.IOM, started_on=TODAY - 200 * DAY)
    return person


def agenda_reasons(meeting):
    return {item.offender_id: set(item.reasons) for item in meeting.items.all()}


# Agenda selection rules


def test_agenda_selects_new_referrals_reds_reviews_overdue_actions_and_releases_by_date(iom):
    p = iom
    new = OffenderFactory(area=p.area, lead_agency=p.police)
    MembershipFactory(offender=new, cohort=Cohort.IOM, started_on=TODAY - 3 * DAY)
    before_last = OffenderFactory(area=p.area, lead_agency=p.police)
    MembershipFactory(offender=before_last, cohort=Cohort.IOM, started_on=TODAY - 40 * DAY)
    red = iom_person(p, rag_status=RagStatus.RED)
    green = iom_person(p, rag_status=RagStatus.GREEN)
    overdue = iom_person(p)
    ActionFactory(offender=overdue, due_on=TODAY - DAY, raised_on=TODAY - 20 * DAY)
    not_yet_due = iom_person(p)
    ActionFactory(offender=not_yet_due, due_on=TODAY, raised_on=TODAY - 20 * DAY)
    released = iom_person(p)
    Supervision.objects.create(offender=released, kind=Supervision.Kind.LICENCE, started_on=TODAY - 400 * DAY,
                               released_on=TODAY - 10 * DAY, responsible_agency=p.probation)
    released_earlier = iom_person(p)
    Supervision.objects.create(offender=released_earlier, kind=Supervision.Kind.LICENCE,
                               started_on=TODAY - 400 * DAY, released_on=TODAY - 28 * DAY,
                               responsible_agency=p.probation)
    review = iom_person(p)
    AgendaItemFactory(meeting=p.last, offender=review, next_review_on=TODAY - DAY)
    review_later = iom_person(p)
    AgendaItemFactory(meeting=p.last, offender=review_later, next_review_on=TODAY + 30 * DAY)
    elsewhere = OffenderFactory(area=OffenderFactory().area, lead_agency=p.police, rag_status=RagStatus.RED)
    MembershipFactory(offender=elsewhere, cohort=Cohort.IOM)
    left_cohort = OffenderFactory(area=p.area, lead_agency=p.police, rag_status=RagStatus.RED)
    MembershipFactory(offender=left_cohort, cohort=Cohort.IOM, started_on=TODAY - 100 * DAY,
                      ended_on=TODAY - 5 * DAY, exit_reason=CohortMembership.ExitReason.COMPLETED)

    services.generate_agenda(p.chair, p.meeting)

    reasons = agenda_reasons(p.meeting)
    assert reasons[new.pk] == {"New referral"}
    assert reasons[red.pk] == {"Red status"}
    assert reasons[overdue.pk] == {"Overdue actions"}
    assert reasons[released.pk] == {"Released since last meeting"}
    assert reasons[review.pk] == {"Review due"}
    for absent in (before_last, green, not_yet_due, released_earlier, review_later, elsewhere, left_cohort):
        assert absent.pk not in reasons
    p.meeting.refresh_from_db()
    assert p.meeting.status == Meeting.Status.OPEN and p.meeting.agenda_generated_at
    assert AccessLogEntry.objects.filter(object_type="panels.agendaitem", action="create").count() == len(reasons)


def test_without_an_earlier_meeting_the_agenda_looks_back_one_cadence(partnership):
    p = partnership
    chair = UserFactory(agency=p.police, role=Role.PANEL_CHAIR)
    panel = make_panel(p, chair=chair)
    meeting = MeetingFactory(panel=panel, held_on=TODAY)
    recent = OffenderFactory(area=p.area, lead_agency=p.police)
    MembershipFactory(offender=recent, cohort=Cohort.IOM, started_on=TODAY - 20 * DAY)
    older = OffenderFactory(area=p.area, lead_agency=p.police)
    MembershipFactory(offender=older, cohort=Cohort.IOM, started_on=TODAY - 45 * DAY)
    services.generate_agenda(chair, meeting)
    assert set(agenda_reasons(meeting)) == {recent.pk}


def test_regenerating_keeps_hand_added_and_discussed_items_and_adds_newcomers(iom):
    p = iom
    by_hand = iom_person(p)
    services.add_to_agenda(p.chair, p.meeting, by_hand, reason="Intelligence of new associates")
    services.generate_agenda(p.chair, p.meeting)
    newcomer = iom_person(p, rag_status=RagStatus.RED)
    added = services.generate_agenda(p.chair, p.meeting)
    assert [item.offender_id for item in added] == [newcomer.pk]
    reasons = agenda_reasons(p.meeting)
    assert reasons[by_hand.pk] == {"Added by the chair"}
    assert p.meeting.items.get(offender=by_hand).added_reason == "Intelligence of new associates"


def test_chair_cannot_add_someone_their_agency_may_not_see(iom):
    p = iom
    hidden = OffenderFactory(area=p.area, lead_agency=p.housing)
    with pytest.raises(AgendaItem.offender.field.related_model.DoesNotExist):
        services.add_to_agenda(p.chair, p.meeting, hidden, reason="Test")


# Carry-forward


def test_open_actions_set_at_a_meeting_are_carried_forward_to_the_next_agenda(iom, client_for):
    p = iom
    person = iom_person(p, rag_status=RagStatus.GREEN)
    done = iom_person(p, rag_status=RagStatus.GREEN)
    item = services.add_to_agenda(p.chair, p.last, person, reason="Housing")
    done_item = services.add_to_agenda(p.chair, p.last, done, reason="Work")
    services.add_meeting_action(p.chair, item, pathway=pathway("accommodation"), description="Find a hostel place",
                                owner_agency=p.probation, due_on=TODAY + 30 * DAY)
    finished = services.add_meeting_action(p.chair, done_item, pathway=pathway("ete"), description="CV workshop",
                                           owner_agency=p.police, due_on=TODAY + 30 * DAY)
    Action.objects.filter(pk=finished.action_id).update(status=Action.Status.DONE, completed_on=TODAY)
    services.close_meeting(p.chair, p.last)

    services.generate_agenda(p.chair, p.meeting)

    reasons = agenda_reasons(p.meeting)
    assert reasons[person.pk] == {"Actions carried forward"}
    assert done.pk not in reasons
    page = client_for(p.probation_om).get(reverse("panels:meeting", args=[p.meeting.pk])).content.decode()
    assert "Find a hostel place" in page and "Carried forward from" in page


# Running the meeting


def test_rag_decision_at_the_panel_is_in_the_case_rag_history_with_the_meeting_named(iom, client_for):
    p = iom
    person = iom_person(p, rag_status=RagStatus.AMBER)
    item = services.add_to_agenda(p.chair, p.meeting, person, reason="Escalating")
    client = client_for(p.chair)
    response = client.post(reverse("panels:item", args=[p.meeting.pk, item.pk]), {
        "discussion": "Arrested twice this month; not attending probation.", "to_status": "red",
        "rag_reason": "Believed to be offending", "expected_status": "amber",
        "next_review_on": (TODAY + 28 * DAY).isoformat(),
    })
    assert response.status_code == 302
    change = RagChange.objects.get(offender=person)
    assert (change.from_status, change.to_status) == ("amber", "red")
    assert change.source == RagChange.Source.PANEL
    assert p.meeting.reference == change.source_reference and str(p.meeting.pk) in change.source_reference
    assert change.changed_by == p.chair and change.agency == p.police
    person.refresh_from_db()
    assert person.rag_status == "red"
    item.refresh_from_db()
    assert item.rag_change == change and item.discussed_at and item.next_review_on == TODAY + 28 * DAY
    case_page = client.get(reverse("cases:detail", args=[person.pk])).content.decode()
    assert "Panel decision" in case_page or p.panel.name in case_page


def test_a_stale_rag_decision_is_refused_with_a_message(iom, client_for):
    p = iom
    person = iom_person(p, rag_status=RagStatus.AMBER)
    item = services.add_to_agenda(p.chair, p.meeting, person, reason="Escalating")
    from cases.services import record_rag_change
    record_rag_change(p.police_om, person, to_status="green", reason="Engaging")
    response = client_for(p.chair).post(reverse("panels:item", args=[p.meeting.pk, item.pk]), {
        "discussion": "Discussed", "to_status": "red", "rag_reason": "Offending", "expected_status": "amber",
    })
    assert response.status_code == 200
    assert "The RAG status was changed to Green by someone else" in response.content.decode()
    assert RagChange.objects.filter(offender=person).count() == 1


def test_chair_records_attendance_actions_closes_and_prints_minutes(iom, client_for):
    p = iom
    person = iom_person(p, rag_status=RagStatus.RED)
    client = client_for(p.chair)
    meeting_url = reverse("panels:meeting", args=[p.meeting.pk])
    assert client.post(reverse("panels:generate", args=[p.meeting.pk])).status_code == 302
    item = p.meeting.items.get(offender=person)
    assert client.post(reverse("panels:attendance", args=[p.meeting.pk]), {
        f"status_{p.probation.pk}": "present", f"name_{p.probation.pk}": "Ruth Owens, senior probation officer",
        f"status_{p.police.pk}": "apologies", f"name_{p.police.pk}": "DS Helen Marsh",
    }).status_code == 302
    response = client.post(reverse("panels:item_action", args=[p.meeting.pk, item.pk]), {
        "pathway": pathway("accommodation").pk, "description": "Refer to the rent deposit scheme",
        "owner_agency": p.probation.pk, "owner": p.probation_om.pk, "due_on": (TODAY + 14 * DAY).isoformat(),
    })
    assert response.status_code == 302
    action = Action.objects.get(offender=person)
    assert action.owner_agency == p.probation and action.source_reference == p.meeting.reference
    assert action.panel_link.meeting == p.meeting
    client.post(reverse("panels:item", args=[p.meeting.pk, item.pk]), {"discussion": "Housing is the priority."})

    assert client.get(reverse("panels:close", args=[p.meeting.pk])).status_code == 200
    assert client.post(reverse("panels:close", args=[p.meeting.pk])).status_code == 302
    p.meeting.refresh_from_db()
    assert p.meeting.is_closed and p.meeting.closed_by == p.chair

    minutes = client.get(reverse("panels:minutes", args=[p.meeting.pk]))
    text = minutes.content.decode()
    assert minutes.status_code == 200
    assert "Ruth Owens" in text and "Housing is the priority." in text and "Refer to the rent deposit scheme" in text
    assert "Actions by agency" in text and "css/panels.css" in text
    page = client.get(meeting_url).content.decode()
    assert "Generate the agenda" not in page and "Refresh the agenda" not in page


def test_closed_minutes_cannot_be_changed(iom, client_for):
    p = iom
    person = iom_person(p, rag_status=RagStatus.RED)
    item = services.add_to_agenda(p.chair, p.meeting, person, reason="Red")
    services.record_attendance(p.chair, p.meeting, agency=p.police, name="Helen Marsh")
    services.close_meeting(p.chair, p.meeting)
    client = client_for(p.chair)
    posts = [
        (reverse("panels:item", args=[p.meeting.pk, item.pk]), {"discussion": "Changed afterwards", "to_status": ""}),
        (reverse("panels:item_action", args=[p.meeting.pk, item.pk]), {"description": "Late action"}),
        (reverse("panels:generate", args=[p.meeting.pk]), {}),
        (reverse("panels:add_person", args=[p.meeting.pk]), {"person": str(person.pk), "reason": "x"}),
        (reverse("panels:attendance", args=[p.meeting.pk]), {f"status_{p.police.pk}": "absent",
                                                             f"name_{p.police.pk}": "Someone"}),
        (reverse("panels:plan", args=[p.meeting.pk]), {"starts_at": "09:00"}),
        (reverse("panels:close", args=[p.meeting.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    with pytest.raises(services.MeetingClosedError):
        services.record_discussion(p.chair, item, discussion="Changed afterwards")
    item.refresh_from_db()
    assert item.discussion == "" and p.meeting.attendance.count() == 1
    item_page = client.get(reverse("panels:item", args=[p.meeting.pk, item.pk])).content.decode()
    assert "Save the discussion" not in item_page


def test_only_the_chair_may_change_a_meeting(iom, client_for):
    p = iom
    person = iom_person(p, rag_status=RagStatus.RED)
    item = services.add_to_agenda(p.chair, p.meeting, person, reason="Red")
    client = client_for(p.probation_om)
    assert client.get(reverse("panels:meeting", args=[p.meeting.pk])).status_code == 200
    for url in [
        reverse("panels:generate", args=[p.meeting.pk]), reverse("panels:close", args=[p.meeting.pk]),
        reverse("panels:item", args=[p.meeting.pk, item.pk]), reverse("panels:attendance", args=[p.meeting.pk]),
        reverse("panels:plan", args=[p.meeting.pk]),
        reverse("panels:meeting_create", args=[p.panel.pk]),
    ]:
        assert client.post(url, {"discussion": "x"}).status_code == 403, url
    with pytest.raises(PermissionDenied):
        services.generate_agenda(p.probation_om, p.meeting)
    # A panel chair of a member agency runs the meeting too; the designated chair need not be them.
    probation_chair = UserFactory(agency=p.probation, role=Role.PANEL_CHAIR)
    assert client_for(probation_chair).post(reverse("panels:generate", args=[p.meeting.pk])).status_code == 302


def test_a_non_member_agency_sees_no_meeting_or_minutes(iom, client_for):
    p = iom
    person = iom_person(p, rag_status=RagStatus.RED)
    item = services.add_to_agenda(p.chair, p.meeting, person, reason="Red")
    housing_chair = UserFactory(agency=p.housing, role=Role.PANEL_CHAIR)
    for user in (p.housing_om, housing_chair):
        client = client_for(user)
        for url in [
            reverse("panels:detail", args=[p.panel.pk]), reverse("panels:meeting", args=[p.meeting.pk]),
            reverse("panels:minutes", args=[p.meeting.pk]), reverse("panels:item", args=[p.meeting.pk, item.pk]),
            reverse("panels:close", args=[p.meeting.pk]),
        ]:
            assert client.get(url).status_code == 404, url
        assert client.post(reverse("panels:generate", args=[p.meeting.pk])).status_code == 404
        listing = client.get(reverse("panels:list")).content.decode()
        assert p.panel.name not in listing
    analyst = client_for(p.analyst)
    assert analyst.get(reverse("panels:meeting", args=[p.meeting.pk])).status_code == 404
    assert analyst.get(reverse("panels:list")).status_code == 403


def test_a_member_sees_a_count_not_the_details_of_people_not_shared_with_them(iom, client_for):
    p = iom
    shared = iom_person(p, rag_status=RagStatus.RED)
    services.add_to_agenda(p.chair, p.meeting, shared, reason="Red")
    # Police see this person (they lead it); probation's agreement opens IOM only, and this person is on SGV.
    not_shared = OffenderFactory(area=p.area, lead_agency=p.police, first_names="Hidden", last_name="Personson",
                                 pnc_number="2018/0000099X", rag_status=RagStatus.RED)
    MembershipFactory(offender=not_shared, cohort=Cohort.SGV)
    hidden_item = services.add_to_agenda(p.chair, p.meeting, not_shared, reason="Police intelligence")
    client = client_for(p.probation_om)
    for url in [reverse("panels:meeting", args=[p.meeting.pk]), reverse("panels:minutes", args=[p.meeting.pk])]:
        text = client.get(url).content.decode()
        assert shared.last_name in text
        assert "Personson" not in text and "2018/0000099X" not in text and "Police intelligence" not in text
        assert "1 case on this agenda is not shared with your agency" in text
    assert client.get(reverse("panels:item", args=[p.meeting.pk, hidden_item.pk])).status_code == 404
    assert "Personson" in client_for(p.chair).get(reverse("panels:meeting", args=[p.meeting.pk])).content.decode()


def test_restricted_notes_never_appear_on_the_agenda_or_in_the_minutes(iom, client_for):
    p = iom
    person = iom_person(p, rag_status=RagStatus.RED)
    CaseNoteFactory(offender=person, agency=p.police, text="Sharednote: seen at the day centre")
    CaseNoteFactory(offender=person, agency=p.police, text="Policeonlyintel: informant says",
                    sharing=CaseNote.Sharing.AGENCY)
    services.add_to_agenda(p.chair, p.meeting, person, reason="Red")
    services.close_meeting(p.chair, p.meeting)
    for user in (p.chair, p.police_om, p.probation_om):
        client = client_for(user)
        for url in [reverse("panels:meeting", args=[p.meeting.pk]), reverse("panels:minutes", args=[p.meeting.pk])]:
            assert "policeonlyintel" not in client.get(url).content.decode().casefold(), (user, url)
    assert "Sharednote" in client_for(p.probation_om).get(
        reverse("panels:meeting", args=[p.meeting.pk])).content.decode()


# Cross-panel check and enforcement flags


def test_people_on_another_panels_agenda_are_flagged(iom, client_for):
    p = iom
    both = iom_person(p, rag_status=RagStatus.RED)
    MembershipFactory(offender=both, cohort=Cohort.DIP)
    only_here = iom_person(p, rag_status=RagStatus.RED)
    dip = make_panel(p, kind=PanelKind.DIP, name="Northtown DIP panel", chair=p.chair)
    dip_meeting = MeetingFactory(panel=dip, held_on=TODAY - 10 * DAY)
    services.add_to_agenda(p.chair, dip_meeting, both, reason="Drug testing positive")
    long_ago = MeetingFactory(panel=dip, held_on=TODAY - 200 * DAY)
    services.add_to_agenda(p.chair, long_ago, only_here, reason="Old")
    services.generate_agenda(p.chair, p.meeting)

    from panels.agenda import build_agenda
    entries, _ = build_agenda(p.meeting, p.chair)
    flags = {entry.offender.pk: entry.other_panels for entry in entries}
    assert flags[both.pk] == ["Northtown DIP panel"]
    assert flags[only_here.pk] == []
    page = client_for(p.chair).get(reverse("panels:meeting", args=[p.meeting.pk])).content.decode()
    assert "Also on the agenda of: Northtown DIP panel" in page


def test_non_engagement_and_unlocated_flags(iom):
    from panels.agenda import build_agenda, engagement_flag

    now = timezone.now()
    assert engagement_flag(now - 100 * DAY, True, True, TODAY) == "not_engaging"
    assert engagement_flag(now - 200 * DAY, True, True, TODAY) == "unlocated"
    assert engagement_flag(None, False, True, TODAY) == "unlocated"
    assert engagement_flag(now - 10 * DAY, True, True, TODAY) == ""
    assert engagement_flag(now - 100 * DAY, False, False, TODAY) == ""

    p = iom
    quiet = iom_person(p, rag_status=RagStatus.RED)
    AppointmentFactory(offender=quiet, scheduled_at=now - 120 * DAY, outcome=Appointment.Outcome.ATTENDED_COMPLIED)
    AppointmentFactory(offender=quiet, scheduled_at=now - 20 * DAY, outcome=Appointment.Outcome.UNACCEPTABLE_ABSENCE)
    gone = iom_person(p, rag_status=RagStatus.RED)
    AppointmentFactory(offender=gone, scheduled_at=now - 300 * DAY, outcome=Appointment.Outcome.ATTENDED_COMPLIED)
    AppointmentFactory(offender=gone, scheduled_at=now - 150 * DAY, outcome=Appointment.Outcome.UNACCEPTABLE_ABSENCE,
                       kind=Appointment.Kind.HOME_VISIT)
    engaging = iom_person(p, rag_status=RagStatus.RED)
    AppointmentFactory(offender=engaging, scheduled_at=now - 5 * DAY, outcome=Appointment.Outcome.ATTENDED_COMPLIED)
    AppointmentFactory(offender=engaging, scheduled_at=now - 20 * DAY, outcome=Appointment.Outcome.UNACCEPTABLE_ABSENCE)
    services.generate_agenda(p.chair, p.meeting)
    flags = {entry.offender.pk: entry.engagement_flag for entry in build_agenda(p.meeting, p.chair)[0]}
    assert flags == {quiet.pk: "not_engaging", gone.pk: "unlocated", engaging.pk: ""}


# MAPPA


@pytest.fixture
def mappa(partnership):
    p = partnership
    p.prison = AgencyFactory(name="HMP Northtown", kind=Agency.Kind.PRISON, area=p.area)
    SharingAgreementFactory(agency=p.police, cohort=Cohort.MAPPA)
    p.chair = UserFactory(agency=p.probation, role=Role.PANEL_CHAIR)
    p.panel = make_panel(p, kind=PanelKind.MAPPA, name="Northtown MAPPA", chair=p.chair,
                         agencies=[p.police, p.probation, p.prison, p.housing])
    p.meeting = MeetingFactory(panel=p.panel, held_on=TODAY)
    p.person = OffenderFactory(area=p.area, lead_agency=p.probation)
    MembershipFactory(offender=p.person, cohort=Cohort.MAPPA, started_on=TODAY - 300 * DAY)
    return p


def test_mappa_members_are_responsible_authorities_or_under_a_duty_to_cooperate(mappa, client_for):
    p = mappa
    roles = dict(p.panel.memberships.values_list("agency__name", "mappa_role"))
    assert roles == {
        p.police.name: "responsible_authority", p.probation.name: "responsible_authority",
        "HMP Northtown": "responsible_authority", p.housing.name: "duty_to_cooperate",
    }
    page = client_for(p.housing_om).get(reverse("panels:detail", args=[p.panel.pk])).content.decode()
    assert "Responsible authorities" in page and "Duty to co-operate" in page


def test_mappa_level_decisions_keep_history_and_level_2_and_3_need_a_review_date(mappa, client_for):
    p = mappa
    item = services.add_to_agenda(p.chair, p.meeting, p.person, reason="Level review")
    with pytest.raises(ValidationError):
        services.record_mappa_level(p.chair, item, category=2, level=3, review_on=None, reason="Escalating risk")
    services.record_mappa_level(p.chair, item, category=2, level=3, review_on=TODAY + 56 * DAY,
                                reason="Escalating risk")
    client = client_for(p.chair)
    refused = client.post(reverse("panels:item_mappa", args=[p.meeting.pk, item.pk]),
                          {"category": 2, "level": 2, "reason": "Stable"})
    assert refused.status_code == 200 and "must have a review date" in refused.content.decode()
    assert client.post(reverse("panels:item_mappa", args=[p.meeting.pk, item.pk]), {
        "category": 2, "level": 1, "reason": "Managed by probation alone",
    }).status_code == 302
    history = list(MappaLevelDecision.objects.filter(offender=p.person).values_list("level", flat=True))
    assert history == [1, 3]
    membership = CohortMembership.objects.get(offender=p.person, cohort=Cohort.MAPPA)
    assert membership.mappa_level == 1
    page = client.get(reverse("panels:item", args=[p.meeting.pk, item.pk])).content.decode()
    assert "Escalating risk" in page and "Managed by probation alone" in page


def test_a_mappa_review_falling_due_puts_the_person_on_the_agenda(mappa):
    p = mappa
    earlier = MeetingFactory(panel=p.panel, held_on=TODAY - 60 * DAY)
    item = services.add_to_agenda(p.chair, earlier, p.person, reason="First review")
    MappaLevelDecision.objects.create(offender=p.person, meeting=earlier, category=2, level=2,
                                      review_on=TODAY - 2 * DAY, reason="Active management",
                                      decided_at=timezone.now() - 60 * DAY)
    assert item.next_review_on is None
    services.generate_agenda(p.chair, p.meeting)
    assert agenda_reasons(p.meeting)[p.person.pk] == {"Review due"}


# Checkpoint


def test_checkpoint_contract_runs_four_months_and_near_end_is_flagged(partnership):
    p = partnership
    person = OffenderFactory(area=p.area, lead_agency=p.police)
    contract = services.create_checkpoint_contract(
        p.police_om, person, eligible=True, conditions="Attend the women's centre weekly",
        started_on=datetime.date(2025, 10, 31), victim_consulted=True, victim_consulted_on=datetime.date(2025, 10, 30),
        victim_view="Wants an apology", restorative_justice_offered=True,
    )
    assert contract.ends_on == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)
    assert contract.is_near_end(datetime.date(2026, 2, 20)) and not contract.is_near_end(datetime.date(2026, 1, 1))
    assert list(CheckpointContract.objects.near_end(datetime.date(2026, 2, 20))) == [contract]

    with pytest.raises(ValidationError):
        services.create_checkpoint_contract(p.police_om, person, eligible=True, conditions="Second",
                                            started_on=TODAY)
    with pytest.raises(ValidationError):
        services.update_checkpoint_contract(p.police_om, contract, expected_version=contract.version,
                                            outcome=CheckpointContract.Outcome.COMPLETED)
    done = services.update_checkpoint_contract(
        p.police_om, contract, expected_version=contract.version, outcome=CheckpointContract.Outcome.COMPLETED,
        outcome_on=datetime.date(2026, 2, 28), restorative_justice_taken_up=True,
    )
    assert done.outcome == "completed" and not done.prosecuted and not done.is_near_end(datetime.date(2026, 2, 20))
    assert done.version == 2
    with pytest.raises(ConcurrentEditError):
        services.update_checkpoint_contract(p.police_om, contract, expected_version=1, victim_view="Changed")
    reoffended = services.create_checkpoint_contract(p.police_om, person, eligible=True, conditions="Again",
                                                     started_on=TODAY - 30 * DAY)
    failed = services.update_checkpoint_contract(p.police_om, reoffended, expected_version=1,
                                                 outcome=CheckpointContract.Outcome.REOFFENDED, outcome_on=TODAY)
    assert failed.prosecuted


def test_checkpoint_contract_rules_are_refused_clearly(partnership, client_for):
    p = partnership
    person = OffenderFactory(area=p.area, lead_agency=p.police)
    for fields, field in [
        ({"eligible": False}, "eligible"),
        ({"victim_consulted": True}, "victim_consulted_on"),
        ({"restorative_justice_taken_up": True}, "restorative_justice_taken_up"),
    ]:
        with pytest.raises(ValidationError) as refused:
            services.create_checkpoint_contract(p.police_om, person, **{
                "eligible": True, "conditions": "Weekly contact", "started_on": TODAY, **fields})
        assert field in refused.value.message_dict
    client = client_for(p.police_om)
    url = reverse("panels:checkpoint_create", args=[person.pk])
    response = client.post(url, {"conditions": "Weekly contact", "started_on": TODAY.isoformat()})
    assert response.status_code == 200 and "Only an eligible person" in response.content.decode()
    response = client.post(url, {"eligible": "on", "conditions": "Weekly contact", "started_on": TODAY.isoformat()})
    assert response.status_code == 302
    contract = CheckpointContract.objects.get(offender=person)
    assert contract.ends_on == add_months(TODAY, 4)
    assert client_for(p.probation_om).get(reverse("panels:checkpoint", args=[contract.pk])).status_code == 404
    assert client_for(p.probation_om).get(url).status_code == 404
    assert client_for(p.police_reader).post(url, {}).status_code == 403


# Query budget


AGENDA_BUDGET = 22
PANEL_LIST_BUDGET = 10


def fill_agenda(p, meeting, count):
    for _ in range(count):
        person = iom_person(p, rag_status=RagStatus.RED)
        NeedAssessmentFactory(offender=person)
        ActionFactory(offender=person, due_on=TODAY - DAY, raised_on=TODAY - 20 * DAY)
        AppointmentFactory(offender=person, outcome=Appointment.Outcome.UNACCEPTABLE_ABSENCE)
        CaseNoteFactory(offender=person, agency=p.police)
        item = services.add_to_agenda(p.chair, meeting, person, reason="Red")
        services.record_discussion(p.chair, item, discussion="Discussed", to_status="amber", rag_reason="Better")
        services.add_meeting_action(p.chair, item, pathway=pathway("ete"), description="CV workshop",
                                    owner_agency=p.probation, due_on=TODAY + 7 * DAY)
    services.record_attendance(p.chair, meeting, agency=p.police, name=f"Officer {count}")


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("name", ["panels:meeting", "panels:minutes", "panels:minutes_docx"])
def test_agenda_and_minutes_queries_do_not_grow_with_the_agenda(iom, client_for, name,
                                                               django_assert_max_num_queries):
    p = iom
    client = client_for(p.probation_om)
    url = reverse(name, args=[p.meeting.pk])
    fill_agenda(p, p.meeting, 2)
    small = count_queries(client, url)
    fill_agenda(p, p.meeting, 15)
    large = count_queries(client, url)
    assert large == small
    with django_assert_max_num_queries(AGENDA_BUDGET):
        client.get(url)


def test_panel_list_shows_only_member_panels_with_constant_queries(iom, client_for, django_assert_max_num_queries):
    p = iom
    make_panel(p, kind=PanelKind.SGV, name="Police only SGV panel", agencies=[p.police])
    client = client_for(p.probation_om)
    text = client.get(reverse("panels:list")).content.decode()
    assert p.panel.name in text and "Police only SGV panel" not in text
    small = count_queries(client, reverse("panels:list"))
    for n in range(10):
        make_panel(p, kind=PanelKind.DIP, name=f"DIP panel {n}")
    assert count_queries(client, reverse("panels:list")) == small
    with django_assert_max_num_queries(PANEL_LIST_BUDGET):
        client.get(reverse("panels:list"))


# Demo data


def test_demo_makes_every_kind_of_panel_past_meetings_and_this_months_unopened_one():
    import random

    from cases import demo as cases_demo
    from panels import demo as panels_demo

    rng = random.Random(7)
    context = cases_demo.seed(rng, people=60)
    panels_demo.seed(context, rng)
    panels_demo.seed(context, rng)  # a second run changes nothing

    assert set(Panel.objects.values_list("kind", flat=True)) == set(PanelKind.values)
    chairs = set(Panel.objects.values_list("chair__username", flat=True))
    assert chairs == {"chair.police", "chair.probation"}
    iom_meetings = Meeting.objects.filter(panel__kind=PanelKind.IOM_MAIN).order_by("held_on")
    assert [m.status for m in iom_meetings] == ["closed", "closed", "closed", "scheduled"]
    upcoming = iom_meetings.last()
    assert (upcoming.held_on.year, upcoming.held_on.month) == (TODAY.year, TODAY.month)
    assert not upcoming.items.exists()
    services.generate_agenda(context["staff"]["chair.police"], upcoming)
    assert upcoming.items.filter(carried_forward=True).exists()
    mappa_roles = set(PanelMembership.objects.filter(panel__kind=PanelKind.MAPPA).values_list("mappa_role", flat=True))
    assert mappa_roles == {"responsible_authority", "duty_to_cooperate"}


def test_minutes_download_as_a_word_document_holds_only_what_the_reader_may_see(iom, client_for):
    import io
    import zipfile

    p = iom
    shared = iom_person(p, rag_status=RagStatus.RED)
    item = services.add_to_agenda(p.chair, p.meeting, shared, reason="Red")
    services.record_discussion(p.chair, item, discussion="Agreed a housing referral", to_status="amber",
                               rag_reason="Engaging")
    not_shared = OffenderFactory(area=p.area, lead_agency=p.police, last_name="Personson", rag_status=RagStatus.RED)
    MembershipFactory(offender=not_shared, cohort=Cohort.SGV)
    services.add_to_agenda(p.chair, p.meeting, not_shared, reason="Police intelligence")
    services.close_meeting(p.chair, p.meeting)

    response = client_for(p.probation_om).get(reverse("panels:minutes_docx", args=[p.meeting.pk]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        text = archive.read("word/document.xml").decode()
    assert shared.last_name in text and "Agreed a housing referral" in text and "changed to Amber" in text
    assert "Personson" not in text and "1 case on this agenda is not shared" in text
    assert AccessLogEntry.objects.filter(action="export", offender_id=shared.pk, user=p.probation_om).exists()
    assert client_for(p.housing_om).get(reverse("panels:minutes_docx", args=[p.meeting.pk])).status_code == 404


def test_chair_adds_a_person_by_pnc_and_cannot_find_someone_not_shared(iom, client_for):
    p = iom
    client = client_for(p.chair)
    url = reverse("panels:add_person", args=[p.meeting.pk])
    response = client.post(url, {"person": "2015/0123456x", "reason": "Seen with a known burglar"})
    assert response.status_code == 302
    assert p.meeting.items.get(offender=p.iom_person).added_by_hand
    again = client.post(url, {"person": str(p.iom_person.pk), "reason": "Twice"})
    assert "already on this agenda" in again.content.decode()
    council_case = OffenderFactory(area=p.area, lead_agency=p.housing, pnc_number="2020/0000001A")
    unseen = client.post(url, {"person": "2020/0000001A", "reason": "x"}).content.decode()
    missing = client.post(url, {"person": "2020/0000002B", "reason": "x"}).content.decode()
    message = "No person with that case number, PNC number or CRN is shared with your agency."
    assert message in unseen and message in missing
    assert not p.meeting.items.filter(offender=council_case).exists()


def test_chair_schedules_a_meeting_once_a_day(iom, client_for):
    p = iom
    client = client_for(p.chair)
    url = reverse("panels:meeting_create", args=[p.panel.pk])
    day = TODAY + 30 * DAY
    assert client.post(url, {"held_on": day.isoformat(), "location": "Room 2"}).status_code == 302
    twice = client.post(url, {"held_on": day.isoformat()})
    assert twice.status_code == 200 and "already meets on that day" in twice.content.decode()
    assert client.post(url, {"held_on": "2026-02-31"}).status_code == 200
    assert Meeting.objects.filter(panel=p.panel, held_on=day).count() == 1


def test_a_second_chairs_stale_save_of_a_discussion_is_refused(iom, client_for):
    p = iom
    person = iom_person(p, rag_status=RagStatus.AMBER)
    item = services.add_to_agenda(p.chair, p.meeting, person, reason="Review")
    probation_chair = UserFactory(agency=p.probation, role=Role.PANEL_CHAIR)
    url = reverse("panels:item", args=[p.meeting.pk, item.pk])
    page = client_for(p.chair).get(url).content.decode()
    assert 'name="version" value="1"' in page
    first = client_for(p.chair).post(url, {"discussion": "Agreed: housing first", "version": "1"})
    assert first.status_code == 302
    second = client_for(probation_chair).post(url, {"discussion": "Agreed: treatment first", "version": "1"})
    assert second.status_code == 200
    assert "This agenda item was changed by someone else at" in second.content.decode()
    item.refresh_from_db()
    assert item.discussion == "Agreed: housing first" and item.version == 2


def test_the_victims_satisfaction_is_recorded_once_the_contract_has_ended(partnership, client_for):
    p = partnership
    person = OffenderFactory(area=p.area, lead_agency=p.police)
    contract = services.create_checkpoint_contract(
        p.police_om, person, eligible=True, conditions="Weekly contact", started_on=TODAY - 130 * DAY,
        victim_consulted=True, victim_consulted_on=TODAY - 131 * DAY,
    )
    with pytest.raises(ValidationError) as refused:
        services.update_checkpoint_contract(p.police_om, contract, expected_version=contract.version,
                                            victim_satisfaction="satisfied")
    assert "victim_satisfaction" in refused.value.message_dict
    done = services.update_checkpoint_contract(
        p.police_om, contract, expected_version=contract.version, outcome=CheckpointContract.Outcome.COMPLETED,
        outcome_on=TODAY - 10 * DAY, victim_satisfaction="very_satisfied",
    )
    assert done.get_victim_satisfaction_display() == "Very satisfied"
    html = client_for(p.police_om).get(reverse("panels:checkpoint", args=[contract.pk])).content.decode()
    assert "Very satisfied" in html


def test_a_review_set_earlier_lapses_when_the_person_leaves_the_panels_cohort_or_area(iom):
    p = iom
    moved = iom_person(p)
    AgendaItemFactory(meeting=p.last, offender=moved, next_review_on=TODAY - DAY)
    moved.area = OffenderFactory().area
    moved.save()
    left = iom_person(p)
    AgendaItemFactory(meeting=p.last, offender=left, next_review_on=TODAY - DAY)
    CohortMembership.objects.filter(offender=left).update(
        ended_on=TODAY - 2 * DAY, exit_reason=CohortMembership.ExitReason.COMPLETED)
    still_here = iom_person(p)
    AgendaItemFactory(meeting=p.last, offender=still_here, next_review_on=TODAY - DAY)

    services.generate_agenda(p.chair, p.meeting)

    reasons = agenda_reasons(p.meeting)
    assert reasons[still_here.pk] == {"Review due"}
    assert moved.pk not in reasons and left.pk not in reasons


def test_generating_again_with_nobody_new_says_so(iom, client_for):
    p = iom
    iom_person(p, rag_status=RagStatus.RED)
    client = client_for(p.chair)
    first = client.post(reverse("panels:generate", args=[p.meeting.pk]), follow=True).content.decode()
    assert "Agenda generated: 1 person added." in first
    again = client.post(reverse("panels:generate", args=[p.meeting.pk]), follow=True).content.decode()
    assert "nobody new to add" in again and "0 people" not in again
