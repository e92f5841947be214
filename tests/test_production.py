"""The production set-up end to end, without containers: the commands docker-compose.yml and the
Kubernetes manifests run, in the same order, with production settings.

A fresh database is migrated by `manage.py migrate` (the one-off migrate service / Job); gunicorn
serves the app behind the proxy headers nginx or an ingress sets (Host and X-Forwarded-Proto); a
member of staff signs in with a password and a security code and sees the case list; a Celery worker
and Celery beat (the database scheduler) run a scheduled roll-up; readiness and metrics answer; and
after every database connection of the web workers is cut off, the next requests still succeed.
Each process is started here on a free port and stopped by its PID.
"""

import re
import secrets
import sys

import psycopg
import pytest
import requests
from django.db import connection

from .processes import BIN, ROOT, Process, free_port, redis_server, wait_for

pytestmark = pytest.mark.faults

SITE = "cases.example.gov.uk"
PASSWORD = "correct horse battery staple"
TOTP_KEY = secrets.token_hex(20)

SETUP = f"""
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from django_otp.plugins.otp_totp.models import TOTPDevice
from cases.models import Agency, Area, Role, User

area = Area.objects.create(name="Northtown", code="northtown")
police = Agency.objects.create(name="Northtown Police", kind=Agency.Kind.POLICE, area=area)
user = User.objects.create_user("om.police", password="{PASSWORD}", agency=police, role=Role.OFFENDER_MANAGER,
                                first_name="Olu", last_name="Mensah")
TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True, key="{TOTP_KEY}")
every_two_seconds = IntervalSchedule.objects.create(every=2, period=IntervalSchedule.SECONDS)
PeriodicTask.objects.create(name="Roll-up, end-to-end test", task="dashboard.tasks.run_rollups",
                            interval=every_two_seconds)
"""


@pytest.fixture
def fresh_database():
    """A database of its own on the same server, dropped afterwards."""
    config = connection.settings_dict
    name = f"{config['NAME']}_production"
    server = {"host": config["HOST"] or "127.0.0.1", "port": config["PORT"] or 5432, "user": config["USER"],
              "password": config["PASSWORD"] or None}
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{server['user']}@{server['host']}:{server['port']}/{name}", server, name
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def production_env(database_url, redis_url, tmp_path, **extra):
    return {
        "PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
        "DJANGO_SETTINGS_MODULE": "reoffending.settings", "DEBUG": "0", "SECRET_KEY": secrets.token_urlsafe(50),
        "DATABASE_URL": database_url, "REDIS_URL": redis_url, "ALLOWED_HOSTS": SITE,
        "TRUST_X_FORWARDED_PROTO": "1", "STATIC_ROOT": str(tmp_path / "static"),
        "DB_APPLICATION_NAME": "reoffending-e2e", "METRICS_TOKEN": "e2e-metrics-token",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"), "PYTHONPATH": str(ROOT), **extra,
    }


