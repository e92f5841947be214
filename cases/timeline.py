"""The activity log: one timeline of everything recorded about a person, newest first, paged.

Each kind of record is a source (`TimelineSource`), and apps built on cases register their own
(actions and referrals, panel decisions, risk) in AppConfig.ready(). A page of the timeline is
one UNION ALL query of (kind, record, when) rows, filtered and ordered in the database,
then one query per category on the page to describe its rows, so the page runs a bounded number
of queries whatever the length of the history. Each source decides what the user may read of it:
restricted notes only within their agency, panel discussions only from panels the agency sits on.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Cast


@dataclass(frozen=True)
class Entry:
    """One line of the timeline, ready to show."""

    occurred: object  # a datetime, or a date for records that carry only a day
    title: str
    text: str = ""
    who: str = ""
    url: str = ""
    tag: str = ""
    tag_colour: str = "grey"

    @property
    def has_time(self):
        return isinstance(self.occurred, datetime.datetime)


@dataclass(frozen=True)
class TimelineSource:
    key: str
    label: str
    records: Callable  # (offender, user) -> queryset of the person's records the user may read
    occurred: str  # the field that dates a record (a DateTimeField or a DateField)
    describe: Callable  # (records, offender) -> {pk: Entry}, for the records of one page
    search_fields: tuple = ()
    # (compliance choice) -> Q, for the source the compliance filter applies to (appointments).
    compliance: Callable | None = None
    order: int = 100


_sources: dict[str, TimelineSource] = {}


def register_timeline_source(source):
    _sources[source.key] = source


def timeline_sources():
    return sorted(_sources.values(), key=lambda source: source.order)


def _rows(source, offender, user, *, words, since, until, compliance):
    queryset = source.records(offender, user)
    occurred_field = queryset.model._meta.get_field(source.occurred)
    occurred = F(source.occurred) if isinstance(occurred_field, models.DateTimeField) else Cast(
        source.occurred, models.DateTimeField()
    )
    # Names no model uses for a field of its own.
    queryset = queryset.annotate(
        timeline_at=occurred, timeline_kind=Value(source.key, output_field=models.CharField()),
        timeline_record=F("pk"),
    )
    if since is not None:
        queryset = queryset.filter(timeline_at__gte=since)
    if until is not None:
        queryset = queryset.filter(timeline_at__lt=until)
    for word in words:
        match = Q()
        for name in source.search_fields:
            match |= Q(**{f"{name}__icontains": word})
        queryset = queryset.filter(match) if source.search_fields else queryset.none()
    if compliance:
        queryset = queryset.filter(source.compliance(compliance))
    return queryset.order_by().values("timeline_kind", "timeline_record", "timeline_at")


def timeline(offender, user, *, categories=(), keywords="", since=None, until=None, compliance=""):
    """The (timeline_kind, timeline_record, timeline_at) rows of the person's timeline the user may read, newest first.

    `since` and `until` are aware datetimes (until is exclusive); `compliance` keeps only records of
    sources that understand it (appointments), filtered by it.
    """
    sources = [
        source for source in timeline_sources()
        if (not categories or source.key in categories) and (not compliance or source.compliance is not None)
    ]
    words = [word for word in (keywords or "").split() if word][:5]
    parts = [_rows(source, offender, user, words=words, since=since, until=until, compliance=compliance)
             for source in sources]
    if not parts:
        return None
    combined = parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0]
    return combined.order_by("-timeline_at", "timeline_kind", "-timeline_record")


def describe_page(rows, offender):
    """The entries of one page of rows, in order: one query per category on the page."""
    by_category = {}
    for row in rows:
        by_category.setdefault(row["timeline_kind"], []).append(row["timeline_record"])
    described = {}
    for key, pks in by_category.items():
        for pk, entry in _sources[key].describe(pks, offender).items():
            described[key, pk] = entry
    return [
        {"category": _sources[row["timeline_kind"]].label,
         "entry": described[row["timeline_kind"], row["timeline_record"]]}
        for row in rows if (row["timeline_kind"], row["timeline_record"]) in described
    ]
