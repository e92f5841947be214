"""Health that tells the truth, for orchestrators and monitoring.

- Liveness, `/health/live/`: the process answers. Nothing else is touched, so a database outage never
  makes an orchestrator restart healthy web processes.
- Readiness, `/health/ready/`: each dependency is checked and reported (the database and any replica,
  Redis, a Celery worker answering a ping); 200 when every check asked for passes, otherwise 503.
  `?check=database` (repeatable) asks for some checks only: web processes serve case work without
  Redis or a worker, so their readiness probe asks for the database alone.
- Metrics, `/metrics`: request counts and latencies by view, method and status in the Prometheus
  text format (django-prometheus), for a scraper presenting `Authorization: Bearer $METRICS_TOKEN`.
  With no METRICS_TOKEN set there are no metrics to see.

These answer before host validation and the HTTPS redirect (HealthCheckMiddleware): probes call a
pod's own address over plain HTTP.
"""

import logging
import secrets
import time

import redis
from django.conf import settings
from django.db import connections
from django.http import HttpResponse, HttpResponseNotFound, JsonResponse
from django_prometheus.exports import ExportToDjangoView

from reoffending.celery import app as celery_app

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 2


class Skipped(Exception):  # noqa: N818 - a check that does not apply here, not an error
    pass


def check_database(alias):
    def check():
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT 1")
        if alias != "default" and connections[alias].vendor == "postgresql":
            # A streaming replica says how far behind the primary it is replaying.
            with connections[alias].cursor() as cursor:
                cursor.execute(
                    "SELECT pg_is_in_recovery(), EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
                )
                in_recovery, lag = cursor.fetchone()
            if in_recovery:
                return "replaying" if lag is None else f"{float(lag):.1f} s behind the primary at most"
        return "answering"

    return check


def check_redis():
    if not settings.REDIS_URL:
        raise Skipped("not configured: in-process cache, tasks run in the request")
    client = redis.Redis.from_url(
        settings.REDIS_URL, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()
    return "answering"


def check_worker():
    if not settings.REDIS_URL:
        raise Skipped("not configured: tasks run in the request")
    check_redis()  # a ping to workers through a broker that is down would wait for the broker instead
    with celery_app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=TIMEOUT_SECONDS)
        replies = celery_app.control.ping(timeout=1.0, connection=connection)
    if not replies:
        raise RuntimeError("no worker answered within 1 s")
    return f"{len(replies)} answering"


def available_checks():
    checks = {"database": check_database("default")}
    checks.update({f"database_{alias}": check_database(alias) for alias in settings.DATABASES if alias != "default"})
    checks.update({"redis": check_redis, "worker": check_worker})
    return checks


def run_check(check):
    started = time.perf_counter()
    try:
        detail, ok = check(), True
    except Skipped as skipped:
        detail, ok = str(skipped), True
    except Exception as error:  # noqa: BLE001 - any failure is what the check reports
        # The type only: messages can carry internal host names. The log has the rest.
        logger.warning("Readiness check failed: %r", error)
        detail, ok = f"failing: {type(error).__name__}", False
    return {"ok": ok, "detail": detail, "ms": round(1000 * (time.perf_counter() - started), 1)}


def live(request):
    return HttpResponse("ok", content_type="text/plain")


def ready(request):
    checks = available_checks()
    wanted = request.GET.getlist("check") or list(checks)
    unknown = sorted(set(wanted) - set(checks))
    if unknown:
        return JsonResponse({"error": f"unknown check: {', '.join(unknown)}", "checks": sorted(checks)}, status=400)
    results = {name: run_check(checks[name]) for name in wanted}
    is_ready = all(result["ok"] for result in results.values())
    return JsonResponse({"status": "ready" if is_ready else "not ready", "checks": results},
                        status=200 if is_ready else 503)


def metrics(request):
    token = getattr(settings, "METRICS_TOKEN", "")
    presented = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not token or not secrets.compare_digest(presented.encode(), token.encode()):
        return HttpResponseNotFound("Not found", content_type="text/plain")
    return ExportToDjangoView(request)


ROUTES = {"/health/live/": live, "/health/ready/": ready, "/metrics": metrics}


class HealthCheckMiddleware:
    """First in the chain: health, readiness and metrics answer whatever Host header or scheme a probe
    uses, and take no session, user or CSRF work."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = ROUTES.get(request.path)
        if view is not None and request.method in ("GET", "HEAD"):
            return view(request)
        return self.get_response(request)
