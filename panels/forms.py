from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q

from cases.identifiers import normalise_identifier
from cases.models import Agency, Area, Cohort, CohortMembership, Offender, RagStatus, User
from pathways.models import NeedAssessment, Pathway, agencies_that_own_actions, possible_action_owners
from web.widgets import GovukDateField, GovukFormMixin, GovukTimeField, govuk_formfield_callback

from .models import (
    COHORT_RULES,
    AgendaRule,
    Attendance,
    CheckpointContract,
    Meeting,
    Panel,
    PanelType,
    UsualWeek,
    Weekday,
)


def _member_agencies(panel):
    return Agency.objects.filter(panel_memberships__panel=panel).order_by("name")


class _MeetingForm(forms.ModelForm):
    starts_at = GovukTimeField(label="Start time", required=False,
                               help_text="For example 10:00 or 2pm. Left blank, the panel's usual start time.")

    class Meta:
        model = Meeting
        fields = ["held_on", "starts_at", "location"]
        formfield_callback = govuk_formfield_callback


class MeetingForm(GovukFormMixin, _MeetingForm):
    pass


GUEST_ROWS = 3


class _AttendanceSheetForm(forms.Form):
    """Every member agency of the panel in one form, and guests by name and agency.

    Fields are named by agency (`status_7`, `name_7`, `deputy_7`) and by guest row
    (`guest_name_0`, `guest_agency_0`), so the page works without JavaScript.
    """

    def __init__(self, *args, meeting, **kwargs):
        super().__init__(*args, **kwargs)
        recorded = {row.agency_id: row for row in meeting.attendance.all() if row.agency_id}
        previous = {}
        earlier = (Meeting.objects.filter(panel=meeting.panel, held_on__lt=meeting.held_on)
                   .order_by("-held_on", "-pk").first())
        if earlier is not None:
            previous = {row.agency_id: row.name for row in earlier.attendance.all() if row.agency_id}
        self.members = list(meeting.panel.memberships.select_related("agency").order_by("agency__name"))
        self.member_rows = []
        for membership in self.members:
            agency, row = membership.agency, recorded.get(membership.agency_id)
            self.fields[f"status_{agency.pk}"] = forms.ChoiceField(
                label="Attendance", choices=Attendance.Status.choices, widget=forms.RadioSelect,
                initial=row.status if row else None,
            )
            self.fields[f"name_{agency.pk}"] = forms.CharField(
                label="Member's name and role", max_length=150,
                initial=row.name if row else (previous.get(agency.pk) or membership.representative),
            )
            self.fields[f"deputy_{agency.pk}"] = forms.CharField(
                label="Deputy's name and role", max_length=150, required=False,
                initial=row.deputy if row else "", help_text="If someone attended in the member's place.",
            )
            self.member_rows.append((agency, [f"status_{agency.pk}", f"name_{agency.pk}", f"deputy_{agency.pk}"]))
        guests = [row for row in meeting.attendance.all() if not row.agency_id]
        self.guest_rows = []
        for index in range(len(guests) + GUEST_ROWS):
            guest = guests[index] if index < len(guests) else None
            self.fields[f"guest_name_{index}"] = forms.CharField(
                label="Guest's name and role", max_length=150, required=False, initial=guest.name if guest else "",
            )
            self.fields[f"guest_agency_{index}"] = forms.CharField(
                label="Guest's agency", max_length=150, required=False,
                initial=guest.guest_agency if guest else "",
            )
            self.guest_rows.append((index + 1, [f"guest_name_{index}", f"guest_agency_{index}"]))

    def bound_rows(self):
        return [(agency, [self[name] for name in names]) for agency, names in self.member_rows]

    def bound_guests(self):
        return [(number, [self[name] for name in names]) for number, names in self.guest_rows]

    def clean(self):
        data = super().clean()
        for agency, (status, _name, deputy) in self.member_rows:
            if data.get(deputy) and data.get(status) and data[status] != Attendance.Status.PRESENT:
                self.add_error(deputy, f"Leave the deputy blank unless someone attended for {agency.name}.")
        for _number, (name, organisation) in self.guest_rows:
            if data.get(name) and not data.get(organisation):
                self.add_error(organisation, "Enter the guest's agency.")
            if data.get(organisation) and not data.get(name):
                self.add_error(name, "Enter the guest's name and role.")
        return data

    def attendance(self):
        data = self.cleaned_data
        members = [
            {"agency": agency, "status": data[status], "name": data[name], "deputy": data[deputy]}
            for agency, (status, name, deputy) in self.member_rows
        ]
        guests = [
            {"name": data[name], "guest_agency": data[organisation]}
            for _number, (name, organisation) in self.guest_rows if data.get(name)
        ]
        return {"members": members, "guests": guests}


