"""The person managed by the partnership (the nominal), their case and who may see it."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from .identifiers import validate_crn, validate_pnc_number, validate_prison_number


class Area(models.Model):
    """A Community Safety Partnership area or borough."""

    name = models.CharField(max_length=100, unique=True)
    code = models.SlugField(max_length=20, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Agency(models.Model):
    class Kind(models.TextChoices):
        POLICE = "police", "Police"
        PROBATION = "probation", "Probation Service"
        PRISON = "prison", "Prison"
        LOCAL_AUTHORITY = "local_authority", "Local authority"
        HEALTH = "health", "Health"
        DWP = "dwp", "DWP / Jobcentre Plus"
        TREATMENT = "treatment", "Drug and alcohol treatment provider"
        OPCC = "opcc", "Office of the Police and Crime Commissioner"
        VOLUNTARY = "voluntary", "Voluntary sector"

    name = models.CharField(max_length=150, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    area = models.ForeignKey(
        Area, null=True, blank=True, on_delete=models.PROTECT, related_name="agencies",
        help_text="The area the agency covers; leave blank for partnership-wide agencies.",
    )
    # Object permissions shared with an agency are granted to this group, and
    # every member of staff of the agency belongs to it.
    group = models.OneToOneField(Group, on_delete=models.PROTECT, editable=False, related_name="agency")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        if not self.group_id:
            self.group, _ = Group.objects.get_or_create(name=f"Agency: {self.name}")
        super().save(*args, **kwargs)


class Role(models.TextChoices):
    OFFENDER_MANAGER = "offender_manager", "Offender manager"
    PANEL_CHAIR = "panel_chair", "Panel chair"
    ANALYST = "analyst", "Analyst (OPCC or board)"
    AGENCY_ADMIN = "agency_admin", "Agency administrator"
    READ_ONLY = "read_only", "Read only"


# Roles that do case work: they may create and change case records they can see.
CASEWORK_ROLES = frozenset({Role.OFFENDER_MANAGER, Role.PANEL_CHAIR, Role.AGENCY_ADMIN})
# Roles that see numbers only, never a person's record.
AGGREGATE_ONLY_ROLES = frozenset({Role.ANALYST})


class User(AbstractUser):
    """A member of staff of one partner agency."""

    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="staff")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.READ_ONLY)
    job_title = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        indexes = [models.Index(fields=["agency", "role"])]

    def __str__(self):
        return self.get_full_name() or self.username

    @property
    def does_casework(self):
        return self.is_active and self.agency_id is not None and self.role in CASEWORK_ROLES

    @property
    def works_on_visible_cases(self):
        """May change any case the agency can see: `editable_by` is `visible_to` for these users.

        A cheap check for pages that have already found the person through `visible_to`.
        """
        return self.is_superuser or self.does_casework

    @property
    def sees_people(self):
        return self.is_active and (
            self.is_superuser or (self.agency_id is not None and self.role not in AGGREGATE_ONLY_ROLES)
        )

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        self._join_agency_group()

    def _join_agency_group(self):
        agency_groups = Group.objects.filter(agency__isnull=False)
        current = set(self.groups.filter(pk__in=agency_groups).values_list("pk", flat=True))
        wanted = {self.agency.group_id} if self.agency_id else set()
        if current != wanted:
            self.groups.remove(*(current - wanted))
            self.groups.add(*(wanted - current))


class Cohort(models.TextChoices):
    IOM = "iom", "IOM"
    MAPPA = "mappa", "MAPPA"
    CHECKPOINT = "checkpoint", "Checkpoint"
    CHECKPOINT_PLUS = "checkpoint_plus", "Checkpoint Plus"
    DIP = "dip", "DIP"
    SGV = "sgv", "Serious group violence"
    WOMENS_JUSTICE = "womens_justice", "Women's justice intervention"
    YOUTH = "youth", "Youth offending"


class SharingAgreement(models.Model):
    """A clause of the information sharing agreement: the agency may see everyone on the cohort."""

    agency = models.ForeignKey(Agency, on_delete=models.CASCADE, related_name="sharing_agreements")
    cohort = models.CharField(max_length=20, choices=Cohort.choices)
    agreed_on = models.DateField(default=timezone.localdate)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "cohort"], name="one_sharing_clause_per_cohort")]

    def __str__(self):
        return f"{self.agency} sees {self.get_cohort_display()}"


class RagStatus(models.TextChoices):
    RED = "red", "Red"
    AMBER = "amber", "Amber"
    GREEN = "green", "Green"


class ExistsPerRow(Exists):
    """EXISTS that PostgreSQL answers row by row through an index, never by hashing the subquery.

    For a correlated EXISTS inside an OR the planner may instead read the whole subquery
    into a hash table first, sized for every row of the outer table. For visibility that
    means reading every open membership of the agency's shared cohorts (over 100,000 at
    partnership scale) before the first row of a 25-row page. `OFFSET 0` is a long-standing
    PostgreSQL planner fence: the subquery is planned as written, so each row costs one index probe.
    """

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, template="EXISTS(%(subquery)s OFFSET 0)", **extra_context)


class OffenderQuerySet(models.QuerySet):
    def visible_to(self, user):
        """People the user's agency may see under the information sharing agreement.

        An agency sees a person when it leads the case, when the person has an open
        membership of a cohort the agreement opens to the agency, or when the person
        has been shared or referred to the agency (a guardian object permission held
        by the agency's group). Analysts see numbers only, never people.
        """
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if user.is_superuser:
            return self
        if not user.sees_people:
            return self.none()
        agency_id = user.agency_id
        open_on_shared_cohort = CohortMembership.objects.filter(
            offender=OuterRef("pk"),
            ended_on__isnull=True,
            cohort__in=SharingAgreement.objects.filter(agency_id=agency_id).values("cohort"),
        )
        shared_with_agency = OffenderGroupObjectPermission.objects.filter(
            content_object=OuterRef("pk"),
            group__agency__id=agency_id,
            permission__codename="view_offender",
        )
        return self.filter(
            Q(lead_agency_id=agency_id) | ExistsPerRow(open_on_shared_cohort) | Exists(shared_with_agency)
        )

    def editable_by(self, user):
        """People whose case the user may work on: add cohorts, RAG changes, contacts and notes."""
        if not getattr(user, "is_authenticated", False) or not user.works_on_visible_cases:
            return self.none()
        return self.visible_to(user)


class Offender(models.Model):
    """A person managed by the partnership (a "nominal")."""

    class Gender(models.TextChoices):
        MALE = "male", "Male"
        FEMALE = "female", "Female"
        OTHER = "other", "Non-binary or other"
        NOT_KNOWN = "not_known", "Not known"

    class Ethnicity(models.TextChoices):
        ASIAN = "asian", "Asian or Asian British"
        BLACK = "black", "Black, Black British, Caribbean or African"
        MIXED = "mixed", "Mixed or multiple ethnic groups"
        WHITE = "white", "White"
        OTHER = "other", "Other ethnic group"
        NOT_STATED = "not_stated", "Not stated"

    first_names = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    gender = models.CharField(max_length=10, choices=Gender.choices)
    ethnicity = models.CharField(max_length=12, choices=Ethnicity.choices, default=Ethnicity.NOT_STATED)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="people")

    pnc_number = models.CharField(
        "PNC number", max_length=13, blank=True, validators=[validate_pnc_number],
        help_text="For example, 2015/0123456X",
    )
    crn = models.CharField(
        "CRN", max_length=7, blank=True, validators=[validate_crn],
        help_text="Probation case reference number, for example X123456",
    )
    prison_number = models.CharField(
        max_length=7, blank=True, validators=[validate_prison_number], help_text="For example, A1234BC"
    )

    veteran = models.BooleanField(default=False)
    care_leaver = models.BooleanField(default=False)
    disability = models.BooleanField("Disability or learning difficulty", default=False)
    womens_cohort = models.BooleanField("Women's cohort", default=False)

    lead_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="lead_cases")
    lead_offender_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="caseload"
    )
    # Kept in step with the latest RagChange by cases.services.record_rag_change.
    rag_status = models.CharField("RAG status", max_length=5, choices=RagStatus.choices, blank=True)
    review_date = models.DateField(
        null=True, blank=True, help_text="When the partnership must review whether to keep this record."
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = OffenderQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_names", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["pnc_number"], condition=~Q(pnc_number=""), name="unique_pnc_number",
                violation_error_message="Another person already has this PNC number.",
            ),
            models.UniqueConstraint(
                fields=["crn"], condition=~Q(crn=""), name="unique_crn",
                violation_error_message="Another person already has this CRN.",
            ),
            models.UniqueConstraint(
                fields=["prison_number"], condition=~Q(prison_number=""), name="unique_prison_number",
                violation_error_message="Another person already has this prison number.",
            ),
            models.CheckConstraint(
                condition=Q(rag_status__in=["", *RagStatus.values]), name="offender_rag_status_valid"
            ),
        ]
        indexes = [
            models.Index(Lower("last_name"), Lower("first_names"), name="offender_name_idx"),
            models.Index(fields=["rag_status", "last_name"]),
            models.Index(fields=["area", "last_name"]),
            models.Index(fields=["lead_agency", "last_name"]),
            models.Index(fields=["lead_offender_manager", "last_name"]),
            models.Index(fields=["review_date"]),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("cases:detail", args=[self.pk])

    @property
    def full_name(self):
        return f"{self.first_names} {self.last_name}"


class OffenderUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Offender, on_delete=models.CASCADE)


class OffenderGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Offender, on_delete=models.CASCADE)


class Alias(models.Model):
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)

    class Meta:
        verbose_name_plural = "aliases"
        indexes = [models.Index(Lower("name"), name="alias_name_idx")]

    def __str__(self):
        return self.name


class CohortMembership(models.Model):
    class IomCategory(models.TextChoices):
        FIXED = "fixed", "Fixed"
        FLEX = "flex", "Flex"
        FREE = "free", "Free"

    class MappaCategory(models.IntegerChoices):
        REGISTERED_SEXUAL_OFFENDER = 1, "Category 1: registered sexual offender"
        VIOLENT_OFFENDER = 2, "Category 2: violent or other sexual offender"
        OTHER_DANGEROUS = 3, "Category 3: other dangerous offender"

    class MappaLevel(models.IntegerChoices):
        ORDINARY = 1, "Level 1: ordinary agency management"
        MULTI_AGENCY = 2, "Level 2: active multi-agency management"
        SENIOR_OVERSIGHT = 3, "Level 3: senior oversight"

    class ExitReason(models.TextChoices):
        COMPLETED = "completed", "Completed or order ended"
        NO_LONGER_ELIGIBLE = "no_longer_eligible", "No longer meets the criteria"
        DESELECTED = "deselected", "Deselected at panel"
        CUSTODY = "custody", "Sentenced to custody"
        MOVED_AWAY = "moved_away", "Moved out of the area"
        DIED = "died", "Died"
        OTHER = "other", "Other"

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="cohort_memberships")
    cohort = models.CharField(max_length=20, choices=Cohort.choices)
    iom_category = models.CharField("IOM category", max_length=5, choices=IomCategory.choices, blank=True)
    mappa_category = models.PositiveSmallIntegerField(choices=MappaCategory.choices, null=True, blank=True)
    mappa_level = models.PositiveSmallIntegerField(choices=MappaLevel.choices, null=True, blank=True)
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    exit_reason = models.CharField(max_length=20, choices=ExitReason.choices, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-started_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["offender", "cohort"],
                condition=Q(ended_on__isnull=True),
                name="one_open_membership_per_cohort",
                violation_error_message="The person is already on this cohort.",
            ),
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="membership_ends_after_it_starts",
                violation_error_message="The end date must be on or after the start date.",
            ),
            models.CheckConstraint(
                condition=(Q(ended_on__isnull=True) & Q(exit_reason=""))
                | (Q(ended_on__isnull=False) & ~Q(exit_reason="")),
                name="membership_exit_reason_when_ended",
                violation_error_message="Give an exit reason when, and only when, the membership has ended.",
            ),
            models.CheckConstraint(
                condition=(Q(cohort="mappa") & Q(mappa_category__isnull=False) & Q(mappa_level__isnull=False))
                | (~Q(cohort="mappa") & Q(mappa_category__isnull=True) & Q(mappa_level__isnull=True)),
                name="mappa_category_and_level_only_for_mappa",
                violation_error_message="MAPPA memberships need a category and a level; other cohorts have neither.",
            ),
            models.CheckConstraint(
                condition=(Q(cohort="iom") & ~Q(iom_category="")) | (~Q(cohort="iom") & Q(iom_category="")),
                name="iom_category_only_for_iom",
                violation_error_message=(
                    "IOM memberships need a category (fixed, flex or free); other cohorts have none."
                ),
            ),
        ]
        indexes = [
            models.Index(fields=["cohort", "ended_on", "offender"]),
            models.Index(fields=["offender", "ended_on"]),
            models.Index(fields=["started_on"]),
        ]

    def __str__(self):
        return f"{self.get_cohort_display()} from {self.started_on:%d %b %Y}"

    @property
    def is_open(self):
        return self.ended_on is None

    @property
    def description(self):
        if self.cohort == Cohort.IOM:
            return f"IOM ({self.get_iom_category_display().lower()})"
        if self.cohort == Cohort.MAPPA:
            return f"MAPPA category {self.mappa_category}, level {self.mappa_level}"
        return self.get_cohort_display()


class RagChange(models.Model):
    """One change of RAG status: who, which agency, when, from what, to what and why."""

    class Source(models.TextChoices):
        CASE_REVIEW = "case_review", "Case review"
        PANEL = "panel", "Panel decision"
        IMPORT = "import", "Imported"

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="rag_changes")
    from_status = models.CharField(max_length=5, choices=RagStatus.choices, blank=True)
    to_status = models.CharField(max_length=5, choices=RagStatus.choices)
    reason = models.TextField()
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    agency = models.ForeignKey(Agency, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField(default=timezone.now)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.CASE_REVIEW)
    source_reference = models.CharField(
        max_length=200, blank=True, help_text="For a panel decision, the meeting it was made at."
    )

    class Meta:
        ordering = ["-changed_at", "-pk"]
        get_latest_by = ["changed_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_status=models.F("to_status")), name="rag_change_changes_status"),
            models.CheckConstraint(condition=~Q(reason=""), name="rag_change_has_reason"),
        ]
        indexes = [
            models.Index(fields=["offender", "-changed_at"]),
            models.Index(fields=["changed_at"]),
        ]

    def __str__(self):
        return f"{self.from_status or 'none'} to {self.to_status}"


class Supervision(models.Model):
    """A sentence or order under which the person is supervised."""

    class Kind(models.TextChoices):
        LICENCE = "licence", "Licence"
        COMMUNITY_ORDER = "community_order", "Community order"
        SUSPENDED_SENTENCE = "suspended_sentence", "Suspended sentence order"
        POST_SENTENCE = "post_sentence", "Post-sentence supervision"
        CUSTODY = "custody", "Custodial sentence"
        OUT_OF_COURT = "out_of_court", "Out-of-court disposal"

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="supervisions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    started_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    released_on = models.DateField(
        "Prison release date", null=True, blank=True, help_text="Through the Gate work starts before release."
    )
    drug_rehabilitation_requirement = models.BooleanField("Drug rehabilitation requirement (DRR)", default=False)
    alcohol_treatment_requirement = models.BooleanField("Alcohol treatment requirement (ATR)", default=False)
    other_requirements = models.TextField(blank=True)
    responsible_agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-started_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gte=models.F("started_on")),
                name="supervision_ends_after_it_starts",
                violation_error_message="The end date must be on or after the start date.",
            ),
        ]
        indexes = [models.Index(fields=["released_on"]), models.Index(fields=["offender", "-started_on"])]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.started_on:%d %b %Y}"


class Appointment(models.Model):
    """A contact or appointment with the person, and whether they kept it."""

    class Kind(models.TextChoices):
        SUPERVISION = "supervision", "Probation supervision"
        HOME_VISIT = "home_visit", "Police home visit"
        TREATMENT = "treatment", "Treatment appointment"
        ETE = "ete", "Education, training or employment"
        HOUSING = "housing", "Housing"
        OTHER = "other", "Other contact"

    class Outcome(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        ATTENDED = "attended", "Attended"
        MISSED = "missed", "Missed"
        RESCHEDULED = "rescheduled", "Rescheduled"
        CANCELLED = "cancelled", "Cancelled"

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="appointments")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    scheduled_at = models.DateTimeField()
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.SCHEDULED)
    notes = models.CharField(max_length=500, blank=True)
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-scheduled_at", "-pk"]
        indexes = [
            models.Index(fields=["offender", "-scheduled_at"]),
            models.Index(fields=["outcome", "scheduled_at"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.scheduled_at:%d %b %Y}"


class CaseNoteQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Notes on people the user may see; restricted notes only within the author's agency."""
        return self.filter(offender__in=Offender.objects.visible_to(user)).readable_by(user)

    def readable_by(self, user):
        """The sharing part of `visible_to` alone, for notes of a person already found through it."""
        if getattr(user, "is_superuser", False):
            return self
        return self.filter(Q(sharing=CaseNote.Sharing.PARTNERSHIP) | Q(agency_id=user.agency_id))


class CaseNote(models.Model):
    class Sharing(models.TextChoices):
        PARTNERSHIP = "partnership", "Shared with the partnership"
        AGENCY = "agency", "Restricted to my agency"

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    sharing = models.CharField(max_length=12, choices=Sharing.choices, default=Sharing.PARTNERSHIP)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CaseNoteQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.CheckConstraint(condition=~Q(text=""), name="case_note_has_text")]
        indexes = [models.Index(fields=["offender", "-created_at"])]

    def __str__(self):
        return f"Note by {self.agency} on {self.created_at:%d %b %Y}"

    @property
    def is_restricted(self):
        return self.sharing == self.Sharing.AGENCY


