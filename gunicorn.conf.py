"""gunicorn's settings wherever the app is served (compose, Kubernetes, the load test); flags override them.

gunicorn reads this file from the working directory by itself.
"""

import os
import shutil
from pathlib import Path

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
# Database statements stop at DB_STATEMENT_TIMEOUT (30 s) well before a worker is killed here.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then, so a slow leak never becomes an outage.
max_requests = 2000
max_requests_jitter = 200
# Heartbeat files on a memory file system: the container's own file system is read-only.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108 - shared memory, not /tmp
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms'


def on_starting(server):
    """Request metrics are kept per worker in PROMETHEUS_MULTIPROC_DIR and added up at /metrics;
    what a previous run left there would be added in too."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
