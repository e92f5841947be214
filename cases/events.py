"""What happened to a case, for other apps to act on once it is saved.

The service that makes a change publishes the event; receivers run only after the
transaction commits (never when it rolls back), so they see exactly what was saved,
and a receiver's failure is logged without undoing the change. Apps subscribe with
`event.connect(receiver)`; this app imports none of them.

Each event is sent with keyword arguments: the record and `actor`, the user who made
the change (None when it arrived by a partner system's feed).
"""

import logging

from django.db import transaction
from django.dispatch import Signal

logger = logging.getLogger(__name__)

rag_changed = Signal()  # change: RagChange
note_added = Signal()  # note: CaseNote
offence_recorded = Signal()  # offence: Offence, typed in by staff
offences_arrived = Signal()  # offence_ids: list of Offence ids, from a partner system's feed
enforcement_recorded = Signal()  # enforcement: EnforcementAction
appointment_outcome_recorded = Signal()  # appointment: Appointment


def publish(event, **payload):
    """Send `event` when the current transaction commits (at once outside a transaction)."""

    def send():
        for receiver, result in event.send_robust(sender=None, **payload):
            if isinstance(result, Exception):
                logger.error("%s failed on a case event", receiver, exc_info=result)

    transaction.on_commit(send)
