"""Multi-agency panels (IOM, MAPPA, Checkpoint, DIP, SGV), their meetings, agendas, decisions and contracts."""

import calendar
import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from cases.models import Agency, Area, Cohort, CohortMembership, Offender, RagChange, Role, SharingAgreement

CHECKPOINT_MONTHS = 4
# A contract this close to its end date is flagged, so the panel plans the outcome.
CHECKPOINT_NEAR_END_DAYS = 14


def add_months(day, months):
    """The same day `months` later, or the month's last day when it has fewer days (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


class PanelKind(models.TextChoices):
    """The panel types that ship as defaults (seeded by a migration). An administrator adds others as data."""

    IOM_MAIN = "iom_main", "IOM main panel"
    IOM_MID_MONTH = "iom_mid_month", "IOM mid-month panel"
    MAPPA = "mappa", "MAPPA level 2 and 3 meeting"
    CHECKPOINT = "checkpoint", "Checkpoint panel"
    DIP = "dip", "DIP panel"
    SGV = "sgv", "Serious group violence panel"


class AgendaRule(models.TextChoices):
    """The fixed menu of rules a panel type's agenda may be drawn up by (see `services.select_agenda`)."""

    NEW_REFERRAL = "new_referral", "New referrals to the cohort since the last meeting"
    RED = "red", "Everyone red"
    ESCALATING = "escalating", "RAG raised since the last meeting"
    REVIEW_DUE = "review_due", "Reviews due"
    OVERDUE_ACTIONS = "overdue_actions", "Overdue actions"
    RELEASED = "released", "Released from prison since the last meeting"
    CARRIED_FORWARD = "carried_forward", "Open actions carried forward"


# Rules that draw on the panel's cohort; a panel type without a cohort takes its people by hand.
COHORT_RULES = frozenset({AgendaRule.NEW_REFERRAL, AgendaRule.RED, AgendaRule.ESCALATING,
                          AgendaRule.OVERDUE_ACTIONS, AgendaRule.RELEASED})


class PanelType(models.Model):
    """A kind of panel the partnership runs, kept as data so a new one needs no change of code.

    Its cohort is where a panel's new referrals, reds and releases come from; its agenda rules
    are chosen from a fixed menu; its usual member agencies are offered for each new panel of
    the type. When `opened_by_agreement`, a member agency sees the panel only if it also holds
    the sharing agreement for the cohort.
    """

    code = models.SlugField(primary_key=True, max_length=30)
    name = models.CharField(max_length=150, unique=True)
    cohort = models.CharField(
        max_length=20, choices=Cohort.choices, blank=True, default="",
        help_text="The cohort whose people the panel manages. Blank: people are put on the agenda by hand.",
    )
    agenda_rules = models.JSONField(default=list, blank=True)
    member_agencies = models.ManyToManyField(Agency, blank=True, related_name="+",
                                             help_text="The agencies that usually sit on a panel of this type.")
    opened_by_agreement = models.BooleanField(
        "Opened by the sharing agreement", default=False,
        help_text="Member agencies see the panel only if they hold the sharing agreement for its cohort.",
    )
    sets_mappa_levels = models.BooleanField("Sets MAPPA levels", default=False)
    runs_checkpoint_contracts = models.BooleanField("Reviews Checkpoint contracts", default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="panel_type_has_name"),
            models.CheckConstraint(condition=Q(opened_by_agreement=False) | ~Q(cohort=""),
                                   name="panel_type_agreement_needs_cohort",
                                   violation_error_message="Only a panel type with a cohort can be opened by its "
                                                           "sharing agreement."),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        unknown = set(self.agenda_rules or []) - set(AgendaRule.values)
        if unknown:
            raise ValidationError({"agenda_rules": "Choose agenda rules from the list."})
        if not self.cohort and set(self.agenda_rules or []) & COHORT_RULES:
            raise ValidationError({"agenda_rules": "Rules about the cohort need a cohort; without one, "
                                                   "choose only reviews due and actions carried forward."})

    def uses(self, rule):
        return rule in (self.agenda_rules or [])

    @property
    def rule_labels(self):
        return [label for value, label in AgendaRule.choices if value in (self.agenda_rules or [])]


