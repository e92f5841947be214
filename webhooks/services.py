"""Registering, pausing, resuming and replaying webhooks: agency administrators only.

An agency's subscriptions are managed by its administrators; what a subscription is sent is what
the administrator who registered it may see, checked again when each delivery is made.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases.models import Offender, Role

from . import addresses
from .models import Delivery, Subscription

DEFAULT_PORTS = {"https": 443, "http": 80}


def may_manage(user):
    return bool(user.is_active and user.agency_id and user.role == Role.AGENCY_ADMIN)


def ensure_manager(user, subscription=None):
    if not may_manage(user):
        raise PermissionDenied("Only your agency's administrators can manage webhooks.")
    if subscription is not None and subscription.agency_id != user.agency_id:
        raise PermissionDenied("This webhook belongs to another agency.")


def may_receive(subscription, person_id):
    """Whether the subscription may be sent an event about this person (None: about nobody)."""
    if person_id is None:
        return True
    owner = subscription.created_by
    if not owner.is_active or owner.agency_id != subscription.agency_id:
        return False
    return Offender.objects.visible_to(owner).filter(pk=person_id).exists()


def validate_url(url):
    """An https:// address (http:// where the settings allow) of a host that is not on a private network.

    A name that cannot be resolved now is accepted: each delivery checks the address again."""
    if not url.startswith("https://") and not (settings.WEBHOOKS_ALLOW_HTTP and url.startswith("http://")):
        raise ValidationError({"url": ["Give an https:// address: deliveries carry personal data."]})
    try:
        parts = urlsplit(url)
        addresses.checked_addresses(parts.hostname, parts.port or DEFAULT_PORTS[parts.scheme])
    except addresses.PrivateAddress as refusal:
        raise ValidationError({"url": [str(refusal)]}) from None
    except (OSError, ValueError):
        pass


def register(user, *, url, event_types):
    """A new subscription of the user's agency; its secret is shown to the caller once."""
    ensure_manager(user)
    validate_url(url)
    subscription = Subscription(agency_id=user.agency_id, created_by=user, url=url, event_types=list(event_types))
    subscription.full_clean()
    subscription.save()
    return subscription


@transaction.atomic
def resume(user, subscription):
    """A paused subscription is sent events again (those raised while it was paused are not)."""
    ensure_manager(user, subscription)
    subscription = Subscription.objects.select_for_update().get(pk=subscription.pk)
    subscription.paused_at = None
    subscription.failures_in_a_row = 0
    subscription.save(update_fields=["paused_at", "failures_in_a_row"])
    return subscription


def withdraw(user, subscription):
    ensure_manager(user, subscription)
    subscription.delete()


@transaction.atomic
def replay(user, delivery):
    """Send a delivery again, as it was first sent; refused when its person may no longer be seen."""
    ensure_manager(user, delivery.subscription)
    if not may_receive(delivery.subscription, delivery.offender_id):
        raise ValidationError("The person this event is about is no longer visible to your agency: not sent.")
    delivery = Delivery.objects.select_for_update().get(pk=delivery.pk)
    delivery.status = Delivery.Status.PENDING
    delivery.attempts = 0
    delivery.last_error = ""
    delivery.delivered_at = None
    delivery.save(update_fields=["status", "attempts", "last_error", "delivered_at"])
    from .tasks import queue

    transaction.on_commit(lambda: queue(delivery))
    return delivery


def pause(subscription):
    Subscription.objects.filter(pk=subscription.pk).update(paused_at=timezone.now())
