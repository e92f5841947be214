"""Headers and production settings: CSP without unsafe-inline, HSTS, HTTPS only, `check --deploy` clean."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

ROOT = Path(__file__).resolve().parent.parent
PROJECT_TEMPLATE_DIRS = [ROOT / "templates", *ROOT.glob("*/templates")]
INLINE_CODE = [
    (re.compile(r"<script\b(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"<style\b", re.I), "<style> element"),
    (re.compile(r"\sstyle\s*=", re.I), "style= attribute"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def production_environment(**extra):
    environment = {
        key: value for key, value in os.environ.items()
        # DJANGO_ALLOW_ASYNC_UNSAFE is set by the browser tests' live server, never in production.
        if key not in {"DEBUG", "LOCAL_DEVELOPMENT", "HTTPS", "DJANGO_SETTINGS_MODULE", "SECRET_KEY",
                       "DJANGO_ALLOW_ASYNC_UNSAFE"}
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="reoffending.settings", DEBUG="0", SECRET_KEY=secrets.token_urlsafe(64),
        ALLOWED_HOSTS="reoffending.example.gov.uk", **extra,
    )
    return environment


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(  # noqa: S603 - fixed command, our own code
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=production_environment(), capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_settings_are_https_only_with_secure_cookies():
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.SECURE_SSL_REDIRECT, s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_HSTS_SECONDS >= 31536000,"
        " s.SESSION_COOKIE_HTTPONLY, s.DEBUG)"
    )
    result = subprocess.run(  # noqa: S603 - fixed command, our own code
        [sys.executable, "-c", code], cwd=ROOT, env=production_environment(), capture_output=True, text=True,
        timeout=60, check=False,
    )
    assert result.stdout.split() == ["True", "True", "True", "True", "True", "False"], result.stderr


def test_content_security_policy_forbids_inline_script_and_style(client):
    response = client.get("/sign-in/")
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


@pytest.mark.parametrize(
    "template", sorted(p for d in PROJECT_TEMPLATE_DIRS for p in d.rglob("*.html")), ids=lambda p: p.name
)
def test_no_template_has_inline_script_or_style(template):
    text = template.read_text()
    found = [what for pattern, what in INLINE_CODE if pattern.search(text)]
    assert not found, f"{template.relative_to(ROOT)} has {', '.join(found)}: move it to a file in static/"


def test_govuk_frontend_support_check_is_an_external_script(client):
    html = client.get("/sign-in/").content.decode()
    assert '<script src="/static/js/supported.js"></script>' in html
    assert "document.body.className" not in html


@override_settings(SECURE_SSL_REDIRECT=True, SECURE_HSTS_SECONDS=31536000, SECURE_HSTS_INCLUDE_SUBDOMAINS=True,
                   SECURE_HSTS_PRELOAD=True)
def test_https_is_enforced_with_hsts_but_the_health_check_stays_plain(client):
    plain = client.get("/sign-in/")
    assert plain.status_code == 301 and plain["Location"].startswith("https://")
    secure = client.get("/sign-in/", secure=True)
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert client.get("/health/live/").status_code == 200


def test_sessions_do_not_depend_on_redis():
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"
