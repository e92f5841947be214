"""The API answers as its OpenAPI schema says, checked by a property-based tester on every operation.

Schemathesis reads the live schema at /api/v1/schema/, generates valid and invalid requests for
every operation and sends them to the real WSGI application, signed in with a token of the role
that reaches the operation (an offender manager; for webhooks, an agency administrator), and runs
all of its checks on each
answer: a status code the schema documents, the content type and body it documents, valid
requests accepted and invalid ones refused, no server error, no credentials ignored. Each
operation is tried twice: with generated ids (mostly records that are not there) and with the
ids of real records the user may see, so that reads and changes are exercised, not only 404s.
Any finding fails the test.

One check is relaxed where no schema can be exact: a body that fits the schema can still break
a rule between its fields or name a record that does not exist, so an operation that takes a
body may refuse a generated one with 400 (whose body must still be the documented error).
"""

import os
import time

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.core.failures import FailureGroup
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from accounts.models import ApiToken
from cases.models import Cohort, CohortMembership
from feeds.models import ImportRun
from webhooks.models import Delivery, Subscription

from .factories import AppointmentFactory, MembershipFactory
from .panels_factories import AgendaItemFactory, MeetingFactory, PanelFactory
from .pathways_factories import ActionFactory, NeedAssessmentFactory, ReferralFactory

# Examples of each kind per operation: a few in CI; set API_CONFORMANCE_EXAMPLES higher for a deeper search.
EXAMPLES = int(os.environ.get("API_CONFORMANCE_EXAMPLES", "4"))
# Query parameters that only make sense together, or values only the API can make, which a schema cannot say: a
# valid value of each may still be refused with 400 in combination (or, for a cursor, as one the API did not sign).
DEPENDENT_PARAMETERS = {
    "GET /api/v1/measures/{name}/": "a slice is one of its dimension's",
    "GET /api/v1/people/": "a cursor is one the API gave, and cursor pages are neither numbered nor sorted",
}


@pytest.fixture
def wsgi_app():
    """The real WSGI application, minus closing the database connection after each request (as Django's own test
    client does), so requests run inside the test's transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


class TokenHeader:
    """The Authorization header of a current token of the user. Generated requests include withdrawing
    tokens (DELETE /token/ withdraws the one it is sent with), so a withdrawn token is replaced."""

    def __init__(self, user):
        self.user = user
        self.record, self.token = ApiToken.objects.create(user=user)

    def __call__(self):
        if not ApiToken.objects.filter(pk=self.record.pk).exists():
            self.record, self.token = ApiToken.objects.create(user=self.user)
        return {"Authorization": f"Token {self.token}"}


def real_records(p):
    """A case with something of every kind, visible to the police offender manager; path ids by collection."""
    person = p.iom_person
    ended = MembershipFactory(offender=person, cohort=Cohort.DIP)
    CohortMembership.objects.filter(pk=ended.pk).update(ended_on=ended.started_on, exit_reason="completed")
    panel = PanelFactory(area=p.area, chair=p.police_om, members=[p.police, p.probation])
    meeting = MeetingFactory(panel=panel)
    item = AgendaItemFactory(meeting=meeting, offender=person)
    action = ActionFactory(offender=person)
    spare_record, _token = ApiToken.objects.create(user=p.police_om)
    subscription = Subscription.objects.create(agency=p.police, created_by=p.police_admin,
                                               url="https://partner.example.org/events", event_types=["rag.changed"])
    delivery = Delivery.objects.create(subscription=subscription, event_type="rag.changed", offender_id=person.pk,
                                       payload={"type": "rag.changed", "data": {"person": person.pk}})
    run = ImportRun.objects.create(user=p.police_om, agency=p.police, kind="rag", filename="rag.csv",
                                 channel=ImportRun.Channel.API)
    return {
        "person_pk": person.pk, "meeting_pk": meeting.pk, "name": "cohort_size",
        "people": person.pk, "actions": action.pk, "referrals": ReferralFactory(offender=person).pk,
        "needs": NeedAssessmentFactory(offender=person).pk, "appointments": AppointmentFactory(offender=person).pk,
        "memberships": person.cohort_memberships.filter(ended_on__isnull=True).first().pk,
        "rag-changes": None, "items": item.pk, "panel-meetings": meeting.pk, "panels": panel.pk,
        "pathways": 1, "services": None, "tokens": spare_record.pk, "feed-runs": run.pk,
        "webhooks": subscription.pk, "webhook-deliveries": delivery.pk,
    }


def path_parameters(path, records):
    """The ids of real records for the operation's path, or None when there is none of that kind."""
    parts = path.strip("/").split("/")
    values = {}
    for position, part in enumerate(parts):
        if part.startswith("{"):
            name = part[1:-1]
            value = records.get(parts[position - 1]) if name == "id" else records.get(name)
            if value is None:
                return None
            values[name] = value
    return values


def test_every_operation_answers_as_its_schema_says(partnership, wsgi_app):
    case_worker, administrator = TokenHeader(partnership.police_om), TokenHeader(partnership.police_admin)
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/schema/", wsgi_app, headers={**case_worker(), "Accept": "application/vnd.oai.openapi+json"}
    )
    records = real_records(partnership)
    findings, counts = {}, {"operations": 0, "requests": 0}
    started = time.perf_counter()

    def check(case, label, mode, excluded):
        counts["requests"] += 1
        headers = (administrator if case.operation.path.startswith("/api/v1/webhook") else case_worker)()
        response = case.call(headers=headers)
        try:
            case.validate_response(response, headers=headers, excluded_checks=excluded,
                                   transport_kwargs={"app": wsgi_app})
        except FailureGroup as group:
            for failure in group.exceptions:
                findings.setdefault((label, mode.value, failure.title), (
                    f"{failure.message}\n{case.as_curl_command(headers=headers)}\n"
                    f"-> {response.status_code} {response.text[:500]}"
                ))

    def examples(strategy, label, mode, excluded):
        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def send(case):
            check(case, label, mode, excluded)

        return send

    for result in schema.get_all_operations():
        operation = result.ok()
        counts["operations"] += 1
        relaxed = operation.body or operation.label in DEPENDENT_PARAMETERS
        excluded = [positive_data_acceptance] if relaxed else []
        real_ids = path_parameters(operation.path, records) if "{" in operation.path else None
        # Generated ids mostly name nothing, so with them only invalid requests are sent; real ids get both.
        runs = [(None, GenerationMode.POSITIVE), (None, GenerationMode.NEGATIVE)]
        if real_ids:
            runs = [(None, GenerationMode.NEGATIVE), (real_ids, GenerationMode.POSITIVE),
                    (real_ids, GenerationMode.NEGATIVE)]
        for fixed, mode in runs:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=fixed)
            try:
                examples(strategy, operation.label, mode, excluded)()
            except Unsatisfiable:
                # Nothing in the request can be made invalid (no parameters, or only fixed ones): nothing to refuse.
                assert mode == GenerationMode.NEGATIVE, operation.label
    operations, requests = counts["operations"], counts["requests"]
    print(f"\n[schemathesis] {operations} operations, {requests} requests, {time.perf_counter() - started:.1f}s")
    assert operations >= 50
    report = "\n\n".join(f"{label} ({mode}): {title}\n{text}" for (label, mode, title), text in findings.items())
    assert not findings, f"{len(findings)} findings:\n\n{report}"
