from django import forms
from django.core.exceptions import ValidationError

from reoffending.widgets import GovukDateField, GovukFormMixin, govuk_formfield_callback

from .identifiers import normalise_identifier
from .models import (
    Agency,
    Appointment,
    CaseNote,
    Cohort,
    CohortMembership,
    EnforcementAction,
    Offence,
    Offender,
    RagStatus,
    Supervision,
    User,
)


class OffenderForm(GovukFormMixin, forms.ModelForm):
    aliases = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), help_text="Other names the person uses, one a line."
    )

    class Meta:
        model = Offender
        fields = [
            "first_names", "last_name", "aliases", "date_of_birth", "gender", "ethnicity",
            "address", "postcode", "area", "pnc_number", "crn", "prison_number",
            "veteran", "care_leaver", "disability", "womens_cohort",
            "lead_offender_manager", "review_date",
        ]
        widgets = {"address": forms.Textarea(attrs={"rows": 3})}
        formfield_callback = govuk_formfield_callback

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        agency_id = self.instance.lead_agency_id if self.instance.pk else user.agency_id
        self.fields["lead_offender_manager"].queryset = User.objects.filter(
            agency_id=agency_id, is_active=True, role__in=["offender_manager", "panel_chair"]
        )
        self.fields["lead_offender_manager"].help_text = "A member of staff of the lead agency."
        if self.instance.pk:
            self.initial["aliases"] = "\n".join(self.instance.aliases.values_list("name", flat=True))

    def _clean_identifier(self, name):
        return normalise_identifier(self.cleaned_data.get(name))

    def clean_pnc_number(self):
        return self._clean_identifier("pnc_number")

    def clean_crn(self):
        return self._clean_identifier("crn")

    def clean_prison_number(self):
        return self._clean_identifier("prison_number")

    def clean_aliases(self):
        return [line.strip() for line in self.cleaned_data["aliases"].splitlines() if line.strip()]

    def clean_date_of_birth(self):
        from django.utils import timezone

        value = self.cleaned_data["date_of_birth"]
        if value and value >= timezone.localdate():
            raise ValidationError("Date of birth must be in the past.")
        return value

    def model_fields(self):
        return {name: value for name, value in self.cleaned_data.items() if name != "aliases"}


class CohortMembershipForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = CohortMembership
        fields = ["cohort", "iom_category", "mappa_category", "mappa_level", "started_on"]
        widgets = {"cohort": forms.RadioSelect}
        formfield_callback = govuk_formfield_callback
        help_texts = {
            "iom_category": "IOM memberships only.",
            "mappa_category": "MAPPA memberships only.",
            "mappa_level": "MAPPA memberships only.",
        }

    def clean(self):
        cleaned = super().clean()
        cohort = cleaned.get("cohort")
        if cohort == Cohort.IOM and not cleaned.get("iom_category"):
            self.add_error("iom_category", "Select the IOM category.")
        if cohort == Cohort.MAPPA:
            if not cleaned.get("mappa_category"):
                self.add_error("mappa_category", "Select the MAPPA category.")
            if not cleaned.get("mappa_level"):
                self.add_error("mappa_level", "Select the MAPPA level.")
        if cohort and cohort != Cohort.IOM:
            cleaned["iom_category"] = ""
        if cohort and cohort != Cohort.MAPPA:
            cleaned["mappa_category"] = cleaned["mappa_level"] = None
        return cleaned

    def _post_clean(self):
        # Uniqueness of open memberships is checked by the service with a clear message.
        pass


class EndMembershipForm(GovukFormMixin, forms.Form):
    ended_on = GovukDateField(label="End date")
    exit_reason = forms.ChoiceField(
        choices=CohortMembership.ExitReason.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select why the person left the cohort"},
    )


class RagChangeForm(GovukFormMixin, forms.Form):
    NO_STATUS = "none"

    # The status the user saw when the form opened, so a change made meanwhile is not stacked on blindly.
    status_seen = forms.CharField(required=False, widget=forms.HiddenInput)
    to_status = forms.ChoiceField(
        label="New RAG status", choices=RagStatus.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select the new RAG status"},
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=2000,
        error_messages={"required": "Enter the reason for the change of RAG status"},
        help_text="Why the status is changing: engagement, intelligence, enforcement.",
    )

    def clean_status_seen(self):
        # Forms posted without the field keep the plain behaviour: the change applies to the current status.
        return self.cleaned_data["status_seen"] or None


class SupervisionForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = Supervision
        fields = [
            "kind", "started_on", "ends_on", "released_on", "responsible_agency",
            "drug_rehabilitation_requirement", "alcohol_treatment_requirement", "other_requirements",
        ]
        widgets = {"other_requirements": forms.Textarea(attrs={"rows": 2})}
        formfield_callback = govuk_formfield_callback


class AppointmentForm(GovukFormMixin, forms.ModelForm):
    scheduled_at = forms.DateTimeField(
        label="Date and time", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        help_text="For example, 2026-03-27 14:30",
    )

    class Meta:
        model = Appointment
        fields = ["kind", "scheduled_at", "outcome", "notes"]
        widgets = {"outcome": forms.RadioSelect, "notes": forms.Textarea(attrs={"rows": 2})}


class AppointmentOutcomeForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = Appointment
        fields = ["outcome", "notes"]
        widgets = {"outcome": forms.RadioSelect, "notes": forms.Textarea(attrs={"rows": 2})}


class CaseNoteForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = CaseNote
        fields = ["text", "sharing"]
        error_messages = {
            "text": {"required": "Enter the note"},
            "sharing": {"required": "Select who can read this note"},
        }
        labels = {"text": "Note", "sharing": "Who can read this note"}
        widgets = {"text": forms.Textarea(attrs={"rows": 5}), "sharing": forms.RadioSelect}


class ShareForm(GovukFormMixin, forms.Form):
    agency = forms.ModelChoiceField(queryset=Agency.objects.all(), label="Agency to share with")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=400)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.exclude(pk=user.agency_id)


class AccessLogFilterForm(GovukFormMixin, forms.Form):
    person = forms.IntegerField(required=False, label="Person (case number)", min_value=1)
    username = forms.CharField(required=False, max_length=150, label="User name")
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")


class OffenceForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = Offence
        fields = ["committed_on", "offence_group", "description", "outcome", "outcome_on"]
        widgets = {"outcome": forms.RadioSelect}
        formfield_callback = govuk_formfield_callback
        help_texts = {"outcome_on": "Leave blank while the outcome is pending."}

    def clean(self):
        cleaned = super().clean()
        outcome, outcome_on = cleaned.get("outcome"), cleaned.get("outcome_on")
        if outcome and outcome != Offence.Outcome.PENDING and not outcome_on:
            self.add_error("outcome_on", "Enter the date of the outcome.")
        if outcome == Offence.Outcome.PENDING and outcome_on:
            self.add_error("outcome_on", "Leave the date blank while the outcome is pending.")
        return cleaned


class OffenceOutcomeForm(GovukFormMixin, forms.Form):
    outcome = forms.ChoiceField(
        choices=[choice for choice in Offence.Outcome.choices if choice[0] != Offence.Outcome.PENDING],
        widget=forms.RadioSelect,
    )
    outcome_on = GovukDateField(label="Date of outcome")


class EnforcementForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = EnforcementAction
        fields = ["kind", "taken_on", "details"]
        labels = {"kind": "Enforcement action", "taken_on": "Date taken"}
        widgets = {"kind": forms.RadioSelect, "details": forms.Textarea(attrs={"rows": 3})}
        formfield_callback = govuk_formfield_callback