DEFAULT_START = datetime.time(10, 0)


class UsualWeek(models.IntegerChoices):
    FIRST = 1, "First"
    SECOND = 2, "Second"
    THIRD = 3, "Third"
    FOURTH = 4, "Fourth"
    LAST = 5, "Last"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"


def weekday_of_month(year, month, week, weekday):
    """The `week`th `weekday` of the month (week 5: the last one), e.g. the second Tuesday."""
    days_in_month = calendar.monthrange(year, month)[1]
    if week == UsualWeek.LAST:
        last = datetime.date(year, month, days_in_month)
        return last - datetime.timedelta(days=(last.weekday() - weekday) % 7)
    first = datetime.date(year, month, 1)
    return first + datetime.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (week - 1))


class PanelQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Panels whose meetings the user may see: those their agency is a member of."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        if not user.sees_people or not user.agency_id:
            return self.none()
        agreed = Q(kind__opened_by_agreement=False) | Q(
            kind__cohort__in=SharingAgreement.objects.filter(agency_id=user.agency_id).values("cohort")
        )
        return self.filter(agreed, memberships__agency_id=user.agency_id).distinct()


class Panel(models.Model):
    class Cadence(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        FORTNIGHTLY = "fortnightly", "Every two weeks"
        WEEKLY = "weekly", "Weekly"

    name = models.CharField(max_length=150, unique=True)
    kind = models.ForeignKey(PanelType, on_delete=models.PROTECT, related_name="panels", db_column="kind",
                             verbose_name="Panel type")
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="panels")
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="chaired_panels",
        help_text="The designated chair. Panel chairs of member agencies may also run the meetings.",
    )
    member_agencies = models.ManyToManyField(Agency, through="PanelMembership", related_name="panels")
    cadence = models.CharField(max_length=12, choices=Cadence.choices, default=Cadence.MONTHLY)
    usual_week = models.PositiveSmallIntegerField(
        "Usual week of the month", choices=UsualWeek.choices, null=True, blank=True,
        help_text="For a monthly panel that meets on, say, the second Tuesday. Left blank, a month after the last.",
    )
    usual_weekday = models.PositiveSmallIntegerField(
        "Usual day of the week", choices=Weekday.choices, null=True, blank=True,
    )
    usual_place = models.CharField("Usual meeting place", max_length=200, blank=True, default="", db_default="")
    usual_start = models.TimeField("Usual start time", default=DEFAULT_START, db_default=DEFAULT_START)
    active = models.BooleanField(default=True)

    objects = PanelQuerySet.as_manager()

    class Meta:
        ordering = ["area__name", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(usual_week__isnull=True, usual_weekday__isnull=True)
                | Q(usual_week__isnull=False, usual_weekday__isnull=False, cadence="monthly"),
                name="panel_usual_day_whole",
                violation_error_message="Give both the week of the month and the day, for a monthly panel only.",
            ),
        ]

    def __init__(self, *args, **kwargs):
        # A panel type may be named by its code, as seeds, imports and the API name it.
        if isinstance(kwargs.get("kind"), str):
            kwargs["kind_id"] = kwargs.pop("kind")
        super().__init__(*args, **kwargs)

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("panels:detail", args=[self.pk])

    @property
    def cohort(self):
        return self.kind.cohort

    @property
    def is_mappa(self):
        return self.kind.sets_mappa_levels

    @property
    def is_checkpoint(self):
        return self.kind.runs_checkpoint_contracts

    def is_chaired_by(self, user):
        """The designated chair, or a panel chair of a member agency (or a system administrator)."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return False
        if user.is_superuser or (self.chair_id and self.chair_id == user.pk):
            return True
        return user.role == Role.PANEL_CHAIR and self.memberships.filter(agency_id=user.agency_id).exists()

    @property
    def date_rule(self):
        """How people say when the panel meets: "the second Tuesday of each month"."""
        if self.usual_week is not None and self.usual_weekday is not None:
            return (f"the {UsualWeek(self.usual_week).label.lower()} {Weekday(self.usual_weekday).label} "
                    "of each month")
        return self.get_cadence_display().lower()

    def next_meeting_on(self, after):
        """The next meeting day after `after` by the panel's usual rule."""
        if self.usual_week is not None and self.usual_weekday is not None:
            year, month = after.year, after.month
            while True:
                day = weekday_of_month(year, month, self.usual_week, self.usual_weekday)
                if day > after:
                    return day
                year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        if self.cadence == self.Cadence.WEEKLY:
            return after + datetime.timedelta(days=7)
        if self.cadence == self.Cadence.FORTNIGHTLY:
            return after + datetime.timedelta(days=14)
        return add_months(after, 1)


