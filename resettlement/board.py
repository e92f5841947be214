"""The releases board: everyone the user's agency may see with a release in the window, and what is missing.

One query for the page whatever its length: progress and accommodation come as subqueries.
"""

from dataclasses import dataclass

import django_filters
from django import forms
from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from cases.models import Agency, Area, Cohort, CohortMembership, Offender, Supervision
from pathways.models import AccommodationStatus
from web.widgets import GovukFormMixin

from . import calendar
from .models import ACCOMMODATION_KEY, SETTLED_STATUSES, ChecklistItem, ItemStatus

# Accommodation for the night of release is in place (or the person needs none arranged).
ACCOMMODATED = (ItemStatus.DONE, ItemStatus.NOT_NEEDED)


def _count(items):
    return Coalesce(Subquery(
        items.order_by().values("checklist").annotate(n=Count("pk")).values("n"), output_field=IntegerField()
    ), 0)


def releases(user, first, last):
    """Custody episodes released between `first` and `last` of people the user's agency may see."""
    items = ChecklistItem.objects.filter(checklist__supervision=OuterRef("pk"))
    accommodation_item = items.filter(item_type__key=ACCOMMODATION_KEY)
    latest_accommodation = AccommodationStatus.objects.filter(offender=OuterRef("offender")).order_by(
        "-effective_on", "-pk")
    return (
        Supervision.objects.filter(released_on__gte=first, released_on__lte=last,
                                   offender__in=Offender.objects.visible_to(user))
        .select_related("offender__area", "responsible_agency", "release_checklist__prison")
        .annotate(
            items_total=_count(items),
            items_settled=_count(items.filter(status__in=SETTLED_STATUSES)),
            accommodation_item=Subquery(accommodation_item.values("status")[:1]),
            accommodation_owner=Subquery(accommodation_item.values("owner_agency__name")[:1]),
            accommodation_now=Subquery(latest_accommodation.values("status")[:1]),
        )
        .order_by("released_on", "offender__last_name", "offender__first_names", "pk")
    )


@dataclass
class Release:
    supervision: Supervision

    def __getattr__(self, name):
        return getattr(self.supervision, name)

    @property
    def checklist(self):
        return getattr(self.supervision, "release_checklist", None)

    @property
    def prison(self):
        checklist = self.checklist
        if checklist is not None and checklist.prison_id:
            return checklist.prison
        agency = self.supervision.responsible_agency
        return agency if agency.kind == Agency.Kind.PRISON else None

    @property
    def is_friday(self):
        return calendar.is_friday(self.released_on)

    @property
    def is_before_bank_holiday(self):
        return calendar.is_before_bank_holiday(self.released_on)

    @property
    def no_accommodation(self):
        return self.supervision.accommodation_item not in ACCOMMODATED

    @property
    def accommodation_item_label(self):
        value = self.supervision.accommodation_item
        return ItemStatus(value).label if value else "No checklist yet"

    @property
    def accommodation_now_label(self):
        value = self.supervision.accommodation_now
        return AccommodationStatus.Status(value).label if value else "Not recorded"

    @property
    def progress(self):
        return f"{self.items_settled} of {self.items_total}" if self.items_total else "Not opened"


class BoardForm(GovukFormMixin, forms.Form):
    pass


class ReleaseFilter(django_filters.FilterSet):
    prison = django_filters.ModelChoiceFilter(
        queryset=Agency.objects.filter(kind=Agency.Kind.PRISON), empty_label="Any prison", method="filter_prison",
        label="Prison"
    )
    area = django_filters.ModelChoiceFilter(
        field_name="offender__area", queryset=Area.objects.all(), empty_label="Any area"
    )
    cohort = django_filters.ChoiceFilter(
        label="Cohort", choices=Cohort.choices, method="filter_cohort", empty_label="Any cohort"
    )

    class Meta:
        model = Supervision
        fields = ["prison", "area", "cohort"]
        form = BoardForm

    def filter_prison(self, queryset, name, value):
        return queryset.filter(Q(release_checklist__prison=value) | Q(
            release_checklist__prison__isnull=True, responsible_agency=value))

    def filter_cohort(self, queryset, name, value):
        open_membership = CohortMembership.objects.filter(
            offender=OuterRef("offender"), cohort=value, ended_on__isnull=True)
        return queryset.filter(Exists(open_membership))
