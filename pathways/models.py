"""Needs across the resettlement pathways, the action plan that addresses them, and referrals to services."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from cases.models import (
    CASEWORK_ROLES,
    Agency,
    Area,
    FedRecord,
    Offender,
    User,
    source_constraints,
    validate_not_future,
)


class PathwayQuerySet(models.QuerySet):
    def in_use(self):
        """Pathways offered for new assessments and actions; retired ones keep their history only."""
        return self.filter(retired=False)


class Pathway(models.Model):
    """A resettlement pathway (criminogenic need). The partnership names, orders and retires them in the admin."""

    key = models.SlugField(
        max_length=40, unique=True,
        help_text="A stable identifier that reports use; keep it when the pathway is renamed.",
    )
    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(default=100)
    retired = models.BooleanField(
        default=False, help_text="Retired pathways are kept with their history but take no new assessments."
    )

    objects = PathwayQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class NeedLevel(models.TextChoices):
    NONE = "none", "No need"
    SOME = "some", "Some need"
    SIGNIFICANT = "significant", "Significant need"


def latest_per_offender(queryset, *, partition, date_field):
    """Rows of `queryset` that are the latest for their `partition` (by `date_field`, then id).

    A correlated subquery rather than DISTINCT ON so the same query also runs on SQLite.
    """
    model = queryset.model
    outer = {field: OuterRef(field) for field in partition}
    latest = model.objects.filter(**outer).order_by(f"-{date_field}", "-pk").values("pk")[:1]
    return queryset.filter(pk=Subquery(latest))


class NeedAssessmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(offender__in=Offender.objects.visible_to(user))

    def current(self):
        """The latest assessment of each person on each pathway (reassessment adds rows; history is kept)."""
        return latest_per_offender(self, partition=("offender", "pathway"), date_field="assessed_on")

    def as_of(self, day):
        """The assessment that stood on `day` for each person and pathway."""
        on_or_before = self.filter(assessed_on__lte=day)
        outer = {"offender": OuterRef("offender"), "pathway": OuterRef("pathway")}
        latest = NeedAssessment.objects.filter(assessed_on__lte=day, **outer).order_by("-assessed_on", "-pk")
        latest = latest.values("pk")[:1]
        return on_or_before.filter(pk=Subquery(latest))


class NeedAssessment(models.Model):
    """One assessment of a person's need on one pathway. A reassessment is a new row."""

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="need_assessments")
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="need_assessments")
    level = models.CharField(max_length=12, choices=NeedLevel.choices)
    rationale = models.TextField(blank=True)
    assessed_on = models.DateField(default=timezone.localdate)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = NeedAssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["pathway__order", "-assessed_on", "-pk"]
        get_latest_by = ["assessed_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(level__in=NeedLevel.values), name="need_level_valid"),
        ]
        indexes = [
            models.Index(fields=["offender", "pathway", "-assessed_on"]),
            models.Index(fields=["pathway", "assessed_on", "level"]),
        ]

    def __str__(self):
        return f"{self.pathway}: {self.get_level_display()} ({self.assessed_on:%d %b %Y})"


def current_needs(offender):
    """{pathway_id: NeedAssessment} of the person's current assessment on each pathway."""
    assessments = NeedAssessment.objects.filter(offender=offender).current().select_related(
        "pathway", "assessed_by", "agency"
    )
    return {assessment.pathway_id: assessment for assessment in assessments}


class ActionStatus(models.TextChoices):
    OPEN = "open", "Open"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    CANCELLED = "cancelled", "Cancelled"


OPEN_ACTION_STATUSES = (ActionStatus.OPEN, ActionStatus.IN_PROGRESS)


def agencies_that_own_actions():
    """Every agency but the OPCC, which oversees the partnership's work rather than doing it."""
    return Agency.objects.exclude(kind=Agency.Kind.OPCC)


