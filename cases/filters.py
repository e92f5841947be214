import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q

from reoffending.widgets import GovukFormMixin

from .identifiers import CRN_PATTERN, PNC_PATTERN, PRISON_NUMBER_PATTERN, normalise_identifier
from .models import Agency, Alias, Area, Cohort, CohortMembership, Offender, RagStatus

MAX_SEARCH_LENGTH = 100


class CaseListForm(GovukFormMixin, forms.Form):
    pass


def search_people(queryset, value):
    """Match an identifier exactly, or every word of a name against names and aliases."""
    value = (value or "").strip()[:MAX_SEARCH_LENGTH]
    if not value:
        return queryset
    identifier = normalise_identifier(value)
    if PNC_PATTERN.match(identifier):
        return queryset.filter(pnc_number=identifier)
    if CRN_PATTERN.match(identifier):
        return queryset.filter(crn=identifier)
    if PRISON_NUMBER_PATTERN.match(identifier):
        return queryset.filter(prison_number=identifier)
    for word in value.split()[:5]:
        # One IN (... UNION ALL ...) per word rather than OR-ing the alias EXISTS with the name
        # conditions: each branch can use its own index (name prefixes, alias trigrams), so a
        # search reads only the matching people instead of scanning everyone visible.
        by_name = Offender.objects.filter(Q(last_name__istartswith=word) | Q(first_names__istartswith=word))
        by_alias = Alias.objects.filter(name__icontains=word)
        queryset = queryset.filter(
            pk__in=by_name.order_by().values("pk").union(by_alias.order_by().values("offender_id"), all=True)
        )
    return queryset


class CaseFilter(django_filters.FilterSet):
    """Search, filters and sort order of the case list."""

    q = django_filters.CharFilter(label="Name, PNC number or CRN", method="filter_search", max_length=MAX_SEARCH_LENGTH)
    cohort = django_filters.ChoiceFilter(
        label="Cohort", choices=Cohort.choices, method="filter_cohort", empty_label="Any cohort"
    )
    rag_status = django_filters.ChoiceFilter(label="RAG status", choices=RagStatus.choices, empty_label="Any status")
    area = django_filters.ModelChoiceFilter(queryset=Area.objects.all(), empty_label="Any area")
    lead_agency = django_filters.ModelChoiceFilter(queryset=Agency.objects.all(), empty_label="Any agency")
    mine = django_filters.BooleanFilter(
        label="My caseload only", method="filter_mine", widget=forms.CheckboxInput
    )
    sort = django_filters.OrderingFilter(
        fields=(("last_name", "name"), ("rag_status", "rag"), ("updated_at", "updated"), ("date_of_birth", "dob")),
        field_labels={
            "last_name": "Name",
            "rag_status": "RAG status",
            "updated_at": "Last updated",
            "date_of_birth": "Date of birth",
        },
        label="Sort by",
        empty_label=None,
    )

    class Meta:
        model = Offender
        fields = ["q", "cohort", "rag_status", "area", "lead_agency", "mine"]
        form = CaseListForm

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def filter_search(self, queryset, name, value):
        return search_people(queryset, value)

    def filter_cohort(self, queryset, name, value):
        open_membership = CohortMembership.objects.filter(offender=OuterRef("pk"), cohort=value, ended_on__isnull=True)
        return queryset.filter(Exists(open_membership))

    def filter_mine(self, queryset, name, value):
        return queryset.filter(lead_offender_manager=self.user) if value else queryset
