import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils import timezone

from cases.models import Agency, User
from web.widgets import GovukDateField, GovukFormMixin, govuk_formfield_callback

from .models import (
    AccommodationStatus,
    ActionStatus,
    BenefitStatus,
    EteStatus,
    NeedLevel,
    Pathway,
    Referral,
    ReferralStatus,
    Service,
    TreatmentEngagement,
    agencies_that_own_actions,
    possible_action_owners,
)

DATETIME_INPUT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"]


def datetime_field(label, *, required, help_text="For example, 2026-03-27 14:30"):
    return forms.DateTimeField(
        label=label, required=required, help_text=help_text, input_formats=DATETIME_INPUT_FORMATS,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )


class StaffChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        return f"{user} ({user.agency})" if user.agency_id else str(user)


class FieldSetupMixin:
    """Calls `setup_fields()` as soon as the fields exist.

    Goes between GovukFormMixin and the Django form class, so choices that depend
    on the person or the action are in place before GovukFormMixin validates a
    bound form to style the fields in error.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_fields()

    def setup_fields(self):
        pass


class NeedsAssessmentForm(GovukFormMixin, forms.Form):
    """One level and rationale per pathway in use; pathways left unanswered are not reassessed.

    Build it with `for_pathways`, which declares the per-pathway fields on a subclass so
    they are validated and styled like any declared field.
    """

    assessed_on = GovukDateField(label="Date of assessment")
    pathways = ()

    @classmethod
    def for_pathways(cls, pathways, current):
        fields = {"pathways": list(pathways), "current": current}
        for pathway in fields["pathways"]:
            before = current.get(pathway.pk)
            fields[f"level_{pathway.key}"] = forms.ChoiceField(
                label=pathway.name, choices=NeedLevel.choices, widget=forms.RadioSelect, required=False,
                help_text=(f"Currently {before.get_level_display().lower()} (assessed {before.assessed_on:%d %B %Y})"
                           if before else "Not assessed yet"),
            )
            fields[f"rationale_{pathway.key}"] = forms.CharField(
                label=f"Why: {pathway.name.lower()}", required=False, max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        return type("NeedsAssessmentForm", (cls,), fields)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("assessed_on", timezone.localdate())
        for pathway in self.pathways:
            before = self.current.get(pathway.pk)
            if before:
                self.initial.setdefault(f"level_{pathway.key}", before.level)
                self.initial.setdefault(f"rationale_{pathway.key}", before.rationale)

    def rows(self):
        """(pathway, level field, rationale field) for the template, in catalogue order."""
        return [(p, self[f"level_{p.key}"], self[f"rationale_{p.key}"]) for p in self.pathways]

    def clean_assessed_on(self):
        value = self.cleaned_data["assessed_on"]
        if value > timezone.localdate():
            raise ValidationError("The date of the assessment cannot be in the future.")
        return value

    def clean(self):
        cleaned = super().clean()
        answered = False
        for pathway in self.pathways:
            level = cleaned.get(f"level_{pathway.key}")
            rationale = (cleaned.get(f"rationale_{pathway.key}") or "").strip()
            if level:
                answered = True
                if level != NeedLevel.NONE and not rationale:
                    self.add_error(f"rationale_{pathway.key}", f"Say why there is a need on {pathway.name.lower()}.")
            elif rationale:
                self.add_error(f"level_{pathway.key}", f"Select the level of need on {pathway.name.lower()}.")
        if not answered and not self.errors:
            raise ValidationError("Select the level of need on at least one pathway.")
        return cleaned

    def levels(self):
        return {
            pathway: (self.cleaned_data[f"level_{pathway.key}"], self.cleaned_data[f"rationale_{pathway.key}"])
            for pathway in self.pathways
            if self.cleaned_data.get(f"level_{pathway.key}")
        }


class ActionForm(GovukFormMixin, FieldSetupMixin, forms.Form):
    """A new action. The person responsible is chosen from the owning agency's staff who can update actions.

    The list offers the staff of the agency chosen (the user's own at first); choosing another
    agency and no one leaves it to that agency, whose staff are told of the action.
    """

    pathway = forms.ModelChoiceField(queryset=Pathway.objects.in_use(), empty_label="Select a pathway",
                                     error_messages={"invalid_choice": "Select a pathway from the list."})
    description = forms.CharField(label="What needs to be done", max_length=2000,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    owner_agency = forms.ModelChoiceField(label="Agency that owns the action", queryset=Agency.objects.none(),
                                          empty_label="Select an agency")
    owner = StaffChoiceField(
        label="Person responsible", required=False, queryset=User.objects.none(), empty_label="Not assigned yet",
        help_text="An offender manager, panel chair or administrator of the owning agency. For another agency, "
        "choose it and leave this as not assigned: that agency's staff are told and assign it.",
    )
    due_on = GovukDateField(label="Due date")
    share_with_owner = forms.BooleanField(
        label="Share the case with the owning agency if it cannot see this person yet", required=False,
        help_text="An agency can only see and update its actions on people it may see. Sharing is recorded.",
    )

    def setup_fields(self):
        self.fields["owner_agency"].queryset = agencies_that_own_actions()
        agency_id = self.data.get("owner_agency") if self.is_bound else self.initial.get("owner_agency")
        agency_id = int(agency_id) if str(agency_id or "").isdigit() else None
        self.fields["owner"].queryset = possible_action_owners().filter(agency_id=agency_id).select_related(
            "agency"
        ).order_by("last_name", "first_name")

    def clean(self):
        cleaned = super().clean()
        if "owner" in self.errors and cleaned.get("owner_agency"):
            # Someone of another agency, from the list as it was before the agency was changed.
            self.errors["owner"] = self.error_class(
                [f"Choose a member of staff of {cleaned['owner_agency']} from the list, or nobody."]
            )
        due_on = cleaned.get("due_on")
        if due_on and due_on < timezone.localdate():
            self.add_error("due_on", "The due date cannot be in the past.")
        return cleaned


class ActionUpdateForm(GovukFormMixin, FieldSetupMixin, forms.Form):
    status = forms.ChoiceField(choices=ActionStatus.choices, widget=forms.RadioSelect)
    outcome = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="What was done and what came of it.")
    due_on = GovukDateField(label="Due date")
    owner = StaffChoiceField(label="Person responsible", required=False, queryset=User.objects.none(),
                             empty_label="Not assigned")

    def __init__(self, *args, action, **kwargs):
        self.action = action
        super().__init__(*args, **kwargs)

    def setup_fields(self):
        action = self.action
        self.fields["owner"].queryset = possible_action_owners(action.owner_agency_id).select_related(
            "agency"
        ).order_by("last_name", "first_name")
        self.initial.update(status=action.status, outcome=action.outcome, due_on=action.due_on,
                            owner=action.owner_id)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("status") in (ActionStatus.DONE, ActionStatus.CANCELLED) and not (
            cleaned.get("outcome") or ""
        ).strip():
            self.add_error("outcome", "Enter the outcome of the action.")
        return cleaned


class AccommodationStatusForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = AccommodationStatus
        fields = ["status", "effective_on", "on_release_day", "notes"]
        labels = {"status": "Accommodation", "on_release_day": "This is where the person went on release from prison"}
        widgets = {"status": forms.RadioSelect, "notes": forms.Textarea(attrs={"rows": 2})}
        formfield_callback = govuk_formfield_callback


class EteStatusForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = EteStatus
        fields = ["status", "effective_on", "notes"]
        labels = {"status": "Education, training and employment"}
        widgets = {"status": forms.RadioSelect, "notes": forms.Textarea(attrs={"rows": 2})}
        formfield_callback = govuk_formfield_callback


class BenefitStatusForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = BenefitStatus
        fields = ["status", "effective_on", "notes"]
        labels = {"status": "Benefits"}
        widgets = {"status": forms.RadioSelect, "notes": forms.Textarea(attrs={"rows": 2})}
        formfield_callback = govuk_formfield_callback


class TreatmentEngagementForm(GovukFormMixin, forms.ModelForm):
    class Meta:
        model = TreatmentEngagement
        fields = ["substance", "stage", "requirement", "provider", "effective_on", "notes"]
        labels = {"substance": "Treatment for", "provider": "Treatment provider"}
        widgets = {
            "substance": forms.RadioSelect, "stage": forms.RadioSelect, "requirement": forms.RadioSelect,
            "notes": forms.Textarea(attrs={"rows": 2}),
        }
        formfield_callback = govuk_formfield_callback

    def clean(self):
        cleaned = super().clean()
        substance, requirement = cleaned.get("substance"), cleaned.get("requirement")
        if requirement == TreatmentEngagement.Requirement.DRR and substance != TreatmentEngagement.Substance.DRUGS:
            self.add_error("requirement", "A DRR is a requirement for drug treatment.")
        if requirement == TreatmentEngagement.Requirement.ATR and substance != TreatmentEngagement.Substance.ALCOHOL:
            self.add_error("requirement", "An ATR is a requirement for alcohol treatment.")
        return cleaned

    def _post_clean(self):
        # The service validates the whole record (with the person) and reports constraint errors.
        pass


class ServiceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, service):
        provider = f" ({service.provided_by})" if service.provided_by else ""
        return f"{service.pathway.name}: {service.name}{provider}"


class ReferralForm(GovukFormMixin, FieldSetupMixin, forms.Form):
    service = ServiceChoiceField(queryset=Service.objects.none(), empty_label="Select a service",
                                 error_messages={"invalid_choice": "Select a service from the directory."})
    urgency = forms.ChoiceField(choices=Referral.Urgency.choices, widget=forms.RadioSelect, initial="routine",
                                help_text="Emergency referrals are measured against the service's contact target.")
    reason = forms.CharField(label="Reason for the referral", required=False, max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 3}))
    referred_at = datetime_field("When the referral was made", required=False,
                                 help_text="Leave blank for now. For example, 2026-03-27 14:30")
    share_with_provider = forms.BooleanField(
        label="Share the case with the provider if it is a partner agency that cannot see this person yet",
        required=False, help_text="So the provider can record first contact and progress. Sharing is recorded.",
    )

    def __init__(self, *args, offender, **kwargs):
        self.offender = offender
        super().__init__(*args, **kwargs)

    def setup_fields(self):
        offender = self.offender
        # Partnership-wide services and those of the person's own area.
        self.fields["service"].queryset = (
            Service.objects.in_use().filter(pathway__retired=False)
            .filter(Q(area__isnull=True) | Q(area_id=offender.area_id))
            .select_related("pathway", "provider").order_by("pathway__order", "name")
        )

    def clean_referred_at(self):
        value = self.cleaned_data.get("referred_at")
        if value and value > timezone.now():
            raise ValidationError("The referral cannot be in the future.")
        return value


class ReferralUpdateForm(GovukFormMixin, forms.Form):
    status = forms.ChoiceField(choices=ReferralStatus.choices, widget=forms.RadioSelect)
    first_contact_at = datetime_field("When the service first saw or spoke to the person", required=False)
    decided_on = GovukDateField(label="Date the service accepted or declined", required=False)
    started_on = GovukDateField(label="Date the person started with the service", required=False)
    ended_on = GovukDateField(label="Date the referral was completed or withdrawn", required=False)
    outcome = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, referral, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.update(
            status=referral.status, decided_on=referral.decided_on, started_on=referral.started_on,
            ended_on=referral.ended_on, outcome=referral.outcome,
            first_contact_at=timezone.localtime(referral.first_contact_at) if referral.first_contact_at else None,
        )


class ReferralDecisionForm(GovukFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label="Will the service take this referral on?", widget=forms.RadioSelect,
        choices=[("accept", "Accept the referral"), ("decline", "Decline the referral")],
        error_messages={"required": "Select whether you accept or decline the referral."},
    )
    reason = forms.CharField(
        label="Reason", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Needed to decline: the agency that made the referral sees it.",
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "decline" and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", "Enter why the referral is declined.")
        return cleaned


class FirstContactForm(GovukFormMixin, forms.Form):
    """When the service first saw or spoke to the person: a GOV.UK date and a 24-hour time."""

    contacted_at = GovukDateField(label="Date of the first contact")
    contact_time = forms.TimeField(
        label="Time of the first contact", input_formats=["%H:%M", "%H.%M", "%H%M"],
        help_text="Use the 24-hour clock, for example 14:30",
        error_messages={"required": "Enter the time of the first contact", "invalid": "Enter a time like 14:30"},
        widget=forms.TextInput(attrs={"class": "govuk-input--width-5", "autocomplete": "off"}),
    )

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("contacted_at"), cleaned.get("contact_time")
        if day and time:
            cleaned["contacted_at"] = timezone.make_aware(datetime.datetime.combine(day, time))
        return cleaned
