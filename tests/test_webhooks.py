"""Webhooks, delivered to a real HTTP receiver on this machine: signed, retried, paused, replayed, and never
about a person the subscribing agency may not see."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core import mail

from cases import services as case_services
from cases.models import AccessLogEntry, RagStatus, Role
from webhooks import addresses, signing
from webhooks.models import Delivery, Subscription

from .factories import UserFactory

API = "/api/v1"


class Receiver:
    """A local HTTP endpoint that records each POST and answers with the next planned status (then 200)."""

    def __init__(self, statuses=(), location=None):
        self.statuses = list(statuses)
        self.requests = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                if location:
                    self.send_header("Location", location)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self):
        return [json.loads(request["body"]) for request in self.requests]


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True  # the receiver listens on this machine's loopback
    started = []

    def start(statuses=(), location=None):
        started.append(Receiver(statuses, location))
        return started[-1]

    yield start
    for server in started:
        server.close()


def subscribe(api_for, admin, url, event_types=("rag.changed",)):
    response = api_for(admin).post(f"{API}/webhooks/", {"url": url, "event_types": list(event_types)}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def change_rag(partnership, person, to_status, commit):
    with commit(execute=True):
        case_services.record_rag_change(partnership.police_om, person, to_status=to_status, reason="Reviewed")


def test_a_rag_change_is_delivered_signed_and_logged_as_a_disclosure(
    partnership, api_for, receiver, django_capture_on_commit_callbacks
):
    endpoint = receiver()
    subscription = subscribe(api_for, partnership.police_admin, endpoint.url)
    change_rag(partnership, partnership.iom_person, RagStatus.RED, django_capture_on_commit_callbacks)

    [request] = endpoint.requests
    header = request["headers"]["Webhook-Signature"]
    assert signing.verify(subscription["secret"], request["body"], header)
    assert not signing.verify("another secret", request["body"], header)
    assert not signing.verify(subscription["secret"], request["body"] + b" ", header)
    [event] = endpoint.events()
    assert event["type"] == "rag.changed"
    assert event["data"]["person"] == partnership.iom_person.pk
    assert event["data"]["to_status"] == "red"
    assert request["headers"]["Webhook-Id"] == event["id"]
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 1, 200)
    assert AccessLogEntry.objects.filter(
        action=AccessLogEntry.Action.EXPORT, offender_id=partnership.iom_person.pk, user=partnership.police_admin,
        detail__startswith="Webhook rag.changed sent to 127.0.0.1",
    ).exists()


def test_the_signature_goes_stale():
    header = signing.signature_header("secret", b"{}", timestamp=1_000_000)
    assert signing.verify("secret", b"{}", header, now=1_000_000 + 60)
    assert not signing.verify("secret", b"{}", header, now=1_000_000 + 600)


def test_a_failed_delivery_is_retried_until_it_gets_through(
    partnership, api_for, receiver, django_capture_on_commit_callbacks
):
    endpoint = receiver([500, 503])
    subscribe(api_for, partnership.police_admin, endpoint.url)
    change_rag(partnership, partnership.iom_person, RagStatus.AMBER, django_capture_on_commit_callbacks)

    assert len(endpoint.requests) == 3
    assert len({request["headers"]["Webhook-Id"] for request in endpoint.requests}) == 1
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("delivered", 3, 200)


def test_an_endpoint_that_keeps_failing_is_paused_its_administrators_told_and_deliveries_can_be_replayed(
    partnership, api_for, receiver, django_capture_on_commit_callbacks
):
    partnership.police_admin.email = "admin@police.example.org"
    partnership.police_admin.save()
    endpoint = receiver([500] * (Delivery.MAX_ATTEMPTS * Subscription.PAUSE_AFTER))
    subscription = subscribe(api_for, partnership.police_admin, endpoint.url)
    for status in [RagStatus.RED, RagStatus.AMBER, RagStatus.GREEN]:
        change_rag(partnership, partnership.iom_person, status, django_capture_on_commit_callbacks)

    assert len(endpoint.requests) == Delivery.MAX_ATTEMPTS * Subscription.PAUSE_AFTER
    assert set(Delivery.objects.values_list("status", flat=True)) == {"failed"}
    assert Delivery.objects.first().last_error == "The endpoint answered 500."
    assert Subscription.objects.get().paused
    [message] = mail.outbox
    assert message.to == ["admin@police.example.org"]
    assert endpoint.url in message.body
    assert "Ashworth" not in message.body

    # Paused: nothing more is sent.
    change_rag(partnership, partnership.iom_person, RagStatus.RED, django_capture_on_commit_callbacks)
    assert len(endpoint.requests) == Delivery.MAX_ATTEMPTS * Subscription.PAUSE_AFTER

    client = api_for(partnership.police_admin)
    assert client.post(f"{API}/webhooks/{subscription['id']}/resume/").json()["paused"] is False
    failed = Delivery.objects.filter(status="failed").order_by("pk").first()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{API}/webhook-deliveries/{failed.pk}/replay/")
    assert response.status_code == 202, response.json()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == ("delivered", 1)
    assert json.loads(endpoint.requests[-1]["body"])["id"] == str(failed.event_id)
    log = client.get(f"{API}/webhook-deliveries/", {"status": "delivered"}).json()
    assert [row["id"] for row in log["results"]] == [failed.pk]


def test_no_event_about_a_person_the_subscribing_agency_may_not_see(
    partnership, api_for, receiver, django_capture_on_commit_callbacks
):
    probation_admin = UserFactory(agency=partnership.probation, role=Role.AGENCY_ADMIN)
    housing_admin = UserFactory(agency=partnership.housing, role=Role.AGENCY_ADMIN)
    probation, housing = receiver(), receiver()
    subscribe(api_for, probation_admin, probation.url, ["rag.changed", "person.changed"])
    subscribe(api_for, housing_admin, housing.url, ["rag.changed", "person.changed"])

    # Probation sees the IOM case under the sharing agreement; nobody but the police sees the other person.
    for person in [partnership.iom_person, partnership.police_only_person]:
        change_rag(partnership, person, RagStatus.RED, django_capture_on_commit_callbacks)
        person.refresh_from_db()
        with django_capture_on_commit_callbacks(execute=True):
            case_services.update_offender(partnership.police_om, person, expected_version=person.version,
                                          address="1 New Road")

    people = {event["data"]["person"] for event in probation.events()}
    assert people == {partnership.iom_person.pk}
    assert {event["type"] for event in probation.events()} == {"rag.changed", "person.changed"}
    assert housing.requests == []
    assert not Delivery.objects.filter(offender_id=partnership.police_only_person.pk).exists()


def test_only_an_agencys_administrators_manage_its_webhooks(partnership, api_for, receiver):
    endpoint = receiver()
    assert api_for(partnership.police_om).get(f"{API}/webhooks/").status_code == 403
    subscription = subscribe(api_for, partnership.police_admin, endpoint.url)
    other_admin = UserFactory(agency=partnership.probation, role=Role.AGENCY_ADMIN)
    assert api_for(other_admin).get(f"{API}/webhooks/{subscription['id']}/").status_code == 404
    assert api_for(other_admin).get(f"{API}/webhooks/").json()["results"] == []
    listed = api_for(partnership.police_admin).get(f"{API}/webhooks/").json()["results"]
    assert [row["id"] for row in listed] == [subscription["id"]]
    assert "secret" not in listed[0]


def test_an_endpoint_must_be_https_and_event_types_known(partnership, api_for, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    client = api_for(partnership.police_admin)
    plain = client.post(f"{API}/webhooks/", {"url": "http://partner.example.org/hook", "event_types": ["rag.changed"]},
                        format="json")
    assert plain.status_code == 400
    assert "https://" in plain.json()["url"][0]
    unknown = client.post(f"{API}/webhooks/", {"url": "https://partner.example.org/hook", "event_types": ["x"]},
                          format="json")
    assert unknown.status_code == 400
    assert "event_types" in unknown.json()
    assert not Subscription.objects.exists()


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/events", "http://localhost/events", "http://[::1]/events", "https://10.1.2.3/events",
    "http://169.254.169.254/latest/meta-data/", "http://127.1.2.3/events", "https://[::ffff:192.168.0.1]/",
])
def test_an_endpoint_on_a_private_or_local_network_is_refused(partnership, api_for, settings, url):
    settings.WEBHOOKS_ALLOW_HTTP, settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True, False
    refused = api_for(partnership.police_admin).post(f"{API}/webhooks/", {"url": url, "event_types": ["rag.changed"]},
                                                     format="json")
    assert refused.status_code == 400
    assert refused.json()["url"] == [addresses.REFUSAL]
    assert not Subscription.objects.exists()


def test_only_public_addresses_are_public():
    assert addresses.is_public("93.184.215.14") and addresses.is_public("2a00:1450:4009:81f::200e")
    for address in ["127.0.0.1", "10.0.0.1", "172.16.5.4", "192.168.1.1", "100.64.0.1", "169.254.169.254",
                    "0.0.0.0",  # noqa: S104 - an address checked, not bound
                    "224.0.0.1", "::1", "fe80::1", "fc00::1", "::ffff:10.0.0.1"]:
        assert not addresses.is_public(address), address


def test_a_delivery_checks_the_address_again_and_sends_nothing_to_a_private_one(
    partnership, api_for, receiver, settings, django_capture_on_commit_callbacks
):
    # Registered while allowed (as a name might resolve to a public address then and a private one later).
    endpoint = receiver()
    subscribe(api_for, partnership.police_admin, endpoint.url.replace("127.0.0.1", "localhost"))
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False
    change_rag(partnership, partnership.iom_person, RagStatus.RED, django_capture_on_commit_callbacks)

    assert endpoint.requests == []
    delivery = Delivery.objects.get()
    assert delivery.status != "delivered" and delivery.last_error == f"Not sent: {addresses.REFUSAL}"
    assert not AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT).exists()


def test_a_redirect_is_not_followed(partnership, api_for, receiver, django_capture_on_commit_callbacks):
    elsewhere = receiver()
    endpoint = receiver([302] * Delivery.MAX_ATTEMPTS, location=elsewhere.url)
    subscribe(api_for, partnership.police_admin, endpoint.url)
    change_rag(partnership, partnership.iom_person, RagStatus.RED, django_capture_on_commit_callbacks)

    assert len(endpoint.requests) == Delivery.MAX_ATTEMPTS and elsewhere.requests == []
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_status_code) == ("failed", 302)
