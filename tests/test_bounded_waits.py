"""Bounded waits on real PostgreSQL: a save that meets a lock held elsewhere is answered within seconds,
and the application's connections survive being cut off (a restart, a failover, an idle transaction).
"""

import contextlib
import datetime
import time

import psycopg
import pytest
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from feeds.models import ImportRun
from operations.database import long_running_queries
from operations.middleware import RECORD_BUSY, TOO_SLOW

from .test_faults import person_form_data

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.faults]

LOCK_TIMEOUT_SECONDS = 3


def other_connection():
    """A connection of someone else's (another worker, a report, a console): not one of the app's."""
    config = connection.settings_dict
    return psycopg.connect(
        host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"], password=config["PASSWORD"] or None,
        dbname=config["NAME"], application_name="someone-else", autocommit=False,
    )


@contextlib.contextmanager
def row_locked_elsewhere(table, pk):
    """Another transaction holds the row locked (as a long save or a stuck console would) until the block ends."""
    with other_connection() as other:
        other.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [pk])  # noqa: S608 - fixed table names
        yield
        other.rollback()


@contextlib.contextmanager
def app_connection_options(**options):
    """Reconnect the app's connection with other server settings for the block (then reconnect as configured)."""
    saved = connection.settings_dict["OPTIONS"]["options"]
    connection.close()
    connection.settings_dict["OPTIONS"]["options"] = saved + "".join(f" -c {k}={v}" for k, v in options.items())
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["OPTIONS"]["options"] = saved


def edit_data(partnership, person, **changes):
    return person_form_data(
        partnership, first_names=person.first_names, last_name=person.last_name, version=person.version, **changes
    )


def server_setting(name):
    with connection.cursor() as cursor:
        cursor.execute(f"SHOW {name}")
        return cursor.fetchone()[0]


def test_every_app_connection_has_statement_lock_and_idle_transaction_timeouts():
    assert settings.DB_LOCK_TIMEOUT == "3s", "the tests below time the lock timeout as configured by default"
    connection.close()
    assert server_setting("lock_timeout") == "3s"
    assert server_setting("statement_timeout") == "30s"
    assert server_setting("idle_in_transaction_session_timeout") == "10min"  # test_settings: 60 s in production
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_long_running_work_gets_longer_limits_only_while_it_runs():
    with long_running_queries():
        assert (server_setting("statement_timeout"), server_setting("lock_timeout")) == ("30min", "30s")
    assert (server_setting("statement_timeout"), server_setting("lock_timeout")) == ("30s", "3s")


def test_a_save_meeting_a_row_lock_is_told_someone_else_is_saving_within_the_lock_timeout(partnership, client_for):
    person = partnership.police_only_person
    client = client_for(partnership.police_om)
    with row_locked_elsewhere("cases_offender", person.pk):
        started = time.monotonic()
        response = client.post(f"/cases/{person.pk}/edit/", edit_data(partnership, person, postcode="NT1 1AA"))
        waited = time.monotonic() - started
    assert LOCK_TIMEOUT_SECONDS - 0.5 < waited < LOCK_TIMEOUT_SECONDS + 3
    # The form again, with the reason at the top and what the user typed still in it.
    assert response.status_code == 200
    page = response.content.decode()
    summary = page[page.index('class="govuk-error-summary"'):page.index("</ul>", page.index("govuk-error-summary"))]
    assert "Someone else is saving this record" in summary and "Your changes have not been saved" in summary
    assert 'value="NT1 1AA"' in page
    person.refresh_from_db()
    assert person.postcode != "NT1 1AA"
    # Once the other transaction has finished, sending the same form again goes through.
    again = client.post(f"/cases/{person.pk}/edit/", edit_data(partnership, person, postcode="NT1 1AA"))
    assert again.status_code == 302
    person.refresh_from_db()
    assert person.postcode == "NT1 1AA"


def test_a_button_meeting_a_row_lock_answers_409_with_the_reason_and_a_way_back(partnership, client_for):
    """Changes made without a form (here: generating a panel agenda) get the same answer as a page."""
    from panels.models import Meeting, Panel, PanelKind, PanelMembership

    from .factories import UserFactory

    chair = UserFactory(username="police.chair", agency=partnership.police, role="panel_chair")
    panel = Panel.objects.create(name="Northtown IOM panel", kind=PanelKind.IOM_MAIN, area=partnership.area,
                                 chair=chair)
    PanelMembership.objects.create(panel=panel, agency=partnership.police)
    meeting = Meeting.objects.create(panel=panel, held_on=datetime.date.today())
    client = client_for(chair)
    with row_locked_elsewhere("panels_meeting", meeting.pk):
        started = time.monotonic()
        response = client.post(f"/panels/meetings/{meeting.pk}/generate/",
                               HTTP_REFERER=f"http://testserver/panels/meetings/{meeting.pk}/")
        waited = time.monotonic() - started
    assert response.status_code == 409
    assert waited < LOCK_TIMEOUT_SECONDS + 3
    page = response.content.decode()
    assert 'class="govuk-error-summary"' in page and RECORD_BUSY in page
    assert f'href="http://testserver/panels/meetings/{meeting.pk}/"' in page, "back to the page the button was on"
    assert response["Retry-After"]
    meeting.refresh_from_db()
    assert meeting.agenda_generated_at is None


