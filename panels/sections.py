"""The panels section of the case page: the person's panel discussions, MAPPA levels and Checkpoint contracts.

The case page has already checked the user may see the person. Discussions are listed
only from meetings of panels the user's agency sits on. Three queries.
"""

from .models import AgendaItem, CheckpointContract, MappaLevelDecision, Meeting


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
