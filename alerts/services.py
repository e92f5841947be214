"""Changes people make to their own alerts."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import Alert, AlertSettings


def clear_alerts(user, *, ids=None):
    """Clear the user's own current alerts: those named by `ids`, or all of them. Returns how many were cleared.

    Ids of alerts that are not the user's, or are about people their agency may no longer see, clear nothing.
    """
    alerts = Alert.objects.for_user(user).current()
    if ids is not None:
        alerts = alerts.filter(pk__in=ids)
    return Alert.objects.filter(pk__in=alerts.values("pk")).update(cleared_at=timezone.now())


@transaction.atomic
def save_alert_settings(user, *, email):
    """Choose whether to be emailed of new alerts; refused without an email address to send to."""
    if email and not user.email:
        raise ValidationError({"email": (
            "Your account has no email address. Ask your agency administrator to add one, then choose this again."
        )})
    settings, _ = AlertSettings.objects.update_or_create(user=user, defaults={"email": email})
    return settings
