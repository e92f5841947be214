"""Importing a feed file: read it (streaming), check each row against the model's rules, and apply it.

`import_file` is the one entry point for the browser, the API, the command line
and the landing folders. The rows are read in chunks; each chunk is matched,
checked and written in a few queries, so memory stays flat however long the
file. The whole file is one transaction: when any row is rejected, or for a dry
run, the transaction is rolled back, so the check is the import itself and
nothing is half-written.
"""

import itertools
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.audit import append_entries

from .reading import FileRejected, Table

CHUNK_ROWS = 2_000
OUTCOMES = ("created", "updated", "unchanged", "rejected", "possible")
# How much of the report a run keeps for its page: the counts are always complete.
KEEP_REJECTED = 1_000
KEEP_CHANGES = 300


@dataclass
class RowResult:
    row: int
    outcome: str = "unchanged"
    person: str = ""
    reasons: list = field(default_factory=list)
    changes: list = field(default_factory=list)
    match: int | None = None  # the possible match a held row waits in, so its page can show the decision

    def reject(self, *reasons):
        self.outcome = "rejected"
        self.reasons.extend(reasons)
        return self

    def as_dict(self):
        row = {"row": self.row, "outcome": self.outcome, "person": self.person, "reasons": self.reasons,
               "changes": self.changes}
        if self.match is not None:
            row["match"] = self.match
        return row


@dataclass
class Report:
    counts: dict = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    rejected_rows: list = field(default_factory=list)
    changed_rows: list = field(default_factory=list)
    possible_rows: list = field(default_factory=list)
    ignored_columns: list = field(default_factory=list)
    rows: int = 0
    applied: bool = False
    dry_run: bool = False

    def add(self, result):
        self.rows += 1
        self.counts[result.outcome] += 1
        if result.outcome == "rejected" and len(self.rejected_rows) < KEEP_REJECTED:
            self.rejected_rows.append(result.as_dict())
        elif result.outcome in ("created", "updated") and len(self.changed_rows) < KEEP_CHANGES:
            self.changed_rows.append(result.as_dict())
        elif result.outcome == "possible" and len(self.possible_rows) < KEEP_REJECTED:
            self.possible_rows.append(result.as_dict())

    @property
    def changes_anything(self):
        """Whether applying the file would write anything (a held row is written as a possible match)."""
        c = self.counts
        return bool(c["created"] or c["updated"] or c["possible"])

    @property
    def has_rejections(self):
        return self.counts["rejected"] > 0

    def line(self):
        c = self.counts
        return (f"created {c['created']}, updated {c['updated']}, unchanged {c['unchanged']}, "
                f"rejected {c['rejected']}, possible matches {c['possible']}")

    def as_json(self):
        return {"counts": self.counts, "rows": self.rows, "applied": self.applied, "dry_run": self.dry_run,
                "rejected_rows": self.rejected_rows, "changed_rows": self.changed_rows,
                "possible_rows": self.possible_rows, "ignored_columns": self.ignored_columns}


class Context:
    """What a feed needs while it runs: who imports, the run, the report, and state that spans chunks."""

    def __init__(self, feed, user, *, run=None, filename="", default_source=None, forced=None, dry_run=False):
        self.feed, self.user, self.run, self.filename = feed, user, run, filename
        self.agency_id = user.agency_id
        self.default_source = default_source
        self.forced = forced or {}  # row number -> person, for a confirmed possible match
        self.dry_run = dry_run
        self.now = timezone.now()
        self.report = Report(dry_run=dry_run)
        self.seen = {}  # hash of a row key -> the row it was first seen on
        self.sources = None
        self.log_entries = []  # rows for `append_entries`, written after each chunk
        self.username = user.get_username()

    def first_seen(self, key, row):
        """The earlier row with the same key, or None (and remember this one)."""
        digest = hash(key)
        earlier = self.seen.get(digest)
        if earlier is None:
            self.seen[digest] = row
        return earlier

    def log(self, action, obj, offender_id, detail=""):
        self.log_entries.append((
            timezone.now(), self.user.pk, self.username, self.agency_id, action, obj._meta.label_lower, str(obj.pk),
            offender_id, detail or f"Imported from {self.filename}",
        ))

    def flush_log(self):
        if self.log_entries:
            append_entries(self.log_entries)
            self.log_entries = []


def check_rights(user):
    if not (user.is_superuser or user.does_casework):
        raise PermissionDenied("Your role cannot import files.")
    if not user.agency_id:
        raise PermissionDenied("Your account has no agency to import for.")


def open_table(feed, feed_file, *, default_source=None):
    table = Table(feed_file, known_columns=feed.column_names, aliases=getattr(feed, "header_aliases", None))
    # A landing folder belongs to one source system: its files may leave the column out.
    optional = {"source_system"} if default_source is not None else set()
    missing = [name for name in feed.required_columns if name not in table.columns and name not in optional]
    if missing:
        raise FileRejected(
            f"This file is not for the {feed.title.lower()} feed: the first row must name the columns "
            + ", ".join(missing) + ". Download the template to see every column."
        )
    if feed.identifying_columns and not set(feed.identifying_columns) & set(table.columns):
        raise FileRejected("The first row must name at least one of the columns "
                           + ", ".join(feed.identifying_columns) + ", to find each person.")
    return table


def import_file(feed, user, feed_file, *, dry_run, run=None, default_source=None, forced=None, progress=None):
    """Check (dry run) or apply a file; returns the Report. Raises FileRejected for a file that cannot be used.

    Applied only when no row is rejected: then every row's change, the possible
    matches and the access log are written together, or nothing is.
    """
    check_rights(user)
    table = open_table(feed, feed_file, default_source=default_source)
    context = Context(feed, user, run=run, filename=feed_file.name, default_source=default_source, forced=forced,
                      dry_run=dry_run)
    context.report.ignored_columns = table.ignored
    rows = table.rows()
    try:
        with transaction.atomic():
            feed.start(context)
            while chunk := list(itertools.islice(rows, CHUNK_ROWS)):
                with transaction.atomic():
                    for result in feed.process(context, chunk):
                        context.report.add(result)
                context.flush_log()
                if progress:
                    progress(context.report.rows)
            feed.finish(context)
            context.flush_log()
            if dry_run or context.report.has_rejections:
                transaction.set_rollback(True)
    except IntegrityError as error:
        raise FileRejected(
            "Someone else changed the same records while this file was being imported, so nothing was imported. "
            "Send the file again."
        ) from error
    context.report.applied = not dry_run and not context.report.has_rejections
    return context.report
