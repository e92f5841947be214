"""Import runs, the partner systems that send feeds, and rows waiting for a person to confirm their match.

Everything about an import lives here, in the database: the file while it waits
to be applied, its progress and its report. So an import survives a restart,
works with several web workers, and needs Redis only to hand a large file to a
worker.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from cases.models import Agency, Offender, Role


class FeedKind(models.TextChoices):
    PEOPLE = "people", "People"
    OFFENCES = "offences", "Offences and outcomes"
    ORDERS = "orders", "Orders, licences and releases"
    STATUSES = "statuses", "Accommodation, ETE, benefit and treatment statuses"
    APPOINTMENTS = "appointments", "Appointments and their outcomes"
    COHORT_EXITS = "cohort-exits", "Cohort exits"
    RAG = "rag", "RAG changes"
    RISK = "risk", "Risk assessments and predictor scores"


class FeedSource(models.Model):
    """A partner system that sends feeds, registered to the agency whose imports use its name.

    Its name is the `source_system` stored on every record it sends, so one agency can
    never reach another agency's records by naming their system. A source with a
    landing folder is swept on a schedule and imported with the rights of `run_as`.
    """

    name = models.SlugField(max_length=40, unique=True, help_text="As written in the source_system column.")
    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="feed_sources")
    landing_folder = models.CharField(
        max_length=300, blank=True,
        help_text="Folder swept for new files, relative to FEEDS_LANDING_ROOT unless absolute. Blank: no sweep.",
    )
    run_as = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Files from the landing folder are imported with this person's rights.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ImportRunQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Runs of the user's agency for its administrators; each user's own runs for everyone else."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        if user.role == Role.AGENCY_ADMIN and user.agency_id:
            return self.filter(agency_id=user.agency_id)
        return self.filter(user=user)


class ImportRun(models.Model):
    class Channel(models.TextChoices):
        BROWSER = "browser", "Uploaded in the browser"
        API = "api", "Sent through the API"
        COMMAND = "command", "Command line"
        LANDING = "landing", "Landing folder"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting for a worker"
        CHECKING = "checking", "Checking"
        CHECKED = "checked", "Checked: ready to import"
        # A check whose file is not kept (a command-line dry run): it can never be imported.
        DRY_RUN = "dry_run", "Checked only (dry run): nothing written"
        # A check that found nothing to do: every row is already on the record as it is.
        UP_TO_DATE = "up_to_date", "Nothing to import: every row is already up to date"
        APPLYING = "applying", "Importing"
        APPLIED = "applied", "Imported"
        REJECTED = "rejected", "Not imported: rows rejected"
        FAILED = "failed", "Not imported: the file could not be used"

    FINISHED = frozenset({Status.CHECKED, Status.DRY_RUN, Status.UP_TO_DATE, Status.APPLIED, Status.REJECTED,
                          Status.FAILED})

    kind = models.CharField(max_length=20, choices=FeedKind.choices)
    filename = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    agency = models.ForeignKey(Agency, null=True, on_delete=models.SET_NULL, related_name="+")
    source = models.ForeignKey(FeedSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    # The stage a queued run waits for: check (the dry run) or apply.
    apply_requested = models.BooleanField(default=False)
    rows_total = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    possible_matches = models.PositiveIntegerField(default=0)
    # Rejected rows with their reasons, the changes, the columns ignored: as much as a page shows.
    report = models.JSONField(default=dict, blank=True)
    error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = ImportRunQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["agency", "-created_at"]), models.Index(fields=["user", "-created_at"])]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.filename}"

    def summary_line(self):
        """The counts in the form the command line and the API have always given them."""
        return (f"created {self.created}, updated {self.updated}, unchanged {self.unchanged}, "
                f"rejected {self.rejected}, possible matches {self.possible_matches}")

    @property
    def was_written(self):
        return self.status == self.Status.APPLIED

    def result_line(self):
        """The counts for people: what was done, or for a run that wrote nothing, what it would have done."""
        if self.status not in self.FINISHED or self.status == self.Status.FAILED:
            return ""
        if self.status == self.Status.UP_TO_DATE:
            return f"Nothing to change: {self.unchanged:,} already up to date"
        if self.was_written:
            parts = [f"added {self.created:,}", f"updated {self.updated:,}"]
        elif self.status == self.Status.CHECKED:
            parts = [f"checked: {self.created:,} to add", f"{self.updated:,} to update"]
        else:
            parts = [f"nothing written: would add {self.created:,}", f"would update {self.updated:,}"]
        parts.append(f"{self.unchanged:,} already up to date")
        if self.rejected:
            parts.append(f"{self.rejected:,} rejected")
        if self.possible_matches:
            parts.append(f"{self.possible_matches:,} held as possible matches")
        text = ", ".join(parts)
        return text[0].upper() + text[1:]

    @property
    def is_finished(self):
        return self.status in self.FINISHED

    @property
    def percent_done(self):
        return int(100 * self.rows_done / self.rows_total) if self.rows_total else 0


class ImportUpload(models.Model):
    """The file of a run, kept only until it is applied or given up: a worker on another machine reads it here."""

    run = models.OneToOneField(ImportRun, on_delete=models.CASCADE, related_name="upload", primary_key=True)
    content = models.BinaryField()

    def __str__(self):
        return f"File of {self.run}"


class PossibleMatchQuerySet(models.QuerySet):
    def for_review_by(self, user):
        """Rows the user's agency is asked to decide, never one about a person the agency may not see."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if not (user.is_superuser or user.does_casework):
            return self.none()
        rows = self if user.is_superuser else self.filter(review_agency_id=user.agency_id)
        return rows.exclude(candidates__in=Offender.objects.exclude(pk__in=Offender.objects.visible_to(user)))


class PossibleMatch(models.Model):
    """A row that may be about a person already on the record, held until someone confirms or rejects it.

    Unconfirmed matches never change a record. The row itself is kept so that a
    confirmed match is applied exactly as the import would have applied it.
    """

    class Basis(models.TextChoices):
        NAME_AND_BIRTH_DATE = "name_dob", "Same name and date of birth"
        ALIAS_AND_BIRTH_DATE = "alias_dob", "An alias and the same date of birth"
        IDENTIFIER_IN_USE = "identifier", "An identifier on the row is already on a record"

    class Status(models.TextChoices):
        WAITING = "waiting", "Waiting for a decision"
        CONFIRMED = "confirmed", "Confirmed and applied"
        REJECTED = "rejected", "Rejected: not the same person"

    run = models.ForeignKey(ImportRun, on_delete=models.CASCADE, related_name="possible_match_rows")
    kind = models.CharField(max_length=20, choices=FeedKind.choices)
    row_number = models.PositiveIntegerField()
    # The row's cells as read, and the key that finds the same row again in a later file.
    record = models.JSONField()
    row_key = models.CharField(max_length=200)
    basis = models.CharField(max_length=10, choices=Basis.choices)
    candidates = models.ManyToManyField(Offender, related_name="+")
    # Who decides: the importing agency, or for a row naming a person it may not see, that person's lead agency.
    review_agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="+")
    importing_agency = models.ForeignKey(Agency, null=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    applied_to = models.ForeignKey(Offender, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PossibleMatchQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "importing_agency", "row_key"], condition=Q(status="waiting"),
                name="one_waiting_match_per_row",
            ),
        ]
        indexes = [models.Index(fields=["review_agency", "status"])]

    def __str__(self):
        return f"Row {self.row_number} of {self.run}"