class AccessLogEntry(models.Model):
    """One consultation, alteration, disclosure or erasure of personal data.

    Append-only: the application has no path that updates or deletes an entry,
    and on PostgreSQL a trigger refuses UPDATE and DELETE on the table.
    """

    class Action(models.TextChoices):
        VIEW = "view", "Viewed"
        SEARCH = "search", "Searched"
        CREATE = "create", "Created"
        CHANGE = "change", "Changed"
        DELETE = "delete", "Deleted"
        EXPORT = "export", "Exported"
        SHARE = "share", "Shared"
        IMPORT = "import", "Imported"

    occurred_at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.DO_NOTHING, related_name="+",
                             db_constraint=False)
    username = models.CharField(max_length=150)
    agency = models.ForeignKey(Agency, null=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False)
    action = models.CharField(max_length=8, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=40, blank=True)
    # Not a foreign key: the entry must outlive the erasure of the person's record.
    offender_id = models.BigIntegerField(null=True, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        verbose_name_plural = "access log entries"
        indexes = [
            models.Index(fields=["agency", "-occurred_at"]),
            models.Index(fields=["offender_id", "-occurred_at"]),
            models.Index(fields=["user", "-occurred_at"]),
        ]

    def __str__(self):
        return f"{self.username} {self.action} {self.object_type} {self.object_id}"


class Offence(models.Model):
    """An offence the person is suspected of, and how it was disposed of: the basis of proven reoffending."""

    class Group(models.TextChoices):
        """Home Office offence groups."""

        VIOLENCE = "violence", "Violence against the person"
        SEXUAL = "sexual", "Sexual offences"
        ROBBERY = "robbery", "Robbery"
        THEFT = "theft", "Theft offences"
        BURGLARY = "burglary", "Burglary"
        VEHICLE = "vehicle", "Vehicle offences"
        CRIMINAL_DAMAGE = "criminal_damage", "Criminal damage and arson"
        DRUGS = "drugs", "Drug offences"
        WEAPONS = "weapons", "Possession of weapons"
        PUBLIC_ORDER = "public_order", "Public order offences"
        FRAUD = "fraud", "Fraud offences"
        MISCELLANEOUS = "miscellaneous", "Miscellaneous crimes against society"
        SUMMARY_MOTORING = "summary_motoring", "Summary motoring"
        SUMMARY_OTHER = "summary_other", "Summary non-motoring"

    class Outcome(models.TextChoices):
        PENDING = "pending", "Pending"
        CONVICTION = "conviction", "Charged and convicted"
        CAUTION = "caution", "Caution"
        OUT_OF_COURT = "out_of_court", "Other out-of-court disposal"
        NO_FURTHER_ACTION = "nfa", "No further action"
        ACQUITTED = "acquitted", "Acquitted"

    # Outcomes that count as a proven offence in the published reoffending measure.
    PROVEN_OUTCOMES = frozenset({Outcome.CONVICTION, Outcome.CAUTION})

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="offences")
    committed_on = models.DateField("Date of offence")
    offence_group = models.CharField(max_length=20, choices=Group.choices)
    description = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_on = models.DateField("Date of outcome", null=True, blank=True)
    recorded_by_agency = models.ForeignKey(Agency, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-committed_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(outcome="pending", outcome_on__isnull=True)
                | (~Q(outcome="pending") & Q(outcome_on__isnull=False)),
                name="offence_outcome_dated",
                violation_error_message="Give the date of the outcome, and only once there is an outcome.",
            ),
            models.CheckConstraint(
                condition=Q(outcome_on__isnull=True) | Q(outcome_on__gte=models.F("committed_on")),
                name="offence_outcome_after_offence",
                violation_error_message="The outcome cannot come before the offence.",
            ),
        ]
        indexes = [
            models.Index(fields=["offender", "committed_on"]),
            models.Index(fields=["committed_on", "outcome"]),
        ]

    def __str__(self):
        return f"{self.get_offence_group_display()} on {self.committed_on:%d %b %Y}"

    @property
    def is_proven(self):
        return self.outcome in self.PROVEN_OUTCOMES


class EnforcementAction(models.Model):
    """A step taken to enforce an order or licence, or to manage risk in the community."""

    class Kind(models.TextChoices):
        WARNING_LETTER = "warning_letter", "Warning letter"
        BREACH = "breach", "Breach proceedings"
        RECALL = "recall", "Recall to prison"
        EXTRA_CONDITIONS = "extra_conditions", "Additional licence conditions"
        CURFEW = "curfew", "Curfew"
        CIVIL_ORDER = "civil_order", "Civil order (for example a Criminal Behaviour Order)"
        OTHER = "other", "Other"

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="enforcement_actions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    taken_on = models.DateField(default=timezone.localdate)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    details = models.TextField(blank=True)

    class Meta:
        ordering = ["-taken_on", "-pk"]
        indexes = [models.Index(fields=["offender", "-taken_on"]), models.Index(fields=["taken_on", "kind"])]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.taken_on:%d %b %Y}"