def possible_action_owners(agency=None):
    """Staff who may own an action (of `agency`, when given): those whose role can update it.

    Active staff of an agency that owns actions, in a role that does case work: offender
    managers, panel chairs and agency administrators. Read-only staff and analysts never are.
    """
    owners = User.objects.filter(
        is_active=True, role__in=CASEWORK_ROLES, agency__in=agencies_that_own_actions()
    )
    return owners if agency is None else owners.filter(agency=agency)


class ActionQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Actions on people the user's agency may see (whoever owns them)."""
        return self.filter(offender__in=Offender.objects.visible_to(user))

    def editable_by(self, user):
        """Actions the user may update: owned by their agency, on people they may see, for case work roles."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if user.is_superuser:
            return self
        if not user.does_casework:
            return self.none()
        return self.visible_to(user).filter(owner_agency_id=user.agency_id)

    def open(self):
        return self.filter(status__in=OPEN_ACTION_STATUSES)

    def closed(self):
        return self.exclude(status__in=OPEN_ACTION_STATUSES)

    def overdue(self, today=None):
        """Open or in progress and past the due date. Overdue is derived, never stored."""
        return self.open().filter(due_on__lt=today or timezone.localdate())

    def due_by(self, day):
        """Open actions due on or before `day` (overdue ones included)."""
        return self.open().filter(due_on__lte=day)

    def owned_by_agency(self, agency):
        return self.filter(owner_agency=agency)

    def owned_by(self, user):
        return self.filter(owner=user)


class Action(models.Model):
    """A step of the person's action plan, owned by an agency and usually a named person there."""

    Status = ActionStatus

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="actions")
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="actions")
    need = models.ForeignKey(
        NeedAssessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="actions",
        help_text="The assessment the action addresses.",
    )
    description = models.TextField()
    owner_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="owned_actions")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="owned_actions"
    )
    raised_on = models.DateField(default=timezone.localdate)
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=ActionStatus.choices, default=ActionStatus.OPEN)
    outcome = models.TextField(blank=True)
    completed_on = models.DateField(null=True, blank=True, help_text="When the action was done or cancelled.")
    # Where the action came from, for example a panel meeting; free text so pathways need not know panels.
    source_reference = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ActionQuerySet.as_manager()

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ActionStatus.values), name="action_status_valid"),
            models.CheckConstraint(condition=~Q(description=""), name="action_has_description"),
            models.CheckConstraint(
                condition=Q(due_on__gte=F("raised_on")),
                name="action_due_after_raised",
                violation_error_message="The due date cannot be before the action was raised.",
            ),
            models.CheckConstraint(
                condition=(Q(status__in=OPEN_ACTION_STATUSES) & Q(completed_on__isnull=True))
                | (~Q(status__in=OPEN_ACTION_STATUSES) & Q(completed_on__isnull=False)),
                name="action_completed_on_when_closed",
                violation_error_message="A closed action has a completion date; an open one has none.",
            ),
        ]
        indexes = [
            models.Index(fields=["owner_agency", "status", "due_on"]),
            models.Index(fields=["owner", "status", "due_on"]),
            models.Index(fields=["offender", "status", "due_on"]),
            models.Index(fields=["status", "due_on"]),
            models.Index(fields=["pathway", "status"]),
        ]

    def __str__(self):
        return self.description[:80]

    @property
    def is_open(self):
        return self.status in OPEN_ACTION_STATUSES

    def is_overdue(self, today=None):
        return self.is_open and self.due_on < (today or timezone.localdate())

    @property
    def overdue(self):
        return self.is_overdue()


# Pathway facts the boards report on. Each is a dated record; a new status is a new row,
# so the status on any day (the end of a quarter, a day of release) can be read back.


class DatedStatusQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(offender__in=Offender.objects.visible_to(user))

    def current(self):
        """The latest record for each person (each person and substance for treatment)."""
        return self.as_of(None)

    def as_of(self, day):
        """The record that stood on `day` for each person: the latest effective on or before it."""
        partition = self.model.STATUS_PARTITION
        rows = self if day is None else self.filter(effective_on__lte=day)
        candidates = self.model.objects.filter(**{field: OuterRef(field) for field in partition})
        if day is not None:
            candidates = candidates.filter(effective_on__lte=day)
        latest = candidates.order_by("-effective_on", "-pk").values("pk")[:1]
        return rows.filter(pk=Subquery(latest))


