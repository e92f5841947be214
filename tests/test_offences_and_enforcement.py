"""Offences with outcomes and enforcement actions on the case page."""

import pytest
from django.db import IntegrityError, transaction

from cases.models import AccessLogEntry, EnforcementAction, Offence

pytestmark = pytest.mark.django_db


def test_offender_manager_records_offence_then_its_outcome(partnership, client_for):
    client = client_for(partnership.police_om)
    pk = partnership.iom_person.pk
    response = client.post(f"/cases/{pk}/offences/new/", {
        "committed_on_day": "2", "committed_on_month": "3", "committed_on_year": "2026",
        "offence_group": "burglary", "description": "Dwelling burglary", "outcome": "pending",
    })
    assert response.status_code == 302
    offence = Offence.objects.get(offender=partnership.iom_person)
    response = client.post(f"/cases/{pk}/offences/{offence.pk}/outcome/", {
        "outcome": "conviction", "outcome_on_day": "20", "outcome_on_month": "5", "outcome_on_year": "2026",
    })
    assert response.status_code == 302
    offence.refresh_from_db()
    assert offence.is_proven and offence.outcome_on.month == 5
    assert AccessLogEntry.objects.filter(object_type="cases.offence", action="change").count() == 1
    assert b"Convicted" in client.get(f"/cases/{pk}/sentence/").content


def test_database_refuses_an_undated_outcome(partnership):
    with pytest.raises(IntegrityError), transaction.atomic():
        Offence.objects.create(offender=partnership.iom_person, committed_on="2026-01-01",
                               offence_group="theft", outcome="conviction")


def test_enforcement_is_recorded_for_the_users_agency(partnership, client_for):
    response = client_for(partnership.probation_om).post(
        f"/cases/{partnership.iom_person.pk}/enforcement/new/",
        {"kind": "warning_letter", "taken_on_day": "1", "taken_on_month": "6", "taken_on_year": "2026"},
    )
    assert response.status_code == 302
    enforcement = EnforcementAction.objects.get()
    assert enforcement.agency == partnership.probation
    assert enforcement.recorded_by == partnership.probation_om


def test_unseen_person_cannot_get_an_offence(partnership, client_for):
    response = client_for(partnership.housing_om).post(
        f"/cases/{partnership.iom_person.pk}/offences/new/", {"offence_group": "theft"}
    )
    assert response.status_code == 404
    assert not Offence.objects.exists()
