"""Roll-up tables: the only data the dashboard pages read.

Celery computes every measure from the case record into `RollupValue`, one row per
measure, category, quarter and slice, so the pages never touch personal data and
stay fast however many people the partnership manages.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now


class Dimension(models.TextChoices):
    """The ways a measure is sliced. `ALL` is the whole partnership."""

    ALL = "all", "Whole partnership"
    AREA = "area", "Area"
    AGENCY = "agency", "Agency"
    COHORT = "cohort", "Cohort"
    GENDER = "gender", "Gender"
    AGE_BAND = "age_band", "Age band"
    ETHNICITY = "ethnicity", "Ethnicity"
    GROUP = "group", "Priority group"


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
    # Disclosure control (dashboard.disclosure): decided once per run over every linked table, read by every output.
    numerator_hidden = models.BooleanField(default=False)
    denominator_hidden = models.BooleanField(default=False)
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

    class Kind(models.TextChoices):
        FULL = "full", "Every measure and quarter"
        INCREMENTAL = "incremental", "The measures and quarters recent changes affect"

    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.FULL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent complete.")
    step = models.CharField(max_length=200, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written while the run works (dashboard.rollup.Heartbeat): a running run whose heartbeat has stopped
    # lost its worker, and is marked failed (dashboard.services.fail_stalled_runs).
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # The Celery task working on the run, so a scheduled run redelivered after its worker died is the same run.
    task_id = models.CharField(max_length=50, blank=True)
    periods = models.PositiveSmallIntegerField(default=0)
    # A run shared by several workers (dashboard.rollup.start_parts): the quarters every part computes.
    quarter_keys = models.JSONField(default=list, blank=True)
    # An incremental run: the measures it calculated again ({measure: [quarter key, ...]}) and the changes it took in.
    scope = models.JSONField(default=dict, blank=True)
    changes_applied = models.PositiveIntegerField(default=0)
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


class PendingRollupChange(models.Model):
    """A change to data the measures read that the roll-up has not taken in yet (`dashboard.changes`).

    Written by PostgreSQL triggers in the transaction of the change itself; the incremental run
    deletes the rows it took in, in the transaction that switches the figures they changed.
    """

    source = models.CharField(max_length=63, help_text="The table that changed.")
    # No foreign key: the person may have been erased, which is a change too.
    offender_id = models.BigIntegerField(null=True, blank=True)
    first_day = models.DateField(null=True, blank=True, help_text="Empty: from the beginning.")
    last_day = models.DateField(null=True, blank=True, help_text="Empty: still open, or to the end.")
    recorded_at = models.DateTimeField(db_default=Now())

    class Meta:
        ordering = ["pk"]

    def __str__(self):
        return f"{self.source} {self.first_day or '...'} to {self.last_day or '...'}"


class RollupPart(models.Model):
    """One measure of a run shared by several workers: computed by a task of its own, staged, then combined.

    Kept after the run (its staged figures are deleted) as the record of how long each measure took
    and how many times it was attempted.
    """

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"

    run = models.ForeignKey(RollupRun, on_delete=models.CASCADE, related_name="parts")
    measure = models.CharField(max_length=40)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_staged = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["run", "measure"]
        constraints = [models.UniqueConstraint(fields=["run", "measure"], name="one_rollup_part_per_run_measure")]

    def __str__(self):
        return f"Roll-up {self.run_id} {self.measure} ({self.get_status_display()})"


class StagedValue(models.Model):
    """A figure a part has computed, before disclosure control, waiting for the run's combine step.

    A part delivered again deletes its own staged rows before writing them, in the transaction that
    marks it done, and the unique constraint refuses a second copy of any figure.
    """

    run = models.ForeignKey(RollupRun, on_delete=models.CASCADE, related_name="+")
    measure = models.CharField(max_length=40)
    category = models.CharField(max_length=40, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    slice_key = models.CharField(max_length=40, blank=True)
    numerator = models.BigIntegerField(default=0)
    denominator = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "measure", "category", "period_start", "dimension", "slice_key"],
                                    name="one_staged_value_per_run_measure_period_slice"),
        ]

    def __str__(self):
        return f"Staged {self.measure}/{self.category or '-'} {self.period_start} {self.dimension}={self.slice_key}"


FIGURE_FIELDS = ("measure", "category", "period_start", "period_end", "dimension", "slice_key",
                 "numerator", "denominator", "numerator_hidden", "denominator_hidden")


class Publication(models.Model):
    """A quarter's board report as published: its figures are frozen and never change.

    The figures are copied into `PublishedFigure` rows at publication; on PostgreSQL a
    trigger refuses UPDATE and DELETE on both tables, and `checksum` (SHA-256 over the
    figures in a fixed order) shows they are still what was published.
    """

    period_start = models.DateField(unique=True, error_messages={
        "unique": "This quarter's board report has already been published."})
    published_at = models.DateTimeField()
    # No database constraints to the user and the run: rows that never change cannot be set to NULL later.
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    # Kept as text so the report says who published it even after their account is gone.
    published_by_name = models.CharField(max_length=300)
    published_by_agency = models.CharField(max_length=200, blank=True)
    run = models.ForeignKey(RollupRun, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    figure_count = models.PositiveIntegerField()
    checksum = models.CharField(max_length=64)

    class Meta:
        ordering = ["-period_start"]

    def __str__(self):
        return f"Board report {self.period_start} published {self.published_at:%Y-%m-%d}"


class PublishedFigure(models.Model):
    """One figure exactly as the published board report showed it (immutable)."""

    publication = models.ForeignKey(Publication, on_delete=models.PROTECT, related_name="figures")
    measure = models.CharField(max_length=40)
    category = models.CharField(max_length=40, blank=True)
    period_start = models.DateField()
    period_end = models.DateField()
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    slice_key = models.CharField(max_length=40, blank=True)
    numerator = models.BigIntegerField()
    denominator = models.BigIntegerField(null=True, blank=True)
    numerator_hidden = models.BooleanField(default=False)
    denominator_hidden = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "measure", "category", "period_start", "dimension", "slice_key"],
                name="one_published_figure_per_measure_period_slice",
            ),
        ]
        indexes = [models.Index(fields=["publication", "dimension", "slice_key", "period_start"])]

    def __str__(self):
        return f"Published {self.measure}/{self.category or '-'} {self.period_start} {self.dimension}={self.slice_key}"


class FigureRevision(models.Model):
    """A published figure that a later roll-up calculated differently: the new value and why it changed.

    Appended, never changed: the latest revision of a figure is its current value, the
    published figure stays what the board saw.
    """

    class Reason(models.TextChoices):
        LATE_DATA = "late_data", "Late data"
        CORRECTION = "correction", "Correction"
        ERASURE = "erasure", "Erasure"

    publication = models.ForeignKey(Publication, on_delete=models.PROTECT, related_name="revisions")
    measure = models.CharField(max_length=40)
    category = models.CharField(max_length=40, blank=True)
    period_start = models.DateField()
    dimension = models.CharField(max_length=12, choices=Dimension.choices)
    slice_key = models.CharField(max_length=40, blank=True)
    numerator = models.BigIntegerField()
    denominator = models.BigIntegerField(null=True, blank=True)
    numerator_hidden = models.BooleanField(default=False)
    denominator_hidden = models.BooleanField(default=False)
    reason = models.CharField(max_length=12, choices=Reason.choices)
    detail = models.CharField(max_length=300, blank=True)
    recorded_at = models.DateTimeField()
    run = models.ForeignKey(RollupRun, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)

    class Meta:
        ordering = ["publication", "measure", "period_start", "dimension", "slice_key", "category", "recorded_at",
                    "pk"]
        indexes = [models.Index(fields=["publication", "dimension", "slice_key", "period_start"])]

    def __str__(self):
        return f"Revised {self.measure}/{self.category or '-'} {self.period_start} ({self.reason})"


class BenchmarkTable(models.Model):
    """An upload of the national proven reoffending table for comparator areas; the page shows the latest."""

    uploaded_at = models.DateTimeField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    filename = models.CharField(max_length=255)
    row_count = models.PositiveIntegerField()

    class Meta:
        ordering = ["-uploaded_at", "-pk"]
        get_latest_by = ["uploaded_at", "pk"]

    def __str__(self):
        return f"Benchmark table {self.filename} ({self.uploaded_at:%Y-%m-%d})"


class BenchmarkFigure(models.Model):
    """One area's proven reoffending for one cohort quarter, as the national statistics publish it."""

    table = models.ForeignKey(BenchmarkTable, on_delete=models.CASCADE, related_name="figures")
    area_code = models.CharField(max_length=20)
    area_name = models.CharField(max_length=120)
    period_start = models.DateField()
    offenders = models.PositiveIntegerField()
    reoffenders = models.PositiveIntegerField()
    reoffences = models.PositiveIntegerField()

    class Meta:
        ordering = ["area_name", "period_start"]
        constraints = [
            models.UniqueConstraint(fields=["table", "area_code", "period_start"],
                                    name="one_benchmark_figure_per_area_quarter"),
            models.CheckConstraint(condition=Q(offenders__gt=0), name="benchmark_has_offenders"),
            models.CheckConstraint(condition=Q(reoffenders__lte=models.F("offenders")),
                                   name="benchmark_reoffenders_within_offenders"),
            models.CheckConstraint(condition=Q(reoffences__gte=models.F("reoffenders")),
                                   name="benchmark_reoffences_at_least_reoffenders"),
        ]

    def __str__(self):
        return f"{self.area_name} {self.period_start}"
