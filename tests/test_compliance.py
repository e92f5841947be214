"""Appointments and compliance: the holder of an appointment records its outcome, never before it is due, and at
the second failure to comply within 12 months the practitioner is prompted to consider breach or recall."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.compliance import compliance_for
from cases.models import Appointment, EnforcementAction, Supervision

from .factories import AppointmentFactory

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def failure(person, days_ago, outcome="unacceptable_absence", agency=None):
    return AppointmentFactory(offender=person, outcome=outcome, agency=agency or person.lead_agency,
                              scheduled_at=timezone.now() - days_ago * DAY)


def order(person, agency, kind=Supervision.Kind.COMMUNITY_ORDER):
    return Supervision.objects.create(offender=person, kind=kind, started_on=timezone.localdate() - 100 * DAY,
                                      responsible_agency=agency)


def test_failures_to_comply_are_counted_within_twelve_months(partnership):
    person = partnership.iom_person
    failure(person, 3)
    failure(person, 40, outcome="failed_to_comply")
    failure(person, 400)  # more than 12 months ago
    AppointmentFactory(offender=person, outcome="acceptable_absence", absence_reason="medical")
    AppointmentFactory(offender=person, outcome="attended_complied")
    compliance = compliance_for(person)
    assert compliance.failures == 2 and compliance.acceptable_absences == 1
    assert compliance.summary == "2 failures to comply within 12 months"
    assert compliance.should_consider_enforcement and compliance.enforcement_label == "breach action"


def test_one_failure_does_not_prompt_and_licence_cases_are_prompted_to_consider_recall(partnership):
    person = partnership.iom_person
    failure(person, 3)
    assert compliance_for(person).summary == "1 failure to comply within 12 months"
    assert not compliance_for(person).should_consider_enforcement
    order(person, partnership.probation, kind=Supervision.Kind.LICENCE)
    failure(person, 2)
    compliance = compliance_for(person)
    assert compliance.should_consider_enforcement and compliance.enforcement_kind == "recall"


def test_breach_in_progress_replaces_the_prompt_and_earlier_failures_do_not_prompt_again(partnership):
    person, om = partnership.iom_person, partnership.police_om
    failure(person, 20)
    failure(person, 10)
    breach = services.record_enforcement(om, person, kind="breach", taken_on=timezone.localdate() - 5 * DAY)
    compliance = compliance_for(person)
    assert compliance.enforcement_in_progress == breach and not compliance.should_consider_enforcement
    services.conclude_enforcement(om, breach, concluded_on=timezone.localdate(), outcome="Order revoked")
    compliance = compliance_for(person)
    assert compliance.failures == 2 and compliance.enforcement_in_progress is None
    assert not compliance.should_consider_enforcement  # both failures came before the breach
    failure(person, 1)
    failure(person, 0.5)
    assert compliance_for(person).should_consider_enforcement


def test_concluding_refuses_other_kinds_future_dates_and_a_missing_outcome(partnership):
    om, person = partnership.police_om, partnership.iom_person
    letter = services.record_enforcement(om, person, kind="warning_letter")
    with pytest.raises(ValidationError, match="Only breach proceedings or a recall"):
        services.conclude_enforcement(om, letter, concluded_on=timezone.localdate(), outcome="Done")
    recall = services.record_enforcement(om, person, kind="recall")
    with pytest.raises(ValidationError) as error:
        services.conclude_enforcement(om, recall, concluded_on=timezone.localdate() + DAY, outcome="")
    assert set(error.value.message_dict) == {"concluded_on", "outcome"}
    assert EnforcementAction.objects.get(pk=recall.pk).in_progress


def test_the_second_failure_prompts_breach_on_the_outcome_page_and_starts_nothing(partnership, client_for):
    person = partnership.iom_person
    failure(person, 30)
    appointment = AppointmentFactory(offender=person, outcome="scheduled", scheduled_at=timezone.now() - DAY)
    client = client_for(partnership.police_om)
    form = client.get(reverse("cases:appointment_outcome", args=[person.pk, appointment.pk])).content.decode()
    assert "1 failure to comply within 12 months. Another failure to comply means considering breach action" in form
    response = client.post(reverse("cases:appointment_outcome", args=[person.pk, appointment.pk]),
                           {"outcome": "unacceptable_absence", "absence_reason": "", "notes": "No contact"},
                           follow=True)
    page = response.content.decode()
    assert response.redirect_chain[-1][0] == reverse("cases:appointment_detail", args=[person.pk, appointment.pk])
    assert "2 failures to comply within 12 months: consider breach action." in page
    assert f'href="{reverse("cases:enforcement_create", args=[person.pk])}?kind=breach"' in page
    assert not EnforcementAction.objects.exists()
    enforcement_form = client.get(reverse("cases:enforcement_create", args=[person.pk]), {"kind": "breach"})
    assert 'value="breach" checked' in enforcement_form.content.decode()
    overview = client.get(reverse("cases:detail", args=[person.pk])).content.decode()
    assert "2 failures to comply within 12 months: consider breach action" in overview


def test_no_prompt_after_an_acceptable_absence(partnership, client_for):
    person = partnership.iom_person
    failure(person, 30)
    appointment = AppointmentFactory(offender=person, outcome="scheduled", scheduled_at=timezone.now() - DAY)
    response = client_for(partnership.police_om).post(
        reverse("cases:appointment_outcome", args=[person.pk, appointment.pk]),
        {"outcome": "acceptable_absence", "absence_reason": "medical"}, follow=True)
    assert "consider breach" not in response.content.decode()


def test_an_outcome_cannot_be_recorded_for_a_future_time_on_the_form(partnership, client_for):
    person = partnership.iom_person
    later = timezone.localtime() + datetime.timedelta(hours=3)
    client = client_for(partnership.police_om)
    response = client.post(reverse("cases:appointment_create", args=[person.pk]), {
        "kind": "home_visit", "date_day": later.day, "date_month": later.month, "date_year": later.year,
        "time": f"{later:%H:%M}", "outcome": "attended_complied",
    })
    assert response.status_code == 200
    assert "The appointment has not happened yet" in response.content.decode()
    assert not Appointment.objects.exists()
    booked = client.post(reverse("cases:appointment_create", args=[person.pk]), {
        "kind": "home_visit", "date_day": later.day, "date_month": later.month, "date_year": later.year,
        "time": f"{later:%-I:%M%p}".lower(), "outcome": "scheduled",
    })
    appointment = Appointment.objects.get()
    assert booked.status_code == 302 and timezone.localtime(appointment.scheduled_at).replace(
        second=0, microsecond=0) == later.replace(second=0, microsecond=0)
    early = client.post(reverse("cases:appointment_outcome", args=[person.pk, appointment.pk]),
                        {"outcome": "unacceptable_absence"})
    assert early.status_code == 200 and "has not happened yet" in early.content.decode()
    assert Appointment.objects.get().outcome == "scheduled"


def test_the_time_field_reads_the_ways_people_write_times_and_refuses_nonsense(partnership, client_for):
    person = partnership.iom_person
    client = client_for(partnership.police_om)
    yesterday = timezone.localdate() - DAY
    for typed, expected in (("14:30", (14, 30)), ("2.30pm", (14, 30)), ("9am", (9, 0)), ("12 PM", (12, 0))):
        client.post(reverse("cases:appointment_create", args=[person.pk]), {
            "kind": "home_visit", "date_day": yesterday.day, "date_month": yesterday.month,
            "date_year": yesterday.year, "time": typed, "outcome": "attended_complied",
        })
        latest = timezone.localtime(Appointment.objects.latest("pk").scheduled_at)
        assert (latest.hour, latest.minute) == expected, typed
    refused = client.post(reverse("cases:appointment_create", args=[person.pk]), {
        "kind": "home_visit", "date_day": "31", "date_month": "2", "date_year": "2026", "time": "25:61",
        "outcome": "scheduled",
    })
    page = refused.content.decode()
    assert "Enter a real date" in page and "Enter a real time" in page


def test_only_the_agency_holding_an_appointment_records_its_outcome(partnership, client_for):
    person = partnership.iom_person
    held_by_probation = AppointmentFactory(offender=person, agency=partnership.probation, outcome="scheduled")
    with pytest.raises(PermissionDenied, match="Probation Service North, which holds this appointment"):
        services.record_appointment_outcome(partnership.police_om, held_by_probation, outcome="attended_complied")
    url = reverse("cases:appointment_outcome", args=[person.pk, held_by_probation.pk])
    assert client_for(partnership.police_om).get(url).status_code == 403
    assert client_for(partnership.police_om).post(url, {"outcome": "attended_complied"}).status_code == 403
    assert client_for(partnership.probation_om).post(url, {"outcome": "attended_complied"}).status_code == 302
    assert Appointment.objects.get().outcome == "attended_complied"


def test_only_the_agency_responsible_for_a_current_order_books_supervision(partnership):
    person = partnership.iom_person
    when = timezone.now() + DAY
    with pytest.raises(ValidationError, match="the person has no current order"):
        services.record_appointment(partnership.probation_om, person, kind="supervision", scheduled_at=when)
    order(person, partnership.probation)
    with pytest.raises(ValidationError, match=r"current order can record supervision appointments \(Probation"):
        services.record_appointment(partnership.police_om, person, kind="supervision", scheduled_at=when)
    booked = services.record_appointment(partnership.probation_om, person, kind="supervision", scheduled_at=when)
    assert booked.agency == partnership.probation
    # Other contacts belong to whoever holds them.
    visit = services.record_appointment(partnership.police_om, person, kind="home_visit", scheduled_at=when)
    assert visit.agency == partnership.police