class PanelMembership(models.Model):
    """A member agency of a panel. For MAPPA, a responsible authority or under a duty to co-operate."""

    class MappaRole(models.TextChoices):
        RESPONSIBLE_AUTHORITY = "responsible_authority", "Responsible authority"
        DUTY_TO_COOPERATE = "duty_to_cooperate", "Duty to co-operate"

    # Police, probation and prisons are the MAPPA responsible authorities (Criminal Justice Act 2003, s.325).
    RESPONSIBLE_AUTHORITY_KINDS = frozenset({Agency.Kind.POLICE, Agency.Kind.PROBATION, Agency.Kind.PRISON})

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="memberships")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="panel_memberships")
    mappa_role = models.CharField(
        "MAPPA role", max_length=25, choices=MappaRole.choices, blank=True,
        help_text="For MAPPA panels only. Left blank, it follows from the kind of agency.",
    )
    representative = models.CharField(
        "Usual representative", max_length=150, blank=True, default="", db_default="",
        help_text="Name and role of the person who usually sits on the panel for the agency.",
    )

    class Meta:
        ordering = ["agency__name"]
        constraints = [models.UniqueConstraint(fields=["panel", "agency"], name="one_membership_per_panel_agency")]

    def __str__(self):
        return f"{self.agency} on {self.panel}"

    def save(self, *args, **kwargs):
        if not self.mappa_role and self.panel.is_mappa:
            self.mappa_role = (
                self.MappaRole.RESPONSIBLE_AUTHORITY if self.agency.kind in self.RESPONSIBLE_AUTHORITY_KINDS
                else self.MappaRole.DUTY_TO_COOPERATE
            )
        super().save(*args, **kwargs)


class MeetingQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(panel__in=Panel.objects.visible_to(user))


class MeetingStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    OPEN = "open", "Agenda ready"
    CLOSED = "closed", "Closed"


class Meeting(models.Model):
    Status = MeetingStatus

    panel = models.ForeignKey(Panel, on_delete=models.CASCADE, related_name="meetings")
    held_on = models.DateField("Meeting date")
    location = models.CharField(max_length=200, blank=True)
    starts_at = models.TimeField("Start time", default=DEFAULT_START, db_default=DEFAULT_START)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    # Once the chair orders the agenda by hand, a refresh adds newcomers at the end instead of re-sorting.
    ordered_by_chair = models.BooleanField(default=False, db_default=False)
    agenda_generated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = MeetingQuerySet.as_manager()

    class Meta:
        ordering = ["-held_on", "-pk"]
        get_latest_by = ["held_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["panel", "held_on"], name="one_meeting_per_panel_day",
                violation_error_message="The panel already meets on that day.",
            ),
            models.CheckConstraint(condition=Q(status__in=MeetingStatus.values), name="meeting_status_valid"),
            models.CheckConstraint(
                condition=(Q(status="closed") & Q(closed_at__isnull=False))
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="meeting_closed_at_when_closed",
            ),
        ]
        indexes = [models.Index(fields=["panel", "-held_on"])]

    def __str__(self):
        return f"{self.panel} on {self.held_on:%d %B %Y}"

    def get_absolute_url(self):
        return reverse("panels:meeting", args=[self.pk])

    @property
    def reference(self):
        """How RAG changes and actions name the meeting they were decided at."""
        return f"{self.panel.name}, {self.held_on:%d %B %Y} (meeting {self.pk})"

    @property
    def is_closed(self):
        return self.status == self.Status.CLOSED


