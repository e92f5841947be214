"""Roll-up tables: the only data the dashboard pages read.

Celery computes every measure from the case record into `RollupValue`, one row per
measure, category, quarter and slice, so the pages never touch personal data and
stay fast however many people the partnership manages.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class Dimension(models.TextChoices):
    """The ways a measure is sliced. `ALL` is the whole partnership."""

    ALL = "all", "Whole partnership"
    AREA = "area", "Area"
    AGENCY = "agency", "Agency"
    COHORT = "cohort", "Cohort"
    GENDER = "gender", "Gender"
    AGE_BAND = "age_band", "Age band"
    ETHNICITY = "ethnicity", "Ethnicity"


class RollupValue(models.Model):
    """One figure: a measure (and category) for one quarter and one slice.

    `numerator` is the count; `denominator` is set for rates and ratios (for
    example people in the reoffending cohort), so suppression can look at both.
    """

    measure = models.CharField(max_length=40)
    category = models.CharField(max_length=40, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    slice_key = models.CharField(max_length=40, blank=True, help_text="Empty for the whole partnership.")
    numerator = models.BigIntegerField(default=0)
    denominator = models.BigIntegerField(null=True, blank=True)
    computed_at = models.DateTimeField()
    run = models.ForeignKey("RollupRun", null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["measure", "period_start", "dimension", "slice_key", "category"]
        constraints = [
            # Two runs writing the same period can never double-count: the second insert fails.
            models.UniqueConstraint(
                fields=["measure", "category", "period_start", "dimension", "slice_key"],
                name="one_rollup_value_per_measure_period_slice",
            ),
            models.CheckConstraint(condition=Q(period_end__gte=models.F("period_start")), name="rollup_period_valid"),
            models.CheckConstraint(
                condition=Q(dimension="all", slice_key="") | (~Q(dimension="all") & ~Q(slice_key="")),
                name="rollup_slice_key_matches_dimension",
            ),
        ]
        indexes = [
            models.Index(fields=["dimension", "slice_key", "period_start"]),
            models.Index(fields=["period_start"]),
        ]

    def __str__(self):
        return f"{self.measure}/{self.category or '-'} {self.period_start} {self.dimension}={self.slice_key}"


class RollupRun(models.Model):
    """One run of the roll-up job: queued by the schedule or the recalculate button."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped: another run was in progress"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent complete.")
    step = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    periods = models.PositiveSmallIntegerField(default=0)
    rows_written = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-queued_at", "-pk"]
        get_latest_by = ["queued_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(progress__lte=100), name="rollup_progress_percent"),
        ]
        indexes = [models.Index(fields=["status", "-finished_at"])]

    def __str__(self):
        return f"Roll-up {self.pk} ({self.get_status_display()})"

    @property
    def is_active(self):
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}
