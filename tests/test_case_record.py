"""The case record: constraints, RAG history, form errors and the access log."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from cases import services
from cases.models import AccessLogEntry, CohortMembership, Offender, RagChange

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


def test_rag_form_without_reason_shows_error_and_saves_nothing(partnership, client_for):
    response = client_for(partnership.police_om).post(
        f"/cases/{partnership.iom_person.pk}/rag/", {"to_status": "red", "reason": ""}
    )
    assert response.status_code == 200
    assert b"govuk-error-summary" in response.content
    assert not RagChange.objects.exists()


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
    assert person.pnc_number == "16/123Z"
    assert person.lead_agency == partnership.police
    assert sorted(person.aliases.values_list("name", flat=True)) == ["Ri", "Riley O"]
    assert AccessLogEntry.objects.filter(action="create", offender_id=person.pk).exists()


def test_duplicate_pnc_in_the_form_is_a_field_error_not_a_500(partnership, client_for):
    response = client_for(partnership.police_om).post(
        "/cases/new/", person_form_data(partnership, pnc_number=partnership.iom_person.pnc_number)
    )
    assert response.status_code == 200
    assert "Another person already has this PNC number." in response.content.decode()
    assert not Offender.objects.filter(last_name="Okafor").exists()


def test_malformed_identifiers_and_dates_are_explained(partnership, client_for):
    response = client_for(partnership.police_om).post(
        "/cases/new/", person_form_data(partnership, crn="123", date_of_birth_month="13")
    )
    body = response.content.decode()
    assert "Enter a CRN in the format X123456" in body
    assert 'href="#id_date_of_birth' in body


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


def test_agency_admin_reads_own_agency_log_only(partnership, client_for):
    client_for(partnership.probation_om).get(partnership.iom_person.get_absolute_url())
    client_for(partnership.police_om).get(partnership.iom_person.get_absolute_url())
    response = client_for(partnership.police_admin).get("/cases/access-log/")
    assert response.status_code == 200
    assert b"police.om" in response.content
    assert b"probation.om" not in response.content
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
    assert "Someone else changed the RAG status to Red" in response.content.decode()
    person.refresh_from_db()
    assert person.rag_status == "red"
    assert RagChange.objects.filter(offender=person).count() == 1
