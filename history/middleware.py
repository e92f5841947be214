"""Who made a change and on which page, for the history of every record the request changes."""

import contextlib
import contextvars

import pghistory
from django.db import connection
from pghistory import config
from pghistory.middleware import HistoryMiddleware

# Without PostgreSQL: a function giving the context of the change being made (see `history.fallback`).
_context = contextvars.ContextVar("history_context", default=None)


def current_context():
    """The context a change made now is recorded with, as the triggers store it (None when there is none)."""
    context = _context.get()
    return context() if context else None


def _request_context(request):
    # Read when the change is saved, so a user the API signs in during the view is the one recorded.
    user = getattr(request, "user", None)
    return {"user": user.pk if getattr(user, "is_authenticated", False) else None, "url": request.path}


@contextlib.contextmanager
def changes_made_by(user, *, url=""):
    """Record the changes made inside the block as `user`'s, outside a request (the demo, scripts)."""
    if connection.vendor == "postgresql":
        try:
            with pghistory.context(user=user.pk, url=url):
                yield
        finally:
            # The context is set for the rest of the transaction: end it here, so later changes in the
            # same transaction are not put down to this user.
            with connection.cursor() as cursor:
                cursor.execute("SELECT set_config('pghistory.context_id', '', true), "
                               "set_config('pghistory.context_metadata', '', true)")
        return
    token = _context.set(lambda: {"user": user.pk, "url": url})
    try:
        yield
    finally:
        _context.reset(token)


class ChangeHistoryMiddleware(HistoryMiddleware):
    """pghistory's middleware on PostgreSQL, where the context travels with each statement to the triggers;
    elsewhere the request is kept for `history.fallback`, which writes history in Python."""

    def __call__(self, request):
        if request.method not in config.middleware_methods():
            return self.get_response(request)
        if connection.vendor == "postgresql":
            return super().__call__(request)
        token = _context.set(lambda: _request_context(request))
        try:
            return self.get_response(request)
        finally:
            _context.reset(token)
