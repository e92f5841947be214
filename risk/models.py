"""Risk of serious harm, tier, predictor scores and risk flags, each kept as history with who and when.

Nothing here is overwritten: a new assessment or score is a new row and the latest one stands, so
the risk on any earlier day can be read back. A risk flag (a registration) is opened, reviewed and
closed; each review is a row of its own.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone

from cases.models import Agency, FedRecord, Offender, source_constraints, validate_not_future

TIER_PATTERN = r"^[A-D][0-3]$"


class RoshLevel(models.TextChoices):
    """Risk of serious harm, as the OASys assessment and probation practice grade it."""

    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    VERY_HIGH = "very_high", "Very high"


class RiskAssessmentQuerySet(models.QuerySet):
    def latest_first(self):
        return self.order_by("-assessed_on", "-recorded_at", "-pk")


class RiskAssessment(FedRecord):
    """Risk of serious harm in the community and the case's tier, as assessed on a day."""

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="risk_assessments")
    rosh_level = models.CharField("Risk of serious harm", max_length=10, choices=RoshLevel.choices)
    tier = models.CharField(
        max_length=2, blank=True, help_text="The probation tier, a letter and a number, for example A3.",
    )
    assessed_on = models.DateField("Date of assessment")
    notes = models.TextField(blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    objects = RiskAssessmentQuerySet.as_manager()

    class Meta:
        ordering = ["-assessed_on", "-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(rosh_level__in=RoshLevel.values), name="risk_rosh_level_valid"),
            models.CheckConstraint(
                condition=Q(tier="") | Q(tier__regex=TIER_PATTERN), name="risk_tier_valid",
                violation_error_message="Enter the tier as a letter from A to D and a number from 0 to 3, like A3.",
            ),
            *source_constraints("risk_assessment"),
        ]
        indexes = [models.Index(fields=["offender", "-assessed_on"])]

    def __str__(self):
        return f"{self.get_rosh_level_display()} risk of serious harm on {self.assessed_on:%d %b %Y}"

    def clean(self):
        self.tier = (self.tier or "").strip().upper()
        errors = {}
        if self.tier and not _matches_tier(self.tier):
            errors["tier"] = "Enter the tier as a letter from A to D and a number from 0 to 3, like A3."
        try:
            validate_not_future(self.assessed_on, "The date of the assessment cannot be in the future.")
        except ValidationError as error:
            errors["assessed_on"] = error
        if errors:
            raise ValidationError(errors)


def _matches_tier(tier):
    return re.fullmatch(TIER_PATTERN, tier) is not None


class ScoreBand(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    VERY_HIGH = "very_high", "Very high"


class ScoreKind(models.TextChoices):
    OGRS_1 = "ogrs_1", "OGRS (1 year)"
    OGRS_2 = "ogrs_2", "OGRS (2 years)"
    OGP = "ogp", "OGP (non-violent reoffending)"
    OVP = "ovp", "OVP (violent reoffending)"
    RSR = "rsr", "RSR (serious reoffending)"
    OSP_C = "osp_c", "OSP/C (sexual contact reoffending)"
    OSP_I = "osp_i", "OSP/I (indecent image reoffending)"


class RiskScore(FedRecord):
    """One actuarial predictor score: a percentage likelihood, its band, or both."""

    Kind = ScoreKind

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="risk_scores")
    kind = models.CharField("Score", max_length=6, choices=Kind.choices)
    score = models.DecimalField(
        "Score (%)", max_digits=5, decimal_places=2, null=True, blank=True,
        help_text="The likelihood as a percentage, for example 62.5. Leave blank if only the band is known.",
    )
    band = models.CharField(max_length=10, choices=ScoreBand.choices, blank=True)
    assessed_on = models.DateField("Date of assessment")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["kind", "-assessed_on", "-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=ScoreKind.values), name="risk_score_kind_valid"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | (Q(score__gte=0) & Q(score__lte=100)),
                name="risk_score_is_a_percentage",
                violation_error_message="A score is a percentage from 0 to 100.",
            ),
            models.CheckConstraint(
                condition=Q(score__isnull=False) | ~Q(band=""), name="risk_score_has_score_or_band",
                violation_error_message="Give the score, its band, or both.",
            ),
            *source_constraints("risk_score"),
        ]
        indexes = [models.Index(fields=["offender", "kind", "-assessed_on"])]

    def __str__(self):
        return f"{self.get_kind_display()} {self.display_value}"

    @property
    def display_value(self):
        parts = []
        if self.score is not None:
            parts.append(f"{self.score.normalize():f}%")
        if self.band:
            parts.append(self.get_band_display().lower())
        return ", ".join(parts)

    def clean(self):
        errors = {}
        if self.score is None and not self.band:
            errors["score"] = "Enter the score, select its band, or both."
        if self.score is not None and not 0 <= self.score <= 100:
            errors["score"] = "Enter the score as a percentage from 0 to 100."
        try:
            validate_not_future(self.assessed_on, "The date of the assessment cannot be in the future.")
        except ValidationError as error:
            errors["assessed_on"] = error
        if errors:
            raise ValidationError(errors)