class Attendance(models.Model):
    """Who came to the meeting, sent apologies or was absent: a member agency's representative or a guest."""

    class Status(models.TextChoices):
        PRESENT = "present", "Present"
        APOLOGIES = "apologies", "Apologies"
        ABSENT = "absent", "Absent"

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="The member agency represented; blank for a guest.",
    )
    name = models.CharField("Name and role", max_length=150)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PRESENT)
    deputy = models.CharField(
        "Deputy", max_length=150, blank=True, default="", db_default="",
        help_text="Who attended in the member's place.",
    )
    guest_agency = models.CharField(
        "Guest's agency", max_length=150, blank=True, default="", db_default="",
        help_text="For a guest: the organisation they came from.",
    )

    class Meta:
        ordering = ["agency__name", "guest_agency", "name", "pk"]
        verbose_name_plural = "attendance"
        constraints = [
            models.UniqueConstraint(fields=["meeting", "agency", "name"], name="attend_once_per_meeting",
                                    violation_error_message="That person is already recorded for this meeting."),
            models.CheckConstraint(condition=~Q(name=""), name="attendance_has_name"),
            models.CheckConstraint(
                condition=Q(agency__isnull=False, guest_agency="") | Q(agency__isnull=True) & ~Q(guest_agency=""),
                name="attendance_member_or_guest",
                violation_error_message="Record a member agency's representative, or a guest with their agency.",
            ),
            models.CheckConstraint(
                condition=Q(deputy="") | Q(status="present"), name="attendance_deputy_only_if_present",
                violation_error_message="A deputy is recorded only when someone attended.",
            ),
        ]

    def __str__(self):
        return f"{self.name}, {self.agency_name} ({self.get_status_display()})"

    @property
    def is_guest(self):
        return self.agency_id is None

    @property
    def agency_name(self):
        return self.guest_agency if self.agency_id is None else str(self.agency)


