"""An evaluation: who was treated, whom they were compared with, how, and what was found."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from cases.models import Cohort, Offender

from .menu import SERVICE_TREATMENTS, Treatment


class Evaluation(models.Model):
    """A matched comparison of proven reoffending, with everything needed to run it again and get the same answer."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        DONE = "done", "Finished"
        REFUSED = "refused", "Too few people to report"
        FAILED = "failed", "Failed"

    Treatment = Treatment

    name = models.CharField(max_length=150)
    treatment = models.CharField("Treatment group", max_length=20, choices=Treatment.choices)
    cohort = models.CharField(max_length=20, choices=Cohort.choices, blank=True)
    service = models.ForeignKey("pathways.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    period_start = models.DateField("Start of the period")
    period_end = models.DateField("End of the period")
    variables = models.JSONField("Matching variables")
    with_replacement = models.BooleanField(
        "Match with replacement", default=False,
        help_text="A comparison person may be the match of more than one treated person.",
    )
    seed = models.PositiveIntegerField(
        help_text="Fixes the random order of matching, so a re-run gives the same answer."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)
    stage = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Library versions and a fingerprint of the people and facts matched: what a re-run must reproduce.
    provenance = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    refusal = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="evaluation_period_in_order",
                violation_error_message="The end of the period must be on or after its start.",
            ),
            models.CheckConstraint(
                condition=~Q(treatment__in=[Treatment.COHORT_STARTED, Treatment.COHORT_COMPLETED]) | ~Q(cohort=""),
                name="evaluation_cohort_named",
                violation_error_message="Choose the cohort or scheme.",
            ),
            models.CheckConstraint(
                condition=~Q(treatment__in=sorted(SERVICE_TREATMENTS)) | Q(service__isnull=False),
                name="evaluation_service_named",
                violation_error_message="Choose the service.",
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="evaluation_progress_percent"),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("evaluation:detail", args=[self.pk])

    @property
    def treatment_description(self):
        """"People who started Checkpoint between 1 April 2024 and 30 September 2024"."""
        if self.treatment in SERVICE_TREATMENTS:
            verb = "referred to" if self.treatment == Treatment.REFERRED else "first seen by"
            what = f"People {verb} {self.service.name if self.service else 'a service'}"
        else:
            verb = "started" if self.treatment == Treatment.COHORT_STARTED else "completed"
            what = f"People who {verb} {self.get_cohort_display()}"
        return f"{what} between {self.period_start:%-d %B %Y} and {self.period_end:%-d %B %Y}"

    @property
    def is_active(self):
        return self.status in {self.Status.QUEUED, self.Status.RUNNING}


class EvaluationMember(models.Model):
    """A person in an evaluation's matched groups: for the person-level download, never shown to analysts."""

    class Group(models.TextChoices):
        TREATED = "treated", "Treatment group"
        COMPARISON = "comparison", "Comparison group"

    evaluation = models.ForeignKey(Evaluation, on_delete=models.CASCADE, related_name="members")
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="+")
    group = models.CharField(max_length=10, choices=Group.choices)
    index_on = models.DateField("Date of the event")
    matched = models.BooleanField(help_text="For the treatment group: whether a match was found.")
    times_matched = models.PositiveIntegerField(default=0)
    reoffences = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["evaluation", "offender", "group"], name="evaluation_member_once"),
        ]

    def __str__(self):
        return f"{self.get_group_display()}: person {self.offender_id}"
