"""Liveness, readiness and metrics, against a real worker, a Redis stopped by PID and a database that is gone."""

import contextlib

import pytest
from django.db import connection
from django.test import override_settings

from reoffending.celery import app as celery_app

from .processes import celery_worker, django_env, free_port, redis_server, wait_for

pytestmark = pytest.mark.faults

PROBE = {"HTTP_HOST": "10.1.2.3:8000"}  # a pod's own address: not an allowed host, and plain HTTP


@contextlib.contextmanager
def redis_at(url):
    """Cache, broker and readiness all pointed at `url` for the block."""
    saved = {key: celery_app.conf[key] for key in ("broker_url", "result_backend")}
    celery_app.conf.update(broker_url=url, result_backend=url)
    caches = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    try:
        with override_settings(REDIS_URL=url, CACHES=caches, CELERY_BROKER_URL=url):
            yield
    finally:
        celery_app.conf.update(saved)


def readiness(client, *checks):
    response = client.get("/health/ready/", {"check": list(checks)} if checks else {}, **PROBE)
    return response.status_code, response.json()


@override_settings(SECURE_SSL_REDIRECT=True)
def test_liveness_answers_a_probe_without_touching_the_database(client):
    # No database access is allowed in this test: a query would fail it.
    response = client.get("/health/live/", **PROBE)
    assert response.status_code == 200 and response.content == b"ok"


@override_settings(SECURE_SSL_REDIRECT=True)
def test_readiness_with_everything_up_reports_each_check(db, client, tmp_path):
    worker = celery_worker(tmp_path, django_env())
    try:
        wait_for(lambda: celery_app.control.ping(timeout=0.5), timeout=60, what="the worker to answer pings")
        status, body = readiness(client)
    finally:
        assert worker.stop() is not None
    assert status == 200, body
    assert body["status"] == "ready"
    assert set(body["checks"]) == {"database", "redis", "worker"}
    assert all(check["ok"] for check in body["checks"].values())
    assert body["checks"]["worker"]["detail"] == "1 answering"


def test_readiness_says_when_no_worker_answers(db, client):
    status, body = readiness(client, "worker")
    assert status == 503
    assert body["checks"]["worker"] == {**body["checks"]["worker"], "ok": False, "detail": "failing: RuntimeError"}


def test_readiness_reports_a_redis_stopped_by_pid(db, client, tmp_path):
    with redis_server(tmp_path) as (url, redis_process), redis_at(url):
        status, body = readiness(client, "database", "redis")
        assert status == 200 and body["checks"]["redis"]["ok"], body
        redis_process.stop()
        status, body = readiness(client)
        assert status == 503
        assert body["status"] == "not ready"
        assert body["checks"]["database"]["ok"] is True
        assert body["checks"]["redis"]["ok"] is False
        assert body["checks"]["redis"]["detail"].startswith("failing: ")
        assert body["checks"]["worker"]["ok"] is False
        assert all(check["ms"] < 5000 for check in body["checks"].values()), "each check gives up within seconds"
        # The web process still serves case work without Redis, so its own probe asks for the database only.
        assert readiness(client, "database")[0] == 200


@pytest.mark.django_db(transaction=True)
def test_readiness_reports_a_database_that_refuses_connections(client):
    saved_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(free_port())  # nothing listens there: as a stopped server
    try:
        status, body = readiness(client)
    finally:
        connection.close()
        connection.settings_dict["PORT"] = saved_port
    assert status == 503
    assert body["checks"]["database"] == {**body["checks"]["database"], "ok": False,
                                          "detail": "failing: OperationalError"}
    assert body["checks"]["redis"]["ok"] is True
    assert "127.0.0.1" not in str(body), "no internal addresses in the answer"
    assert readiness(client, "database")[0] == 200, "and ready again once the database answers"


def test_an_unknown_check_is_a_400_naming_the_checks(client):
    response = client.get("/health/ready/", {"check": "databse"}, **PROBE)
    assert response.status_code == 400
    assert response.json()["checks"] == ["database", "redis", "worker"]


@override_settings(METRICS_TOKEN="scrape-token-for-tests")
def test_request_metrics_in_prometheus_format_for_the_scraper_only(partnership, client_for, client):
    signed_in = client_for(partnership.police_om)
    assert signed_in.get("/cases/").status_code == 200
    assert client.get("/metrics", **PROBE).status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **PROBE).status_code == 404
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token-for-tests", **PROBE)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    text = response.content.decode()
    counter = "django_http_responses_total_by_status_view_method_total"
    assert f'{counter}{{method="GET",status="200",view="cases:list"}}' in text
    assert "django_http_requests_latency_seconds_by_view_method_bucket{" in text


def test_no_metrics_without_a_token_configured(client):
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", **PROBE).status_code == 404
