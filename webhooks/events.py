"""Events about records, gathered as they are saved and handed to subscriptions once the transaction commits.

Each saved record of a kind partners subscribe to becomes an event (a person's details, a RAG change,
a referral, an action, a panel's decision, a finished import run). Nothing is sent for a transaction
that rolls back, and each subscription is sent only the events about people its agency may see at
that moment. Records written in bulk (an import) are announced by the run's own event.
"""

import uuid

from django.db import transaction
from django.db.models.signals import post_save
from django.utils import timezone

from .models import Delivery, EventType, Subscription


def publish(event_type, data, *, person_id=None, agency_id=None):
    """Send an event to subscriptions when the current transaction commits (never if it rolls back).

    `person_id` names the person it is about (only agencies that may see them are sent it);
    `agency_id` limits it to one agency's subscriptions (an import run is its own agency's business).
    """
    # A field saved as an expression (a counter moved on with F()) is not known here: it is left out.
    data = {key: value for key, value in data.items() if isinstance(value, (str, int, float, bool, type(None)))}
    event = {"type": event_type, "data": data, "person_id": person_id, "agency_id": agency_id,
             "occurred_at": timezone.now()}
    transaction.on_commit(lambda: _send(event))


def _send(event):
    subscriptions = [
        subscription for subscription in Subscription.objects.filter(paused_at__isnull=True).select_related(
            "created_by")
        if event["type"] in subscription.event_types
        and event["agency_id"] in (None, subscription.agency_id)
    ]
    if not subscriptions:
        return
    from .services import may_receive
    from .tasks import queue

    event_id = uuid.uuid4()
    payload = {"id": str(event_id), "type": event["type"], "occurred_at": event["occurred_at"].isoformat(),
               "data": event["data"]}
    deliveries = [
        Delivery(subscription=subscription, event_id=event_id, event_type=event["type"],
                 offender_id=event["person_id"], payload=payload)
        for subscription in subscriptions if may_receive(subscription, event["person_id"])
    ]
    for delivery in Delivery.objects.bulk_create(deliveries):
        queue(delivery)


# ---------------------------------------------------------------------------
# What each saved record publishes


def _person_saved(sender, instance, created, **kwargs):
    publish(EventType.PERSON_CHANGED, {"person": instance.pk, "created": created}, person_id=instance.pk)


def _rag_change_saved(sender, instance, created, **kwargs):
    if created:
        publish(EventType.RAG_CHANGED, {
            "person": instance.offender_id, "from_status": instance.from_status, "to_status": instance.to_status,
            "changed_at": instance.changed_at.isoformat(),
        }, person_id=instance.offender_id)


def _referral_saved(sender, instance, created, **kwargs):
    publish(EventType.REFERRAL_CHANGED, {
        "referral": instance.pk, "person": instance.offender_id, "service": instance.service_id,
        "status": instance.status, "created": created,
    }, person_id=instance.offender_id)


def _action_saved(sender, instance, created, **kwargs):
    publish(EventType.ACTION_CHANGED, {
        "action": instance.pk, "person": instance.offender_id, "status": instance.status,
        "owner_agency": instance.owner_agency_id, "owner": instance.owner_id, "due_on": str(instance.due_on),
        "created": created,
    }, person_id=instance.offender_id)


def _agenda_item_saved(sender, instance, created, **kwargs):
    if instance.discussed_at is not None:
        publish(EventType.PANEL_DECISION, {
            "meeting": instance.meeting_id, "agenda_item": instance.pk, "person": instance.offender_id,
            "rag_change": instance.rag_change_id,
            "next_review_on": str(instance.next_review_on) if instance.next_review_on else None,
        }, person_id=instance.offender_id)


def _import_run_saved(sender, instance, created, update_fields=None, **kwargs):
    if instance.status in instance.FINISHED and (update_fields is None or "status" in update_fields):
        publish(EventType.IMPORT_FINISHED, {
            "run": instance.pk, "kind": instance.kind, "status": instance.status, "rows_total": instance.rows_total,
            "created": instance.created, "updated": instance.updated, "rejected": instance.rejected,
        }, agency_id=instance.agency_id or -1)


def connect():
    from cases.models import Offender, RagChange
    from feeds.models import ImportRun
    from panels.models import AgendaItem
    from pathways.models import Action, Referral

    for model, receiver in [
        (Offender, _person_saved), (RagChange, _rag_change_saved), (Referral, _referral_saved),
        (Action, _action_saved), (AgendaItem, _agenda_item_saved), (ImportRun, _import_run_saved),
    ]:
        post_save.connect(receiver, sender=model, dispatch_uid=f"webhooks.{model._meta.label_lower}")
