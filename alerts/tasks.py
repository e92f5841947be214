"""Alerts raised on a schedule (outcomes not recorded) and the emails that say there is a new alert."""

import datetime

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from cases.models import Appointment, User

from .delivery import Notice, deliver
from .models import Alert
from .receivers import overdue_key

OVERDUE_TASK = "alerts.tasks.raise_overdue_outcome_alerts"
# An outcome is overdue a day after the appointment: time to write it up the same day or the next.
OVERDUE_AFTER = datetime.timedelta(days=1)
# Older appointments without an outcome are for the case review, not an alert each.
LOOK_BACK = datetime.timedelta(days=28)


def overdue_notices(now):
    """A notice for each appointment past its time without an outcome, to the member of staff who held it
    (or, when nobody is named, the lead offender manager if they work for the agency that held it)."""
    due = Appointment.objects.filter(
        outcome=Appointment.Outcome.SCHEDULED, scheduled_at__lt=now - OVERDUE_AFTER,
        scheduled_at__gte=now - LOOK_BACK,
    ).select_related("staff", "offender__lead_offender_manager").order_by("scheduled_at", "pk")
    for appointment in due.iterator(chunk_size=2_000):
        recipient = appointment.staff
        manager = appointment.offender.lead_offender_manager
        if recipient is None and manager is not None and manager.agency_id == appointment.agency_id:
            recipient = manager
        if recipient is None:
            continue
        when = timezone.localtime(appointment.scheduled_at)
        yield Notice(
            recipient, appointment.offender_id, Alert.Kind.OUTCOME_OVERDUE,
            f"Record the outcome of the {appointment.get_kind_display().lower()} on {when:%-d %B %Y at %H:%M}.",
            reverse("cases:appointment_outcome", args=[appointment.offender_id, appointment.pk]),
            key=overdue_key(appointment.pk),
        )


@shared_task(name=OVERDUE_TASK)
def raise_overdue_outcome_alerts():
    """Raise an alert, once, for each appointment whose outcome is overdue. Returns how many were raised."""
    return len(deliver(list(overdue_notices(timezone.now()))))


@shared_task(name="alerts.tasks.send_alert_emails")
def send_alert_emails(user_ids):
    """Tell each user by email that they have new alerts.

    The email carries no personal data (it may leave the secure network): it asks them to sign in.
    """
    sent = 0
    link = settings.SITE_URL.rstrip("/") + reverse("alerts:list")
    for user in User.objects.filter(pk__in=user_ids, is_active=True).exclude(email=""):
        sent += send_mail(
            subject=f"New alert - {settings.SERVICE_NAME}",
            message=(
                f"You have a new alert in {settings.SERVICE_NAME}.\n\n"
                f"Sign in to read it: {link}\n\n"
                "This email does not say who the alert is about. To stop these emails, change your alert "
                "settings in the service."
            ),
            from_email=None, recipient_list=[user.email], fail_silently=False,
        )
    return sent
