"""Through the gate: the pre-release checklist of each custody episode, and the person's own plan.

What goes on the checklist and how many weeks before release it opens are partnership data, changed
in the admin. The plan keeps every earlier version: a review starts a new one from the last.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from cases.models import Agency, Offender, Supervision
from pathways.models import Pathway

DEFAULT_WEEKS_BEFORE_RELEASE = 12
# The checklist item every board and measure reads for accommodation on the night of release.
ACCOMMODATION_KEY = "accommodation"


class ChecklistSettings(models.Model):
    """How far ahead of release the checklist opens. The partnership keeps one row; without it, 12 weeks."""

    weeks_before_release = models.PositiveSmallIntegerField(
        default=DEFAULT_WEEKS_BEFORE_RELEASE, validators=[MinValueValidator(1), MaxValueValidator(52)],
        help_text="The checklist opens this many weeks before the release date, and the releases board looks "
                  "this far ahead.",
    )

    class Meta:
        verbose_name = verbose_name_plural = "pre-release checklist settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(weeks_before_release__gte=1, weeks_before_release__lte=52),
                name="checklist_weeks_between_1_and_52",
                violation_error_message="The checklist opens between 1 and 52 weeks before release.",
            ),
        ]

    def __str__(self):
        return f"Checklist opens {self.weeks_before_release} weeks before release"

    @classmethod
    def weeks(cls):
        found = cls.objects.order_by("pk").values_list("weeks_before_release", flat=True).first()
        return found or DEFAULT_WEEKS_BEFORE_RELEASE


class ChecklistItemTypeQuerySet(models.QuerySet):
    def in_use(self):
        return self.filter(retired=False)


class ChecklistItemType(models.Model):
    """Something to arrange before release. The partnership names, orders and retires them in the admin."""

    key = models.SlugField(
        max_length=40, unique=True,
        help_text="A stable identifier that reports use; keep it when the item is renamed. "
                  f"'{ACCOMMODATION_KEY}' is accommodation for the night of release.",
    )
    name = models.CharField(max_length=150, unique=True)
    description = models.CharField(max_length=300, blank=True)
    owner_kind = models.CharField(
        "Usually arranged by", max_length=20, choices=Agency.Kind.choices, blank=True,
        help_text="A new checklist gives the item to the agency of this kind in the person's area.",
    )
    order = models.PositiveSmallIntegerField(default=100)
    retired = models.BooleanField(default=False, help_text="Retired items stay on checklists already opened.")

    objects = ChecklistItemTypeQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class ReleaseChecklistQuerySet(models.QuerySet):
    def visible_to(self, user):
        return self.filter(offender__in=Offender.objects.visible_to(user))


class ReleaseChecklist(models.Model):
    """What must be in place before the person leaves prison, for one custody episode (a release date)."""

    supervision = models.OneToOneField(Supervision, on_delete=models.CASCADE, related_name="release_checklist")
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="release_checklists")
    prison = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        limit_choices_to={"kind": Agency.Kind.PRISON}, help_text="The prison the person is released from.",
    )
    opened_on = models.DateField()
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Blank when the checklist opened itself as the release date came within the window.",
    )

    objects = ReleaseChecklistQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_on", "-pk"]
        indexes = [models.Index(fields=["offender", "-opened_on"])]

    def __str__(self):
        return f"Pre-release checklist opened {self.opened_on:%d %b %Y}"


class ItemStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"
    NOT_NEEDED = "not_needed", "Not needed"
    DECLINED = "declined", "Declined by the person"


# Items that need nothing more before release.
SETTLED_STATUSES = frozenset({ItemStatus.DONE, ItemStatus.NOT_NEEDED, ItemStatus.DECLINED})


class ChecklistItem(models.Model):
    checklist = models.ForeignKey(ReleaseChecklist, on_delete=models.CASCADE, related_name="items")
    item_type = models.ForeignKey(ChecklistItemType, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=ItemStatus.choices, default=ItemStatus.NOT_STARTED)
    owner_agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name="Owner",
    )
    due_on = models.DateField("Date", null=True, blank=True,
                              help_text="When it is due, or the day it was done.")
    notes = models.CharField(max_length=500, blank=True)
    # The day the item last became done, not needed or declined; blank while it is still open. The
    # measure of checklists complete at release reads it.
    settled_on = models.DateField(null=True, blank=True, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["item_type__order", "item_type__name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["checklist", "item_type"], name="one_checklist_item_of_each_type",
                violation_error_message="The checklist already has this item.",
            ),
            models.CheckConstraint(condition=Q(status__in=ItemStatus.values), name="checklist_item_status_valid"),
            models.CheckConstraint(
                condition=Q(status__in=["done", "not_needed", "declined"], settled_on__isnull=False)
                | (~Q(status__in=["done", "not_needed", "declined"]) & Q(settled_on__isnull=True)),
                name="checklist_item_settled_on_when_settled",
                violation_error_message="Only a done, not needed or declined item has a day it was settled.",
            ),
        ]

    def __str__(self):
        return f"{self.item_type}: {self.get_status_display().lower()}"

    @property
    def is_settled(self):
        return self.status in SETTLED_STATUSES


class PersonalPlan(models.Model):
    """The person's own plan: their goals in their own words. Its versions are kept, the latest is current."""

    offender = models.OneToOneField(Offender, on_delete=models.CASCADE, related_name="personal_plan")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Plan of {self.offender}"


