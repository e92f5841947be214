"""The activity log: one timeline of everything about the person, filtered and paged, respecting what the
reader's agency may read."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import CaseNote

from .factories import AppointmentFactory, CaseNoteFactory

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def titles(response):
    return [row["entry"].title for row in response.context["entries"]]


def categories(response):
    return {row["category"] for row in response.context["entries"]}


@pytest.fixture
def history(partnership):
    p = partnership
    person = p.iom_person
    services.record_rag_change(p.police_om, person, to_status="amber", reason="Engaging with treatment",
                               changed_at=timezone.now() - 20 * DAY)
    AppointmentFactory(offender=person, outcome="unacceptable_absence", notes="No answer at the door",
                       scheduled_at=timezone.now() - 10 * DAY)
    AppointmentFactory(offender=person, outcome="attended_complied", scheduled_at=timezone.now() - 5 * DAY)
    CaseNoteFactory(offender=person, agency=p.police, author=p.police_om, text="Police only: seen with a supplier",
                    sharing=CaseNote.Sharing.AGENCY)
    CaseNoteFactory(offender=person, agency=p.police, author=p.police_om, text="Moved to the hostel")
    services.record_offence(p.police_om, person, committed_on=timezone.localdate() - 30 * DAY,
                            offence_group="theft", description="Shoplifting at the precinct")
    services.record_enforcement(p.police_om, person, kind="warning_letter", details="Warned about curfew")
    from risk import services as risk

    risk.raise_risk_flag(p.probation_om, person, kind="weapons", level="medium", registered_on=timezone.localdate(),
                         review_on=timezone.localdate() + 30 * DAY)
    return person


def test_everything_about_the_person_is_on_one_timeline_newest_first(partnership, client_for, history):
    response = client_for(partnership.police_om).get(reverse("cases:activity", args=[history.pk]))
    assert response.status_code == 200
    assert {"Contacts and appointments", "Case notes", "RAG changes", "Cohorts", "Offences", "Enforcement",
            "Risk flags"} <= categories(response)
    dates = [row["entry"].occurred for row in response.context["entries"]]
    as_datetimes = [d if isinstance(d, datetime.datetime) else timezone.make_aware(
        datetime.datetime.combine(d, datetime.time())) for d in dates]
    assert as_datetimes == sorted(as_datetimes, reverse=True)


def test_restricted_notes_stay_in_their_agency(partnership, client_for, history):
    url = reverse("cases:activity", args=[history.pk])
    police = client_for(partnership.police_om).get(url, {"q": "supplier"})
    assert [row["entry"].text for row in police.context["entries"]] == ["Police only: seen with a supplier"]
    probation = client_for(partnership.probation_om).get(url, {"q": "supplier"})
    assert probation.context["entries"] == [] and b"seen with a supplier" not in probation.content
    everything = client_for(partnership.probation_om).get(url)
    assert b"seen with a supplier" not in everything.content and b"Moved to the hostel" in everything.content


def test_filters_by_keyword_category_compliance_and_dates(partnership, client_for, history):
    client = client_for(partnership.police_om)
    url = reverse("cases:activity", args=[history.pk])
    assert titles(client.get(url, {"q": "precinct"})) == ["Offence: Theft offences"]
    assert categories(client.get(url, {"category": ["rag", "enforcement"]})) == {"RAG changes", "Enforcement"}
    failures = client.get(url, {"compliance": "failures"})
    assert [row["entry"].tag for row in failures.context["entries"]] == ["Unacceptable absence"]
    recent = (timezone.localdate() - 7 * DAY)
    last_week = client.get(url, {"date_from_day": recent.day, "date_from_month": recent.month,
                                 "date_from_year": recent.year})
    assert "RAG changes" not in categories(last_week) and "Contacts and appointments" in categories(last_week)
    bad = client.get(url, {"date_from_day": "40", "date_from_month": "1", "date_from_year": "2026"})
    assert bad.status_code == 200 and "Enter a real date" in bad.content.decode()


def test_the_timeline_is_paged(partnership, client_for):
    person = partnership.iom_person
    for index in range(30):
        CaseNoteFactory(offender=person, text=f"Note {index}", created_at=timezone.now() - index * DAY)
    client = client_for(partnership.police_om)
    first = client.get(reverse("cases:activity", args=[person.pk]))
    second = client.get(reverse("cases:activity", args=[person.pk]), {"page": 2})
    assert len(first.context["entries"]) == 25 and first.context["page"].paginator.count == 31  # and the cohort
    assert [row["entry"].text for row in first.context["entries"]][0] == "Note 0"
    assert len(second.context["entries"]) == 6
    firsts = {row["entry"].text for row in first.context["entries"]}
    assert not firsts & {row["entry"].text for row in second.context["entries"]}