def manage(env, *args, timeout=300):
    import subprocess

    result = subprocess.run(  # noqa: S603 - fixed command, our own code
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


class Browser:
    """Speaks to gunicorn as the TLS-ending proxy does: plain HTTP, with Host and X-Forwarded-Proto set.

    Cookies are kept by hand: they are marked Secure, which a client would not send over plain HTTP.
    """

    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.cookies = {}

    def request(self, method, path, *, proto="https", host=SITE, **kwargs):
        headers = {"Host": host, "X-Forwarded-Proto": proto, "X-Forwarded-For": "203.0.113.9",
                   "Referer": f"https://{SITE}{path}", "Origin": f"https://{SITE}", **kwargs.pop("headers", {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(method, self.base + path, headers=headers, allow_redirects=False, timeout=30,
                                    **kwargs)
        self.cookies.update(response.cookies.get_dict())
        return response

    def follow(self, response, limit=5):
        """Follow redirects within the site; the path where they end."""
        path = response.url.removeprefix(self.base)
        while response.is_redirect and limit:
            path = response.headers["Location"].removeprefix(f"https://{SITE}")
            response, limit = self.get(path), limit - 1
        return path

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post_form(self, path, data):
        page = self.get(path)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return self.request("POST", path, data={"csrfmiddlewaretoken": token, **data})


def current_code():
    from django_otp.oath import totp

    return f"{totp(bytes.fromhex(TOTP_KEY)):06d}"


def terminate_connections(server, application_name):
    with psycopg.connect(dbname="postgres", autocommit=True, **server) as admin:
        return admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = %s",
            [application_name],
        ).fetchone()[0]


def test_production_settings_end_to_end(fresh_database, tmp_path):
    database_url, server, database_name = fresh_database
    processes = []
    with redis_server(tmp_path) as (redis_url, _redis):
        env = production_env(database_url, redis_url, tmp_path)
        try:
            # The one-off steps: migrations (the migrate service / Job), static files (the image build).
            manage(env, "migrate", "--noinput")
            manage(env, "collectstatic", "--noinput", "--verbosity", "0")
            manage(env, "shell", "-c", SETUP)
            manage(env, "check", "--deploy", "--fail-level", "WARNING")

            port = free_port()
            web = Process([BIN / "gunicorn", "reoffending.wsgi:application", "--bind", f"127.0.0.1:{port}",
                           "--workers", "2"], env=env, log_dir=tmp_path, name="gunicorn")
            worker = Process([BIN / "celery", "-A", "reoffending", "worker", "--concurrency", "1",
                              "--loglevel", "info", "--hostname", f"e2e-{port}@%h"],
                             env=env, log_dir=tmp_path, name="worker")
            beat = Process([BIN / "celery", "-A", "reoffending", "beat", "--loglevel", "info"],
                           env=env, log_dir=tmp_path, name="beat")
            processes += [web, worker, beat]
            browser = Browser(port)
            wait_for(lambda: browser.get("/health/live/", host="10.0.0.5:8000", proto="http").ok, timeout=60,
                     what="gunicorn to answer")

            # Behind the proxy: HTTPS only, for the site's own name only.
            assert browser.get("/sign-in/", proto="http").status_code == 301
            assert browser.get("/sign-in/", host="evil.example.com").status_code == 400
            signing_in = browser.get("/sign-in/")
            assert signing_in.status_code == 200 and "Strict-Transport-Security" in signing_in.headers

            # A member of staff signs in: password, then the code from their authenticator app.
            after_password = browser.post_form("/sign-in/", {"username": "om.police", "password": PASSWORD})
            assert after_password.status_code == 302, after_password.text[:500]
            code_page = browser.follow(after_password)
            assert "/sign-in/security-code/" in code_page, code_page
            after_code = browser.post_form(code_page.split("?")[0], {"token": current_code()})
            assert after_code.status_code == 302, after_code.text[:2000]
            case_list = browser.get("/cases/")
            assert case_list.status_code == 200
            assert "Olu Mensah" in case_list.text or "om.police" in case_list.text

            # Beat queues the scheduled roll-up from the database; the worker runs it and records it.
            def a_scheduled_roll_up_succeeded():
                with psycopg.connect(database_url) as db:
                    return db.execute("SELECT count(*) FROM dashboard_rolluprun WHERE status = 'succeeded'"
                                      ).fetchone()[0] > 0

            wait_for(a_scheduled_roll_up_succeeded, timeout=120, interval=1,
                     what=f"a scheduled roll-up\n{beat.output()[-2000:]}\n{worker.output()[-2000:]}")

            # Readiness from inside the network: every dependency answering, a worker included.
            ready = browser.get("/health/ready/", host="10.0.0.5:8000", proto="http")
            assert ready.status_code == 200, ready.text
            assert ready.json()["checks"]["worker"]["ok"] is True

            # Every database connection of the web workers cut off, as by a restart or a failover:
            # the next requests (whichever worker takes them) still succeed.
            for _ in range(4):
                assert browser.get("/cases/").status_code == 200
            assert terminate_connections(server, "reoffending-e2e") >= 1
            statuses = [browser.get("/cases/").status_code for _ in range(6)]
            assert statuses == [200] * 6, statuses

            # Request metrics, added up across both gunicorn workers, for the scraper only.
            assert browser.get("/metrics", host="10.0.0.5:8000", proto="http").status_code == 404
            metrics = browser.get("/metrics", host="10.0.0.5:8000", proto="http",
                                  headers={"Authorization": "Bearer e2e-metrics-token"})
            assert metrics.status_code == 200
            served = re.search(
                r'django_http_responses_total_by_status_view_method_total\{method="GET",status="200",'
                r'view="cases:list"\} (\d+)', metrics.text)
            assert served and float(served.group(1)) >= 11, metrics.text[:3000]
        finally:
            for process in reversed(processes):
                process.stop()
    # gunicorn, the worker and beat all stopped cleanly when asked.
    assert [p.popen.returncode for p in processes] == [0, 0, 0], "\n".join(p.output()[-1500:] for p in processes)
    assert not [p for p in processes if p.running()]
    assert "Internal Server Error" not in web.output(), web.output()[-3000:]
