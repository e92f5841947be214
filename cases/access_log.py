"""The access log read by people, not tables: who from which agency viewed or changed whom, in words.

An agency administrator reads what their own staff did and what anyone did to the people their
agency leads. Case workers of the lead agency read who has looked at one of their people. A person
is named only where the reader's agency may see them now; otherwise the entry says so.
"""

from django.apps import apps
from django.db.models import Q

from .identifiers import normalise_identifier
from .models import CASEWORK_ROLES, AccessLogEntry, Offender, Role

Action = AccessLogEntry.Action

VERBS = {
    Action.VIEW: "viewed", Action.SEARCH: "searched", Action.CREATE: "added", Action.CHANGE: "changed",
    Action.DELETE: "erased", Action.EXPORT: "exported", Action.SHARE: "shared", Action.IMPORT: "imported",
}


def may_read_agency_access_log(user):
    return user.is_superuser or (user.is_active and user.agency_id is not None and user.role == Role.AGENCY_ADMIN)


def may_read_person_access_log(user, offender):
    """The lead agency's case workers (and administrators) see who has viewed or changed their person."""
    return user.is_superuser or (
        user.is_active and user.agency_id == offender.lead_agency_id and user.role in CASEWORK_ROLES
    )


def agency_entries(user):
    """Entries an agency administrator may read: by their agency's staff, or about people their agency leads."""
    if user.is_superuser:
        return AccessLogEntry.objects.all()
    led = Offender.objects.filter(lead_agency_id=user.agency_id).values("pk")
    return AccessLogEntry.objects.filter(Q(agency_id=user.agency_id) | Q(offender_id__in=led))


def people_matching(text):
    """Ids of people whose case number, PNC, CRN or name matches `text`."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit():
        return Offender.objects.filter(pk=int(text)).values("pk")
    identifier = normalise_identifier(text)
    names = Q()
    for word in text.split():
        names &= Q(last_name__istartswith=word) | Q(first_names__istartswith=word)
    return Offender.objects.filter(
        Q(pnc_number=identifier) | Q(crn=identifier) | Q(prison_number=identifier) | names
    ).values("pk")


def filter_entries(entries, data):
    if data.get("person"):
        entries = entries.filter(offender_id__in=people_matching(data["person"]))
    if data.get("user"):
        who = data["user"].strip()
        words = who.split()
        by_name = Q()
        for word in words:
            by_name &= Q(user__first_name__istartswith=word) | Q(user__last_name__istartswith=word)
        entries = entries.filter(Q(username__iexact=who) | by_name)
    if data.get("date_from"):
        entries = entries.filter(occurred_at__date__gte=data["date_from"])
    if data.get("date_to"):
        entries = entries.filter(occurred_at__date__lte=data["date_to"])
    return entries


def _thing(object_type):
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return "a record"
    name = str(model._meta.verbose_name)
    return f"{'an' if name[:1] in 'aeiou' else 'a'} {name}"


def describe(entry):
    """What the entry records, as a sentence a person would write: "viewed the case: risk"."""
    action, object_type, detail = entry.action, entry.object_type, entry.detail
    if object_type == "cases.offender":
        if action == Action.VIEW:
            if detail.startswith("API"):
                part = detail.partition(": ")[2]
                return f"read {part or 'the record'} through the API"
            if not detail or detail == "Overview":
                return "viewed the case overview"
            return f"viewed the case: {detail.lower()}"
        if action == Action.SEARCH:
            return detail[:1].lower() + detail[1:] if detail else "searched the case list"
        if action == Action.EXPORT:
            return "exported the case in a case list"
        if action == Action.IMPORT:
            return "updated the case by import"
        if action == Action.SHARE:
            return detail[:1].lower() + detail[1:] if detail else "shared the case"
        if action == Action.DELETE:
            return "erased the record"
        if action == Action.CREATE:
            return "created the case"
        if action == Action.CHANGE:
            return "changed personal details" + (f" ({detail.partition(': ')[2].replace('_', ' ')})" if detail else "")
    if object_type == "cases.ragchange":
        return "changed the RAG status" + (f" ({detail.removeprefix('RAG ')})" if detail else "")
    text = f"{VERBS.get(action, action)} {_thing(object_type)}"
    return f"{text}: {detail[:1].lower() + detail[1:]}" if detail else text


def readable_page(entries, reader):
    """Rows for a page of entries: when, who, their agency, the person (named only if the reader may see
    them) and what happened. Two queries whatever the page size: the entries, then the people named."""
    entries = list(entries)
    ids = {entry.offender_id for entry in entries if entry.offender_id}
    people = {person.pk: person for person in Offender.objects.visible_to(reader).filter(pk__in=ids)} if ids else {}
    return [
        {
            "entry": entry,
            "who": (entry.user.get_full_name() if entry.user else "") or entry.username or "Unknown",
            "person": people.get(entry.offender_id),
            "what": describe(entry),
        }
        for entry in entries
    ]