class DatedStatus(FedRecord):
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="+")
    effective_on = models.DateField("Date the status applies from", default=timezone.localdate)
    notes = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    objects = DatedStatusQuerySet.as_manager()

    STATUS_PARTITION = ("offender",)

    class Meta:
        abstract = True
        ordering = ["-effective_on", "-pk"]
        get_latest_by = ["effective_on", "pk"]

    def clean(self):
        validate_not_future(self.effective_on, "The date cannot be in the future.")


class AccommodationType(models.TextChoices):
    SETTLED = "settled", "Settled accommodation"
    TEMPORARY = "temporary", "Temporary accommodation"
    APPROVED_PREMISES = "approved_premises", "Approved premises"
    NO_FIXED_ABODE = "no_fixed_abode", "Rough sleeping or no fixed abode"
    CUSTODY = "custody", "In custody"


class AccommodationStatus(DatedStatus):
    Status = AccommodationType

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="accommodation_statuses")
    status = models.CharField(max_length=20, choices=Status.choices)
    on_release_day = models.BooleanField(
        "Status on the day of release from prison", default=False,
        help_text="The accommodation the person went to on the day of release (effective date = release date).",
    )

    class Meta(DatedStatus.Meta):
        verbose_name_plural = "accommodation statuses"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=AccommodationType.values),
                name="accommodation_status_valid",
            ),
            models.CheckConstraint(
                condition=~(Q(on_release_day=True) & Q(status="custody")),
                name="release_day_accommodation_not_custody",
                violation_error_message="On the day of release the person cannot be in custody.",
            ),
            *source_constraints("accommodation_status"),
        ]
        indexes = [
            models.Index(fields=["offender", "-effective_on"]),
            models.Index(fields=["effective_on", "status"]),
            models.Index(
                fields=["effective_on", "status"], condition=Q(on_release_day=True), name="accommodation_release_idx"
            ),
        ]

    def __str__(self):
        return f"{self.get_status_display()} from {self.effective_on:%d %b %Y}"

    @property
    def accommodated(self):
        """Had somewhere to stay (the headline measure counts no fixed abode as not accommodated)."""
        return self.status != self.Status.NO_FIXED_ABODE


class EteState(models.TextChoices):
    EMPLOYED = "employed", "Employed or self-employed"
    TRAINING = "training", "In training"
    EDUCATION = "education", "In education"
    UNEMPLOYED = "unemployed", "Unemployed"
    NOT_AVAILABLE = "not_available", "Not available for work"


class EteStatus(DatedStatus):
    Status = EteState

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="ete_statuses")
    status = models.CharField(max_length=15, choices=Status.choices)

    class Meta(DatedStatus.Meta):
        verbose_name = "ETE status"
        verbose_name_plural = "ETE statuses"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=EteState.values),
                name="ete_status_valid",
            ),
            *source_constraints("ete_status"),
        ]
        indexes = [
            models.Index(fields=["offender", "-effective_on"]),
            models.Index(fields=["effective_on", "status"]),
        ]

    def __str__(self):
        return f"{self.get_status_display()} from {self.effective_on:%d %b %Y}"


class BenefitState(models.TextChoices):
    IN_PLACE = "in_place", "Benefits in place"
    CLAIM_MADE = "claim_made", "Claim made, not yet in payment"
    NOT_IN_PLACE = "not_in_place", "Entitled but no claim made"
    NOT_NEEDED = "not_needed", "Not needed (for example, working)"