class Agreement(models.TextChoices):
    AGREED = "agreed", "Agreed"
    NOT_AGREED = "not_agreed", "Did not agree"
    COULD_NOT_ANSWER = "could_not_answer", "Could not answer"


class PlanVersion(models.Model):
    """One version of the plan. It is drafted, then the person's agreement is recorded and it stands
    unchanged; a review copies it into the next version."""

    plan = models.ForeignKey(PersonalPlan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveSmallIntegerField()
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    agency = models.ForeignKey(Agency, null=True, on_delete=models.SET_NULL, related_name="+")
    review_reason = models.CharField("Why the plan is being reviewed", max_length=500, blank=True)
    agreement = models.CharField(max_length=20, choices=Agreement.choices, blank=True)
    agreement_note = models.TextField(blank=True)
    agreement_on = models.DateField(null=True, blank=True)
    agreement_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["plan", "-number"]
        get_latest_by = "number"
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="one_plan_version_per_number"),
            models.CheckConstraint(
                condition=(Q(agreement="") & Q(agreement_on__isnull=True))
                | (Q(agreement__in=Agreement.values) & Q(agreement_on__isnull=False)),
                name="plan_agreement_dated",
                violation_error_message="Record the person's answer with the date they gave it.",
            ),
        ]

    def __str__(self):
        return f"Version {self.number}"

    @property
    def is_settled(self):
        """The person's answer is recorded: the version stands as it was, and changes need a review."""
        return bool(self.agreement)


class Goal(models.Model):
    """A goal in the person's own words, on a resettlement pathway where it fits one."""

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="goals")
    text = models.TextField("The goal, in the person's own words")
    pathway = models.ForeignKey(Pathway, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["version", "order", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="goal_has_text")]

    def __str__(self):
        return self.text[:60]


class GoalStep(models.Model):
    """A step towards a goal: taken by the person, or by an agency for them."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="steps")
    text = models.CharField("What will happen", max_length=500)
    owner_agency = models.ForeignKey(
        Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
        help_text="Blank when the person takes the step themselves.",
    )
    due_on = models.DateField("By when", null=True, blank=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["goal", "order", "pk"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="goal_step_has_text")]

    def __str__(self):
        return self.text[:60]

    @property
    def owner_label(self):
        return str(self.owner_agency) if self.owner_agency_id else "Me"


class WorkingDay(models.Model):
    """A day of the calendar of England and Wales, for the measures that count working days in SQL.

    `working_day_number` counts working days from the start of the table, so the working day N days
    after a date is the working day numbered N more. Filled for years ahead and kept so by the daily run.
    """

    day = models.DateField(unique=True)
    weekday = models.PositiveSmallIntegerField(help_text="0 is Monday, 4 is Friday.")
    is_bank_holiday = models.BooleanField(default=False)
    is_working_day = models.BooleanField()
    working_day_number = models.PositiveIntegerField()

    class Meta:
        ordering = ["day"]
        indexes = [models.Index(fields=["working_day_number", "is_working_day"])]

    def __str__(self):
        return f"{self.day:%d %b %Y}"
