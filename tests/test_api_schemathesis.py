"""Schema-driven test: requests generated from the live OpenAPI schema never make the API fail with a 5xx.

Schemathesis builds requests for every operation of /api/v1/schema/ (valid and
invalid bodies, query strings and ids) and sends them to the WSGI app as a
signed-in offender manager, the role that can reach every operation.
"""

import time

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from .factories import AppointmentFactory, MembershipFactory

EXAMPLES_PER_OPERATION = 8


@pytest.fixture
def wsgi_app():
    """The real WSGI application, minus closing the database connection after each request (as Django's own test
    client does), so requests run inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def live_schema(partnership):
    """The schema exactly as the API serves it."""
    client = APIClient()
    token = Token.objects.create(user=partnership.police_om).key
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return schemathesis.openapi.from_dict(response.json()), {"Authorization": f"Token {token}"}


def test_generated_requests_never_cause_a_server_error(live_schema, partnership, wsgi_app):
    schema, auth = live_schema
    # Some real rows so generated ids sometimes hit records, not only 404s.
    AppointmentFactory(offender=partnership.iom_person)
    MembershipFactory(offender=partnership.police_only_person, cohort="dip")
    app = wsgi_app
    failures, operations = [], 0
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def send(case):
            response = case.call(app=app, headers=auth)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code}\n"
                                f"{case.as_curl_command(headers=auth)}")

        send()
    print(f"\n[schemathesis] {operations} operations, {time.perf_counter() - started:.1f}s")
    assert operations >= 20
    assert not failures, "\n\n".join(failures[:10])
