"""Production settings for benchmarks and load tests on a laptop: DEBUG off, plain HTTP, no collectstatic step."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/reo_bench")
os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key-not-for-production")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("ALLOWED_HOSTS", "localhost,127.0.0.1,testserver")

from reoffending.settings import *  # noqa: E402,F403

DEBUG = False
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
WHITENOISE_USE_FINDERS = True
# The project's URLs plus the framework floor that bench.py times every page against.
ROOT_URLCONF = "bench_urls"
