from django import forms

from web.widgets import GovukDateField, GovukFormMixin

from .models import FlagLevel, RiskFlag, RiskScore, RoshLevel


class RiskAssessmentForm(GovukFormMixin, forms.Form):
    rosh_level = forms.ChoiceField(
        label="Risk of serious harm", choices=RoshLevel.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select the risk of serious harm"},
    )
    tier = forms.CharField(label="Tier", required=False, max_length=2, help_text="For example, A3. Leave blank if "
                           "the case is not tiered.", widget=forms.TextInput(attrs={"class": "govuk-input--width-3"}))
    assessed_on = GovukDateField(label="Date of assessment",
                                 error_messages={"required": "Enter the date of the assessment"})
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class RiskScoreForm(GovukFormMixin, forms.Form):
    kind = forms.ChoiceField(label="Score", choices=RiskScore.Kind.choices,
                             error_messages={"required": "Select the score"})
    score = forms.DecimalField(label="Score (%)", required=False, min_value=0, max_value=100, decimal_places=2,
                               help_text="The likelihood as a percentage, for example 62.5.",
                               widget=forms.TextInput(attrs={"class": "govuk-input--width-5", "inputmode": "decimal"}))
    band = forms.ChoiceField(label="Band", required=False, choices=[("", "Not given"), *RiskScore._meta.get_field(
        "band").choices])
    assessed_on = GovukDateField(label="Date of assessment",
                                 error_messages={"required": "Enter the date of the assessment"})


class RaiseFlagForm(GovukFormMixin, forms.Form):
    kind = forms.ChoiceField(label="Flag", choices=RiskFlag.Kind.choices, widget=forms.RadioSelect,
                             error_messages={"required": "Select the flag"})
    level = forms.ChoiceField(choices=FlagLevel.choices, widget=forms.RadioSelect,
                              error_messages={"required": "Select the level"})
    registered_on = GovukDateField(label="Date raised", error_messages={"required": "Enter the date it was raised"})
    review_on = GovukDateField(label="Next review", error_messages={"required": "Enter the date of the next review"})
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class ReviewFlagForm(GovukFormMixin, forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    reviewed_on = GovukDateField(label="Date of review", error_messages={"required": "Enter the date of the review"})
    level = forms.ChoiceField(choices=FlagLevel.choices, widget=forms.RadioSelect,
                              error_messages={"required": "Select the level"})
    next_review_on = GovukDateField(label="Next review",
                                    error_messages={"required": "Enter the date of the next review"})
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class RemoveFlagForm(GovukFormMixin, forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    ended_on = GovukDateField(label="Date removed", error_messages={"required": "Enter the date the flag was removed"})
    reason = forms.CharField(label="Why it is being removed", widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=2000, error_messages={"required": "Enter why the flag is being removed"})
