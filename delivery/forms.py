from django import forms

from cases.models import Agency
from dashboard.periods import Quarter
from web.widgets import GovukDateField, GovukFormMixin

from .models import Progress


class _ObjectiveForm(forms.Form):
    number = forms.IntegerField(label="Number", min_value=1, max_value=999,
                                widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}))
    title = forms.CharField(label="Objective", max_length=200)
    description = forms.CharField(label="Description", required=False, max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))


class ObjectiveForm(GovukFormMixin, _ObjectiveForm):
    pass


class _PlanActionForm(forms.Form):
    description = forms.CharField(label="Action", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    intended_outcome = forms.CharField(label="Intended outcome", max_length=2000,
                                       widget=forms.Textarea(attrs={"rows": 2}))
    lead_agency = forms.ModelChoiceField(label="Responsible service", queryset=Agency.objects.order_by("name"),
                                         empty_label="Select a service")
    lead_person = forms.CharField(label="Lead person", max_length=150, help_text="Name and role.")
    due_on = GovukDateField(label="Timescale", help_text="When the action should be done by, for example 31 3 2027.")


class PlanActionForm(GovukFormMixin, _PlanActionForm):
    pass


def quarter_choices(quarters):
    return [(quarter.key, quarter.label) for quarter in quarters]


class _ProgressForm(forms.Form):
    quarter = forms.ChoiceField(label="Quarter")
    rag = forms.ChoiceField(label="Progress", choices=Progress.choices, widget=forms.RadioSelect)
    narrative = forms.CharField(label="Progress to date", max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
                                help_text="A short narrative for the board: what has been done and what is next.")
    evidence = forms.CharField(label="Evidence links", required=False, max_length=4000,
                               widget=forms.Textarea(attrs={"rows": 3}),
                               help_text="One web address a line, for example a report on the partnership's site.")

    def __init__(self, *args, quarters, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["quarter"].choices = quarter_choices(quarters)

    def clean_quarter(self):
        return Quarter.from_key(self.cleaned_data["quarter"])


class ProgressForm(GovukFormMixin, _ProgressForm):
    pass