class FlagLevel(models.TextChoices):
    HIGH = "high", "High"
    MEDIUM = "medium", "Medium"
    LOW = "low", "Low"
    INFORMATION = "information", "Information only"


class RiskFlagQuerySet(models.QuerySet):
    def open(self):
        return self.filter(ended_on__isnull=True)

    def review_due_by(self, day):
        return self.open().filter(review_on__lte=day)


class FlagKind(models.TextChoices):
    OFFICER_SAFETY = "officer_safety", "Officer safety"
    SAFEGUARDING = "safeguarding", "Safeguarding (adult at risk)"
    CHILD_CONCERNS = "child_concerns", "Child concerns"
    CHILD_PROTECTION = "child_protection", "Child protection"
    DOMESTIC_ABUSE = "domestic_abuse", "Domestic abuse perpetrator"
    WEAPONS = "weapons", "Weapons"
    SELF_HARM = "self_harm", "Risk of self-harm or suicide"
    HATE_CRIME = "hate_crime", "Hate crime"
    GANG = "gang", "Serious group violence or gang"


class RiskFlag(FedRecord):
    """A risk flag (a registration on the case) from when it was raised until it is removed."""

    Kind = FlagKind

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="risk_flags")
    kind = models.CharField("Flag", max_length=20, choices=Kind.choices)
    level = models.CharField(max_length=12, choices=FlagLevel.choices)
    notes = models.TextField(blank=True)
    registered_on = models.DateField("Date raised")
    review_on = models.DateField("Next review", help_text="When the flag must next be reviewed.")
    ended_on = models.DateField("Date removed", null=True, blank=True)
    end_reason = models.TextField("Why it was removed", blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = RiskFlagQuerySet.as_manager()

    class Meta:
        ordering = ["-ended_on", "kind", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=FlagKind.values), name="risk_flag_kind_valid"),
            models.CheckConstraint(condition=Q(level__in=FlagLevel.values), name="risk_flag_level_valid"),
            models.UniqueConstraint(
                fields=["offender", "kind"], condition=Q(ended_on__isnull=True), name="one_open_risk_flag_per_kind",
                violation_error_message="The person already has this flag: review it instead.",
            ),
            models.CheckConstraint(
                condition=Q(review_on__gte=models.F("registered_on")), name="risk_flag_review_after_raised",
                violation_error_message="The review date cannot be before the flag was raised.",
            ),
            models.CheckConstraint(
                condition=(Q(ended_on__isnull=True) & Q(end_reason=""))
                | (Q(ended_on__gte=models.F("registered_on")) & ~Q(end_reason="")),
                name="risk_flag_removed_with_reason",
                violation_error_message="A flag is removed on or after the day it was raised, with a reason.",
            ),
            *source_constraints("risk_flag"),
        ]
        indexes = [
            models.Index(fields=["offender", "ended_on"]),
            models.Index(fields=["ended_on", "review_on"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_level_display().lower()})"

    @property
    def is_open(self):
        return self.ended_on is None

    def review_is_due(self, today=None):
        return self.is_open and self.review_on <= (today or timezone.localdate())

    def clean(self):
        errors = {}
        try:
            validate_not_future(self.registered_on, "The date the flag was raised cannot be in the future.")
        except ValidationError as error:
            errors["registered_on"] = error
        if self.registered_on and self.review_on and self.review_on < self.registered_on:
            errors["review_on"] = "The review date cannot be before the flag was raised."
        if errors:
            raise ValidationError(errors)


class RiskFlagReview(models.Model):
    """A review of a risk flag: the level it was left at and when it is next due."""

    flag = models.ForeignKey(RiskFlag, on_delete=models.CASCADE, related_name="reviews")
    reviewed_on = models.DateField("Date of review")
    level = models.CharField(max_length=12, choices=FlagLevel.choices)
    next_review_on = models.DateField("Next review")
    notes = models.TextField(blank=True)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-reviewed_on", "-recorded_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(level__in=FlagLevel.values), name="risk_flag_review_level_valid"),
            models.CheckConstraint(
                condition=Q(next_review_on__gt=models.F("reviewed_on")), name="risk_flag_next_review_after_review",
                violation_error_message="The next review must be after this one.",
            ),
        ]
        indexes = [models.Index(fields=["flag", "-reviewed_on"])]

    def __str__(self):
        return f"Review of {self.flag} on {self.reviewed_on:%d %b %Y}"
