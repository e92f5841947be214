"""Run by tests/test_replica.py against a primary and a streaming replica it starts (never collected
on its own: the file name does not start with test_). DATABASE_URL is the primary,
DATABASE_REPLICA_URL the replica; the replica alias mirrors the test database, which reaches the
replica by streaming replication, so everything written here is read back through real replication.
"""

import csv
import io
import os
import signal
import time
from pathlib import Path

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext

from cases.audit import log_access
from cases.models import AccessLogEntry, Offender
from operations.routers import replica_reads

from .factories import OffenderFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


def scalar(alias, sql, params=()):
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def replica_caught_up(timeout=30):
    """Wait until the replica has replayed everything the primary has written so far."""
    target = scalar("default", "SELECT pg_current_wal_lsn()::text")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if scalar("replica", "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", [target]):
            return
        time.sleep(0.05)
    raise AssertionError("the replica did not catch up")


@pytest.fixture
def replay_paused():
    """The replica stops applying what the primary sends, as a replica under load falls behind."""
    replica_caught_up()
    scalar("replica", "SELECT pg_wal_replay_pause()::text")
    try:
        yield
    finally:
        scalar("replica", "SELECT pg_wal_replay_resume()::text")
        replica_caught_up()


def test_the_replica_is_a_real_streaming_replica():
    assert scalar("replica", "SELECT pg_is_in_recovery()") is True
    assert scalar("default", "SELECT pg_is_in_recovery()") is False
    assert scalar("default", "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'") == 1


def test_dashboards_and_exports_read_from_the_replica_and_case_pages_from_the_primary(partnership, client_for):
    replica_caught_up()
    analyst = client_for(partnership.analyst)
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert analyst.get("/dashboard/").status_code == 200
    assert len(on_replica) > 0
    om = client_for(partnership.police_om)
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert om.get("/cases/").status_code == 200
        assert om.get(f"/cases/{partnership.iom_person.pk}/").status_code == 200
    assert len(on_replica) == 0, "case pages read the primary"
    with CaptureQueriesContext(connections["replica"]) as on_replica:
        assert om.get("/cases/export/", {"download": "csv"}).status_code == 200
    assert any("cases_offender" in q["sql"] for q in on_replica), "the export's people come from the replica"
    # Signing in is never read from a replica: a replica a moment behind would sign people out.
    signing_in = ('FROM "django_session"', 'FROM "otp_totp_totpdevice"', 'FROM "cases_user" WHERE')
    assert not [q["sql"] for q in on_replica if any(table in q["sql"] for table in signing_in)]


def exported_names(client):
    response = client.get("/cases/export/", {"download": "csv"})
    assert response.status_code == 200
    return {row["last_name"] for row in csv.DictReader(io.StringIO(response.content.decode()))}


def test_while_the_replica_lags_exports_miss_the_newest_change_and_case_pages_do_not(
    partnership, client_for, replay_paused
):
    om = client_for(partnership.police_om)
    created = om.post("/cases/new/", {
        "first_names": "Robin", "last_name": "Lagford", "date_of_birth_day": "3", "date_of_birth_month": "4",
        "date_of_birth_year": "1994", "gender": "female", "ethnicity": "black", "area": partnership.area.pk,
        "pnc_number": "", "crn": "", "prison_number": "", "aliases": "",
    })
    assert created.status_code == 302
    person = Offender.objects.get(last_name="Lagford")
    # The person's own page and the case list read the primary: the change is there at once.
    assert "Lagford" in om.get(f"/cases/{person.pk}/").content.decode()
    assert "Lagford" in om.get("/cases/", {"q": "Lagford"}).content.decode()
    # The export reads the replica, which has not replayed the change yet.
    assert "Lagford" not in exported_names(om)
    assert "Ashworth" in exported_names(om)
    scalar("replica", "SELECT pg_wal_replay_resume()::text")
    replica_caught_up()
    assert "Lagford" in exported_names(om)


def test_after_a_write_the_rest_of_the_request_reads_the_primary(partnership, replay_paused):
    person = OffenderFactory(area=partnership.area, lead_agency=partnership.police, last_name="Freshwrite")
    with replica_reads():
        assert not Offender.objects.filter(pk=person.pk).exists(), "read from the replica, which lags"
        log_access(partnership.police_om, AccessLogEntry.Action.VIEW, partnership.iom_person)
        assert Offender.objects.filter(pk=person.pk).exists(), "after a write, reads come from the primary"
    assert Offender.objects.filter(pk=person.pk).exists()


def test_readiness_reports_the_replica_and_pages_fall_back_to_the_primary_when_it_stops(
    partnership, client_for, client
):
    probe = {"HTTP_HOST": "10.1.2.3:8000"}
    replica_caught_up()
    ready = client.get("/health/ready/", {"check": ["database", "database_replica"]}, **probe)
    assert ready.status_code == 200, ready.content
    assert ready.json()["checks"]["database_replica"]["detail"].endswith("behind the primary at most")

    # Stop the replica's postmaster by its PID (fast shutdown), as a replica lost to a failure.
    pid = int((Path(os.environ["REPLICA_DATA_DIR"]) / "postmaster.pid").read_text().split()[0])
    os.kill(pid, signal.SIGINT)
    deadline = time.monotonic() + 30
    while (Path(os.environ["REPLICA_DATA_DIR"]) / "postmaster.pid").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    connections["replica"].close()

    ready = client.get("/health/ready/", {"check": ["database", "database_replica"]}, **probe)
    assert ready.status_code == 503
    checks = ready.json()["checks"]
    assert checks["database"]["ok"] is True and checks["database_replica"]["ok"] is False
    analyst = client_for(partnership.analyst)
    assert analyst.get("/dashboard/").status_code == 200, "the dashboard reads the primary instead"
    om = client_for(partnership.police_om)
    assert "Ashworth" in exported_names(om)
