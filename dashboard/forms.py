from django import forms

from web.widgets import GovukFormMixin

from .models import Dimension
from .periods import Quarter

SLICE_FIELDS = [
    Dimension.AREA, Dimension.AGENCY, Dimension.COHORT, Dimension.GENDER, Dimension.AGE_BAND, Dimension.ETHNICITY,
    Dimension.GROUP,
]


class _FilterFields(forms.Form):
    """The fields, set up before GovukFormMixin styles them (it validates a bound form while doing so)."""

    quarter = forms.ChoiceField(label="Quarter", required=False)

    def __init__(self, *args, quarters, options, default_quarter, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options
        self.default_quarter = default_quarter
        self.fields["quarter"].choices = [
            (quarter.key, quarter.label + (" (so far)" if quarter == quarters[0] else "")) for quarter in quarters
        ]
        self.fields["quarter"].initial = default_quarter.key
        self.fields["quarter"].widget.attrs["class"] = "govuk-!-width-full"
        for dimension in SLICE_FIELDS:
            label = Dimension(dimension).label
            self.fields[dimension.value] = forms.ChoiceField(
                label=label, required=False, choices=[("", f"Any {label.lower()}"), *options[dimension]]
            )
            self.fields[dimension.value].widget.attrs["class"] = "govuk-!-width-full"


class DashboardFilterForm(GovukFormMixin, _FilterFields):
    """The quarter, and at most one slice: the roll-up publishes each breakdown on its own."""

    def clean(self):
        data = super().clean()
        chosen = [dimension for dimension in SLICE_FIELDS if data.get(dimension.value)]
        if len(chosen) > 1:
            names = " and ".join(Dimension(d).label.lower() for d in chosen)
            raise forms.ValidationError(
                "Choose one of area, agency, cohort, gender, age band, ethnicity or priority group at a time "
                f"(you chose {names}). "
                "Figures are published for one breakdown at a time so that small groups stay anonymous."
            )
        return data

    def selection(self):
        """(quarter, dimension, slice key): the defaults when the form is empty or not valid."""
        if not self.is_bound or not self.is_valid():
            return self.default_quarter, Dimension.ALL, ""
        data = self.cleaned_data
        quarter = Quarter.from_key(data["quarter"]) if data.get("quarter") else self.default_quarter
        for dimension in SLICE_FIELDS:
            if data.get(dimension.value):
                return quarter, dimension, data[dimension.value]
        return quarter, Dimension.ALL, ""
