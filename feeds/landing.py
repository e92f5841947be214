"""Landing folders: partner systems drop files in a folder per source; a beat task imports them.

A file's name starts with its feed's kind (`offences-2026-03.csv`,
`cohort-exits_march.xlsx`). Each file is imported in one transaction with the
rights of the source's `run_as` user, recorded as an import run, and moved to
`processed/` or `rejected/` beside a `.report.txt` saying what happened. Files
still being written (changed in the last `FEEDS_LANDING_SETTLE_SECONDS`) wait
for the next sweep.
"""

import contextlib
import time
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from .catalogue import FEEDS
from .importing import import_file
from .models import FeedSource, ImportRun
from .reading import FeedFile, FileRejected
from .runs import _finish

SUFFIXES = {".csv", ".xlsx"}


def folder_of(source):
    folder = Path(source.landing_folder)
    if not folder.is_absolute():
        folder = Path(settings.FEEDS_LANDING_ROOT) / folder
    return folder


def kind_of(filename):
    name = filename.lower().replace("_", "-")
    for kind in sorted(FEEDS, key=len, reverse=True):
        if name.startswith(kind):
            return kind
    return None


def sweep():
    """Import the waiting files of every source with a landing folder; returns the runs made."""
    runs = []
    for source in FeedSource.objects.exclude(landing_folder="").select_related("run_as", "agency"):
        with _source_lock(source) as locked:
            if locked:
                runs.extend(sweep_source(source))
    return runs


def sweep_source(source):
    folder = folder_of(source)
    if not folder.is_dir():
        return []
    settle = getattr(settings, "FEEDS_LANDING_SETTLE_SECONDS", 30)
    runs = []
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        if time.time() - path.stat().st_mtime < settle:
            continue
        runs.append(import_landed(source, path))
    return runs


def import_landed(source, path):
    kind = kind_of(path.name)
    user = source.run_as
    run = ImportRun.objects.create(
        kind=kind or "people", filename=path.name[:200], channel=ImportRun.Channel.LANDING, user=user,
        agency=source.agency, source=source, started_at=timezone.now(), status=ImportRun.Status.APPLYING,
    )
    if kind is None or path.suffix.lower() not in SUFFIXES:
        run = _finish(run, ImportRun.Status.FAILED, error=(
            "The file name must start with the kind of feed (" + ", ".join(FEEDS) + ") and end .csv or .xlsx."))
    elif user is None or not user.is_active or user.agency_id != source.agency_id:
        run = _finish(run, ImportRun.Status.FAILED, error="The source has no active user of its agency to import as.")
    else:
        try:
            report = import_file(FEEDS[kind], user, FeedFile(path.name, path=path), dry_run=False, run=run,
                                 default_source=source)
        except FileRejected as error:
            run = _finish(run, ImportRun.Status.FAILED, error=str(error))
        except PermissionDenied as error:
            run = _finish(run, ImportRun.Status.FAILED, error=str(error))
        else:
            status = ImportRun.Status.REJECTED if report.has_rejections else ImportRun.Status.APPLIED
            run = _finish(run, status, report=report)
    _move(path, "processed" if run.status == ImportRun.Status.APPLIED else "rejected", run)
    return run


def _move(path, where, run):
    target = path.parent / where
    target.mkdir(exist_ok=True)
    stamp = timezone.localtime(run.created_at).strftime("%Y%m%d-%H%M%S")
    destination = target / f"{stamp}-{path.name}"
    path.replace(destination)
    lines = [f"{run.filename}: {run.get_status_display()}", run.error or run.summary_line()]
    for row in (run.report or {}).get("rejected_rows", []):
        lines.append(f"row {row['row']}: " + "; ".join(row["reasons"]))
    destination.with_name(destination.name + ".report.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")


@contextlib.contextmanager
def _source_lock(source):
    """One sweep of a source at a time, across workers (a PostgreSQL advisory lock; elsewhere always granted)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = 7_340_000 + source.pk
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        locked = cursor.fetchone()[0]
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
