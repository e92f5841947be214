"""Data Protection Act 2018 Part 3 logging: who consulted, changed, disclosed or erased what, and when."""

from django.db import connection
from django.utils import timezone

from operations.bulk import copy_rows

from .models import AccessLogEntry, Offender

# The columns of an entry written by `append_entries`, in order (the user and the agency by id).
ENTRY_FIELDS = ("occurred_at", "user", "username", "agency", "action", "object_type", "object_id", "offender_id",
                "detail")


def loggable(text):
    """Detail text as PostgreSQL will store it: no NUL characters (they come only from hostile input)."""
    return text.replace("\x00", "")[:500]


def log_access(user, action, obj=None, *, offender=None, object_type="", object_id="", detail=""):
    """Append one entry to the access log.

    `offender` is the person the data is about; when `obj` is the person it is found from `obj`.
    """
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        if offender is None and isinstance(obj, Offender):
            offender = obj
    authenticated = getattr(user, "is_authenticated", False)
    return AccessLogEntry.objects.create(
        user=user if authenticated else None,
        username=user.get_username() if authenticated else "",
        agency_id=getattr(user, "agency_id", None),
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        offender_id=getattr(offender, "pk", offender),
        detail=loggable(detail),
    )


def log_many(user, action, offenders, *, object_type="cases.offender", detail=""):
    """Log one entry per person in a single insert (searches and exports of lists)."""
    authenticated = getattr(user, "is_authenticated", False)
    entries = [
        AccessLogEntry(
            user=user if authenticated else None,
            username=user.get_username() if authenticated else "",
            agency_id=getattr(user, "agency_id", None),
            action=action,
            object_type=object_type,
            object_id=str(offender.pk),
            offender_id=offender.pk,
            detail=loggable(detail),
        )
        for offender in offenders
    ]
    AccessLogEntry.objects.bulk_create(entries)
    return entries


def log_many_by_id(user, action, offender_ids, *, object_type="cases.offender", detail=""):
    """`log_many` for people known by their ids alone: one entry a person, with no person loaded.

    On PostgreSQL the entries are made by one INSERT from an array of ids, so logging a few
    thousand people (a generated agenda) costs no more Python than logging one.
    """
    offender_ids = list(offender_ids)
    if not offender_ids:
        return 0
    if connection.vendor != "postgresql":
        log_many(user, action, [Offender(pk=pk) for pk in offender_ids], object_type=object_type, detail=detail)
        return len(offender_ids)
    authenticated = getattr(user, "is_authenticated", False)
    table = connection.ops.quote_name(AccessLogEntry._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(AccessLogEntry._meta.get_field(name).column) for name in (
        "occurred_at", "user", "username", "agency", "action", "object_type", "object_id", "offender_id", "detail"))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({columns}) "  # noqa: S608 - names from the model, every value a parameter
            "SELECT %s, %s, %s, %s, %s, %s, person::text, person, %s FROM unnest(%s::bigint[]) AS person",
            [timezone.now(), user.pk if authenticated else None, user.get_username() if authenticated else "",
             # The ids as one array literal: quicker to send than a list, value by value.
             getattr(user, "agency_id", None), action, object_type, loggable(detail),
             "{" + ",".join(str(int(pk)) for pk in offender_ids) + "}"],
        )
    return len(offender_ids)


def append_entries(rows):
    """Append many entries at once, each a tuple of `ENTRY_FIELDS` values: one COPY on PostgreSQL.

    For a feed that logs every record it writes: a hundred thousand entries go in as data, with no
    statement built for them. The detail is made `loggable` here.
    """
    detail = ENTRY_FIELDS.index("detail")
    return copy_rows(AccessLogEntry, ENTRY_FIELDS, (
        (*row[:detail], loggable(row[detail])) for row in rows
    ))
