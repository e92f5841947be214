"""Settings for the test suite: always real PostgreSQL and real Redis."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/reoffending")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")
# The test client speaks plain HTTP; production settings are checked by tests/test_security_settings.py.
os.environ.setdefault("HTTPS", "0")
# pytest-django keeps each test inside one transaction, which sits idle while the test waits on a
# browser or a process it started: more room than a web request gets before the server ends it.
os.environ.setdefault("DB_IDLE_IN_TRANSACTION_TIMEOUT", "10min")

from reoffending.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tasks run in-process unless a test starts a real worker; the broker is still real Redis. A worker a test
# starts with TEST_TASKS_EAGER=0 sends the tasks it queues (a shared roll-up's parts) to the broker.
CELERY_TASK_ALWAYS_EAGER = os.environ.get("TEST_TASKS_EAGER", "1") == "1"
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Static files come straight from the finders in tests (no collectstatic step).
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
