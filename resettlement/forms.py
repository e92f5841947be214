from django import forms

from cases.models import Agency
from pathways.models import Pathway
from web.widgets import GovukDateField, GovukFormMixin

from .models import Agreement, ItemStatus


class ChecklistItemForm(GovukFormMixin, forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(label="Where it stands", choices=ItemStatus.choices, widget=forms.RadioSelect,
                               error_messages={"required": "Select where the item stands"})
    owner_agency = forms.ModelChoiceField(label="Owner", queryset=Agency.objects.all(), required=False,
                                          empty_label="No owner yet")
    due_on = GovukDateField(label="Date", required=False, help_text="When it is due, or the day it was done.")
    notes = forms.CharField(required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class GoalForm(GovukFormMixin, forms.Form):
    text = forms.CharField(
        label="The goal, in the person's own words", max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Write down what they said, as they said it.",
        error_messages={"required": "Enter the goal in the person's own words"},
    )
    pathway = forms.ModelChoiceField(label="Pathway", queryset=Pathway.objects.in_use(), required=False,
                                     empty_label="No particular pathway")


class StepForm(GovukFormMixin, forms.Form):
    text = forms.CharField(label="What will happen", max_length=500,
                           error_messages={"required": "Enter what will happen"})
    owner_agency = forms.ModelChoiceField(label="Who will do it", queryset=Agency.objects.all(), required=False,
                                          empty_label="The person themselves")
    due_on = GovukDateField(label="By when", required=False)


class AgreementForm(GovukFormMixin, forms.Form):
    agreement = forms.ChoiceField(label="Did the person agree to the plan?", choices=Agreement.choices,
                                  widget=forms.RadioSelect,
                                  error_messages={"required": "Select the person's answer"})
    agreement_on = GovukDateField(label="Date", error_messages={"required": "Enter the date they answered"})
    note = forms.CharField(label="What the person said", required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Needed when they did not agree or could not answer.")


class ReviewForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(label="Why the plan is being reviewed", max_length=500,
                             widget=forms.Textarea(attrs={"rows": 3}),
                             error_messages={"required": "Enter why the plan is being reviewed"})
