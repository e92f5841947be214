"""Deciding a possible match: confirm (the row is applied to the person) or reject (it is not about them).

A confirmed row is applied exactly as its import would have applied it, with the
rights of the person who imported it, so the record says which agency it came
from. A row held because it carried an identifier of a person the importing
agency may not see is decided by that person's lead agency: confirming shares
the case with the importing agency and then applies the row.
"""

import csv
import io

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases import services
from cases.models import Offender

from .catalogue import get_feed
from .importing import import_file
from .models import FeedKind, ImportRun, PossibleMatch
from .reading import FeedFile, FileRejected


class MatchError(Exception):
    """The decision cannot be recorded; the message says why."""


def _check_reviewer(user, held):
    if not PossibleMatch.objects.for_review_by(user).filter(pk=held.pk).exists():
        raise PermissionDenied("You cannot review this row.")
    if held.status != PossibleMatch.Status.WAITING:
        raise MatchError("This row has already been decided.")


def _importer(held):
    importer = held.run.user
    if importer is None or not importer.is_active or importer.agency_id != held.importing_agency_id:
        raise MatchError("The person who imported this row can no longer import, so it cannot be applied. Ask "
                         "their agency to send it again.")
    return importer


def _apply_row(held, importer, forced):
    """Import the held row alone, as its importer; the report's reasons when it cannot be applied."""
    feed = get_feed(held.kind)
    columns = [name for name in feed.column_names if name in held.record]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerow([held.record[name] for name in columns])
    row_file = FeedFile(f"{held.run.filename} row {held.row_number}.csv", content=buffer.getvalue().encode())
    try:
        report = import_file(feed, importer, row_file, dry_run=False, run=held.run, forced={2: forced},
                             default_source=held.run.source)
    except FileRejected as error:
        raise MatchError(str(error)) from error
    if report.has_rejections:
        raise MatchError("The row could not be applied: " + "; ".join(report.rejected_rows[0]["reasons"]))
    # The run's counts say what it wrote, and a held row is written by its run once decided.
    ImportRun.objects.filter(pk=held.run_id).update(created=F("created") + report.counts["created"],
                                                    updated=F("updated") + report.counts["updated"])
    return report


@transaction.atomic
def confirm(user, held, person):
    """The row is about `person`: apply it to them (after sharing the case, for a row held for the lead agency)."""
    _check_reviewer(user, held)
    if not held.candidates.filter(pk=person.pk).exists():
        raise MatchError("Select one of the people listed.")
    importer = _importer(held)
    if held.basis == PossibleMatch.Basis.IDENTIFIER_IN_USE:
        if held.importing_agency is not None and not Offender.objects.visible_to(importer).filter(
            pk=person.pk
        ).exists():
            services.share_with_agency(user, person, held.importing_agency,
                                       reason=f"A {held.get_kind_display().lower()} feed row from this agency was "
                                              "confirmed to be about this person")
    elif not Offender.objects.visible_to(importer).filter(pk=person.pk).exists():
        raise MatchError("The person who imported this row can no longer see this person.")
    _apply_row(held, importer, person)
    held.status, held.decided_by, held.decided_at, held.applied_to = (
        PossibleMatch.Status.CONFIRMED, user, timezone.now(), person)
    held.save(update_fields=["status", "decided_by", "decided_at", "applied_to"])
    return held


@transaction.atomic
def reject(user, held):
    """The row is not about any person listed. A people row then adds a new person (when it can)."""
    _check_reviewer(user, held)
    held.status, held.decided_by, held.decided_at = PossibleMatch.Status.REJECTED, user, timezone.now()
    held.save(update_fields=["status", "decided_by", "decided_at"])
    if held.kind == FeedKind.PEOPLE and held.basis != PossibleMatch.Basis.IDENTIFIER_IN_USE:
        try:
            _apply_row(held, _importer(held), "new")
        except MatchError as error:
            return str(error)
    return ""