class AgendaItem(models.Model):
    """One person on a meeting's agenda: why they are there, and what the panel decided."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="items")
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="panel_agenda_items")
    position = models.PositiveIntegerField(default=0)
    minutes = models.PositiveSmallIntegerField(
        "Minutes allowed", default=5, db_default=5,
        help_text="Suggested from why the person is on the agenda; the chair may change it.",
    )

    # Why the person is on the agenda, as found when it was generated.
    new_referral = models.BooleanField(default=False)
    red = models.BooleanField(default=False)
    escalating = models.BooleanField("RAG raised since the last meeting", default=False, db_default=False)
    review_due = models.BooleanField(default=False)
    overdue_actions = models.BooleanField(default=False)
    released = models.BooleanField("Released from prison", default=False)
    carried_forward = models.BooleanField("Open actions from an earlier meeting", default=False)
    added_by_hand = models.BooleanField(default=False)
    added_reason = models.CharField(max_length=300, blank=True)

    # The panel's decisions.
    discussion = models.TextField("Discussion summary", blank=True)
    rag_change = models.OneToOneField(
        RagChange, null=True, blank=True, on_delete=models.SET_NULL, related_name="panel_item"
    )
    next_review_on = models.DateField("Next panel review", null=True, blank=True)
    discussed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Bumped by each change of the panel's decisions, so a second chair's stale save is refused.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["meeting", "position", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "offender"], name="one_agenda_item_per_person",
                                    violation_error_message="The person is already on this agenda."),
            models.CheckConstraint(condition=Q(minutes__gte=1, minutes__lte=60), name="agenda_item_minutes_range",
                                   violation_error_message="Allow between 1 and 60 minutes for a person."),
        ]
        indexes = [models.Index(fields=["offender", "meeting"]), models.Index(fields=["next_review_on"])]

    def __str__(self):
        return f"Agenda item {self.pk} of {self.meeting}"

    REASON_FIELDS = (
        ("new_referral", "New referral"),
        ("red", "Red status"),
        ("escalating", "RAG raised since last meeting"),
        ("review_due", "Review due"),
        ("overdue_actions", "Overdue actions"),
        ("released", "Released since last meeting"),
        ("carried_forward", "Actions carried forward"),
        ("added_by_hand", "Added by the chair"),
    )

    @property
    def reasons(self):
        return [label for name, label in self.REASON_FIELDS if getattr(self, name)]


class MeetingAction(models.Model):
    """An action the panel set at a meeting; the action itself lives in the person's plan (pathways)."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="meeting_actions")
    agenda_item = models.ForeignKey(AgendaItem, on_delete=models.CASCADE, related_name="meeting_actions")
    action = models.OneToOneField("pathways.Action", on_delete=models.CASCADE, related_name="panel_link")

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"Action {self.action_id} set at {self.meeting}"


class MappaLevelDecision(models.Model):
    """A MAPPA category and level set at a panel; the person's history is every row, newest first."""

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="mappa_level_decisions")
    meeting = models.ForeignKey(Meeting, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    category = models.PositiveSmallIntegerField(choices=CohortMembership.MappaCategory.choices)
    level = models.PositiveSmallIntegerField(choices=CohortMembership.MappaLevel.choices)
    review_on = models.DateField("Next review", null=True, blank=True)
    reason = models.TextField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-decided_at", "-pk"]
        get_latest_by = ["decided_at", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level=1) | Q(review_on__isnull=False),
                name="mappa_level_2_3_has_review",
                violation_error_message="Level 2 and 3 cases must have a review date.",
            ),
            models.CheckConstraint(
                condition=Q(category__in=CohortMembership.MappaCategory.values)
                & Q(level__in=CohortMembership.MappaLevel.values),
                name="mappa_category_level_valid",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="mappa_decision_has_reason"),
        ]
        indexes = [models.Index(fields=["offender", "-decided_at"])]

    def __str__(self):
        return f"MAPPA category {self.category}, level {self.level}"


class CheckpointContractQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(offender__in=Offender.objects.visible_to(user))

    def open(self):
        return self.filter(outcome="")

    def near_end(self, today=None):
        today = today or timezone.localdate()
        return self.open().filter(ends_on__lte=today + datetime.timedelta(days=CHECKPOINT_NEAR_END_DAYS))


class CheckpointOutcome(models.TextChoices):
    COMPLETED = "completed", "Completed: no prosecution"
    FAILED = "failed", "Failed: prosecuted"
    REOFFENDED = "reoffended", "Reoffended: prosecuted"


class VictimSatisfaction(models.TextChoices):
    """Asked of the victim when the contract ends (Checkpoint consults the victim in every case)."""

    VERY_SATISFIED = "very_satisfied", "Very satisfied"
    SATISFIED = "satisfied", "Satisfied"
    NEITHER = "neither", "Neither satisfied nor dissatisfied"
    DISSATISFIED = "dissatisfied", "Dissatisfied"
    VERY_DISSATISFIED = "very_dissatisfied", "Very dissatisfied"
    DECLINED = "declined", "Victim asked, chose not to say"
    NOT_REACHED = "not_reached", "Victim could not be reached"


