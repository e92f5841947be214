"""Sending deliveries: signed, retried with backoff, recorded; a subscription that keeps failing is paused."""

import http.client
import json
import logging
import socket
import ssl
from urllib.parse import urlsplit

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone
from kombu.exceptions import OperationalError

from cases.audit import log_access
from cases.models import AccessLogEntry, Role, User

from . import addresses, signing
from .models import Delivery, Subscription
from .services import DEFAULT_PORTS, may_receive

logger = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10


def backoff_seconds(attempts):
    """30 seconds after the first failure, doubling to at most an hour."""
    return min(30 * 2 ** max(attempts - 1, 0), 3600)


def queue(delivery, countdown=None):
    try:
        deliver.apply_async((delivery.pk,), countdown=countdown)
    except OperationalError:
        # The delivery stays pending in the log, to be replayed; the change that raised it is saved.
        logger.exception("Webhook delivery %s could not be queued", delivery.pk)


@shared_task(name="webhooks.tasks.deliver", ignore_result=True)
def deliver(delivery_id):
    """One attempt at a pending delivery; the next is queued with backoff until MAX_ATTEMPTS."""
    delivery = (
        Delivery.objects.filter(pk=delivery_id, status=Delivery.Status.PENDING)
        .select_related("subscription__created_by", "subscription__agency").first()
    )
    if delivery is None or delivery.subscription.paused:
        return None
    subscription = delivery.subscription
    if not may_receive(subscription, delivery.offender_id):
        _record(delivery, Delivery.Status.FAILED, None, "The person is no longer visible to the agency: not sent.")
        return delivery.status
    code, error = _send(subscription, delivery)
    if error is None:
        _record(delivery, Delivery.Status.DELIVERED, code, "")
        Subscription.objects.filter(pk=subscription.pk).update(failures_in_a_row=0)
        if delivery.offender_id is not None:
            log_access(subscription.created_by, AccessLogEntry.Action.EXPORT, object_type="cases.offender",
                       object_id=delivery.offender_id, offender=delivery.offender_id,
                       detail=f"Webhook {delivery.event_type} sent to {urlsplit(subscription.url).hostname}")
    elif delivery.attempts + 1 < Delivery.MAX_ATTEMPTS:
        _record(delivery, Delivery.Status.PENDING, code, error)
        queue(delivery, countdown=backoff_seconds(delivery.attempts))
    else:
        _record(delivery, Delivery.Status.FAILED, code, error)
        _count_failure(subscription)
    return delivery.status


def _send(subscription, delivery):
    """(status code, None) when the endpoint answered 2xx, else (status code or None, what went wrong).

    The endpoint's host is resolved and checked here, at each attempt, and the connection is made to the
    address that was checked; a redirect is not followed (it is a failure, like any answer but 2xx)."""
    body = json.dumps(delivery.payload, separators=(",", ":")).encode()
    parts = urlsplit(subscription.url)
    port = parts.port or DEFAULT_PORTS[parts.scheme]
    try:
        address = addresses.checked_addresses(parts.hostname, port)[0]
    except addresses.PrivateAddress as refusal:
        return None, f"Not sent: {refusal}"
    except (OSError, UnicodeError) as error:
        return None, f"Could not find the endpoint: {error}"[:500]
    connection = _connection(parts.scheme, parts.hostname, port, address)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    try:
        connection.request("POST", path, body=body, headers={
            "Content-Type": "application/json",
            "User-Agent": "reoffending-webhooks/1",
            "Webhook-Id": str(delivery.event_id),
            "Webhook-Event": delivery.event_type,
            "Webhook-Signature": signing.signature_header(subscription.secret, body),
        })
        code = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        return None, f"Could not reach the endpoint: {error}"[:500]
    finally:
        connection.close()
    if 200 <= code < 300:
        return code, None
    return code, f"The endpoint answered {code}."


def _connection(scheme, host, port, address):
    """An HTTP(S) connection to `host` (its name in the Host header and, for https, in the certificate check)
    that is made to `address`, the one checked, not to whatever the name resolves to a moment later."""
    if scheme == "https":
        connection = http.client.HTTPSConnection(host, port, timeout=TIMEOUT_SECONDS,
                                                 context=ssl.create_default_context())
    else:
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT_SECONDS)

    def connect_to_checked(_address, *args, **kwargs):
        return socket.create_connection((address, port), *args, **kwargs)

    connection._create_connection = connect_to_checked
    return connection


def _record(delivery, status, code, error):
    delivery.status = status
    delivery.attempts += 1
    delivery.last_status_code = code
    delivery.last_error = error
    delivery.last_attempt_at = timezone.now()
    delivery.delivered_at = delivery.last_attempt_at if status == Delivery.Status.DELIVERED else None
    delivery.save(update_fields=["status", "attempts", "last_status_code", "last_error", "last_attempt_at",
                                 "delivered_at"])


def _count_failure(subscription):
    Subscription.objects.filter(pk=subscription.pk).update(failures_in_a_row=F("failures_in_a_row") + 1)
    subscription.refresh_from_db(fields=["failures_in_a_row", "paused_at"])
    if subscription.paused or subscription.failures_in_a_row < Subscription.PAUSE_AFTER:
        return
    Subscription.objects.filter(pk=subscription.pk, paused_at__isnull=True).update(paused_at=timezone.now())
    administrators = User.objects.filter(agency_id=subscription.agency_id, role=Role.AGENCY_ADMIN, is_active=True)
    recipients = [user.email for user in administrators if user.email]
    if recipients:
        # Says which endpoint, never who the events were about.
        send_mail(
            f"{settings.SERVICE_NAME}: a webhook has been paused",
            f"Deliveries to {subscription.url} failed {subscription.failures_in_a_row} times in a row, so it has "
            "been paused. Check the endpoint, then resume the webhook; failed deliveries can be replayed.",
            None, recipients,
        )
