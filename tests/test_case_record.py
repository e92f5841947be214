"""The case record: constraints, RAG history, form errors and the access log."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from cases import services
from cases.models import AccessLogEntry, CohortMembership, Offence, Offender, RagChange

from .factories import MembershipFactory, OffenderFactory

pytestmark = pytest.mark.django_db


def person_form_data(partnership, **overrides):
    data = {
        "first_names": "Riley", "last_name": "Okafor", "date_of_birth_day": "3", "date_of_birth_month": "4",
        "date_of_birth_year": "1994", "gender": "female", "ethnicity": "black", "area": partnership.area.pk,
        "pnc_number": "", "crn": "", "prison_number": "", "aliases": "Riley O\nRi",
    }
    data.update(overrides)
    return data


def test_database_refuses_duplicate_pnc(partnership):
    with pytest.raises(IntegrityError), transaction.atomic():
        OffenderFactory(pnc_number=partnership.iom_person.pnc_number)


def test_blank_identifiers_do_not_clash(partnership):
    OffenderFactory(pnc_number="", crn="")
    OffenderFactory(pnc_number="", crn="")


def test_database_refuses_second_open_membership_of_a_cohort(partnership):
    with pytest.raises(IntegrityError), transaction.atomic():
        MembershipFactory(offender=partnership.iom_person, cohort="iom")


def test_database_refuses_mappa_without_level(partnership):
    with pytest.raises(IntegrityError), transaction.atomic():
        CohortMembership.objects.create(offender=partnership.iom_person, cohort="mappa", mappa_category=1)


def test_service_reports_duplicate_open_membership_clearly(partnership):
    with pytest.raises(ValidationError) as error:
        services.enrol_in_cohort(partnership.police_om, partnership.iom_person, cohort="iom", iom_category="flex")
    assert "already on this cohort" in str(error.value)


def test_rejoining_after_the_membership_ended_is_allowed(partnership):
    membership = partnership.iom_person.cohort_memberships.get()
    services.end_cohort_membership(partnership.police_om, membership, ended_on=datetime.date.today(),
                                   exit_reason="completed")
    services.enrol_in_cohort(partnership.police_om, partnership.iom_person, cohort="iom", iom_category="flex")
    assert partnership.iom_person.cohort_memberships.filter(ended_on__isnull=True).count() == 1


def test_rag_history_keeps_who_when_from_to_and_why(partnership):
    person = partnership.iom_person
    services.record_rag_change(partnership.police_om, person, to_status="red", reason="Arrested for burglary")
    services.record_rag_change(partnership.probation_om, person, to_status="amber", reason="Engaging with DRR")
    person.refresh_from_db()
    assert person.rag_status == "amber"
    latest, first = RagChange.objects.filter(offender=person)
    assert (first.from_status, first.to_status, first.agency) == ("", "red", partnership.police)
    assert (latest.from_status, latest.to_status, latest.changed_by) == ("red", "amber", partnership.probation_om)
    assert latest.reason == "Engaging with DRR"


def test_rag_change_to_the_same_status_is_refused(partnership):
    services.record_rag_change(partnership.police_om, partnership.iom_person, to_status="red", reason="Arrest")
    with pytest.raises(ValidationError):
        services.record_rag_change(partnership.police_om, partnership.iom_person, to_status="red", reason="Again")


def test_rag_form_records_change_and_shows_it_on_the_case(partnership, client_for):
    client = client_for(partnership.police_om)
    response = client.post(f"/cases/{partnership.iom_person.pk}/rag/", {"to_status": "red", "reason": "Recall"})
    assert response.status_code == 302
    page = client.get(partnership.iom_person.get_absolute_url())
    assert b"Recall" in page.content
    assert b"govuk-tag--red" in page.content


def test_create_person_through_the_form(partnership, client_for):
    data = person_form_data(partnership, pnc_number="16/123z")
    response = client_for(partnership.police_om).post("/cases/new/", data)
    assert response.status_code == 302
    person = Offender.objects.get(last_name="Okafor")
    assert person.pnc_number == "2016/0000123Z"  # kept in full, however it was typed
    assert person.lead_agency == partnership.police
    assert sorted(person.aliases.values_list("name", flat=True)) == ["Ri", "Riley O"]
    assert AccessLogEntry.objects.filter(action="create", offender_id=person.pk).exists()


def offence_outcome_before_the_offence(partnership):
    return {
        "committed_on_day": "2", "committed_on_month": "3", "committed_on_year": "2026",
        "offence_group": "theft", "outcome": "caution",
        "outcome_on_day": "1", "outcome_on_month": "1", "outcome_on_year": "2026",
    }


@pytest.mark.parametrize(("path", "data", "explained", "model"), [
    pytest.param("rag/", lambda p: {"to_status": "red", "reason": ""},
                 ["Enter the reason for the change of RAG status"], RagChange, id="rag-change-without-a-reason"),
    pytest.param("new", lambda p: person_form_data(p, pnc_number=p.iom_person.pnc_number),
                 ["Another person already has this PNC number."], Offender, id="person-with-a-pnc-in-use"),
    pytest.param("new", lambda p: person_form_data(p, crn="123", date_of_birth_month="13"),
                 ["Enter a CRN in the format X123456", 'href="#id_date_of_birth'], Offender,
                 id="person-with-a-malformed-crn-and-date"),
    pytest.param("offences/new/", offence_outcome_before_the_offence,
                 ["The outcome cannot come before the offence."], Offence, id="offence-outcome-before-the-offence"),
])
def test_a_refused_case_form_explains_why_and_saves_nothing(partnership, client_for, path, data, explained, model):
    url = "/cases/new/" if path == "new" else f"/cases/{partnership.iom_person.pk}/{path}"
    before = model.objects.count()
    response = client_for(partnership.police_om).post(url, data(partnership))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'class="govuk-error-summary"' in body
    for text in explained:
        assert text in body
    assert model.objects.count() == before


def test_second_save_of_a_stale_form_is_refused(partnership, client_for):
    person = partnership.iom_person
    stale_version = person.version
    services.update_offender(partnership.police_om, person, expected_version=stale_version, postcode="NT1 1AA")
    response = client_for(partnership.police_om).post(
        f"/cases/{person.pk}/edit/",
        {**person_form_data(partnership, first_names="Jordan", last_name="Ashworth"), "version": stale_version},
    )
    assert "changed by someone else" in response.content.decode()
    person.refresh_from_db()
    assert person.last_name == "Ashworth" and person.postcode == "NT1 1AA"


def test_viewing_a_case_is_logged(partnership, client_for):
    client_for(partnership.probation_om).get(partnership.iom_person.get_absolute_url())
    entry = AccessLogEntry.objects.get(action="view")
    assert entry.username == "probation.om"
    assert entry.agency_id == partnership.probation.pk
    assert entry.offender_id == partnership.iom_person.pk


def test_access_log_is_append_only_in_the_database(partnership):
    services.add_case_note(partnership.police_om, partnership.iom_person, text="Seen")
    assert connection.vendor == "postgresql"
    for statement in ["UPDATE cases_accesslogentry SET detail = 'tampered'", "DELETE FROM cases_accesslogentry"]:
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(statement)
    assert AccessLogEntry.objects.filter(detail="tampered").count() == 0


def test_agency_admin_reads_their_staffs_log_and_who_looked_at_the_people_they_lead(partnership, client_for):
    probation_led = OffenderFactory(first_names="Robin", last_name="Probationled", area=partnership.area,
                                    lead_agency=partnership.probation)
    client_for(partnership.probation_om).get(partnership.iom_person.get_absolute_url())
    client_for(partnership.probation_om).get(probation_led.get_absolute_url())
    client_for(partnership.police_om).get(partnership.iom_person.get_absolute_url())
    response = client_for(partnership.police_admin).get("/cases/access-log/")
    assert response.status_code == 200
    people = {row["entry"].offender_id for row in response.context["rows"]}
    who = {row["entry"].username for row in response.context["rows"]}
    assert who == {"police.om", "probation.om"}  # probation looked at a person the police lead
    assert probation_led.pk not in people  # and what probation did with its own people stays its own
    assert b"Probationled" not in response.content
    assert client_for(partnership.police_om).get("/cases/access-log/").status_code == 403


def test_rag_form_opened_before_someone_elses_change_is_refused(partnership, client_for):
    person = partnership.iom_person
    client = client_for(partnership.police_om)
    page = client.get(f"/cases/{person.pk}/rag/")
    assert 'name="status_seen" value="none"' in page.content.decode()
    services.record_rag_change(partnership.probation_om, person, to_status="red", reason="Arrested")
    response = client.post(
        f"/cases/{person.pk}/rag/", {"status_seen": "none", "to_status": "green", "reason": "Engaging"}
    )
    assert response.status_code == 200
    assert "The RAG status was changed to Red by someone else after you opened it." in response.content.decode()
    person.refresh_from_db()
    assert person.rag_status == "red"
    assert RagChange.objects.filter(offender=person).count() == 1


def test_a_date_of_birth_today_or_later_is_refused_the_same_way_by_form_api_and_service(partnership, client_for,
                                                                                         api_for):
    today = datetime.date.today()
    form = client_for(partnership.police_om).post("/cases/new/", person_form_data(
        partnership, date_of_birth_day=str(today.day), date_of_birth_month=str(today.month),
        date_of_birth_year=str(today.year),
    ))
    assert form.status_code == 200 and "Date of birth must be in the past." in form.content.decode()
    api = api_for(partnership.police_om).post("/api/v1/people/", {
        "first_names": "Riley", "last_name": "Okafor", "date_of_birth": today.isoformat(), "gender": "female",
        "area": partnership.area.pk,
    }, format="json")
    assert api.status_code == 400 and api.json()["date_of_birth"] == ["Date of birth must be in the past."]
    with pytest.raises(ValidationError) as refused:
        services.create_offender(partnership.police_om, first_names="Riley", last_name="Okafor",
                                 date_of_birth=today + datetime.timedelta(days=1), gender="female",
                                 area=partnership.area)
    assert refused.value.message_dict["date_of_birth"] == ["Date of birth must be in the past."]
    assert not Offender.objects.filter(last_name="Okafor").exists()


def test_a_choice_narrowed_by_the_form_is_validated_against_the_narrowed_list(partnership, client_for):
    """The lead offender manager must work for the lead agency: a member of another agency is refused."""
    from cases.forms import OffenderForm

    person = partnership.iom_person
    form = OffenderForm({"lead_offender_manager": partnership.probation_om.pk}, instance=person,
                        user=partnership.police_om)
    assert not form.is_valid() and "lead_offender_manager" in form.errors
    assert "govuk-select--error" in str(form["lead_offender_manager"])
