"""Panel decisions on the case's activity log (`cases.timeline`): discussions at meetings of panels the
user's agency sits on, and MAPPA level decisions."""

from django.urls import reverse

from cases.timeline import Entry, TimelineSource

from .models import AgendaItem, MappaLevelDecision, Meeting


def _discussions(pks, offender):
    rows = AgendaItem.objects.filter(offender=offender, pk__in=pks).select_related("meeting__panel", "rag_change")
    return {
        item.pk: Entry(item.discussed_at, f"Discussed at {item.meeting.panel.name}", item.discussion,
                       url=reverse("panels:item", args=[item.meeting_id, item.pk]),
                       tag=f"RAG to {item.rag_change.get_to_status_display().lower()}" if item.rag_change else "")
        for item in rows
    }


def _mappa(pks, offender):
    rows = MappaLevelDecision.objects.filter(offender=offender, pk__in=pks).select_related("decided_by")
    return {
        d.pk: Entry(d.decided_at, f"MAPPA category {d.category}, level {d.level}", d.reason, str(d.decided_by or ""),
                    reverse("cases:section_panels", args=[offender.pk]))
        for d in rows
    }


def timeline_sources():
    return [
        TimelineSource(
            "panel_discussions", "Panel discussions",
            lambda o, u: AgendaItem.objects.filter(offender=o, discussed_at__isnull=False,
                                                   meeting__in=Meeting.objects.visible_to(u)),
            "discussed_at", _discussions, ("discussion",), order=85,
        ),
        TimelineSource("mappa", "MAPPA decisions", lambda o, u: MappaLevelDecision.objects.filter(offender=o),
                       "decided_at", _mappa, ("reason",), order=86),
    ]
