"""Imports without Redis: small files are checked and applied in the request; a file that needs a worker is
refused with a clear message and leaves no run waiting for a worker that will never come."""

import socket
import time

import pytest
from django.core.cache import caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from cases.models import Offender
from feeds import runs
from feeds.models import ImportRun, ImportUpload
from reoffending.celery import app as celery_app

from .test_feeds_people import SAMPLE, big_file

pytestmark = pytest.mark.django_db


def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def forget_broker_connections():
    """The app keeps its broker connection pool, producers and result backend: forget them, so a changed
    broker_url and result_backend are used (a later test's `.get()` would wait on a Redis that is gone)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._backend_cache = None
    celery_app._local.__dict__.pop("backend", None)


@pytest.fixture
def redis_down():
    """Cache and broker pointed at a port nothing listens on, and tasks really sent (not run in-process)."""
    url = f"redis://127.0.0.1:{closed_port()}/0"
    saved = {key: celery_app.conf[key] for key in ("broker_url", "result_backend", "task_always_eager")}
    celery_app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    forget_broker_connections()
    caches_down = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}}
    with override_settings(CACHES=caches_down, CELERY_BROKER_URL=url, CELERY_TASK_ALWAYS_EAGER=False):
        caches.close_all()
        with pytest.raises(Exception, match="(?i)connect"):
            caches["default"].get("probe")
        yield url
    celery_app.conf.update(saved)
    forget_broker_connections()
    caches.close_all()


def upload(client, name, content, kind="people"):
    return client.post("/feeds/", {"kind": kind, "file": SimpleUploadedFile(name, content)}, follow=True)


def test_a_small_import_is_checked_and_applied_without_redis(partnership, client_for, redis_down):
    client = client_for(partnership.police_om)
    checked = upload(client, "people.csv", SAMPLE.read_bytes())
    assert checked.status_code == 200 and "Check the import" in checked.content.decode()
    run = ImportRun.objects.get()
    done = client.post(f"/feeds/runs/{run.pk}/apply/", follow=True)
    assert done.status_code == 200 and "Import complete" in done.content.decode()
    assert Offender.objects.count() == 5


def test_a_large_import_is_refused_at_once_when_no_worker_can_be_reached(partnership, client_for, redis_down):
    client = client_for(partnership.police_om)
    started = time.perf_counter()
    response = upload(client, "big.csv", big_file(runs.BACKGROUND_ROWS + 10))
    assert time.perf_counter() - started < 15
    page = response.content.decode()
    assert response.status_code == 200 and "background workers cannot be reached" in page
    run = ImportRun.objects.get()
    assert run.status == ImportRun.Status.FAILED and "cannot be reached" in run.error
    assert not ImportRun.objects.filter(status=ImportRun.Status.QUEUED).exists()  # no phantom job
    assert not ImportUpload.objects.exists() and Offender.objects.count() == 2
    # The next upload is not blocked by the failed one.
    assert "Check the import" in upload(client, "people.csv", SAMPLE.read_bytes()).content.decode()


def test_the_api_answers_503_when_no_worker_can_be_reached(partnership, api_for, redis_down):
    response = api_for(partnership.police_om).post(
        "/api/v1/feed-runs/", {"kind": "people", "file": SimpleUploadedFile("big.csv", big_file(runs.BACKGROUND_ROWS
                                                                                               + 10))},
        format="multipart")
    assert response.status_code == 503 and "cannot be reached" in response.json()["detail"]
    assert ImportRun.objects.get().status == ImportRun.Status.FAILED
