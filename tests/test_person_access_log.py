"""The access log read as people: the lead agency sees who from any agency viewed or changed its person."""

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.access_log import describe
from cases.models import AccessLogEntry

from .factories import OffenderFactory

pytestmark = pytest.mark.django_db


def test_the_lead_agency_sees_who_from_any_agency_viewed_or_changed_its_person(partnership, client_for):
    p = partnership
    person = p.iom_person
    client_for(p.probation_om).get(reverse("cases:sentence", args=[person.pk]))
    services.record_rag_change(p.probation_om, person, to_status="red", reason="Missed appointments")
    client_for(p.police_om).get(person.get_absolute_url())
    url = reverse("cases:person_access_log", args=[person.pk])
    page = client_for(p.police_om).get(url)
    assert page.status_code == 200
    rows = [(row["who"], str(row["entry"].agency), row["what"]) for row in page.context["rows"]]
    assert (p.probation_om.get_full_name(), "Probation Service North", "viewed the case: sentence and compliance") \
        in rows
    assert (p.probation_om.get_full_name(), "Probation Service North", "changed the RAG status (none to red)") in rows
    assert (p.police_om.get_full_name(), "Northtown Police", "viewed the case overview") in rows
    body = page.content.decode()
    assert "cases.offender" not in body and "cases.ragchange" not in body
    # A link from the case, for the lead agency only.
    personal = reverse("cases:personal", args=[person.pk])
    assert url in client_for(p.police_om).get(personal).content.decode()
    assert url not in client_for(p.probation_om).get(personal).content.decode()


def test_other_agencies_and_read_only_staff_cannot_read_a_persons_log(partnership, client_for):
    p = partnership
    url = reverse("cases:person_access_log", args=[p.iom_person.pk])
    assert client_for(p.probation_om).get(url).status_code == 403  # sees the person, does not lead the case
    assert client_for(p.police_reader).get(url).status_code == 403
    assert client_for(p.housing_om).get(url).status_code == 404  # may not see the person at all
    assert client_for(p.police_admin).get(url).status_code == 200


def test_the_persons_log_filters_by_user_and_date(partnership, client_for):
    p = partnership
    person = p.iom_person
    client_for(p.probation_om).get(person.get_absolute_url())
    client_for(p.police_om).get(person.get_absolute_url())
    client = client_for(p.police_om)
    url = reverse("cases:person_access_log", args=[person.pk])
    by_name = client.get(url, {"user": p.probation_om.last_name}).context["rows"]
    assert {row["entry"].username for row in by_name} == {"probation.om"}
    by_username = client.get(url, {"user": "PROBATION.OM"}).context["rows"]
    assert {row["entry"].username for row in by_username} == {"probation.om"}
    today = timezone.localdate().isoformat()
    assert len(client.get(url, {"date_from": today, "date_to": today}).context["rows"]) >= 2
    assert client.get(url, {"date_from": "2001-01-01", "date_to": "2001-01-02"}).context["rows"] == []
    backwards = client.get(url, {"date_from": today, "date_to": "2001-01-01"})
    assert "The end date must be on or after the start date" in backwards.content.decode()


def test_the_agency_log_finds_a_person_by_name_or_pnc_and_hides_people_the_reader_may_not_see(
    partnership, client_for
):
    p = partnership
    client_for(p.probation_om).get(p.iom_person.get_absolute_url())
    client_for(p.police_om).get(p.police_only_person.get_absolute_url())
    admin = client_for(p.police_admin)
    for search in ("Ashworth", "jordan ash", "2015/0123456x", "X123456", str(p.iom_person.pk)):
        rows = admin.get(reverse("cases:access_log"), {"person": search}).context["rows"]
        assert rows and {row["entry"].offender_id for row in rows} == {p.iom_person.pk}, search
    # Probation's administrator reads what probation staff did; a person probation may no longer see is not named.
    probation_admin = type(p.police_admin).objects.create(username="probation.admin", agency=p.probation,
                                                          role="agency_admin")
    probation_led = OffenderFactory(lead_agency=p.probation, area=p.area, last_name="Probationled")
    client_for(p.probation_om).get(probation_led.get_absolute_url())
    p.iom_person.cohort_memberships.update(ended_on=timezone.localdate(), exit_reason="completed")
    page = client_for(probation_admin).get(reverse("cases:access_log"))
    body = page.content.decode()
    assert "Probationled" in body and "Ashworth" not in body
    assert f"Case {p.iom_person.pk}" in body


def test_descriptions_are_sentences_not_tables():
    def entry(action, object_type, detail=""):
        return AccessLogEntry(action=action, object_type=object_type, detail=detail)

    assert describe(entry("view", "cases.offender", "Overview")) == "viewed the case overview"
    assert describe(entry("view", "cases.offender", "Risk")) == "viewed the case: risk"
    assert describe(entry("view", "cases.offender", "API: appointments")) == "read appointments through the API"
    assert describe(entry("export", "cases.offender")) == "exported the case in a case list"
    assert describe(entry("create", "cases.casenote", "Shared with the partnership")) == \
        "added a case note: shared with the partnership"
    assert describe(entry("change", "risk.riskflag", "Removed Weapons (low)")) == \
        "changed a risk flag: removed Weapons (low)"
    assert describe(entry("view", "nonsense.model")) == "viewed a record"
