"""Alerts: who hears of what, and never anything their agency may not see.

Police lead the IOM case of Jordan Ashworth (lead offender manager police.om); probation sees
it under the sharing agreement; housing sees nothing until the case is shared with it; Casey
Blackwood is seen by the police alone.
"""

import datetime

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from alerts import tasks
from alerts.models import Alert, AlertSettings
from alerts.receivers import note_message
from cases import events
from cases import services as case_services
from cases.models import Appointment, CaseNote, Cohort, CohortMembership, EnforcementAction, Offence, Role
from pathways import services as pathway_services

from .factories import AppointmentFactory, OffenderFactory, UserFactory
from .pathways_factories import ServiceFactory, pathway

pytestmark = pytest.mark.django_db

NEXT_WEEK = timezone.localdate() + datetime.timedelta(days=7)


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run what the block publishes as its transaction would on commit."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def alerts_of(user):
    return list(Alert.objects.filter(recipient=user).order_by("pk"))


def add_action(p, actor, person, **fields):
    return pathway_services.create_action(actor, person, pathway=pathway("accommodation"), description="Rent deposit",
                                          due_on=NEXT_WEEK, **fields)


# Actions and referrals


def test_the_named_owner_of_an_action_is_alerted_and_the_person_who_assigned_it_is_not(partnership, committed):
    p = partnership
    with committed():
        action = add_action(p, p.probation_om, p.iom_person, owner_agency=p.police, owner=p.police_om)
    [alert] = alerts_of(p.police_om)
    assert alert.kind == Alert.Kind.ACTION_ASSIGNED and alert.offender == p.iom_person
    assert alert.message.startswith("Probation Service North assigned you an action on accommodation")
    assert alert.link == reverse("pathways:action_detail", args=[action.pk])
    assert alerts_of(p.probation_om) == []
    assert Alert.objects.count() == 1  # not every police officer


def test_an_action_left_to_another_agency_alerts_its_staff_who_can_take_it(partnership, committed):
    p = partnership
    probation_reader = UserFactory(agency=p.probation, role=Role.READ_ONLY)
    with committed():
        add_action(p, p.police_om, p.iom_person, owner_agency=p.probation)
    assert [a.kind for a in alerts_of(p.probation_om)] == [Alert.Kind.ACTION_ASSIGNED]
    assert alerts_of(probation_reader) == []  # read-only staff cannot take it on


def test_an_action_for_an_agency_that_may_not_see_the_person_raises_no_alert_until_shared(partnership, committed):
    p = partnership
    with committed():
        add_action(p, p.police_om, p.police_only_person, owner_agency=p.housing)
    assert alerts_of(p.housing_om) == []
    with committed():
        add_action(p, p.police_om, p.police_only_person, owner_agency=p.housing, share_with_owner=True)
    [alert] = alerts_of(p.housing_om)
    assert alert.offender == p.police_only_person


def test_giving_an_action_to_someone_else_alerts_them(partnership, committed):
    p = partnership
    action = add_action(p, p.police_om, p.iom_person, owner_agency=p.police, owner=p.police_om)
    with committed():
        pathway_services.update_action(p.police_om, action, expected_version=action.version, owner=p.police_admin)
    assert [a.kind for a in alerts_of(p.police_admin)] == [Alert.Kind.ACTION_ASSIGNED]


def test_a_referral_alerts_the_agency_that_runs_the_service(partnership, committed):
    p = partnership
    service = ServiceFactory(name="Probation housing advice", provider=p.probation)
    with committed():
        pathway_services.record_referral(p.police_om, p.iom_person, service=service, urgency="emergency")
    [alert] = alerts_of(p.probation_om)
    assert alert.kind == Alert.Kind.REFERRAL_RECEIVED
    assert alert.message == "Emergency referral to Probation housing advice from Northtown Police."


def test_a_referral_to_an_agency_that_may_not_see_the_person_raises_no_alert_unless_shared(partnership, committed):
    p = partnership
    service = ServiceFactory(name="Housing options", provider=p.housing)
    with committed():
        pathway_services.record_referral(p.police_om, p.police_only_person, service=service)
    assert alerts_of(p.housing_om) == []
    with committed():
        pathway_services.record_referral(p.police_om, p.police_only_person, service=service, share_with_provider=True)
    assert len(alerts_of(p.housing_om)) == 1


