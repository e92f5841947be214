"""Release and the person's own plan on the case overview: a card each, and what needs attention.

The case pages have already checked the user may see the person; each runs a fixed number of queries.
"""

from django.urls import reverse
from django.utils import timezone

from cases.sections import Attention

from . import calendar
from .models import ACCOMMODATION_KEY, SETTLED_STATUSES, ReleaseChecklist
from .services import current_version


def upcoming_checklist(offender):
    """The checklist of the person's next (or latest) release, with its items."""
    today = timezone.localdate()
    checklists = ReleaseChecklist.objects.filter(offender=offender).select_related("supervision", "prison")
    return (checklists.filter(supervision__released_on__gte=today).order_by("supervision__released_on", "pk").first()
            or checklists.order_by("-supervision__released_on", "-pk").first())


def release_overview_context(offender, user):
    checklist = upcoming_checklist(offender)
    if checklist is None:
        return {"offender": offender, "checklist": None}
    items = list(checklist.items.select_related("item_type", "owner_agency"))
    released_on = checklist.supervision.released_on
    today = timezone.localdate()
    url = reverse("resettlement:person_release", args=[offender.pk])
    accommodation = next((i for i in items if i.item_type.key == ACCOMMODATION_KEY), None)
    no_bed = accommodation is None or accommodation.status not in ("done", "not_needed")
    attention = []
    if released_on and released_on >= today and no_bed:
        attention.append(Attention("Arrange accommodation for the night of release", url, due_on=released_on))
    return {
        "offender": offender, "checklist": checklist, "released_on": released_on,
        "settled": sum(item.status in SETTLED_STATUSES for item in items), "total": len(items),
        "no_accommodation": no_bed, "is_friday": released_on and calendar.is_friday(released_on),
        "before_bank_holiday": released_on and calendar.is_before_bank_holiday(released_on),
        "attention": attention,
    }


def plan_overview_context(offender, user):
    version = current_version(offender)
    return {"offender": offender, "version": version,
            "goal_count": version.goals.count() if version else 0}
