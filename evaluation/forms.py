from django import forms

from cases.models import Cohort
from web.widgets import GovukDateField, GovukFormMixin

from .menu import DEFAULT_VARIABLES, SERVICE_TREATMENTS, VARIABLES, Treatment


class EvaluationForm(GovukFormMixin, forms.Form):
    """What an analyst chooses: who was treated, when, and what to match on. The pool follows from the period."""

    name = forms.CharField(
        label="Name of the evaluation", max_length=150,
        help_text="For example, Checkpoint 2024-25 against similar cautioned adults.",
    )
    treatment = forms.ChoiceField(label="Treatment group", choices=Treatment.choices, widget=forms.RadioSelect,
                                  initial=Treatment.COHORT_STARTED)
    cohort = forms.ChoiceField(
        label="Cohort or scheme", required=False, choices=[("", "Choose a cohort or scheme"), *Cohort.choices],
        help_text="For people who started or completed a cohort or scheme.",
    )
    service = forms.ModelChoiceField(
        label="Service", required=False, queryset=None, empty_label="Choose a service",
        help_text="For people referred to or seen by a service.",
    )
    period_start = GovukDateField(label="Start of the period", help_text="For example, 1 4 2024")
    period_end = GovukDateField(label="End of the period", help_text="For example, 31 3 2025")
    variables = forms.MultipleChoiceField(
        label="Match on", widget=forms.CheckboxSelectMultiple, initial=list(DEFAULT_VARIABLES),
        choices=[(key, label) for key, label, _, _ in VARIABLES],
        help_text="People in the comparison group are chosen to be like the treatment group in these respects.",
    )
    with_replacement = forms.TypedChoiceField(
        label="May one person be the match of more than one treated person?", widget=forms.RadioSelect,
        choices=[("no", "No, each comparison person is used once"),
                 ("yes", "Yes, the closest person is used even if already matched")],
        coerce=lambda value: value == "yes", initial="no",
    )
    seed = forms.IntegerField(
        label="Seed", required=False, min_value=1, max_value=2**31 - 1,
        help_text="Leave blank for a new one. The seed of an earlier evaluation, with the same inputs, "
        "reproduces its answer on the same record.",
    )

    def __init__(self, *args, **kwargs):
        from pathways.models import Service

        super().__init__(*args, **kwargs)
        self.fields["service"].queryset = Service.objects.order_by("name")

    @staticmethod
    def initial_from(evaluation):
        """The inputs of an earlier evaluation, to run it again or change it."""
        return {
            "name": evaluation.name, "treatment": evaluation.treatment, "cohort": evaluation.cohort,
            "service": evaluation.service_id, "period_start": evaluation.period_start,
            "period_end": evaluation.period_end, "variables": evaluation.variables,
            "with_replacement": "yes" if evaluation.with_replacement else "no", "seed": evaluation.seed,
        }

    def clean(self):
        data = super().clean()
        treatment = data.get("treatment")
        if treatment in {Treatment.COHORT_STARTED, Treatment.COHORT_COMPLETED} and not data.get("cohort"):
            self.add_error("cohort", "Choose the cohort or scheme the treatment group started or completed")
        if treatment in SERVICE_TREATMENTS and not data.get("service"):
            self.add_error("service", "Choose the service the treatment group was referred to or seen by")
        start, end = data.get("period_start"), data.get("period_end")
        if start and end and end < start:
            self.add_error("period_end", "The end of the period must be on or after its start")
        return data