# Changes another agency makes to a case I manage


def test_another_agency_changing_the_rag_status_alerts_the_lead_offender_manager(partnership, committed):
    p = partnership
    with committed():
        case_services.record_rag_change(p.probation_om, p.iom_person, to_status="red", reason="Missed appointments")
    [alert] = alerts_of(p.police_om)
    assert alert.kind == Alert.Kind.CASE_CHANGED
    assert alert.message == "Probation Service North changed the RAG status from none to Red."
    assert alert.link == reverse("cases:detail", args=[p.iom_person.pk])


def test_a_colleague_of_the_same_agency_changing_the_case_raises_no_alert(partnership, committed):
    p = partnership
    with committed():
        case_services.record_rag_change(p.police_admin, p.iom_person, to_status="amber", reason="Reviewed")
        case_services.add_case_note(p.police_admin, p.iom_person, text="Seen at home.")
    assert Alert.objects.count() == 0


def test_a_partnership_note_is_announced_without_its_words(partnership, committed):
    p = partnership
    with committed():
        case_services.add_case_note(p.probation_om, p.iom_person, text="Disclosed new associates in Eastfield.")
    [alert] = alerts_of(p.police_om)
    assert alert.message == "Probation Service North added a case note."
    assert "Eastfield" not in alert.message


def test_a_restricted_note_of_another_agency_raises_nothing(partnership, committed):
    p = partnership
    with committed():
        case_services.add_case_note(p.probation_om, p.iom_person, text="Probation only: intelligence.",
                                    sharing=CaseNote.Sharing.AGENCY)
    assert Alert.objects.count() == 0


def test_a_restricted_note_is_only_ever_mentioned_within_its_agency(partnership):
    p = partnership
    note = CaseNote.objects.create(offender=p.iom_person, author=p.probation_om, agency=p.probation,
                                   text="Probation only", sharing=CaseNote.Sharing.AGENCY)
    assert note_message(note, p.police_om) is None
    assert note_message(note, UserFactory(agency=p.probation)) == "A restricted note was added."


def test_offences_and_enforcement_by_another_agency_alert_the_lead_offender_manager(partnership, committed):
    p = partnership
    with committed():
        case_services.record_offence(p.probation_om, p.iom_person, committed_on=datetime.date(2026, 10, 3),
                                     offence_group=Offence.Group.THEFT)
        case_services.record_enforcement(p.probation_om, p.iom_person, kind=EnforcementAction.Kind.WARNING_LETTER,
                                         taken_on=datetime.date(2026, 10, 5))
    messages = [a.message for a in alerts_of(p.police_om)]
    assert messages == [
        "Probation Service North recorded an offence: theft offences on 3 October 2026.",
        "Probation Service North recorded enforcement: warning letter on 5 October 2026.",
    ]


def test_a_lead_offender_manager_whose_agency_may_not_see_the_person_is_not_alerted(partnership, committed):
    """The rule is the agency's sight of the person at that moment, not the role on the case."""
    p = partnership
    p.police_only_person.lead_offender_manager = p.probation_om  # probation may not see Casey Blackwood
    p.police_only_person.save()
    with committed():
        case_services.record_rag_change(p.police_om, p.police_only_person, to_status="red", reason="Arrested")
        case_services.add_case_note(p.police_om, p.police_only_person, text="Arrested for burglary.")
    assert Alert.objects.count() == 0


def test_nothing_is_raised_for_a_change_that_was_rolled_back(partnership, committed):
    p = partnership
    with committed(), pytest.raises(RuntimeError), transaction.atomic():
        case_services.record_rag_change(p.probation_om, p.iom_person, to_status="red", reason="Reviewed")
        raise RuntimeError("the rest of the change failed")
    assert Alert.objects.count() == 0


# Offences from partner systems' feeds


def fed_offence(person, reference):
    return Offence.objects.create(offender=person, committed_on=datetime.date(2026, 11, 1),
                                  offence_group=Offence.Group.BURGLARY, source_system="police-niche",
                                  source_reference=reference)


