"""Facts that can arrive by feed: source references, offence outcomes, orders and releases, appointment
outcomes as practitioners record them, and dated RAG changes and cohort exits."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases import services
from cases.models import Appointment, CohortMembership, Offence, RagChange, Requirement, Supervision
from pathways import services as pathway_services
from pathways.models import EteStatus

from .factories import AppointmentFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"
TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def offence(person, **fields):
    values = {"committed_on": TODAY - 30 * DAY, "offence_group": Offence.Group.THEFT,
              "recorded_by_agency": person.lead_agency}
    values.update(fields)
    return Offence.objects.create(offender=person, **values)


# -- Source references ---------------------------------------------------------------------------------------------


def test_a_source_reference_is_used_once_per_system(partnership):
    person = partnership.iom_person
    offence(person, source_system="police-niche", source_reference="CR/1")
    offence(person, source_system="court-results", source_reference="CR/1")  # another system's reference
    offence(person)  # typed in: no reference at all
    offence(person)
    with pytest.raises(IntegrityError, match="offence_source_unique"), transaction.atomic():
        offence(person, source_system="police-niche", source_reference="CR/1")


def test_a_source_system_needs_a_reference(partnership):
    with pytest.raises(IntegrityError, match="offence_source_complete"), transaction.atomic():
        offence(partnership.iom_person, source_system="police-niche")
    with pytest.raises(IntegrityError, match="ete_status_source_complete"), transaction.atomic():
        EteStatus.objects.create(offender=partnership.iom_person, status="employed", source_system="dwp")


def test_panel_decisions_name_their_meeting_without_a_source_system(partnership):
    for _ in range(2):
        RagChange.objects.create(offender=partnership.iom_person, to_status="red", reason="Panel",
                                 source=RagChange.Source.PANEL, source_reference="IOM panel, 1 May")


# -- Offences --------------------------------------------------------------------------------------------------------


def test_charged_and_convicted_are_outcomes_only_convictions_and_cautions_are_proven(partnership):
    charged = offence(partnership.iom_person, outcome=Offence.Outcome.CHARGED, outcome_on=TODAY - 20 * DAY,
                      drug_related=True)
    convicted = services.record_offence_outcome(partnership.police_om, charged, outcome=Offence.Outcome.CONVICTION,
                                                outcome_on=TODAY - 2 * DAY, court="Northtown Magistrates' Court")
    assert convicted.is_proven and convicted.court == "Northtown Magistrates' Court" and convicted.drug_related
    assert {Offence.Outcome.CONVICTION, Offence.Outcome.CAUTION} == Offence.PROVEN_OUTCOMES
    assert Offence.Outcome.CHARGED in Offence.OPEN_OUTCOMES and Offence.Outcome.CHARGED not in Offence.PROVEN_OUTCOMES


def test_an_outcome_dated_in_the_future_is_refused(partnership):
    pending = offence(partnership.iom_person)
    with pytest.raises(ValidationError, match="outcome cannot be in the future"):
        services.record_offence_outcome(partnership.police_om, pending, outcome=Offence.Outcome.CAUTION,
                                        outcome_on=TODAY + DAY)
    with pytest.raises(ValidationError, match="offence cannot be in the future"):
        services.record_offence(partnership.police_om, partnership.iom_person, committed_on=TODAY + DAY,
                                offence_group=Offence.Group.THEFT)
    pending.refresh_from_db()
    assert pending.outcome == Offence.Outcome.PENDING


def test_offence_form_records_the_flags_and_court(partnership, client_for):
    client = client_for(partnership.police_om)
    pk = partnership.iom_person.pk
    response = client.post(f"/cases/{pk}/offences/new/", {
        "committed_on_day": "2", "committed_on_month": "3", "committed_on_year": str(TODAY.year - 1),
        "offence_group": "theft", "alcohol_related": "on", "outcome": "caution",
        "outcome_on_day": "4", "outcome_on_month": "3", "outcome_on_year": str(TODAY.year - 1),
        "court": "",
    })
    assert response.status_code == 302
    recorded = Offence.objects.get(offender=pk)
    assert recorded.alcohol_related and not recorded.drug_related and recorded.is_proven
    assert b"Alcohol-related" in client.get(f"/cases/{pk}/sentence/").content


# -- Orders and releases ---------------------------------------------------------------------------------------------


def test_an_order_keeps_its_requirements_and_release(partnership, client_for):
    client = client_for(partnership.police_om)
    pk = partnership.iom_person.pk
    friday = TODAY - datetime.timedelta(days=(TODAY.weekday() - 4) % 7 or 7)
    response = client.post(f"/cases/{pk}/supervision/new/", {
        "kind": "licence", "started_on_day": "1", "started_on_month": "1", "started_on_year": str(TODAY.year - 1),
        "released_on_day": str(friday.day), "released_on_month": str(friday.month),
        "released_on_year": str(friday.year), "release_type": "unplanned",
        "responsible_agency": partnership.probation.pk,
        "requirements": ["drr", "mhtr"],
    })
    assert response.status_code == 302, response.content
    licence = Supervision.objects.get(offender=pk)
    assert sorted(licence.requirements.values_list("kind", flat=True)) == ["drr", "mhtr"]
    assert licence.is_friday_release and licence.release_type == "unplanned"
    page = client.get(f"/cases/{pk}/sentence/").content.decode()
    assert "Friday release" in page and "Mental health treatment requirement (MHTR)" in page
    assert {"community_order", "suspended_sentence"} == Supervision.COURT_ORDER_KINDS


def test_a_release_type_needs_a_release_date(partnership):
    with pytest.raises(ValidationError, match="release date with the type"):
        services.add_supervision(partnership.police_om, partnership.iom_person, kind="community_order",
                                 started_on=TODAY, release_type="planned", responsible_agency=partnership.probation)
    assert not Supervision.objects.exists()


def test_a_requirement_is_held_once_per_order(partnership):
    order = services.add_supervision(partnership.police_om, partnership.iom_person, kind="community_order",
                                     started_on=TODAY, responsible_agency=partnership.probation,
                                     requirements=["atr", "atr"])
    assert list(order.requirements.values_list("kind", flat=True)) == ["atr"]
    with pytest.raises(IntegrityError), transaction.atomic():
        Requirement.objects.create(supervision=order, kind="atr")


# -- Appointments ------------------------------------------------------------------------------------------------------


def test_an_outcome_cannot_be_recorded_before_the_appointment_time(partnership, client_for):
    tomorrow = timezone.now() + DAY
    appointment = services.record_appointment(partnership.police_om, partnership.iom_person, kind="home_visit",
                                              scheduled_at=tomorrow)
    for outcome in ("attended_complied", "failed_to_comply", "unacceptable_absence"):
        with pytest.raises(ValidationError, match="has not happened yet"):
            services.record_appointment_outcome(partnership.police_om, appointment, outcome=outcome)
    appointment.refresh_from_db()
    assert appointment.outcome == "scheduled"
    services.record_appointment_outcome(partnership.police_om, appointment, outcome="rescheduled")

    client = client_for(partnership.police_om)
    response = client.post(f"/cases/{partnership.iom_person.pk}/appointments/{appointment.pk}/outcome/",
                           {"outcome": "attended_complied"})
    assert response.status_code == 200 and "has not happened yet" in response.content.decode()


def test_the_database_refuses_an_outcome_recorded_before_the_appointment(partnership):
    with pytest.raises(IntegrityError, match="appointment_outcome_not_before_it_is_due"), transaction.atomic():
        AppointmentFactory(offender=partnership.iom_person, scheduled_at=timezone.now() + DAY,
                           outcome="attended_complied", recorded_at=timezone.now())
    AppointmentFactory(offender=partnership.iom_person, scheduled_at=timezone.now() + DAY, outcome="cancelled")


def test_the_api_refuses_a_future_attendance_with_the_reason(partnership, api_for):
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/appointments/"
    future = (timezone.now() + DAY).isoformat()
    refused = client.post(url, {"kind": "home_visit", "scheduled_at": future, "outcome": "attended_complied"},
                          format="json")
    assert refused.status_code == 400 and "has not happened yet" in str(refused.json())
    created = client.post(url, {"kind": "home_visit", "scheduled_at": future}, format="json")
    assert created.status_code == 201
    early = client.patch(f"{url}{created.json()['id']}/", {"outcome": "unacceptable_absence"}, format="json")
    assert early.status_code == 400 and Appointment.objects.get().outcome == "scheduled"


def test_an_acceptable_absence_needs_its_reason(partnership, api_for):
    appointment = AppointmentFactory(offender=partnership.iom_person, outcome="scheduled")
    with pytest.raises(ValidationError, match="reason the absence is acceptable"):
        services.record_appointment_outcome(partnership.police_om, appointment, outcome="acceptable_absence")
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/appointments/{appointment.pk}/"
    response = client.patch(url, {"outcome": "acceptable_absence", "absence_reason": "medical"}, format="json")
    assert response.status_code == 200 and response.json()["absence_reason"] == "medical"
    with pytest.raises(IntegrityError, match="absence_reason_when_acceptable"), transaction.atomic():
        Appointment.objects.filter(pk=appointment.pk).update(outcome="unacceptable_absence")


def test_missed_means_an_unacceptable_absence_and_failures_to_comply_include_failing_at_the_appointment(
    partnership, client_for
):
    person = partnership.iom_person
    for outcome, reason in (("unacceptable_absence", ""), ("unacceptable_absence", ""),
                            ("acceptable_absence", "court"), ("failed_to_comply", ""), ("attended_complied", "")):
        AppointmentFactory(offender=person, outcome=outcome, absence_reason=reason)
    page = client_for(partnership.police_om).get(f"/cases/{person.pk}/sentence/").content.decode()
    assert "3 failures to comply within 12 months" in page and "1 acceptable absence" in page
    appointments = Appointment.objects.filter(offender=person)
    assert sum(a.is_missed for a in appointments) == 2
    assert sum(a.is_failure_to_comply for a in appointments) == 3


# -- Dated RAG changes and cohort exits --------------------------------------------------------------------------


def test_a_rag_change_may_be_dated_in_the_past_never_in_the_future(partnership):
    user, person = partnership.police_om, partnership.iom_person
    now = timezone.now()
    services.record_rag_change(user, person, to_status="red", reason="Arrested", changed_at=now - 100 * DAY)
    services.record_rag_change(user, person, to_status="green", reason="Engaging", changed_at=now - 10 * DAY)
    # An older tracker's entry between the two: it starts from the status of its day, the current one stays.
    earlier = services.record_rag_change(user, person, to_status="amber", reason="Housing found",
                                         changed_at=now - 50 * DAY)
    assert (earlier.from_status, earlier.to_status) == ("red", "amber")
    person.refresh_from_db()
    assert person.rag_status == "green"
    with pytest.raises(ValidationError, match="already Amber on"):
        services.record_rag_change(user, person, to_status="amber", reason="Again", changed_at=now - 40 * DAY)
    with pytest.raises(ValidationError, match="cannot be in the future"):
        services.record_rag_change(user, person, to_status="red", reason="Tomorrow", changed_at=now + DAY)
    assert person.rag_changes.count() == 3


def test_the_api_takes_a_past_date_for_a_rag_change(partnership, api_for):
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/rag-changes/"
    past = (timezone.now() - 30 * DAY).isoformat()
    assert client.post(url, {"to_status": "red", "reason": "Backfilled", "changed_at": past},
                       format="json").status_code == 201
    future = (timezone.now() + DAY).isoformat()
    refused = client.post(url, {"to_status": "green", "reason": "Soon", "changed_at": future}, format="json")
    assert refused.status_code == 400 and "future" in str(refused.json())


def test_a_cohort_exit_cannot_be_dated_in_the_future(partnership):
    membership = CohortMembership.objects.get(offender=partnership.iom_person)
    with pytest.raises(ValidationError, match="cannot be in the future"):
        services.end_cohort_membership(partnership.police_om, membership, ended_on=TODAY + DAY,
                                       exit_reason="completed")
    services.end_cohort_membership(partnership.police_om, membership, ended_on=TODAY - DAY, exit_reason="completed")


def test_a_status_cannot_be_dated_in_the_future(partnership):
    with pytest.raises(ValidationError, match="future"):
        pathway_services.record_ete_status(partnership.police_om, partnership.iom_person, status="employed",
                                           effective_on=TODAY + DAY)
