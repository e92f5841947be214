from django import forms

from web.widgets import GovukDateField, GovukFormMixin, GovukTimeField, aware_datetime, govuk_formfield_callback

from .activity import COMPLIANCE_CHOICES
from .identifiers import normalise_identifier
from .models import (
    AbsenceReason,
    Agency,
    Appointment,
    CaseNote,
    Cohort,
    CohortMembership,
    EnforcementAction,
    Offence,
    Offender,
    RagStatus,
    Requirement,
    Supervision,
    User,
)
from .timeline import timeline_sources


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
        """The status the change was made from, as the service compares it ("" for none).

        Forms posted without the field keep the plain behaviour: the change applies to the current status.
        """
        seen = self.cleaned_data["status_seen"]
        if not seen:
            return None
        return "" if seen == self.NO_STATUS else seen


class SupervisionForm(GovukFormMixin, forms.ModelForm):
    requirements = forms.MultipleChoiceField(
        choices=Requirement.Kind.choices, required=False, widget=forms.CheckboxSelectMultiple,
        label="Requirements or licence conditions",
    )

    class Meta:
        model = Supervision
        fields = [
            "kind", "started_on", "ends_on", "released_on", "release_type", "responsible_agency", "requirements",
            "other_requirements",
        ]
        widgets = {"other_requirements": forms.Textarea(attrs={"rows": 2}), "release_type": forms.RadioSelect}
        formfield_callback = govuk_formfield_callback


class AppointmentForm(GovukFormMixin, forms.Form):
    """When (a GOV.UK date input and a time), what kind, and what happened if it already has."""

    kind = forms.ChoiceField(choices=Appointment.Kind.choices, error_messages={"required": "Select the kind"})
    date = GovukDateField(error_messages={"required": "Enter the date of the appointment"})
    time = GovukTimeField(help_text="For example, 14:30 or 2:30pm", error_messages={
        "required": "Enter the time of the appointment"})
    outcome = forms.ChoiceField(
        choices=Appointment.Outcome.choices, widget=forms.RadioSelect, initial=Appointment.Outcome.SCHEDULED,
        help_text="Attendance or absence can only be recorded once the appointment time has passed.",
    )
    absence_reason = forms.ChoiceField(
        label="Reason for an acceptable absence", choices=[("", "Not an acceptable absence"), *AbsenceReason.choices],
        required=False,
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=500, required=False)

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.pop("date", None), cleaned.pop("time", None)
        if day and time:
            cleaned["scheduled_at"] = aware_datetime(day, time)
        return cleaned


class AppointmentOutcomeForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = Appointment
        fields = ["outcome", "absence_reason", "notes"]
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
    agency = forms.ModelChoiceField(queryset=Agency.objects.all(), label="Agency to share with",
                                    error_messages={"required": "Select the agency to share with"})
    reason = forms.CharField(
        label="Why you are sharing the case", widget=forms.Textarea(attrs={"rows": 3}), max_length=400,
        error_messages={"required": "Enter why you are sharing the case"},
    )
    ends_on = GovukDateField(
        label="Shared until", required=False,
        help_text="The last day the agency may see the case, for example 31 3 2027. Leave blank for no end date.",
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = Agency.objects.exclude(pk=user.agency_id)


class WithdrawShareForm(GovukFormMixin, forms.Form):
    reason = forms.CharField(
        label="Why you are withdrawing the share", widget=forms.Textarea(attrs={"rows": 3}), max_length=400,
        help_text="The agency will no longer see the case, unless the sharing agreement covers one of its cohorts.",
        error_messages={"required": "Enter why you are withdrawing the share"},
    )


class ConcludeEnforcementForm(GovukFormMixin, forms.Form):
    concluded_on = GovukDateField(label="Date concluded",
                                  error_messages={"required": "Enter the date the proceedings concluded"})
    outcome = forms.CharField(
        label="Outcome", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000,
        help_text="For example: order revoked and resentenced; returned to custody; breach withdrawn.",
        error_messages={"required": "Enter how the proceedings concluded"},
    )


class ActivityFilterForm(GovukFormMixin, forms.Form):
    q = forms.CharField(label="Keywords", required=False, max_length=100,
                        help_text="Words in notes, reasons, descriptions and outcomes.")
    category = forms.MultipleChoiceField(
        label="Show", required=False, widget=forms.CheckboxSelectMultiple,
        choices=lambda: [(source.key, source.label) for source in timeline_sources()],
    )
    compliance = forms.ChoiceField(
        label="Compliance", required=False, help_text="Shows appointments only.",
        choices=[("", "Any"), *COMPLIANCE_CHOICES],
    )
    date_from = GovukDateField(label="From", required=False, help_text="For example, 1 4 2026")
    date_to = GovukDateField(label="To", required=False, help_text="For example, 30 6 2026")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_to"] < cleaned["date_from"]:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return cleaned


class PersonAccessLogFilterForm(GovukFormMixin, forms.Form):
    user = forms.CharField(required=False, max_length=150, label="Who", help_text="A name or user name.")
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("date_from") and cleaned.get("date_to") and cleaned["date_to"] < cleaned["date_from"]:
            self.add_error("date_to", "The end date must be on or after the start date.")
        return cleaned


class AccessLogFilterForm(PersonAccessLogFilterForm):
    person = forms.CharField(
        required=False, max_length=100, label="Person", help_text="A name, PNC number, CRN or case number."
    )
    field_order = ["person", "user", "date_from", "date_to"]


class OffenceForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = Offence
        fields = [
            "committed_on", "offence_group", "drug_related", "alcohol_related", "description", "outcome", "outcome_on",
            "court",
        ]
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
    outcome_on = GovukDateField(label="Date of outcome", help_text="For a charge, the date of the charge.")
    court = forms.CharField(max_length=100, required=False, help_text="The court that dealt with the case.")


class EnforcementForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = EnforcementAction
        fields = ["kind", "taken_on", "details"]
        labels = {"kind": "Enforcement action", "taken_on": "Date taken"}
        widgets = {"kind": forms.RadioSelect, "details": forms.Textarea(attrs={"rows": 3})}
        formfield_callback = govuk_formfield_callback
