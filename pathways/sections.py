"""The pathways card on the case overview: the action plan at a glance.

The overview has already checked the user may see the person, and it carries other apps' cards
too, so this card keeps to two queries.
"""

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from cases.sections import Attention

from .models import Action

# Overdue actions listed one by one on the overview, up to this many.
OVERDUE_LISTED = 3


def case_overview_context(offender, user):
    """The action plan card on the case overview, and overdue actions as needing attention. Two queries."""
    today = timezone.localdate()
    actions = Action.objects.filter(offender=offender).open()
    counts = actions.aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(due_on__lt=today)))
    overdue = list(actions.filter(due_on__lt=today).select_related("owner_agency").order_by("due_on", "pk")[
        :OVERDUE_LISTED])
    url = reverse("pathways:person", args=[offender.pk]) + "#actions"
    attention = [
        Attention(f"Overdue action for {action.owner_agency}: {action.description[:80]}", url, due_on=action.due_on)
        for action in overdue
    ]
    if counts["overdue"] > len(overdue):
        attention.append(Attention(f"{counts['overdue'] - len(overdue)} more overdue actions", url))
    return {"offender": offender, "open": counts["open"], "overdue": counts["overdue"], "attention": attention}
