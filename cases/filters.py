import django_filters
from django import forms
from django.db.models import Exists, OuterRef

from web.widgets import GovukFormMixin

from .models import Agency, Area, Cohort, CohortMembership, Offender, RagStatus
from .search import MAX_SEARCH_LENGTH, search_people


class CaseListForm(GovukFormMixin, forms.Form):
    pass


class CaseFilter(django_filters.FilterSet):
    """Search, filters and sort order of the case list."""

    q = django_filters.CharFilter(
        label="Name, PNC number or CRN", method="filter_search", max_length=MAX_SEARCH_LENGTH,
        help_text="A PNC number in any form (17/128C), or a name; add a date of birth (17/05/1990) to narrow it.",
    )
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
        empty_label="Best match",
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