class BenefitStatus(DatedStatus):
    Status = BenefitState

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="benefit_statuses")
    status = models.CharField(max_length=15, choices=Status.choices)

    class Meta(DatedStatus.Meta):
        verbose_name_plural = "benefit statuses"
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BenefitState.values),
                name="benefit_status_valid",
            ),
            *source_constraints("benefit_status"),
        ]
        indexes = [
            models.Index(fields=["offender", "-effective_on"]),
            models.Index(fields=["effective_on", "status"]),
        ]

    def __str__(self):
        return f"{self.get_status_display()} from {self.effective_on:%d %b %Y}"


class TreatmentSubstance(models.TextChoices):
    DRUGS = "drugs", "Drugs"
    ALCOHOL = "alcohol", "Alcohol"


class TreatmentStage(models.TextChoices):
    REFERRED = "referred", "Referred"
    ASSESSED = "assessed", "Assessed"
    IN_TREATMENT = "in_treatment", "In treatment"
    COMPLETED = "completed", "Completed"
    DROPPED_OUT = "dropped_out", "Dropped out"


class TreatmentEngagement(DatedStatus):
    """Where the person stands with drug or alcohol treatment, and under which court requirement."""

    Substance = TreatmentSubstance

    Stage = TreatmentStage

    class Requirement(models.TextChoices):
        NONE = "none", "No court requirement (voluntary)"
        DRR = "drr", "Drug rehabilitation requirement (DRR)"
        ATR = "atr", "Alcohol treatment requirement (ATR)"

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="treatment_engagements")
    substance = models.CharField(max_length=10, choices=Substance.choices)
    stage = models.CharField(max_length=15, choices=Stage.choices)
    requirement = models.CharField(max_length=5, choices=Requirement.choices, default=Requirement.NONE)
    provider = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    STATUS_PARTITION = ("offender", "substance")

    class Meta(DatedStatus.Meta):
        constraints = [
            models.CheckConstraint(
                condition=Q(substance__in=TreatmentSubstance.values), name="treatment_substance_valid"
            ),
            models.CheckConstraint(
                condition=Q(stage__in=TreatmentStage.values),
                name="treatment_stage_valid",
            ),
            models.CheckConstraint(
                condition=Q(requirement="none") | Q(requirement="drr", substance="drugs")
                | Q(requirement="atr", substance="alcohol"),
                name="treatment_requirement_matches_substance",
                violation_error_message="A DRR is for drug treatment and an ATR for alcohol treatment.",
            ),
            *source_constraints("treatment_engagement"),
        ]
        indexes = [
            models.Index(fields=["offender", "substance", "-effective_on"]),
            models.Index(fields=["effective_on", "substance", "stage"]),
        ]

    def __str__(self):
        return f"{self.get_substance_display()}: {self.get_stage_display()} from {self.effective_on:%d %b %Y}"


class ServiceQuerySet(models.QuerySet):
    def in_use(self):
        return self.filter(retired=False)


class Service(models.Model):
    """An entry in the partnership's service directory that people can be referred to."""

    name = models.CharField(max_length=150)
    pathway = models.ForeignKey(Pathway, on_delete=models.PROTECT, related_name="services")
    provider = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="services",
        help_text="The partner agency that runs the service, if it uses this system.",
    )
    provider_name = models.CharField(max_length=150, blank=True, help_text="When the provider is not a partner agency.")
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Leave blank for a partnership-wide service.",
    )
    description = models.TextField(blank=True)
    contact = models.CharField(max_length=300, blank=True)
    target_first_contact_hours = models.PositiveIntegerField(
        "First contact target (hours)", null=True, blank=True,
        help_text="Hours within which a referral should have its first contact, for example 120 for five days. "
        "Emergency referrals are seen within 24 hours, or sooner if this is shorter.",
    )
    retired = models.BooleanField(default=False)

    objects = ServiceQuerySet.as_manager()

    class Meta:
        ordering = ["pathway__order", "name"]
        constraints = [models.UniqueConstraint(fields=["name", "area"], name="unique_service_name_per_area")]

    def __str__(self):
        return self.name

    @property
    def provided_by(self):
        return self.provider.name if self.provider_id else self.provider_name