def test_an_api_change_meeting_a_row_lock_is_409_with_a_clear_reason(partnership, api_for):
    person = partnership.iom_person
    client = api_for(partnership.police_om)
    with row_locked_elsewhere("cases_offender", person.pk):
        started = time.monotonic()
        response = client.patch(
            f"/api/v1/people/{person.pk}/", {"postcode": "NT2 2BB", "version": person.version}, format="json"
        )
        waited = time.monotonic() - started
    assert response.status_code == 409
    assert waited < LOCK_TIMEOUT_SECONDS + 3
    assert response.json() == {"detail": RECORD_BUSY}
    person.refresh_from_db()
    assert person.postcode != "NT2 2BB"


def test_a_statement_cut_short_by_the_statement_timeout_is_a_503_saying_so(partnership, client_for):
    person = partnership.police_only_person
    client = client_for(partnership.police_om)
    # A statement limit shorter than the lock limit: the blocked UPDATE is cancelled as too slow.
    with app_connection_options(statement_timeout="500ms", lock_timeout="0"), \
            row_locked_elsewhere("cases_offender", person.pk):
        response = client.post(f"/cases/{person.pk}/edit/", edit_data(partnership, person, postcode="NT3 3CC"))
    assert response.status_code == 503
    assert TOO_SLOW in response.content.decode()


def terminate_app_connections():
    """End every connection the app has to the test database, as a database restart or failover does."""
    with other_connection() as other:
        ended = other.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s AND pid <> pg_backend_pid()",
            [connection.settings_dict["OPTIONS"]["application_name"]],
        ).fetchone()[0]
        other.commit()
    return ended


def next_request(client, path):
    """A request as a real server makes it: Django's test client leaves out the start-of-request check
    of reused connections (close_old_connections) that every WSGI request runs first."""
    close_old_connections()
    return client.get(path)


def test_the_first_request_after_every_connection_is_terminated_succeeds(partnership, client_for):
    client = client_for(partnership.police_om)
    assert next_request(client, "/cases/").status_code == 200
    assert terminate_app_connections() >= 1
    assert next_request(client, "/cases/").status_code == 200
    assert client.post(f"/cases/{partnership.police_only_person.pk}/notes/new/",
                       {"text": "Seen after the restart", "sharing": "partnership"}).status_code == 302


def test_without_health_checks_the_first_request_after_termination_fails(partnership, client_for):
    """The control for the test above: the check on reused connections is what makes the difference."""
    client = client_for(partnership.police_om)
    client.raise_request_exception = False  # the dead connection is met loading the session, before any view
    connection.settings_dict["CONN_HEALTH_CHECKS"] = False
    connection.close()  # the setting is read when a connection opens
    try:
        assert next_request(client, "/cases/").status_code == 200
        assert terminate_app_connections() >= 1
        response = next_request(client, "/cases/")
        assert response.status_code == 503, "a dead connection is reported plainly, not as a bare 500"
        assert "cannot reach its database" in response.content.decode()
    finally:
        connection.settings_dict["CONN_HEALTH_CHECKS"] = True
        connection.close()


def test_a_transaction_left_idle_is_ended_by_the_server_and_the_next_request_succeeds(partnership, client_for):
    client = client_for(partnership.police_om)
    with app_connection_options(idle_in_transaction_session_timeout="300ms"):
        connection.ensure_connection()
        pid = connection.connection.info.backend_pid
        with pytest.raises(DatabaseError, match="(?i)idle-in-transaction|terminat|closed"), \
                connection.cursor() as cursor:
            cursor.execute("BEGIN")
            time.sleep(1)
            cursor.execute("SELECT 1")
        with other_connection() as other:
            assert not other.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
        assert next_request(client, "/cases/").status_code == 200


def test_roll_ups_and_background_imports_run_with_the_long_limits(monkeypatch, partnership):
    from dashboard import tasks as dashboard_tasks
    from dashboard.models import RollupRun
    from feeds import tasks as feed_tasks

    seen = []

    def record_limits(result):
        def run(*args, **kwargs):
            seen.append((server_setting("statement_timeout"), server_setting("lock_timeout")))
            return result
        return run

    monkeypatch.setattr(dashboard_tasks, "run_rollup", record_limits(RollupRun(pk=1, status="succeeded")))
    monkeypatch.setattr("feeds.runs.process", record_limits(ImportRun(status="applied", rows_total=0)))
    dashboard_tasks.run_rollups.delay()
    feed_tasks.run_import.delay(queued_import(partnership.police_om).pk, False)
    assert seen == [("30min", "30s"), ("30min", "30s")]
    assert (server_setting("statement_timeout"), server_setting("lock_timeout")) == ("30s", "3s")


def queued_import(user):
    return ImportRun.objects.create(kind="people", filename="people.csv", channel=ImportRun.Channel.COMMAND,
                                    user=user, agency=user.agency)