def test_a_new_offence_from_a_feed_alerts_the_lead_offender_manager_once(partnership, committed):
    p = partnership
    offences = [fed_offence(p.iom_person, "CR-1"), fed_offence(p.police_only_person, "CR-2")]
    with committed():
        events.publish(events.offences_arrived, offence_ids=[offence.pk for offence in offences])
    [alert] = alerts_of(p.police_om)  # Casey Blackwood has no lead offender manager
    assert alert.kind == Alert.Kind.NEW_OFFENCE
    assert alert.message == "New offence from police-niche: a burglary on 1 November 2026."
    with committed():
        events.publish(events.offences_arrived, offence_ids=[offence.pk for offence in offences])  # the same file again
    assert len(alerts_of(p.police_om)) == 1


# Outcomes not recorded


def test_an_appointment_a_day_past_without_an_outcome_alerts_whoever_held_it_once(partnership):
    p = partnership
    now = timezone.now()
    held = AppointmentFactory(offender=p.iom_person, staff=p.police_admin, outcome=Appointment.Outcome.SCHEDULED,
                              scheduled_at=now - datetime.timedelta(days=2))
    unnamed = AppointmentFactory(offender=p.iom_person, agency=p.police, outcome=Appointment.Outcome.SCHEDULED,
                                 scheduled_at=now - datetime.timedelta(days=3))
    AppointmentFactory(offender=p.iom_person, staff=p.police_om, outcome=Appointment.Outcome.SCHEDULED,
                       scheduled_at=now - datetime.timedelta(hours=3))  # not overdue yet
    AppointmentFactory(offender=p.iom_person, staff=p.police_om, outcome=Appointment.Outcome.SCHEDULED,
                       scheduled_at=now - datetime.timedelta(days=60))  # for the case review, not an alert
    AppointmentFactory(offender=p.iom_person, staff=p.police_om, scheduled_at=now - datetime.timedelta(days=2))
    assert tasks.raise_overdue_outcome_alerts() == 2
    [admin_alert] = alerts_of(p.police_admin)
    assert admin_alert.link == reverse("cases:appointment_outcome", args=[p.iom_person.pk, held.pk])
    [manager_alert] = alerts_of(p.police_om)  # nobody named: the lead offender manager, of the same agency
    assert manager_alert.key == f"appointment:{unnamed.pk}"
    assert tasks.raise_overdue_outcome_alerts() == 0


def test_recording_the_outcome_clears_its_alert(partnership, committed):
    p = partnership
    appointment = AppointmentFactory(offender=p.iom_person, staff=p.police_om, outcome=Appointment.Outcome.SCHEDULED,
                                     scheduled_at=timezone.now() - datetime.timedelta(days=2))
    tasks.raise_overdue_outcome_alerts()
    with committed():
        case_services.record_appointment_outcome(p.police_om, appointment, outcome="attended_complied")
    assert Alert.objects.get().cleared_at is not None


def test_an_overdue_outcome_is_not_raised_for_staff_whose_agency_may_not_see_the_person(partnership):
    p = partnership
    AppointmentFactory(offender=p.police_only_person, staff=p.probation_om, agency=p.probation,
                       outcome=Appointment.Outcome.SCHEDULED, scheduled_at=timezone.now() - datetime.timedelta(days=2))
    assert tasks.raise_overdue_outcome_alerts() == 0


# Reading and clearing


def raise_alert(user, person, message="Something changed."):
    return Alert.objects.create(recipient=user, offender=person, kind=Alert.Kind.CASE_CHANGED, message=message,
                                link=f"/cases/{person.pk}/")


def test_the_header_counts_new_alerts_and_the_list_shows_them(partnership, client_for):
    p = partnership
    raise_alert(p.police_om, p.iom_person, "Probation Service North changed the RAG status from Amber to Red.")
    raise_alert(p.police_om, p.police_only_person)
    raise_alert(p.probation_om, p.iom_person, "Someone else's alert")
    client = client_for(p.police_om)
    page = client.get(reverse("cases:list")).content.decode()
    assert '<span class="moj-notification-badge">2<span class="govuk-visually-hidden"> new</span>' in page
    listing = client.get(reverse("alerts:list")).content.decode()
    assert "changed the RAG status from Amber to Red" in listing and "Someone else" not in listing
    assert "ASHWORTH, Jordan" in listing


