"""Saving alerts: only for staff whose agency may see the person at that moment, and never to the person who acted."""

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from cases.models import Offender

from .models import Alert, AlertSettings


@dataclass(frozen=True)
class Notice:
    """An alert to raise, written for its recipient."""

    recipient: object  # a User
    offender_id: int
    kind: str
    message: str
    link: str
    key: str = ""


def _viewer(user):
    # What a user may see depends on their agency alone (the role only decides whether they see people
    # at all), so one member of staff answers for the agency. A system administrator answers for themself.
    return ("user", user.pk) if user.is_superuser else ("agency", user.agency_id)


def visible_pairs(notices):
    """(recipient id, person id) of the notices whose recipient's agency may see the person: one query per agency."""
    wanted, members = defaultdict(set), {}
    for notice in notices:
        viewer = _viewer(notice.recipient)
        members.setdefault(viewer, notice.recipient)
        wanted[viewer].add(notice.offender_id)
    seen = {
        viewer: set(Offender.objects.visible_to(members[viewer]).filter(pk__in=ids).values_list("pk", flat=True))
        for viewer, ids in wanted.items()
    }
    return {
        (notice.recipient.pk, notice.offender_id) for notice in notices
        if notice.offender_id in seen[_viewer(notice.recipient)]
    }


def deliver(notices, *, actor=None):
    """Save the notices as alerts, leaving out any the rules forbid; returns the alerts saved.

    Left out: the person who made the change; staff who are inactive or see numbers only; staff
    whose agency may not see the person now (`Offender.objects.visible_to`); and a keyed alert
    the recipient already has. Recipients who asked for email are sent one, once committed.
    """
    notices = [
        notice for notice in notices
        if notice.recipient.is_active and notice.recipient.sees_people
        and (actor is None or notice.recipient.pk != actor.pk)
    ]
    if not notices:
        return []
    allowed = visible_pairs(notices)
    notices = [notice for notice in notices if (notice.recipient.pk, notice.offender_id) in allowed]
    keyed = [notice for notice in notices if notice.key]
    if keyed:
        raised = set(Alert.objects.filter(
            key__in={n.key for n in keyed}, recipient__in={n.recipient.pk for n in keyed}
        ).values_list("recipient_id", "key"))
        notices = [n for n in notices if not n.key or (n.recipient.pk, n.key) not in raised]
    if not notices:
        return []
    alerts = [
        Alert(recipient=n.recipient, offender_id=n.offender_id, kind=n.kind, message=n.message[:300],
              link=n.link, key=n.key)
        for n in notices
    ]
    with transaction.atomic():
        # A keyed alert raised at the same moment by another worker is skipped, not an error.
        Alert.objects.bulk_create(alerts, ignore_conflicts=True)
        emailed = list(AlertSettings.objects.filter(
            user_id__in={n.recipient.pk for n in notices}, email=True
        ).values_list("user_id", flat=True))
        if emailed:
            from .tasks import send_alert_emails

            transaction.on_commit(lambda: send_alert_emails.delay(sorted(emailed)))
    return alerts
