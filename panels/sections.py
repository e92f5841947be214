"""The panels section of the case page: the person's panel discussions, MAPPA levels and Checkpoint contracts.

The case page has already checked the user may see the person. Discussions are listed
only from meetings of panels the user's agency sits on. Three queries.
"""

import datetime

from django.db.models import Max, Min, Q
from django.urls import reverse
from django.utils import timezone

from cases.sections import Attention

from .models import AgendaItem, CheckpointContract, MappaLevelDecision, Meeting

# A MAPPA review this close is listed as needing attention.
REVIEW_NOTICE = datetime.timedelta(days=28)


def case_section_context(offender, user):
    items = list(
        AgendaItem.objects.filter(offender=offender, meeting__in=Meeting.objects.visible_to(user))
        .select_related("meeting__panel", "rag_change").order_by("-meeting__held_on", "-pk")[:10]
    )
    contracts = list(CheckpointContract.objects.filter(offender=offender).order_by("-started_on", "-pk"))
    mappa = list(MappaLevelDecision.objects.filter(offender=offender).order_by("-decided_at", "-pk")[:10])
    return {
        "items": items,
        "contracts": contracts,
        "mappa": mappa,
        "can_start_checkpoint": not any(c.is_open for c in contracts) and user.works_on_visible_cases,
    }


def case_overview_context(offender, user):
    """The panels card on the case overview: the panels the user's agency sits on that have the person on
    their agenda, with the last and next meeting, and the MAPPA review when it is due. Two queries."""
    today = timezone.localdate()
    panels = list(
        AgendaItem.objects.filter(offender=offender, meeting__in=Meeting.objects.visible_to(user))
        .values("meeting__panel__name")
        .annotate(last=Max("meeting__held_on", filter=Q(meeting__held_on__lte=today)),
                  next=Min("meeting__held_on", filter=Q(meeting__held_on__gt=today)))
        .order_by("meeting__panel__name")
    )
    mappa = MappaLevelDecision.objects.filter(offender=offender).order_by("-decided_at", "-pk").first()
    attention = []
    if mappa and mappa.review_on and mappa.review_on <= today + REVIEW_NOTICE:
        attention.append(Attention("MAPPA level review", reverse("cases:section_panels", args=[offender.pk]),
                                   due_on=mappa.review_on))
    return {
        "offender": offender,
        "panels": [{"name": row["meeting__panel__name"], "last": row["last"], "next": row["next"]} for row in panels],
        "mappa": mappa,
        "attention": attention,
    }