# Emergency referrals are seen within a day whatever the service's own target (Havering: WDP within 24 hours).
EMERGENCY_FIRST_CONTACT_HOURS = 24


class ReferralStatus(models.TextChoices):
    REFERRED = "referred", "Referred"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    STARTED = "started", "Started"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


class ReferralQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(offender__in=Offender.objects.visible_to(user))

    def open(self):
        return self.filter(status__in=[ReferralStatus.REFERRED, ReferralStatus.ACCEPTED, ReferralStatus.STARTED])

    def with_time_to_first_contact(self):
        """Annotate `first_contact_delay` (an interval; null until the first contact is recorded)."""
        return self.annotate(first_contact_delay=F("first_contact_at") - F("referred_at"))


class Referral(models.Model):
    """A referral of the person to a service, with the dates that let time to first contact be measured."""

    Status = ReferralStatus

    class Urgency(models.TextChoices):
        ROUTINE = "routine", "Routine"
        EMERGENCY = "emergency", "Emergency"

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="referrals")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="referrals")
    action = models.ForeignKey(Action, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals")
    urgency = models.CharField(max_length=10, choices=Urgency.choices, default=Urgency.ROUTINE)
    reason = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=ReferralStatus.choices, default=ReferralStatus.REFERRED)
    referred_at = models.DateTimeField(default=timezone.now)
    referred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    referring_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals_made")
    first_contact_at = models.DateTimeField(
        null=True, blank=True, help_text="When the service first saw or spoke to the person."
    )
    decided_on = models.DateField(null=True, blank=True, help_text="When the service accepted or declined.")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A database default too, so bulk SQL (the synthetic partnership) may leave it out.
    decision_reason = models.TextField(
        blank=True, default="", db_default="",
        help_text="Why the service declined the referral, or a note on accepting it.",
    )
    started_on = models.DateField(null=True, blank=True)
    ended_on = models.DateField(null=True, blank=True, help_text="When the referral was completed or withdrawn.")
    outcome = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = ReferralQuerySet.as_manager()

    class Meta:
        ordering = ["-referred_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ReferralStatus.values), name="referral_status_valid"),
            models.CheckConstraint(
                condition=Q(first_contact_at__isnull=True) | Q(first_contact_at__gte=F("referred_at")),
                name="referral_contact_after_referral",
                violation_error_message="The first contact cannot be before the referral.",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(started_on__isnull=True) | Q(ended_on__gte=F("started_on")),
                name="referral_ends_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
        ]
        indexes = [
            models.Index(fields=["offender", "-referred_at"]),
            models.Index(fields=["service", "referred_at"]),
            models.Index(fields=["referred_at", "urgency"]),
            models.Index(fields=["status", "referred_at"]),
        ]

    def __str__(self):
        return f"Referral to {self.service} on {self.referred_at:%d %b %Y}"

    @property
    def time_to_first_contact(self):
        if self.first_contact_at is None:
            return None
        return self.first_contact_at - self.referred_at

    @property
    def first_contact_target_hours(self):
        """The hours the service has to make first contact: its own target, and at most a day for an emergency."""
        hours = self.service.target_first_contact_hours
        if self.urgency == self.Urgency.EMERGENCY:
            return min(hours, EMERGENCY_FIRST_CONTACT_HOURS) if hours else EMERGENCY_FIRST_CONTACT_HOURS
        return hours

    @property
    def first_contact_due_at(self):
        hours = self.first_contact_target_hours
        return None if hours is None else self.referred_at + datetime.timedelta(hours=hours)

    @property
    def awaits_first_contact(self):
        return self.first_contact_at is None and self.status not in (ReferralStatus.DECLINED, ReferralStatus.WITHDRAWN,
                                                                     ReferralStatus.COMPLETED)

    @property
    def met_contact_target(self):
        due = self.first_contact_due_at
        if due is None or self.first_contact_at is None:
            return None
        return self.first_contact_at <= due
