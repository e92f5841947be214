"""What the application's database connections may wait for, and how their failures are told apart.

Every connection starts with a statement timeout, a lock timeout and an idle-in-transaction timeout
(settings: DB_STATEMENT_TIMEOUT, DB_LOCK_TIMEOUT, DB_IDLE_IN_TRANSACTION_TIMEOUT). Work that is
expected to be long (a roll-up, a bulk import, an export) raises the first two for its own duration
with `long_running_queries`.
"""

import contextlib
import functools

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connections

# SQLSTATEs, as PostgreSQL documents them (Appendix A, "PostgreSQL Error Codes").
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout expired, or NOWAIT found the row locked
QUERY_CANCELED = "57014"  # statement_timeout expired (or the statement was cancelled)
CONNECTION_FAILURE_CLASSES = ("08",)  # connection exceptions
SERVER_GOING_AWAY = {"57P01", "57P02", "57P03"}  # admin shutdown, crash shutdown, cannot connect now


def sqlstate(error):
    """The PostgreSQL SQLSTATE behind a Django database error, or None (SQLite, no server answer)."""
    cause = error
    while cause is not None:
        state = getattr(cause, "sqlstate", None)
        if state:
            return state
        cause = cause.__cause__
    return None


def is_lock_timeout(error):
    return isinstance(error, DatabaseError) and sqlstate(error) == LOCK_NOT_AVAILABLE


def is_statement_timeout(error):
    return isinstance(error, DatabaseError) and sqlstate(error) == QUERY_CANCELED


def is_database_unavailable(error):
    """The server could not be reached, went away mid-request, or is refusing connections."""
    if not isinstance(error, DatabaseError):
        return False
    state = sqlstate(error)
    if state is None:
        # psycopg raises OperationalError without a SQLSTATE when it cannot connect at all.
        return isinstance(error, OperationalError | InterfaceError)
    return state.startswith(CONNECTION_FAILURE_CLASSES) or state in SERVER_GOING_AWAY


@contextlib.contextmanager
def long_running_queries(using="default", *, statement_timeout=None, lock_timeout=None):
    """Raise the statement and lock timeouts of one connection while the block runs.

    Inside a transaction the new limits last until it ends (SET LOCAL); outside one they last for
    the block and are then reset to the connection's own. Defaults: DB_LONG_STATEMENT_TIMEOUT and
    DB_LONG_LOCK_TIMEOUT.
    """
    connection = connections[using]
    if connection.vendor != "postgresql":
        yield
        return
    statement_timeout = statement_timeout or settings.DB_LONG_STATEMENT_TIMEOUT
    lock_timeout = lock_timeout or settings.DB_LONG_LOCK_TIMEOUT
    local = connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('statement_timeout', %s, %s), set_config('lock_timeout', %s, %s)",
            [statement_timeout, local, lock_timeout, local],
        )
    try:
        yield
    finally:
        if not local and connection.connection is not None and not connection.in_atomic_block:
            # A broken connection is discarded by Django anyway; nothing to put back on it.
            with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
                cursor.execute("RESET statement_timeout")
                cursor.execute("RESET lock_timeout")


def allows_long_queries(function):
    """`long_running_queries` around a view or task."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        with long_running_queries():
            return function(*args, **kwargs)

    return wrapper