def test_an_alert_about_a_person_no_longer_shared_is_neither_shown_nor_counted(partnership, client_for):
    p = partnership
    raise_alert(p.probation_om, p.iom_person, "Jordan's alert")
    CohortMembership.objects.filter(offender=p.iom_person, cohort=Cohort.IOM).update(
        ended_on=timezone.localdate(), exit_reason="completed"
    )
    client = client_for(p.probation_om)
    assert "moj-notification-badge" not in client.get(reverse("alerts:list")).content.decode()
    assert "Jordan" not in client.get(reverse("alerts:list")).content.decode()


def test_clear_one_many_or_all(partnership, client_for):
    p = partnership
    first, second, third, fourth = (raise_alert(p.police_om, p.iom_person, f"Alert {n}") for n in range(4))
    client = client_for(p.police_om)
    url = reverse("alerts:clear")
    assert client.post(url, {"alert": first.pk}).status_code == 302
    client.post(url, {"alerts": [second.pk, third.pk]})
    assert list(Alert.objects.current().values_list("pk", flat=True)) == [fourth.pk]
    cleared = client.get(reverse("alerts:list"), {"show": "cleared"}).content.decode()
    assert "Alert 1" in cleared and "Alert 3" not in cleared
    client.post(url, {"all": "1"})
    assert not Alert.objects.current().exists()
    response = client.post(url, {}, follow=True)
    assert "Select the alerts to clear." in response.content.decode()


def test_nobody_clears_or_reads_another_users_alerts(partnership, client_for):
    p = partnership
    theirs = raise_alert(p.probation_om, p.iom_person)
    client = client_for(p.police_om)
    client.post(reverse("alerts:clear"), {"alert": theirs.pk})
    client.post(reverse("alerts:clear"), {"all": "1"})
    theirs.refresh_from_db()
    assert theirs.cleared_at is None
    assert client.get(reverse("alerts:clear")).status_code == 405


def test_analysts_have_no_alerts(partnership, client_for):
    client = client_for(partnership.analyst)
    assert client.get(reverse("alerts:list")).status_code == 403
    assert client.post(reverse("alerts:clear"), {"all": "1"}).status_code == 403
    assert "Alerts" not in client.get(reverse("dashboard:index")).content.decode().split("</header>")[0]


def test_the_alert_list_runs_the_same_queries_however_many_alerts(partnership, client_for, django_assert_num_queries):
    p = partnership
    client = client_for(p.police_om)
    raise_alert(p.police_om, p.iom_person)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        client.get(reverse("alerts:list"))
    for index in range(60):
        person = OffenderFactory(area=p.area, lead_agency=p.police)
        raise_alert(p.police_om, person, f"Alert {index}")
    with django_assert_num_queries(len(small.captured_queries) + 1):  # the paginator's count, past one page
        client.get(reverse("alerts:list"))


# Email


def test_email_says_there_is_an_alert_and_never_who_it_is_about(partnership, client_for, committed):
    p = partnership
    client = client_for(p.police_om)
    assert client.post(reverse("alerts:settings"), {"email": "on"}).status_code == 302
    assert AlertSettings.objects.get(user=p.police_om).email
    with committed():
        case_services.record_rag_change(p.probation_om, p.iom_person, to_status="red", reason="Reviewed")
    [email] = mail.outbox
    assert email.to == [p.police_om.email]
    assert "/alerts/" in email.body
    assert "Ashworth" not in email.body + email.subject and "RAG" not in email.body


def test_no_email_unless_asked_for(partnership, committed):
    p = partnership
    with committed():
        case_services.record_rag_change(p.probation_om, p.iom_person, to_status="red", reason="Reviewed")
    assert len(alerts_of(p.police_om)) == 1 and mail.outbox == []


def test_email_alerts_need_an_email_address(partnership, client_for):
    p = partnership
    p.police_om.email = ""
    p.police_om.save()
    response = client_for(p.police_om).post(reverse("alerts:settings"), {"email": "on"})
    assert response.status_code == 200
    assert "Your account has no email address" in response.content.decode()
    assert not AlertSettings.objects.filter(email=True).exists()
