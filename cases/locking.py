"""Optimistic locking: a change made from a record that someone else has saved since is refused.

Each record two people may change at once (a person's details, an action, a referral, an agenda
item, a Checkpoint contract) carries a `version` that every save moves on by one, and a change
names the version it was made from: a hidden field in the browser, `version` in the API. A RAG
decision is checked against the status the user saw instead, so a change of address in between
does not make it stale; only another change of status does.

The services lock the row, compare, and refuse with ConcurrentEditError; forms show its message
like any other refusal, and the API answers it with 409 Conflict (`cases.api_base`).
"""

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone


class ConcurrentEditError(ValidationError):
    """Someone else changed the record after this user read it; nothing was saved.

    `current` is the record as it is now, `field` what was compared and `expected` the value the
    user's change was made from. A ValidationError, so that a form shows it as the reason the
    submission was refused.
    """

    def __init__(self, current, *, field="version", expected=None, subject=None):
        self.current = current
        self.field = field
        self.expected = expected
        self.summary = _summary(current, field, subject)
        super().__init__(
            f"{self.summary} after you opened it. Your changes have not been saved. "
            "Reload the page to see the latest version.",
            code="stale",
        )

    @property
    def current_value(self):
        return getattr(self.current, self.field)


def _summary(current, field, subject):
    meta = current._meta
    if field == "version":
        subject = subject or f"This {meta.verbose_name}"
        updated_at = getattr(current, "updated_at", None)
        when = f" at {timezone.localtime(updated_at):%H:%M on %d %B %Y}" if updated_at else ""
        return f"{subject} was changed by someone else{when}"
    subject = subject or f"The {meta.get_field(field).verbose_name}"
    shown = getattr(current, f"get_{field}_display")() or "not set"
    return f"{subject} was changed to {shown} by someone else"


def lock_for_change(queryset, pk, *, expected, field="version", subject=None):
    """The row, locked until the transaction ends; ConcurrentEditError if its `field` is no longer `expected`.

    With `expected` None nothing is compared (a change that does not depend on what the user saw).
    Must run inside a transaction.
    """
    row = queryset.select_for_update().get(pk=pk)
    if expected is not None and getattr(row, field) != expected:
        raise ConcurrentEditError(row, field=field, expected=expected, subject=subject)
    return row


def save_next_version(record, fields):
    """Save the named fields of the locked record with the next version, and reload it."""
    record.version = F("version") + 1
    stamped = {"updated_at"} if any(f.name == "updated_at" for f in record._meta.concrete_fields) else set()
    record.save(update_fields=sorted({*fields, "version", *stamped}))
    record.refresh_from_db()
    return record
