"""Import runs: starting one, checking and applying it in the request or on a worker, and its report.

Small files are checked and applied in the request: no cache and no worker is
involved. A file with more rows than `BACKGROUND_ROWS` is handed to a Celery worker;
when the broker cannot take it the run is marked failed with a clear message
straight away, so no run is left waiting for a worker that will never come.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from operations.background import WorkersUnavailable, send_to_worker

from .catalogue import get_feed
from .importing import import_file
from .models import ImportRun, ImportUpload
from .reading import MAX_FILE_BYTES, FeedFile, FileRejected

logger = logging.getLogger(__name__)

BACKGROUND_ROWS = getattr(settings, "FEEDS_BACKGROUND_ROWS", 2_000)
Status = ImportRun.Status
BROKER_DOWN = ("The file was not imported: it is too large to import straight away, and the background workers "
               "cannot be reached. Try again later, or split it into files of at most {rows:,} rows.")


class RunRefused(Exception):
    """The run cannot go ahead; the message says why. `unavailable` when no worker could be reached."""

    def __init__(self, message, *, unavailable=False):
        super().__init__(message)
        self.unavailable = unavailable


def start_run(user, kind, feed_file, *, channel, source=None):
    """A run for the file, with the file kept in the database until the run is applied or given up."""
    feed = get_feed(kind)
    if feed is None:
        raise FileRejected("There is no feed of this kind.")
    with feed_file.open() as raw:
        content = raw.read(MAX_FILE_BYTES + 1)
    if len(content) > MAX_FILE_BYTES:
        raise FileRejected(f"The file must be smaller than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    run = ImportRun.objects.create(
        kind=feed.kind, filename=feed_file.name[:200], channel=channel, user=user, agency_id=user.agency_id,
        source=source,
    )
    ImportUpload.objects.create(run=run, content=content)
    return run


def run_file(run):
    upload = ImportUpload.objects.filter(run=run).first()
    if upload is None:
        raise FileRejected("The file of this import is no longer kept: send it again.")
    return FeedFile(run.filename, content=bytes(upload.content))


def process(run, *, apply, progress=True):
    """Check (apply=False) or apply the run's file now, in this process; returns the run with its report."""
    feed = get_feed(run.kind)
    user = run.user
    if user is None or not user.is_active:
        return _finish(run, Status.FAILED, error="The person who started this import can no longer import.")
    ImportRun.objects.filter(pk=run.pk).update(
        status=Status.APPLYING if apply else Status.CHECKING, started_at=timezone.now(), rows_done=0,
    )
    reporter = ProgressReporter(run) if progress else None
    try:
        report = import_file(feed, user, run_file(run), dry_run=not apply, run=run,
                             default_source=run.source, progress=reporter)
    except FileRejected as error:
        return _finish(run, Status.FAILED, error=str(error))
    except PermissionDenied as error:
        return _finish(run, Status.FAILED, error=str(error))
    finally:
        if reporter:
            reporter.close()
    if report.has_rejections:
        status = Status.REJECTED
    elif apply:
        status = Status.APPLIED
    elif not report.changes_anything:
        status = Status.UP_TO_DATE
    else:
        status = Status.CHECKED
    return _finish(run, status, report=report)


def _finish(run, status, *, report=None, error=""):
    run.status = status
    run.error = error[:500]
    run.finished_at = timezone.now()
    if report is not None:
        counts = report.counts
        run.rows_total = run.rows_done = report.rows
        run.created, run.updated, run.unchanged = counts["created"], counts["updated"], counts["unchanged"]
        run.rejected, run.possible_matches = counts["rejected"], counts["possible"]
        run.report = report.as_json()
    run.save()
    if status != Status.CHECKED:
        ImportUpload.objects.filter(run=run).delete()
    return run


def needs_worker(run):
    """Whether the file has more rows than are checked in the request (counted without keeping any)."""
    return estimated_rows(run) > BACKGROUND_ROWS


def estimated_rows(run):
    from .importing import open_table

    try:
        table = open_table(get_feed(run.kind), run_file(run))
        count = 0
        for _ in table.rows():
            count += 1
            if count > BACKGROUND_ROWS:
                break
    except FileRejected:
        return 0  # unreadable: checked on the spot, where the reason is reported
    return count


def check_or_queue(run):
    """Check the run now when it is small, or hand it to a worker; RunRefused when no worker can be reached."""
    if needs_worker(run):
        queue(run, apply=False)
        return run
    return process(run, apply=False, progress=False)


def can_be_applied(run):
    """Whether the run is checked and its file still kept: a dry run's file never is."""
    return run.status == Status.CHECKED and ImportUpload.objects.filter(run=run).exists()


def apply_or_queue(run):
    if run.status == Status.UP_TO_DATE:
        raise RunRefused("There is nothing to import: every row of this file is already up to date.")
    if not can_be_applied(run):
        raise RunRefused("Only a checked import whose file is kept can be applied. A dry run is never applied: "
                         "send the file again.")
    if needs_worker(run):
        queue(run, apply=True)
        return run
    return process(run, apply=True, progress=False)


def queue(run, *, apply):
    from .tasks import run_import

    ImportRun.objects.filter(pk=run.pk).update(status=Status.QUEUED, apply_requested=apply)
    run.status, run.apply_requested = Status.QUEUED, apply
    try:
        send_to_worker(run_import, run.pk, apply)
    except WorkersUnavailable as error:
        message = BROKER_DOWN.format(rows=BACKGROUND_ROWS)
        _finish(run, Status.FAILED, error=message)
        raise RunRefused(message, unavailable=True) from error


class ProgressReporter:
    """Writes a run's progress where other connections can read it while the import's transaction is open.

    The import holds one transaction for the whole file, so progress goes through a
    second, autocommitting connection (PostgreSQL only), at most once a second.
    """

    def __init__(self, run):
        self.run_id = run.pk
        self.last = 0.0
        self.side = None
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            try:
                import psycopg

                params = connection.get_connection_params()
                params.pop("cursor_factory", None)
                params.pop("context", None)
                self.side = psycopg.connect(**params, autocommit=True)
                self.side.execute("SET lock_timeout = '1s'")
            except Exception:  # noqa: BLE001 - progress is a courtesy; the import goes on without it
                self.side = None

    def __call__(self, rows_done):
        import time

        if self.side is None or time.monotonic() - self.last < 1:
            return
        self.last = time.monotonic()
        try:
            self.side.execute("UPDATE feeds_importrun SET rows_done = %s, heartbeat_at = now() WHERE id = %s",
                              [rows_done, self.run_id])
        except Exception as error:  # noqa: BLE001 - progress is a courtesy
            logger.info("Progress of import run %s not written: %s", self.run_id, error)

    def close(self):
        if self.side is not None:
            self.side.close()


@transaction.atomic
def discard(run):
    """Give up a checked run: its file is deleted."""
    ImportUpload.objects.filter(run=run).delete()
