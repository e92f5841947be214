"""Backups restore: scripts/backup.sh dumps the test database, scripts/restore.sh restores it into a fresh
database, and every table comes back with the same rows, the access log unchanged and still append-only."""

import os
import subprocess
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg import sql

from accounts.models import ApiToken
from cases.audit import log_access
from cases.models import AccessLogEntry

from .factories import AppointmentFactory

SCRIPTS = Path(settings.BASE_DIR) / "scripts"

pytestmark = pytest.mark.django_db(transaction=True)


def database_url(name):
    db = connection.settings_dict
    credentials = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"


def run(*args, **env):
    return subprocess.run(  # noqa: S603 - the project's own scripts
        [str(a) for a in args], capture_output=True, text=True, timeout=300, env={**os.environ, **env}
    )


def admin_connection():
    return psycopg.connect(database_url("postgres"), autocommit=True)


@pytest.fixture
def fresh_database():
    name = f"{connection.settings_dict['NAME']}_restored"
    with admin_connection() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield name
    with admin_connection() as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def row_counts(conn, tables):
    count = sql.SQL("SELECT count(*) FROM {}")
    return {table: conn.execute(count.format(sql.Identifier(table))).fetchone()[0] for table in tables}


def access_log(conn):
    return conn.execute(
        "SELECT id, occurred_at, user_id, username, agency_id, action, object_type, object_id, offender_id, detail"
        " FROM cases_accesslogentry ORDER BY id"
    ).fetchall()


def test_a_backup_restores_into_a_fresh_database_with_every_row_and_an_append_only_access_log(
    partnership, tmp_path, fresh_database
):
    AppointmentFactory(offender=partnership.iom_person)
    for n in range(3):
        log_access(partnership.police_om, AccessLogEntry.Action.VIEW, partnership.iom_person, detail=f"view {n}")
    ApiToken.objects.create(user=partnership.police_om)
    source_url, target_url = database_url(connection.settings_dict["NAME"]), database_url(fresh_database)
    dump = tmp_path / "nightly" / "reoffending.dump"

    backup = run(SCRIPTS / "backup.sh", dump, DATABASE_URL=source_url)
    assert backup.returncode == 0, backup.stderr
    assert dump.exists() and not Path(f"{dump}.partial").exists()
    assert f"Backed up to {dump}" in backup.stdout

    restore = run(SCRIPTS / "restore.sh", dump, target_url)
    assert restore.returncode == 0, restore.stderr
    assert "append-only trigger is in place" in restore.stdout

    tables = connection.introspection.table_names()
    with psycopg.connect(source_url) as source, psycopg.connect(target_url, autocommit=True) as target:
        expected = row_counts(source, tables)
        assert row_counts(target, tables) == expected
        assert expected["cases_accesslogentry"] >= 3 and expected["cases_offender"] == 2
        assert expected["accounts_apitoken"] == 1
        assert access_log(target) == access_log(source)
        # The restored log still refuses changes, and new entries continue its numbering.
        for statement in ("UPDATE cases_accesslogentry SET detail = 'rewritten'", "DELETE FROM cases_accesslogentry"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                target.execute(statement)
        assert access_log(target) == access_log(source)
        last_id = max(row[0] for row in access_log(source))
        new_id = target.execute(
            "INSERT INTO cases_accesslogentry (occurred_at, username, action, object_type, object_id, detail)"
            " VALUES (now(), 'restore.check', 'view', 'cases.offender', '1', '') RETURNING id"
        ).fetchone()[0]
        assert new_id > last_id


def test_restore_refuses_a_database_that_is_not_empty_and_changes_nothing(partnership, tmp_path):
    log_access(partnership.police_om, AccessLogEntry.Action.VIEW, partnership.iom_person)
    url = database_url(connection.settings_dict["NAME"])
    dump = tmp_path / "reoffending.dump"
    assert run(SCRIPTS / "backup.sh", dump, DATABASE_URL=url).returncode == 0
    before = AccessLogEntry.objects.count()

    refused = run(SCRIPTS / "restore.sh", dump, url)
    assert refused.returncode == 3
    assert "restore only into an empty database" in refused.stderr
    assert AccessLogEntry.objects.count() == before


def test_backup_needs_postgresql_and_leaves_no_half_written_file(tmp_path):
    target = tmp_path / "out.dump"
    refused = run(SCRIPTS / "backup.sh", target, DATABASE_URL="sqlite:///db.sqlite3")
    assert refused.returncode == 2 and "PostgreSQL" in refused.stderr
    failed = run(SCRIPTS / "backup.sh", target, DATABASE_URL=database_url("no_such_database_here"))
    assert failed.returncode != 0
    assert not target.exists() and not Path(f"{target}.partial").exists()
