"""Alerts: what a member of staff needs to know about the people they work with, until they clear it."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models import Offender


class AlertQuerySet(models.QuerySet):
    def for_user(self, user):
        """The user's own alerts, about people their agency may see now.

        Visibility is checked when the alerts are read as well as when they are raised: an alert
        about a person whose case is no longer shared with the agency is not shown.
        """
        if not getattr(user, "is_authenticated", False) or not user.sees_people:
            return self.none()
        return self.filter(recipient=user, offender__in=Offender.objects.visible_to(user))

    def current(self):
        return self.filter(cleared_at__isnull=True)


class Alert(models.Model):
    class Kind(models.TextChoices):
        ACTION_ASSIGNED = "action_assigned", "Action assigned"
        REFERRAL_RECEIVED = "referral_received", "Referral received"
        CASE_CHANGED = "case_changed", "Case changed by another agency"
        NEW_OFFENCE = "new_offence", "New offence from a partner system"
        OUTCOME_OVERDUE = "outcome_overdue", "Outcome not recorded"

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="alerts")
    # The person the alert is about: erasing their record erases its alerts.
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    # Written for this recipient, from what their agency may see when it was raised.
    message = models.CharField(max_length=300)
    link = models.CharField(max_length=200, help_text="The page the alert is about, within this service.")
    # Set for alerts that must be raised once only (an overdue outcome, an offence from a feed).
    key = models.CharField(max_length=100, blank=True, default="")
    created_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)

    objects = AlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["recipient", "key"], condition=~Q(key=""), name="alert_raised_once"),
            models.CheckConstraint(condition=Q(kind__in=[
                "action_assigned", "referral_received", "case_changed", "new_offence", "outcome_overdue",
            ]), name="alert_kind_valid"),
        ]
        indexes = [
            # The header's count and the list: a user's uncleared alerts, newest first.
            models.Index(fields=["recipient", "-created_at"], condition=Q(cleared_at__isnull=True),
                         name="alert_current_idx"),
            models.Index(fields=["recipient", "-cleared_at"], name="alert_cleared_idx"),
            models.Index(fields=["key"], condition=~Q(key=""), name="alert_key_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} for {self.recipient}"

    @property
    def is_cleared(self):
        return self.cleared_at is not None


class AlertSettings(models.Model):
    """A member of staff's choices about alerts."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.CASCADE, related_name="alert_settings"
    )
    email = models.BooleanField(
        "Email me when I have a new alert", default=False,
        help_text="The email says only that there is a new alert: sign in to read it.",
    )

    class Meta:
        verbose_name_plural = "alert settings"

    def __str__(self):
        return f"Alert settings of {self.user}"