class AttendanceSheetForm(GovukFormMixin, _AttendanceSheetForm):
    pass


class _AgendaPlanForm(forms.Form):
    """The chair's order of the agenda and minutes for each person, with the meeting's start time."""

    starts_at = GovukTimeField(label="Start time", help_text="For example 10:00 or 2pm.")

    def __init__(self, *args, meeting, entries, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].initial = meeting.starts_at
        self.rows = []
        for number, entry in enumerate(entries, start=1):
            item = entry.item
            self.fields[f"position_{item.pk}"] = forms.IntegerField(
                label=f"Order of {item.offender.full_name}", min_value=1, initial=number,
                widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}),
            )
            self.fields[f"minutes_{item.pk}"] = forms.IntegerField(
                label=f"Minutes for {item.offender.full_name}", min_value=1, max_value=60, initial=item.minutes,
                widget=forms.TextInput(attrs={"inputmode": "numeric", "class": "govuk-input--width-3"}),
            )
            self.rows.append((entry, f"position_{item.pk}", f"minutes_{item.pk}"))

    def bound_rows(self):
        return [(entry, self[position], self[minutes]) for entry, position, minutes in self.rows]

    def plan(self):
        data = self.cleaned_data
        return {entry.item.pk: (data[position], data[minutes]) for entry, position, minutes in self.rows}


class AgendaPlanForm(GovukFormMixin, _AgendaPlanForm):
    pass


