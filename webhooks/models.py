"""Webhook subscriptions of partner agencies, and every delivery made to them."""

import secrets
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models import Agency


class EventType(models.TextChoices):
    PERSON_CHANGED = "person.changed", "A person's details changed"
    RAG_CHANGED = "rag.changed", "A person's RAG status changed"
    REFERRAL_CHANGED = "referral.changed", "A referral was received or updated"
    ACTION_CHANGED = "action.changed", "An action was set, assigned or completed"
    PANEL_DECISION = "panel.decision", "A panel recorded a decision about a person"
    IMPORT_FINISHED = "import.finished", "An import run of the agency finished"


def new_secret():
    return secrets.token_urlsafe(32)


def validate_event_types(value):
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one event type.")
    unknown = sorted(set(value) - set(EventType.values))
    if unknown:
        raise ValidationError(f"Not an event type: {', '.join(unknown)}.")


class Subscription(models.Model):
    """An agency's endpoint that is sent the events it chose, about the people the agency may see.

    Registered by one of the agency's administrators, whose view of people decides what is sent: a
    person the agency may not see is never named. Paused after `PAUSE_AFTER` deliveries in a row
    failed every attempt; the agency's administrators are told.
    """

    PAUSE_AFTER = 3

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="webhook_subscriptions")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=64, default=new_secret)
    event_types = models.JSONField(validators=[validate_event_types])
    created_at = models.DateTimeField(default=timezone.now)
    paused_at = models.DateTimeField(null=True, blank=True)
    failures_in_a_row = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.agency}: {self.url}"

    @property
    def paused(self):
        return self.paused_at is not None


class Delivery(models.Model):
    """One event sent (or to be sent) to one subscription: what was sent, how often, and how it went."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed every attempt"

    MAX_ATTEMPTS = 5

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="deliveries")
    event_id = models.UUIDField(default=uuid.uuid4)
    event_type = models.CharField(max_length=30, choices=EventType.choices)
    # Not a foreign key: the log of what was sent outlives the person's record.
    offender_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.CheckConstraint(
                condition=Q(delivered_at__isnull=True) | Q(status="delivered"), name="webhook_delivered_when_stamped"
            ),
        ]

    def __str__(self):
        return f"{self.event_type} to {self.subscription_id} ({self.get_status_display()})"