class CheckpointContract(models.Model):
    """A 4-month deferred-prosecution contract: completed means no prosecution; failure or reoffending, prosecution."""

    Outcome = CheckpointOutcome
    VictimSatisfaction = VictimSatisfaction

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="checkpoint_contracts")
    eligible = models.BooleanField(
        "Eligibility checked and met", default=False,
        help_text="An adult, a low-level offence, admits it or does not deny it, and no excluded offence.",
    )
    eligibility_notes = models.TextField(blank=True)
    needs_assessment = models.ForeignKey(
        "pathways.NeedAssessment", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="The needs assessment the contract's interventions come from.",
    )
    conditions = models.TextField("Contract conditions")
    started_on = models.DateField()
    ends_on = models.DateField(editable=False, help_text="Four months after the start; set automatically.")
    victim_consulted = models.BooleanField(default=False)
    victim_consulted_on = models.DateField("Date the victim was consulted", null=True, blank=True)
    victim_view = models.TextField("Victim's view", blank=True)
    restorative_justice_offered = models.BooleanField(default=False)
    restorative_justice_taken_up = models.BooleanField(default=False)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, blank=True)
    outcome_on = models.DateField(null=True, blank=True)
    victim_satisfaction = models.CharField(
        "Victim's satisfaction at the end of the contract", max_length=20, choices=VictimSatisfaction.choices,
        blank=True, default="", db_default="", help_text="Ask the victim once the contract has ended.",
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = CheckpointContractQuerySet.as_manager()

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gt=F("started_on")), name="checkpoint_ends_after_start"),
            models.CheckConstraint(
                condition=Q(eligible=True), name="checkpoint_only_if_eligible",
                violation_error_message="Only an eligible person can be given a Checkpoint contract.",
            ),
            models.CheckConstraint(
                condition=Q(victim_consulted=False, victim_consulted_on__isnull=True)
                | Q(victim_consulted=True, victim_consulted_on__isnull=False),
                name="checkpoint_victim_consulted_dated",
                violation_error_message="Give the date the victim was consulted, and only if they were.",
            ),
            models.CheckConstraint(
                condition=Q(restorative_justice_taken_up=False) | Q(restorative_justice_offered=True),
                name="checkpoint_rj_taken_up_only_if_offered",
                violation_error_message="Restorative justice can only be taken up if it was offered.",
            ),
            models.CheckConstraint(
                condition=Q(outcome="", outcome_on__isnull=True)
                | (Q(outcome__in=CheckpointOutcome.values) & Q(outcome_on__isnull=False)),
                name="checkpoint_outcome_dated",
                violation_error_message="Give the date of the outcome, and only once there is an outcome.",
            ),
            models.CheckConstraint(
                condition=Q(victim_satisfaction="") | (Q(victim_satisfaction__in=VictimSatisfaction.values)
                                                       & ~Q(outcome="")),
                name="checkpoint_victim_satisfaction_at_end",
                violation_error_message="Record the victim's satisfaction once the contract has an outcome.",
            ),
            models.UniqueConstraint(
                fields=["offender"], condition=Q(outcome=""), name="one_open_checkpoint_contract",
                violation_error_message="The person already has an open Checkpoint contract.",
            ),
        ]
        indexes = [models.Index(fields=["outcome", "ends_on"])]

    def __str__(self):
        return f"Checkpoint contract from {self.started_on:%d %b %Y}"

    def save(self, *args, **kwargs):
        self.ends_on = add_months(self.started_on, CHECKPOINT_MONTHS)
        super().save(*args, **kwargs)

    @property
    def is_open(self):
        return not self.outcome

    def is_near_end(self, today=None):
        today = today or timezone.localdate()
        return self.is_open and self.ends_on <= today + datetime.timedelta(days=CHECKPOINT_NEAR_END_DAYS)

    @property
    def prosecuted(self):
        return self.outcome in (self.Outcome.FAILED, self.Outcome.REOFFENDED)

