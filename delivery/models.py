"""The Reducing Reoffending Board's delivery plan: objectives, the actions under each, and quarterly progress.

Plan data is about the partnership's work, never about a person: everyone with an account may
read it, analysts and board members included.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from cases.models import Agency


class Objective(models.Model):
    number = models.PositiveSmallIntegerField(unique=True, help_text="Its number in the strategy, e.g. 3.")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["number"]
        constraints = [models.CheckConstraint(condition=~Q(title=""), name="objective_has_title")]

    def __str__(self):
        return f"{self.number}. {self.title}"


class PlanAction(models.Model):
    """One line of the delivery plan: what will be done, by whom and when, and what it should achieve."""

    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="actions")
    description = models.TextField("Action")
    intended_outcome = models.TextField("Intended outcome")
    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+",
                                    verbose_name="Responsible service")
    lead_person = models.CharField("Lead person", max_length=150)
    due_on = models.DateField("Timescale", help_text="When the action should be done by.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["objective__number", "due_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(description=""), name="plan_action_has_description"),
            models.CheckConstraint(condition=~Q(intended_outcome=""), name="plan_action_has_outcome"),
            models.CheckConstraint(condition=~Q(lead_person=""), name="plan_action_has_lead"),
        ]

    def __str__(self):
        return self.description[:80]

    def get_absolute_url(self):
        return reverse("delivery:action", args=[self.pk])


class Progress(models.TextChoices):
    GREEN = "green", "Green: on track"
    AMBER = "amber", "Amber: at risk"
    RED = "red", "Red: off track"
    COMPLETE = "complete", "Complete"


class ProgressUpdate(models.Model):
    """A quarter's update on an action: one per action and quarter, corrected in place until the pack goes out."""

    Rag = Progress

    action = models.ForeignKey(PlanAction, on_delete=models.CASCADE, related_name="updates")
    quarter_start = models.DateField(help_text="The first day of the quarter the update is for.")
    rag = models.CharField("Progress", max_length=10, choices=Progress.choices)
    narrative = models.TextField("Progress to date")
    evidence = models.TextField("Evidence links", blank=True, help_text="One web address a line.")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-quarter_start", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["action", "quarter_start"], name="one_update_per_action_quarter",
                                    violation_error_message="The action already has an update for that quarter."),
            models.CheckConstraint(
                condition=Q(quarter_start__day=1, quarter_start__month__in=[1, 4, 7, 10]),
                name="update_on_quarter_start",
            ),
            models.CheckConstraint(condition=Q(rag__in=Progress.values), name="update_rag_valid"),
            models.CheckConstraint(condition=~Q(narrative=""), name="update_has_narrative"),
        ]

    def __str__(self):
        return f"{self.get_rag_display()} update of {self.quarter_start:%B %Y}"

    @property
    def evidence_links(self):
        return [line.strip() for line in self.evidence.splitlines() if line.strip()]
