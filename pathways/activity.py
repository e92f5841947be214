"""Actions and referrals on the case's activity log (`cases.timeline`)."""

from django.urls import reverse

from cases.timeline import Entry, TimelineSource

from .models import Action, Referral


def _actions(pks, offender):
    rows = Action.objects.filter(offender=offender, pk__in=pks).select_related("pathway", "owner_agency", "created_by")
    return {
        a.pk: Entry(a.created_at, f"Action on {a.pathway.name}: {a.description[:120]}",
                    f"Owned by {a.owner_agency}, due {a.due_on:%-d %B %Y}." + (f" {a.outcome}" if a.outcome else ""),
                    str(a.created_by or ""), reverse("pathways:action_detail", args=[a.pk]),
                    tag="Overdue" if a.is_overdue() else a.get_status_display(),
                    tag_colour="red" if a.is_overdue() else "grey")
        for a in rows
    }


def _referrals(pks, offender):
    rows = Referral.objects.filter(offender=offender, pk__in=pks).select_related(
        "service", "referring_agency", "referred_by")
    return {
        r.pk: Entry(r.referred_at, f"Referral to {r.service.name}", r.reason,
                    ", ".join(str(x) for x in (r.referred_by, r.referring_agency) if x),
                    reverse("pathways:referral_detail", args=[r.pk]),
                    tag=f"{r.get_urgency_display()}: {r.get_status_display().lower()}",
                    tag_colour="red" if r.urgency == Referral.Urgency.EMERGENCY else "grey")
        for r in rows
    }


def timeline_sources():
    return [
        TimelineSource("actions", "Actions", lambda o, u: Action.objects.filter(offender=o), "created_at", _actions,
                       ("description", "outcome"), order=80),
        TimelineSource("referrals", "Referrals", lambda o, u: Referral.objects.filter(offender=o), "referred_at",
                       _referrals, ("reason", "outcome", "service__name"), order=81),
    ]
