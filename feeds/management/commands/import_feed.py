"""python manage.py import_feed <kind> <file> --user <username> [--dry-run]

The same import as the browser's, with that user's rights and agency. Prints the
report and ends with one line: created N, updated N, unchanged N, rejected N,
possible matches N. Exit status 0 when the file was applied (or would be, for a
dry run), 1 when any row is rejected (nothing is written), 2 when the file itself
cannot be read.
"""

import sys
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from cases.models import User
from feeds.catalogue import FEEDS
from feeds.importing import import_file
from feeds.models import ImportRun
from feeds.reading import FeedFile, FileRejected
from feeds.runs import _finish
from operations.database import long_running_queries


class Command(BaseCommand):
    help = "Import a feed file (CSV or XLSX) with a user's rights; --dry-run checks it and writes nothing."

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=list(FEEDS))
        parser.add_argument("file")
        parser.add_argument("--user", required=True, help="Import as this user (their rights and agency).")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing.")

    def handle(self, *args, kind, file, user, dry_run, **options):
        account = User.objects.filter(username=user, is_active=True).first()
        if account is None:
            raise CommandError(f"No active user {user}.")
        path = Path(file)
        feed = FEEDS[kind]
        run = ImportRun.objects.create(kind=kind, filename=path.name[:200], channel=ImportRun.Channel.COMMAND,
                                       user=account, agency_id=account.agency_id,
                                       status=ImportRun.Status.CHECKING if dry_run else ImportRun.Status.APPLYING)
        try:
            if not path.is_file():
                raise FileRejected(f"There is no file {file}.")
            with long_running_queries():
                report = import_file(feed, account, FeedFile(path.name, path=path), dry_run=dry_run, run=run)
        except FileRejected as error:
            _finish(run, ImportRun.Status.FAILED, error=str(error))
            self.stderr.write(f"{path.name}: {error}")
            self.stdout.write("created 0, updated 0, unchanged 0, rejected 0, possible matches 0")
            sys.exit(2)
        except PermissionDenied as error:
            _finish(run, ImportRun.Status.FAILED, error=str(error))
            raise CommandError(str(error)) from error
        if report.has_rejections:
            status = ImportRun.Status.REJECTED
        else:
            # A dry run keeps no file, so it is recorded as a check that can never be imported.
            status = ImportRun.Status.DRY_RUN if dry_run else ImportRun.Status.APPLIED
        _finish(run, status, report=report)
        self.print_report(path.name, kind, report, dry_run)
        self.stdout.write(report.line())
        if report.has_rejections:
            sys.exit(1)

    def print_report(self, name, kind, report, dry_run):
        rejected = report.counts["rejected"]
        if rejected:
            state = f"not imported, nothing written: {rejected:,} {plural(rejected, 'row')} rejected"
        elif dry_run:
            state = "checked only (dry run), nothing written"
        else:
            state = "imported"
        self.stdout.write(f"{name} ({kind}, {report.rows:,} {plural(report.rows, 'row')}): {state}")
        if report.ignored_columns:
            self.stdout.write("columns ignored: " + ", ".join(report.ignored_columns))
        for row in report.rejected_rows:
            self.stdout.write(f"  row {row['row']}: rejected: " + "; ".join(row["reasons"]))
        for row in report.possible_rows:
            self.stdout.write(f"  row {row['row']}: held as a possible match, for review")
        hidden = report.counts["rejected"] - len(report.rejected_rows)
        if hidden > 0:
            self.stdout.write(f"  ... and {hidden:,} more {plural(hidden, 'row')} rejected")
        if rejected or dry_run:
            # The last line keeps its documented form; this says its counts are what would have happened.
            self.stdout.write("Nothing was written: the counts below are what the import would have done.")


def plural(count, word):
    return word if count == 1 else f"{word}s"