class _CloseMeetingForm(forms.Form):
    schedule_next = forms.BooleanField(label="Add the next meeting", required=False, initial=True)
    next_held_on = GovukDateField(label="Next meeting date", required=False)
    next_location = forms.CharField(label="Place", max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("schedule_next") and not data.get("next_held_on") and "next_held_on" not in self.errors:
            self.add_error("next_held_on", "Enter the date of the next meeting, or untick adding it.")
        if not data.get("schedule_next"):
            data["next_held_on"] = None
        return data


class CloseMeetingForm(GovukFormMixin, _CloseMeetingForm):
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
                                 widget=forms.Textarea(attrs={"rows": 2}),
                                 help_text="Needed whenever the panel changes the RAG status.")
    next_review_on = GovukDateField(label="Next panel review", required=False)
    expected_status = forms.CharField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def clean(self):
        data = super().clean()
        if data.get("to_status") and not (data.get("rag_reason") or "").strip():
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
        self.fields["owner_agency"].queryset = _member_agencies(panel).filter(pk__in=agencies_that_own_actions())
        self.fields["owner"].queryset = possible_action_owners().filter(
            agency__panel_memberships__panel=panel
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
            "victim_satisfaction",
        ]
        widgets = {
            "eligibility_notes": forms.Textarea(attrs={"rows": 2}),
            "conditions": forms.Textarea(attrs={"rows": 4}),
            "victim_view": forms.Textarea(attrs={"rows": 3}),
            "outcome": forms.RadioSelect,
            "victim_satisfaction": forms.RadioSelect,
        }
        formfield_callback = govuk_formfield_callback

    def __init__(self, *args, offender, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["needs_assessment"].queryset = NeedAssessment.objects.filter(offender=offender).select_related(
            "pathway")
        self.fields["needs_assessment"].empty_label = "None"
        self.fields["outcome"].choices = [("", "Not yet"), *CheckpointContract.Outcome.choices]
        self.fields["outcome"].required = False
        self.fields["victim_satisfaction"].choices = [("", "Not asked yet"),
                                                      *CheckpointContract.VictimSatisfaction.choices]
        self.fields["victim_satisfaction"].required = False
        if not self.instance.pk:
            del self.fields["outcome"]
            del self.fields["outcome_on"]
            del self.fields["victim_satisfaction"]

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
        if data.get("victim_satisfaction") and not data.get("outcome"):
            self.add_error("victim_satisfaction", "Ask the victim once the contract has ended and has an outcome.")
        return data

    def _post_clean(self):
        # Model validation (the end date, constraints) is the service's job; it reports back as form errors.
        pass

    def contract_fields(self):
        return dict(self.cleaned_data)


class CheckpointContractForm(GovukFormMixin, _CheckpointContractForm):
    pass


class _PanelTypeForm(forms.Form):
    name = forms.CharField(label="Name", max_length=150, help_text="For example, ASB and Community MARAC.")
    cohort = forms.ChoiceField(
        label="Cohort", required=False, choices=[("", "None: people are put on the agenda by hand"),
                                                 *Cohort.choices],
        help_text="The cohort whose people the panel manages: new referrals, reds and releases come from it.",
    )
    agenda_rules = forms.MultipleChoiceField(
        label="Agenda rules", choices=AgendaRule.choices, required=False, widget=forms.CheckboxSelectMultiple,
        help_text="Who the agenda lists. Without a cohort, only reviews due and actions carried forward apply.",
    )
    member_agencies = forms.ModelMultipleChoiceField(
        label="Usual member agencies", queryset=Agency.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
    )
    opened_by_agreement = forms.BooleanField(
        label="Open the panel only to member agencies that hold the sharing agreement for the cohort",
        required=False,
    )

    def clean(self):
        data = super().clean()
        if data.get("opened_by_agreement") and not data.get("cohort"):
            self.add_error("opened_by_agreement", "Choose a cohort for the sharing agreement to open the panel.")
        if not data.get("cohort") and set(data.get("agenda_rules") or []) & COHORT_RULES:
            self.add_error("agenda_rules", "Rules about the cohort need a cohort: choose one, or only reviews "
                                           "due and actions carried forward.")
        return data


class PanelTypeForm(GovukFormMixin, _PanelTypeForm):
    pass


class _PanelSetUpForm(forms.Form):
    name = forms.CharField(label="Name of the panel", max_length=150)
    kind = forms.ModelChoiceField(label="Panel type", queryset=PanelType.objects.order_by("name"),
                                  empty_label="Select a panel type")
    area = forms.ModelChoiceField(label="Area", queryset=Area.objects.order_by("name"), empty_label="Select an area")
    members = forms.ModelMultipleChoiceField(
        label="Member agencies", queryset=Agency.objects.order_by("name"), widget=forms.CheckboxSelectMultiple,
        required=False, help_text="Left blank, the panel type's usual member agencies.",
    )
    cadence = forms.ChoiceField(label="How often it meets", choices=Panel.Cadence.choices, widget=forms.RadioSelect,
                                initial=Panel.Cadence.MONTHLY)
    usual_week = forms.TypedChoiceField(label="Usual week of the month", required=False, coerce=int,
                                        empty_value=None, choices=[("", "Not fixed"), *UsualWeek.choices])
    usual_weekday = forms.TypedChoiceField(label="Usual day of the week", required=False, coerce=int,
                                           empty_value=None, choices=[("", "Not fixed"), *Weekday.choices])
    usual_place = forms.CharField(label="Usual meeting place", max_length=200, required=False)

    def clean(self):
        data = super().clean()
        if not data.get("members") and data.get("kind") is not None:
            data["members"] = list(data["kind"].member_agencies.all())
        return data


class PanelSetUpForm(GovukFormMixin, _PanelSetUpForm):
    pass
