"""The demo and a developer's laptop: local conveniences with DEBUG off, and the service's own error pages."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parent.parent
SHOW = (
    "from django.conf import settings as s; "
    "print(s.DEBUG, s.LOCAL_DEVELOPMENT, s.HTTPS, s.EMAIL_BACKEND.rsplit('.', 2)[-2], bool(s.SECRET_KEY))"
)


def laptop_environment(tmp_path, **extra):
    unset = {"DEBUG", "LOCAL_DEVELOPMENT", "SECRET_KEY", "HTTPS", "DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE",
             "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'laptop.sqlite3'}", **extra}


def run(args, env):
    done = subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_manage_py_on_a_laptop_runs_in_local_development_with_debug_off(tmp_path):
    assert run(["manage.py", "shell", "-c", SHOW], laptop_environment(tmp_path))[-5:] == [
        "False", "True", "False", "console", "True"]


def test_debug_still_brings_local_development_with_it(tmp_path):
    assert run(["manage.py", "shell", "-c", SHOW], laptop_environment(tmp_path, DEBUG="1"))[-5:] == [
        "True", "True", "False", "console", "True"]


def test_without_local_development_a_secret_key_is_required(tmp_path):
    env = laptop_environment(tmp_path, DJANGO_SETTINGS_MODULE="reoffending.settings")
    done = subprocess.run(  # noqa: S603 - fixed command
        [sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert done.returncode != 0 and "Set SECRET_KEY" in done.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("signed_in", [False, True])
def test_an_unknown_page_is_the_services_own_page_not_found(partnership, client_for, client, signed_in):
    browser = client_for(partnership.police_om) if signed_in else client
    response = browser.get("/no-such-page/")
    page = response.content.decode()
    assert response.status_code == 404
    assert "<h1 class=\"govuk-heading-l\">Page not found</h1>" in page and "govuk-template" in page
    assert "Traceback" not in page and "URLconf" not in page


@pytest.mark.django_db
def test_a_form_sent_without_its_security_token_gets_the_services_own_page(partnership):
    response = Client(enforce_csrf_checks=True).post("/sign-in/", {"username": "police.om", "password": "x"})
    page = response.content.decode()
    assert response.status_code == 403
    assert "Your form has expired" in page and "govuk-template" in page and "CSRF verification failed" not in page
