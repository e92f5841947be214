"""Which events raise which alerts, for whom, and in what words.

Each alert's words come only from what the recipient's agency may see: the delivery step
checks the agency may see the person at all, and the words never carry a restricted
note (see `note_added`). Events arrive once their change is committed (cases.events).
"""

from dataclasses import replace

from django.urls import reverse
from django.utils import timezone

from cases import events as case_events
from cases.models import Offence, one_offence
from pathways import events as pathway_events
from pathways.models import possible_action_owners

from .delivery import Notice, deliver
from .models import Alert

Kind = Alert.Kind


def _day(value):
    return f"{value:%-d %B %Y}"


def _case_link(offender_id):
    return reverse("cases:detail", args=[offender_id])


def _agency_name(user):
    return user.agency.name if user is not None and user.agency_id else "A partner agency"


def _to_case_manager(offender, actor, message):
    """The person's lead offender manager, when someone of another agency changed their case."""
    manager = offender.lead_offender_manager
    if manager is None or actor is None or manager.agency_id == actor.agency_id:
        return []
    return [Notice(manager, offender.pk, Kind.CASE_CHANGED, message, _case_link(offender.pk))]


def rag_changed(sender, *, change, actor, **kwargs):
    before = change.get_from_status_display() or "none"
    message = f"{_agency_name(actor)} changed the RAG status from {before} to {change.get_to_status_display()}."
    deliver(_to_case_manager(change.offender, actor, message), actor=actor)


def note_added(sender, *, note, actor, **kwargs):
    notices = []
    for notice in _to_case_manager(note.offender, actor, ""):
        message = note_message(note, notice.recipient)
        if message:
            notices.append(replace(notice, message=message))
    deliver(notices, actor=actor)


def note_message(note, recipient):
    """What may be said of a note to the recipient: never its text; a restricted note only within its agency."""
    if note.is_restricted:
        return "A restricted note was added." if recipient.agency_id == note.agency_id else None
    return f"{note.agency.name} added a case note."


def offence_recorded(sender, *, offence, actor, **kwargs):
    message = (f"{_agency_name(actor)} recorded an offence: {offence.get_offence_group_display().lower()} "
               f"on {_day(offence.committed_on)}.")
    deliver(_to_case_manager(offence.offender, actor, message), actor=actor)


OFFENCES_AT_ONCE = 2_000


def offences_arrived(sender, *, offence_ids, actor=None, **kwargs):
    """Offences from a partner system's feed: the lead offender manager of each person hears of each, once.

    Read a few thousand at a time, with their people and managers, so a file of any length takes a
    few queries per batch and little memory.
    """
    offence_ids = list(offence_ids)
    for start in range(0, len(offence_ids), OFFENCES_AT_ONCE):
        offences = (Offence.objects.filter(pk__in=offence_ids[start:start + OFFENCES_AT_ONCE],
                                           offender__lead_offender_manager__isnull=False)
                    .select_related("offender__lead_offender_manager").order_by("pk"))
        notices = []
        for offence in offences:
            source = offence.source_system or "a partner system"
            notices.append(Notice(
                offence.offender.lead_offender_manager, offence.offender_id, Kind.NEW_OFFENCE,
                f"New offence from {source}: {one_offence(offence.offence_group)} on {_day(offence.committed_on)}.",
                _case_link(offence.offender_id), key=f"offence:{offence.pk}",
            ))
        deliver(notices, actor=actor)


def enforcement_recorded(sender, *, enforcement, actor, **kwargs):
    message = (f"{_agency_name(actor)} recorded enforcement: {enforcement.get_kind_display().lower()} "
               f"on {_day(enforcement.taken_on)}.")
    deliver(_to_case_manager(enforcement.offender, actor, message), actor=actor)


def action_assigned(sender, *, action, actor, **kwargs):
    """The named owner; or, for an action left to an agency by another agency, everyone there who can take it."""
    link = reverse("pathways:action_detail", args=[action.pk])
    due = f"due {_day(action.due_on)}: {action.description[:150]}"
    if action.owner_id:
        notices = [Notice(action.owner, action.offender_id, Kind.ACTION_ASSIGNED,
                          f"{_agency_name(actor)} assigned you an action on {action.pathway.name.lower()}, {due}",
                          link)]
    elif actor is None or actor.agency_id != action.owner_agency_id:
        message = (f"{_agency_name(actor)} assigned {action.owner_agency.name} an action on "
                   f"{action.pathway.name.lower()}, {due}")
        notices = [Notice(user, action.offender_id, Kind.ACTION_ASSIGNED, message, link)
                   for user in possible_action_owners(action.owner_agency_id)]
    else:
        notices = []
    deliver(notices, actor=actor)


def referral_made(sender, *, referral, actor, **kwargs):
    """Everyone at the agency that runs the service who can take the referral on (the staff who may own actions)."""
    service = referral.service
    if not service.provider_id:
        return
    urgency = "Emergency referral" if referral.urgency == referral.Urgency.EMERGENCY else "Referral"
    message = f"{urgency} to {service.name} from {referral.referring_agency.name}."
    link = reverse("referrals:incoming_detail", args=[referral.pk])
    deliver([Notice(user, referral.offender_id, Kind.REFERRAL_RECEIVED, message, link)
             for user in possible_action_owners(service.provider_id)], actor=actor)


def appointment_outcome_recorded(sender, *, appointment, **kwargs):
    """An outcome recorded clears the alerts that asked for it."""
    Alert.objects.filter(key=overdue_key(appointment.pk), cleared_at__isnull=True).update(cleared_at=timezone.now())


def overdue_key(appointment_id):
    return f"appointment:{appointment_id}"


RECEIVERS = [
    (case_events.rag_changed, rag_changed),
    (case_events.note_added, note_added),
    (case_events.offence_recorded, offence_recorded),
    (case_events.offences_arrived, offences_arrived),
    (case_events.enforcement_recorded, enforcement_recorded),
    (case_events.appointment_outcome_recorded, appointment_outcome_recorded),
    (pathway_events.action_assigned, action_assigned),
    (pathway_events.referral_made, referral_made),
]


def connect():
    for event, receiver in RECEIVERS:
        event.connect(receiver, dispatch_uid=f"alerts.{receiver.__name__}")
