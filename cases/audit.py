"""Data Protection Act 2018 Part 3 logging: who consulted, changed, disclosed or erased what, and when."""

from .models import AccessLogEntry, Offender


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
