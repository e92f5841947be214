"""The WSGI application as a server's worker loads it."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WORKER = """
import gc
from django.test import Client
from reoffending import wsgi

loaded = gc.get_freeze_count()
client = Client()
for _ in range(wsgi.WARM_UP_REQUESTS):
    assert client.get("/health/live/").status_code == 200
warm = gc.get_freeze_count()
for _ in range(20):
    client.get("/health/live/")
print(loaded, warm, wsgi._served)
"""


def test_a_worker_freezes_what_it_has_loaded_and_again_once_warm_then_leaves_the_collector_be():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reoffending.test_settings"}
    output = subprocess.run([sys.executable, "-c", WORKER], cwd=ROOT, env=env, capture_output=True, text=True,  # noqa: S603
                            check=True, timeout=120)
    loaded, warm, counted = (int(number) for number in output.stdout.split())
    # Django, the apps and the middleware are kept out of every collection from the start ...
    assert loaded > 50_000
    # ... and so is what the first requests loaded, once: after that, requests are not even counted.
    assert warm > loaded
    assert counted == 50
