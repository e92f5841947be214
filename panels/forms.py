from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from cases.identifiers import normalise_identifier
from cases.models import Agency, CohortMembership, Offender, RagStatus, User
from pathways.models import NeedAssessment, Pathway
from reoffending.widgets import GovukDateField, GovukFormMixin, govuk_formfield_callback

from .models import Attendance, CheckpointContract, Meeting


def _member_agencies(panel):
    return Agency.objects.filter(panel_memberships__panel=panel).order_by("name")


class MeetingForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = Meeting
        fields = ["held_on", "location"]
        formfield_callback = govuk_formfield_callback


class _AttendanceForm(forms.Form):
    agency = forms.ModelChoiceField(queryset=Agency.objects.none(), empty_label="Select an agency")
    name = forms.CharField(label="Name and role", max_length=150)
    status = forms.ChoiceField(choices=Attendance.Status.choices, widget=forms.RadioSelect,
                               initial=Attendance.Status.PRESENT)

    def __init__(self, *args, panel, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = _member_agencies(panel)


class AttendanceForm(GovukFormMixin, _AttendanceForm):
    pass


class _AddPersonForm(forms.Form):
    person = forms.CharField(
        label="Case number, PNC number or CRN", max_length=20,
        help_text="The case number is on the person's case page, for example 1042.",
    )
    reason = forms.CharField(label="Why the panel should discuss them", max_length=300,
                             widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_person(self):
        value = self.cleaned_data["person"].strip()
        people = Offender.objects.visible_to(self.user)
        if value.isdigit():
            found = people.filter(pk=int(value)).first()
        else:
            identifier = normalise_identifier(value)
            found = people.filter(Q(pnc_number=identifier) | Q(crn=identifier)).first()
        if found is None:
            # The same message whether the person does not exist or may not be seen.
            raise ValidationError("No person with that case number, PNC number or CRN is shared with your agency.")
        return found


class AddPersonForm(GovukFormMixin, _AddPersonForm):
    pass


RAG_DECISION_CHOICES = [("", "No change"), *RagStatus.choices]


class DiscussionForm(GovukFormMixin, forms.Form):
    discussion = forms.CharField(label="Discussion summary", required=False, max_length=5000,
                                 widget=forms.Textarea(attrs={"rows": 5}),
                                 help_text="Shared with every member agency in the minutes.")
    to_status = forms.ChoiceField(label="RAG decision", choices=RAG_DECISION_CHOICES, required=False,
                                  widget=forms.RadioSelect)
    rag_reason = forms.CharField(label="Reason for the RAG decision", required=False, max_length=2000,
                                 widget=forms.Textarea(attrs={"rows": 2}))
    next_review_on = GovukDateField(label="Next panel review", required=False)
    expected_status = forms.CharField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("to_status") and not (data.get("rag_reason") or "").strip() and not (
            data.get("discussion") or ""
        ).strip():
            self.add_error("rag_reason", "Enter the reason for the RAG decision.")
        if not data.get("to_status") and not (data.get("discussion") or "").strip() and not data.get(
            "next_review_on"
        ):
            raise ValidationError("Enter a discussion summary, a RAG decision or a review date.")
        return data


class MappaLevelForm(GovukFormMixin, forms.Form):
    category = forms.TypedChoiceField(choices=CohortMembership.MappaCategory.choices, coerce=int,
                                      widget=forms.RadioSelect, label="MAPPA category")
    level = forms.TypedChoiceField(choices=CohortMembership.MappaLevel.choices, coerce=int,
                                   widget=forms.RadioSelect, label="MAPPA level")
    review_on = GovukDateField(label="Review date", required=False,
                               help_text="Required for level 2 and 3 cases.")
    reason = forms.CharField(label="Reason", max_length=2000, widget=forms.Textarea(attrs={"rows": 2}))

    def clean(self):
        data = super().clean()
        if data.get("level", 1) >= 2 and not data.get("review_on"):
            self.add_error("review_on", "Level 2 and 3 cases must have a review date.")
        return data


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user} ({user.agency})"


class _MeetingActionForm(forms.Form):
    pathway = forms.ModelChoiceField(queryset=Pathway.objects.none(), empty_label="Select a pathway")
    description = forms.CharField(label="What needs to be done", max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    owner_agency = forms.ModelChoiceField(label="Agency that owns the action", queryset=Agency.objects.none(),
                                          empty_label="Select an agency")
    owner = StaffChoiceField(label="Person who owns the action", queryset=User.objects.none(), required=False,
                             empty_label="Nobody yet", help_text="A member of staff of the owning agency.")
    due_on = GovukDateField(label="Due date")

    def __init__(self, *args, panel, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pathway"].queryset = Pathway.objects.in_use()
        self.fields["owner_agency"].queryset = _member_agencies(panel)
        self.fields["owner"].queryset = User.objects.filter(
            agency__panel_memberships__panel=panel, is_active=True
        ).select_related("agency").order_by("agency__name", "last_name", "first_name")

    def clean(self):
        data = super().clean()
        owner, agency = data.get("owner"), data.get("owner_agency")
        if owner is not None and agency is not None and owner.agency_id != agency.pk:
            self.add_error("owner", f"Choose a member of staff of {agency.name}, or nobody.")
        return data


class MeetingActionForm(GovukFormMixin, _MeetingActionForm):
    pass


class _CheckpointContractForm(forms.ModelForm):
    class Meta:
        model = CheckpointContract
        fields = [
            "eligible", "eligibility_notes", "needs_assessment", "conditions", "started_on",
            "victim_consulted", "victim_consulted_on", "victim_view",
            "restorative_justice_offered", "restorative_justice_taken_up", "outcome", "outcome_on",
        ]
        widgets = {
            "eligibility_notes": forms.Textarea(attrs={"rows": 2}),
            "conditions": forms.Textarea(attrs={"rows": 4}),
            "victim_view": forms.Textarea(attrs={"rows": 3}),
            "outcome": forms.RadioSelect,
        }
        formfield_callback = govuk_formfield_callback

    def __init__(self, *args, offender, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["needs_assessment"].queryset = NeedAssessment.objects.filter(offender=offender).select_related(
            "pathway")
        self.fields["needs_assessment"].empty_label = "None"
        self.fields["outcome"].choices = [("", "Not yet"), *CheckpointContract.Outcome.choices]
        self.fields["outcome"].required = False
        if not self.instance.pk:
            del self.fields["outcome"]
            del self.fields["outcome_on"]

    def clean(self):
        data = super().clean()
        if data.get("victim_consulted") and not data.get("victim_consulted_on"):
            self.add_error("victim_consulted_on", "Enter the date the victim was consulted.")
        if data.get("restorative_justice_taken_up") and not data.get("restorative_justice_offered"):
            self.add_error("restorative_justice_taken_up", "Restorative justice must be offered first.")
        if data.get("outcome") and not data.get("outcome_on"):
            self.add_error("outcome_on", "Enter the date of the outcome.")
        if data.get("outcome_on") and not data.get("outcome"):
            self.add_error("outcome", "Select the outcome.")
        return data

    def _post_clean(self):
        # Model validation (the end date, constraints) is the service's job; it reports back as form errors.
        pass

    def contract_fields(self):
        return dict(self.cleaned_data)


class CheckpointContractForm(GovukFormMixin, _CheckpointContractForm):
    pass
