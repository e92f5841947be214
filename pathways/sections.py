"""The pathways section of the case page: every pathway at a glance.

The case page has already checked the user may see the person, and it carries
other apps' sections too, so this section keeps to four queries.
"""

from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.models import Offender

from .models import (
    OPEN_ACTION_STATUSES,
    AccommodationStatus,
    Action,
    BenefitStatus,
    EteStatus,
    Pathway,
    Referral,
    TreatmentEngagement,
    current_needs,
)

# The dated status shown against each pathway: (pathway key, model, field, extra filter).
STATUS_COLUMNS = [
    ("accommodation", AccommodationStatus, "status", {}),
    ("ete", EteStatus, "status", {}),
    ("finance", BenefitStatus, "status", {}),
    ("drugs", TreatmentEngagement, "stage", {"substance": "drugs"}),
    ("alcohol", TreatmentEngagement, "stage", {"substance": "alcohol"}),
]


def _latest(model, field, **filters):
    rows = model.objects.filter(offender=OuterRef("pk"), **filters).order_by("-effective_on", "-pk")
    return Subquery(rows.values(field)[:1])


def latest_statuses(offender):
    """{pathway key: label of the latest status} in one query."""
    annotations = {key: _latest(model, field, **filters) for key, model, field, filters in STATUS_COLUMNS}
    annotations["released_to"] = Subquery(
        AccommodationStatus.objects.filter(offender=OuterRef("pk"), on_release_day=True)
        .order_by("-effective_on", "-pk").values("status")[:1]
    )
    annotations["open_referrals"] = Coalesce(Subquery(
        Referral.objects.filter(offender=OuterRef("pk")).open().order_by().values("offender")
        .annotate(n=Count("pk")).values("n")
    ), 0)
    row = Offender.objects.filter(pk=offender.pk).annotate(**annotations).values(*annotations).get()
    labels = {}
    for key, model, field, _filters in STATUS_COLUMNS:
        if row[key]:
            labels[key] = dict(model._meta.get_field(field).choices)[row[key]]
    if row["released_to"]:
        released_to = AccommodationStatus.Status(row["released_to"]).label.lower()
        labels["release"] = f"On the day of release: {released_to}"
    labels["open_referrals"] = row["open_referrals"]
    return labels


def case_section_context(offender, user):
    today = timezone.localdate()
    needs = current_needs(offender)
    action_counts = {
        row["pathway"]: row
        for row in Action.objects.filter(offender=offender, status__in=OPEN_ACTION_STATUSES)
        .values("pathway")
        .annotate(open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)))
        .order_by()
    }
    statuses = latest_statuses(offender)
    pathways = Pathway.objects.filter(Q(retired=False) | Q(pk__in=needs.keys()))
    rows = [
        {
            "pathway": pathway,
            "need": needs.get(pathway.pk),
            "open": action_counts.get(pathway.pk, {}).get("open", 0),
            "overdue": action_counts.get(pathway.pk, {}).get("overdue", 0),
            "status": statuses.get(pathway.key, ""),
            "note": statuses.get("release", "") if pathway.key == "accommodation" else "",
        }
        for pathway in pathways
    ]
    return {
        "offender": offender,
        "rows": rows,
        "open_referrals": statuses["open_referrals"],
        # The case page only renders sections for people the user may see, so case work is a matter of role.
        "can_work": user.works_on_visible_cases,
    }
