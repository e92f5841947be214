"""Reads that may come from a streaming replica (DATABASE_REPLICA_URL), and everything else from the primary.

Dashboards, exports and the measures API read from the replica: pages that read a lot and can be a
few seconds behind. Everything else reads from the primary, and so does any read in a request after
that request has written anything (read your own writes), or inside a transaction. Sessions, users,
sign-in devices and lockouts are always read from the primary: a replica a moment behind would sign
someone out. Nothing is ever written to the replica, and it is never migrated (it follows the primary).
"""

import contextlib
import contextvars
import logging

from django.conf import settings
from django.db import DatabaseError, connections

logger = logging.getLogger(__name__)

REPLICA = "replica"
_reads_from_replica = contextvars.ContextVar("reads_from_replica", default=False)
_wrote = contextvars.ContextVar("wrote", default=False)

# Apps whose rows decide who is signed in and what they may do: always the primary's, never a moment behind.
PRIMARY_ONLY_APPS = {"sessions", "auth", "contenttypes", "admin", "otp_totp", "otp_static", "axes", "knox", "accounts",
                     "django_celery_beat"}

# View names (namespace:name, or namespace:* for all of a namespace) whose reads may come from the replica.
REPLICA_VIEWS = {"dashboard:*", "cases:export", "api:measure-list", "api:measure-detail"}


def replica_configured():
    return REPLICA in settings.DATABASES


@contextlib.contextmanager
def replica_reads():
    """Let reads in the block come from the replica, until something is written."""
    reads, wrote = _reads_from_replica.set(True), _wrote.set(False)
    try:
        yield
    finally:
        _reads_from_replica.reset(reads)
        _wrote.reset(wrote)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if not (_reads_from_replica.get() and replica_configured()) or _wrote.get():
            return None
        if model._meta.app_label in PRIMARY_ONLY_APPS or model._meta.label == settings.AUTH_USER_MODEL:
            return None
        if connections["default"].in_atomic_block:
            return None  # a transaction reads what it has written
        return REPLICA

    def db_for_write(self, model, **hints):
        _wrote.set(True)
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db != REPLICA


def view_reads_from_replica(request):
    match = getattr(request, "resolver_match", None)
    if match is None or request.method not in ("GET", "HEAD"):
        return False
    namespace = match.namespace
    return match.view_name in REPLICA_VIEWS or (namespace and f"{namespace}:*" in REPLICA_VIEWS)


class ReplicaReadsMiddleware:
    """Lets the listed views read from the replica when one is configured and answering; otherwise,
    or if it cannot be reached, they read from the primary like every other page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            return self.get_response(request)
        finally:
            # The flags belong to this request: a worker's next request starts on the primary.
            _reads_from_replica.set(False)
            _wrote.set(False)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not (replica_configured() and view_reads_from_replica(request)):
            return None
        try:
            connections[REPLICA].ensure_connection()
        except DatabaseError as error:
            logger.warning("Replica unavailable, reading from the primary: %s", error)
            return None
        _reads_from_replica.set(True)
        _wrote.set(False)
        return None
