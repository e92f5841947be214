"""Publishing a quarter's board report, and the revisions later calculations make to what was published.

Publishing copies every figure the report reads for the quarter (each measure's trend
and what it is compared with, for every slice) into frozen rows with a checksum, so the
published report shows the same figures for ever. Each roll-up then compares the
published figures with its own: a figure calculated differently gets a revision with
the new value and the likely reason, shown beside the published figure, never in place
of it.
"""

import hashlib

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from cases.models import AccessLogEntry, Role

from .figures import wanted_quarters
from .measures import all_measures
from .models import FIGURE_FIELDS, FigureRevision, Publication, PublishedFigure, RollupRun, RollupValue

KEY_FIELDS = ("measure", "category", "period_start", "dimension", "slice_key")
VALUE_FIELDS = ("numerator", "denominator", "numerator_hidden", "denominator_hidden")
# A figure with no roll-up row: nobody was counted in it.
NOBODY = (0, None, False, False)


def can_publish(user):
    return user.is_active and (user.is_superuser or user.role in {Role.ANALYST, Role.AGENCY_ADMIN})


def checksum(rows):
    """SHA-256 over figures (tuples in `FIGURE_FIELDS` order), the same whatever order they come in."""
    lines = sorted("|".join("" if value is None else str(value) for value in row) for row in rows)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode() + b"\n")
    return digest.hexdigest()


def verify(publication):
    """Whether the publication's frozen figures are still the ones its checksum was taken over."""
    rows = publication.figures.values_list(*FIGURE_FIELDS)
    return len(rows) == publication.figure_count and checksum(rows) == publication.checksum


def publication_for(quarter):
    return Publication.objects.filter(period_start=quarter.start).first()


def publish_quarter(user, quarter):
    """Freeze the board report of a quarter that is over, as the latest successful roll-up calculated it.

    Refuses users who may not publish, a quarter not yet over, figures calculated before it
    ended, and a quarter already published (publication is once and for all: later changes
    are revisions).
    """
    if not can_publish(user):
        raise PermissionDenied("Only analysts and agency administrators can publish the board report.")
    today = timezone.localdate()
    if quarter.end >= today:
        raise ValidationError(f"{quarter.short_label} can be published once it is over, from "
                              f"{quarter.next().start:%-d %B %Y}.")
    measures = all_measures()
    starts = wanted_quarters(measures, quarter, today=today)
    try:
        # In a transaction, so the figures are read from the primary database, as they stand now.
        with transaction.atomic():
            # A full run: an incremental one calculated only some figures, perhaps none since the quarter ended.
            run = RollupRun.objects.filter(kind=RollupRun.Kind.FULL, status=RollupRun.Status.SUCCEEDED).order_by(
                "-finished_at", "-pk").first()
            if run is None or timezone.localdate(run.finished_at) <= quarter.end:
                raise ValidationError("The figures were calculated before the quarter ended: recalculate the "
                                      "dashboard, then publish.")
            rows = list(RollupValue.objects.filter(
                period_start__in=starts, measure__in=[measure.name for measure in measures]
            ).values_list(*FIGURE_FIELDS))
            publication = Publication.objects.create(
                period_start=quarter.start, published_at=timezone.now(), published_by=user,
                published_by_name=user.get_full_name() or user.get_username(),
                published_by_agency=str(user.agency) if getattr(user, "agency_id", None) else "",
                run=run, figure_count=len(rows), checksum=checksum(rows),
            )
            PublishedFigure.objects.bulk_create(
                [PublishedFigure(publication=publication, **dict(zip(FIGURE_FIELDS, row, strict=True)))
                 for row in rows],
                batch_size=2000,
            )
    except IntegrityError as error:
        raise ValidationError(f"The board report for {quarter.short_label} has already been published.") from error
    return publication


def _reason_since(since):
    """Why figures changed since `since`, from what the access log says happened to the case record."""
    changes = AccessLogEntry.objects.filter(occurred_at__gt=since)
    erased = changes.filter(action=AccessLogEntry.Action.DELETE, object_type="cases.offender").count()
    if erased:
        return FigureRevision.Reason.ERASURE, f"{erased} {'person' if erased == 1 else 'people'}'s records erased"
    corrected = changes.filter(action__in=[AccessLogEntry.Action.CHANGE, AccessLogEntry.Action.DELETE]).count()
    if corrected:
        return FigureRevision.Reason.CORRECTION, "Records changed or deleted after the figure was calculated"
    return FigureRevision.Reason.LATE_DATA, "Records added after the figure was calculated"


def record_revisions(run=None):
    """Compare every published figure with the roll-up's current one and record those that differ.

    A figure already revised to the same value is not recorded again; a figure nobody was
    counted in at publication that now has people in it is a revision too. Returns the
    number of revisions recorded.
    """
    recorded = 0
    now = timezone.now()
    for publication in Publication.objects.all():
        starts = set(publication.figures.values_list("period_start", flat=True).distinct())
        # Measures added after publication were never published: they have nothing to revise.
        names = set(publication.figures.values_list("measure", flat=True).distinct())
        stood = {row[:5]: row[5:] for row in publication.figures.values_list(*KEY_FIELDS, *VALUE_FIELDS)}
        last_revised = publication.published_at
        for revision in publication.revisions.order_by("recorded_at", "pk").values_list(
            *KEY_FIELDS, *VALUE_FIELDS, "recorded_at"
        ):
            stood[revision[:5]] = revision[5:9]
            last_revised = max(last_revised, revision[9])
        current = {
            row[:5]: row[5:]
            for row in RollupValue.objects.filter(period_start__in=starts, measure__in=names).values_list(
                *KEY_FIELDS, *VALUE_FIELDS)
        }
        changed = []
        for key in stood.keys() | current.keys():
            was, now_is = stood.get(key, NOBODY), current.get(key, NOBODY)
            if _same(was, now_is):
                continue
            changed.append((key, now_is))
        if not changed:
            continue
        reason, detail = _reason_since(last_revised)
        FigureRevision.objects.bulk_create([
            FigureRevision(
                publication=publication, **dict(zip(KEY_FIELDS, key, strict=True)),
                **dict(zip(VALUE_FIELDS, values, strict=True)), reason=reason, detail=detail, recorded_at=now,
                run=run,
            )
            for key, values in changed
        ], batch_size=2000)
        recorded += len(changed)
    return recorded


def _same(was, now_is):
    """Two figures read the same: a missing denominator and a zero one are both nobody."""
    return (was[0], was[1] or 0, was[2], was[3]) == (now_is[0], now_is[1] or 0, now_is[2], now_is[3])
