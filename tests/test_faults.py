"""Faults: case work goes on with Redis (cache and Celery broker) down; constraint violations are form errors.

The dashboard's behaviour without Redis (showing its last good roll-up with its
age) belongs to the dashboard and is tested there.
"""

import socket

import pytest
from django.core.cache import caches
from django.test import override_settings
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.two_factor import current_code
from cases.models import CaseNote, Offender, RagChange
from reoffending.celery import app as celery_app

from .factories import OffenderFactory

pytestmark = [pytest.mark.django_db, pytest.mark.faults]


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def redis_down():
    url = f"redis://127.0.0.1:{closed_port()}/0"
    caches_down = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    saved = {key: celery_app.conf[key] for key in ("broker_url", "result_backend")}
    celery_app.conf.update(broker_url=url, result_backend=url)
    with override_settings(CACHES=caches_down, CELERY_BROKER_URL=url, CELERY_RESULT_BACKEND=url):
        caches.close_all()
        with pytest.raises(Exception, match="(?i)connect"):
            caches["default"].get("probe")
        yield url
    celery_app.conf.update(saved)


def person_form_data(partnership, **overrides):
    data = {
        "first_names": "Riley", "last_name": "Okafor", "date_of_birth_day": "3", "date_of_birth_month": "4",
        "date_of_birth_year": "1994", "gender": "female", "ethnicity": "black", "area": partnership.area.pk,
        "pnc_number": "", "crn": "", "prison_number": "", "aliases": "",
    }
    data.update(overrides)
    return data


def test_case_work_goes_on_without_redis(partnership, client_for, redis_down):
    client = client_for(partnership.police_om)
    person = partnership.iom_person
    assert client.get("/cases/").status_code == 200
    assert client.get("/cases/", {"q": "Ashworth"}).status_code == 200
    assert client.get(f"/cases/{person.pk}/").status_code == 200
    assert client.post(f"/cases/{person.pk}/rag/", {"to_status": "red", "reason": "Arrested"}).status_code == 302
    note = {"text": "Seen today", "sharing": "partnership"}
    assert client.post(f"/cases/{person.pk}/notes/new/", note).status_code == 302
    edit = client.post(f"/cases/{person.pk}/edit/", person_form_data(
        partnership, first_names="Jordan", last_name="Ashworth-Lee", version=person.version))
    assert edit.status_code == 302
    person.refresh_from_db()
    assert person.last_name == "Ashworth-Lee" and person.rag_status == "red"
    assert RagChange.objects.filter(offender=person).exists() and CaseNote.objects.filter(offender=person).exists()
    assert client.post("/cases/new/", person_form_data(partnership)).status_code == 302


def test_signing_in_with_two_factor_works_without_redis(client, partnership, redis_down):
    user = partnership.police_om
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    client.post("/sign-in/", {"username": user.username, "password": "correct horse battery staple"})
    client.post("/sign-in/security-code/", {"token": current_code(device)})
    assert client.get("/cases/").status_code == 200


def test_duplicate_pnc_on_a_new_person_is_a_form_error(partnership, client_for):
    response = client_for(partnership.police_om).post(
        "/cases/new/", person_form_data(partnership, pnc_number=partnership.iom_person.pnc_number)
    )
    assert response.status_code == 200
    assert "Another person already has this PNC number" in response.content.decode()


@pytest.fixture
def only_the_database_checks_uniqueness(monkeypatch):
    """As when two people save at the same moment: model validation passes, then the database refuses."""
    monkeypatch.setattr(Offender, "validate_constraints", lambda self, exclude=None: None)
    monkeypatch.setattr(Offender, "validate_unique", lambda self, exclude=None: None)


def test_database_refusing_a_duplicate_pnc_is_a_form_error_not_a_500(
    partnership, client_for, only_the_database_checks_uniqueness
):
    response = client_for(partnership.police_om).post(
        "/cases/new/", person_form_data(partnership, pnc_number=partnership.iom_person.pnc_number)
    )
    assert response.status_code == 200
    assert "Another person already has this PNC number" in response.content.decode()
    assert Offender.objects.filter(pnc_number=partnership.iom_person.pnc_number).count() == 1


def test_database_refusing_a_duplicate_crn_on_edit_is_a_form_error_not_a_500(
    partnership, client_for, only_the_database_checks_uniqueness
):
    other = OffenderFactory(area=partnership.area, lead_agency=partnership.police, crn="Y654321")
    person = partnership.police_only_person
    response = client_for(partnership.police_om).post(f"/cases/{person.pk}/edit/", person_form_data(
        partnership, first_names=person.first_names, last_name=person.last_name, crn=other.crn,
        version=person.version,
    ))
    assert response.status_code == 200
    assert "Another person already has this CRN" in response.content.decode()


def test_second_open_membership_of_a_cohort_is_a_form_error(partnership, client_for):
    response = client_for(partnership.police_om).post(
        f"/cases/{partnership.iom_person.pk}/cohorts/new/",
        {"cohort": "iom", "iom_category": "flex", "started_on": "2026-01-05"},
    )
    assert response.status_code == 200
    assert "already on this cohort" in response.content.decode()


def test_mappa_without_a_level_is_a_form_error(partnership, client_for):
    response = client_for(partnership.police_om).post(
        f"/cases/{partnership.police_only_person.pk}/cohorts/new/",
        {"cohort": "mappa", "mappa_category": "1", "started_on": "2026-01-05"},
    )
    assert response.status_code == 200
    assert "Select the MAPPA level" in response.content.decode()


def test_membership_ending_before_it_started_is_a_form_error(partnership, client_for):
    membership = partnership.iom_person.cohort_memberships.get()
    response = client_for(partnership.police_om).post(
        f"/cases/{partnership.iom_person.pk}/cohorts/{membership.pk}/end/",
        {"ended_on": "2000-01-01", "exit_reason": "completed"},
    )
    assert response.status_code == 200
    assert "on or after the start date" in response.content.decode()


def test_every_page_without_an_id_still_answers_without_redis(partnership, client_for, redis_down):
    """Covers pages added later too (the dashboard shows its last good numbers rather than failing)."""
    from .test_access_walk import PLAIN_ROUTES

    client = client_for(partnership.police_om)
    failures = []
    for route in PLAIN_ROUTES:
        status = client.get(route.path_template).status_code
        if status >= 500:
            failures.append(f"{route.path_template} ({route.name}): {status}")
    assert not failures, "\n".join(failures)
