"""The person managed by the partnership (the nominal), their case and who may see it."""

from django.conf import settings
from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase

from .identifiers import IdentifierField, validate_crn, validate_pnc_number, validate_prison_number
from .validators import validate_date_of_birth


class FedRecord(models.Model):
    """A fact that can arrive from a partner's system: the system's name and its own reference for the row.

    Together they are unique, so importing a row again finds what it made before: an
    unchanged row changes nothing and a corrected row updates the same record.
    Records typed in by staff have neither.
    """

    # Defaults in the database too, so bulk SQL (the synthetic partnership, benchmark loads) may leave them out.
    source_system = models.CharField(
        max_length=40, blank=True, default="", db_default="",
        help_text="The partner system the record came from, for example police-niche.",
    )
    source_reference = models.CharField(
        max_length=100, blank=True, default="", db_default="", help_text="That system's own reference."
    )

    class Meta:
        abstract = True


def source_constraints(name, system="source_system", reference="source_reference"):
    """The rules every fed record keeps: a reference names its system, and is used once per system."""
    return [
        models.UniqueConstraint(
            fields=[system, reference], condition=~Q(**{system: ""}), name=f"{name}_source_unique",
            violation_error_message="Another record already has this source system and reference.",
        ),
        models.CheckConstraint(
            condition=Q(**{system: ""}) | ~Q(**{reference: ""}), name=f"{name}_source_complete",
            violation_error_message="Give the source system's own reference with the source system.",
        ),
    ]


def validate_not_future(day, message="The date cannot be in the future."):
    """Facts that have happened (an outcome, an exit, a change of status) cannot be dated after today."""
    if day is not None and day > timezone.localdate():
        raise ValidationError(message, code="future_date")


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
        membership of a cohort the agreement opens to the agency, or while the case is
        shared with the agency (a CaseShare neither withdrawn nor past its end date).
        Analysts see numbers only, never people.
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
        shared_with_agency = CaseShare.objects.active().filter(offender=OuterRef("pk"), agency_id=agency_id)
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
    date_of_birth = models.DateField(validators=[validate_date_of_birth])
    gender = models.CharField(max_length=10, choices=Gender.choices)
    ethnicity = models.CharField(max_length=12, choices=Ethnicity.choices, default=Ethnicity.NOT_STATED)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    area = models.ForeignKey(Area, on_delete=models.PROTECT, related_name="people")

    pnc_number = IdentifierField(
        "PNC number", max_length=13, blank=True, validators=[validate_pnc_number],
        help_text="For example, 2015/0123456X or 15/123456X",
    )
    crn = IdentifierField(
        "CRN", max_length=7, blank=True, validators=[validate_crn],
        help_text="Probation case reference number, for example X123456",
    )
    prison_number = IdentifierField(
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


class OffenderGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Offender, on_delete=models.CASCADE)


class CaseShareQuerySet(models.QuerySet):
    def active(self, today=None):
        """Shares in force today: not withdrawn, and not past their end date."""
        today = today or timezone.localdate()
        return self.filter(withdrawn_at__isnull=True).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today))


class CaseShare(models.Model):
    """The case shared with another agency beyond the sharing agreement: who shared it, why, when, until when.

    The agency sees the person while the share is in force (`Offender.objects.visible_to`). A share is
    never deleted: withdrawing it keeps who withdrew it, when and why, and ends the agency's view at once.
    """

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="shares")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="shares_received",
                               verbose_name="Shared with")
    reason = models.TextField(help_text="Why the case is shared.")
    shared_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    shared_by_agency = models.ForeignKey(Agency, null=True, on_delete=models.SET_NULL, related_name="+")
    shared_at = models.DateTimeField(default=timezone.now)
    ends_on = models.DateField("Shared until", null=True, blank=True,
                               help_text="The last day the agency may see the case. Leave blank for no end date.")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawal_reason = models.TextField(blank=True)

    objects = CaseShareQuerySet.as_manager()

    class Meta:
        ordering = ["-shared_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["offender", "agency"], condition=Q(withdrawn_at__isnull=True),
                name="one_current_share_per_agency",
                violation_error_message="The case is already shared with this agency.",
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="case_share_has_reason"),
            models.CheckConstraint(
                condition=(Q(withdrawn_at__isnull=True) & Q(withdrawal_reason=""))
                | (Q(withdrawn_at__isnull=False) & ~Q(withdrawal_reason="")),
                name="case_share_withdrawn_with_reason",
                violation_error_message="A withdrawn share needs the reason, and only a withdrawn one.",
            ),
        ]
        indexes = [models.Index(fields=["offender", "agency"], name="case_share_visibility_idx",
                                condition=Q(withdrawn_at__isnull=True))]

    def __str__(self):
        return f"Shared with {self.agency} on {self.shared_at:%d %b %Y}"

    def is_active(self, today=None):
        today = today or timezone.localdate()
        return self.withdrawn_at is None and (self.ends_on is None or self.ends_on >= today)

    @property
    def state(self):
        if self.withdrawn_at is not None:
            return "withdrawn"
        return "active" if self.is_active() else "ended"


class Alias(models.Model):
    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="aliases")
    name = models.CharField(max_length=200)

    class Meta:
        verbose_name_plural = "aliases"

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
    # The partner system and reference of the row that ended the membership, when a feed did.
    exit_source_system = models.CharField(max_length=40, blank=True, default="", db_default="")
    exit_source_reference = models.CharField(max_length=100, blank=True, default="", db_default="")
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
            *source_constraints("membership_exit", "exit_source_system", "exit_source_reference"),
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
    # For an imported change, the partner system it came from: with `source_reference` it finds the change again.
    source_system = models.CharField(max_length=40, blank=True, default="", db_default="")
    source_reference = models.CharField(
        max_length=200, blank=True,
        help_text="For a panel decision, the meeting it was made at; for an imported change, the row's reference.",
    )

    class Meta:
        ordering = ["-changed_at", "-pk"]
        get_latest_by = ["changed_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(from_status=models.F("to_status")), name="rag_change_changes_status"),
            models.CheckConstraint(condition=~Q(reason=""), name="rag_change_has_reason"),
            # Panel decisions name their meeting without a source system, so only fed changes are unique.
            *source_constraints("rag_change"),
        ]
        indexes = [
            models.Index(fields=["offender", "-changed_at"]),
            models.Index(fields=["changed_at"]),
        ]

    def __str__(self):
        return f"{self.from_status or 'none'} to {self.to_status}"


class Supervision(FedRecord):
    """A sentence or order under which the person is supervised, and the release from custody that began it."""

    class Kind(models.TextChoices):
        LICENCE = "licence", "Licence"
        COMMUNITY_ORDER = "community_order", "Community order"
        SUSPENDED_SENTENCE = "suspended_sentence", "Suspended sentence order"
        POST_SENTENCE = "post_sentence", "Post-sentence supervision"
        CUSTODY = "custody", "Custodial sentence"
        OUT_OF_COURT = "out_of_court", "Out-of-court disposal"

    class ReleaseType(models.TextChoices):
        PLANNED = "planned", "Planned release"
        UNPLANNED = "unplanned", "Unplanned release (for example from court or on appeal)"

    # Orders a court makes in the community: with cautions and releases from custody, the events
    # that bring a person into the national proven reoffending cohort.
    COURT_ORDER_KINDS = frozenset({Kind.COMMUNITY_ORDER, Kind.SUSPENDED_SENTENCE})

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="supervisions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    started_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    released_on = models.DateField(
        "Prison release date", null=True, blank=True,
        help_text="The expected date until the person is released: Through the Gate work starts before release.",
    )
    release_type = models.CharField(max_length=10, choices=ReleaseType.choices, blank=True, default="", db_default="")
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
            models.CheckConstraint(
                condition=Q(release_type="") | Q(released_on__isnull=False),
                name="supervision_release_type_needs_date",
                violation_error_message="Give the release date with the type of release.",
            ),
            *source_constraints("supervision"),
        ]
        indexes = [models.Index(fields=["released_on"]), models.Index(fields=["offender", "-started_on"])]

    def __str__(self):
        return f"{self.get_kind_display()} from {self.started_on:%d %b %Y}"

    @property
    def is_friday_release(self):
        """Released on a Friday, when housing, benefits and treatment services close for the weekend."""
        return self.released_on is not None and self.released_on.weekday() == 4


class Requirement(models.Model):
    """A requirement of a community order or suspended sentence, or a condition of a licence."""

    class Kind(models.TextChoices):
        DRR = "drr", "Drug rehabilitation requirement (DRR)"
        ATR = "atr", "Alcohol treatment requirement (ATR)"
        MHTR = "mhtr", "Mental health treatment requirement (MHTR)"
        AAMR = "aamr", "Alcohol abstinence and monitoring requirement"
        RAR = "rar", "Rehabilitation activity requirement (RAR)"
        UNPAID_WORK = "unpaid_work", "Unpaid work"
        PROGRAMME = "programme", "Accredited programme"
        CURFEW = "curfew", "Curfew"
        EXCLUSION = "exclusion", "Exclusion"
        RESIDENCE = "residence", "Residence"
        PROHIBITED_ACTIVITY = "prohibited_activity", "Prohibited activity"
        ELECTRONIC_MONITORING = "electronic_monitoring", "Electronic monitoring"

    supervision = models.ForeignKey(Supervision, on_delete=models.CASCADE, related_name="requirements")
    kind = models.CharField(max_length=25, choices=Kind.choices)

    class Meta:
        ordering = ["supervision", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["supervision", "kind"], name="one_requirement_of_each_kind",
                violation_error_message="The order already has this requirement.",
            ),
        ]
        indexes = [models.Index(fields=["kind", "supervision"])]

    def __str__(self):
        return self.get_kind_display()


class AbsenceReason(models.TextChoices):
    MEDICAL = "medical", "Medical"
    COURT = "court", "Attending court"
    EMPLOYMENT = "employment", "Employment, education or training"
    CHILDCARE = "childcare", "Childcare or caring responsibilities"
    RELIGIOUS = "religious", "Religious observance"
    PROFESSIONAL_JUDGEMENT = "professional_judgement", "Professional judgement"


class Appointment(FedRecord):
    """A contact or appointment with the person, and its outcome as a probation practitioner records it.

    Compliance is read from the outcomes: attending but failing to comply and an
    unacceptable absence are each a failure to comply; an acceptable absence has
    a reason and is not. Only what has happened can have an outcome, so an
    attendance or absence can only be recorded once the appointment time has passed.
    """

    class Kind(models.TextChoices):
        SUPERVISION = "supervision", "Probation supervision"
        HOME_VISIT = "home_visit", "Police home visit"
        TREATMENT = "treatment", "Treatment appointment"
        ETE = "ete", "Education, training or employment"
        HOUSING = "housing", "Housing"
        OTHER = "other", "Other contact"

    class Outcome(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        ATTENDED_COMPLIED = "attended_complied", "Attended and complied"
        FAILED_TO_COMPLY = "failed_to_comply", "Attended but failed to comply"
        ACCEPTABLE_ABSENCE = "acceptable_absence", "Acceptable absence"
        UNACCEPTABLE_ABSENCE = "unacceptable_absence", "Unacceptable absence"
        RESCHEDULED = "rescheduled", "Rescheduled"
        CANCELLED = "cancelled", "Cancelled"

    # Outcomes that say what happened at the appointment: none can be recorded before it is due.
    ATTENDED_OUTCOMES = frozenset({Outcome.ATTENDED_COMPLIED, Outcome.FAILED_TO_COMPLY})
    ABSENT_OUTCOMES = frozenset({Outcome.ACCEPTABLE_ABSENCE, Outcome.UNACCEPTABLE_ABSENCE})
    HAPPENED_OUTCOMES = ATTENDED_OUTCOMES | ABSENT_OUTCOMES
    # A missed appointment, as the case page, agendas and the dashboard count it: absent without good reason.
    MISSED_OUTCOMES = frozenset({Outcome.UNACCEPTABLE_ABSENCE})
    # Each of these is one failure to comply ("N failures to comply within 12 months").
    FAILURE_OUTCOMES = frozenset({Outcome.FAILED_TO_COMPLY, Outcome.UNACCEPTABLE_ABSENCE})

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="appointments")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)
    scheduled_at = models.DateTimeField()
    outcome = models.CharField(max_length=20, choices=Outcome.choices, default=Outcome.SCHEDULED)
    absence_reason = models.CharField(
        "Reason for the absence", max_length=25, choices=AbsenceReason.choices, blank=True, default="", db_default="",
        help_text="Why the absence is acceptable.",
    )
    notes = models.CharField(max_length=500, blank=True)
    # When the appointment or its latest outcome was recorded; the services set it.
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-scheduled_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(outcome__in=[
                    "attended_complied", "failed_to_comply", "acceptable_absence", "unacceptable_absence",
                ]) | Q(scheduled_at__lte=models.F("recorded_at")),
                name="appointment_outcome_not_before_it_is_due",
                violation_error_message="An appointment's outcome cannot be recorded before the appointment time.",
            ),
            models.CheckConstraint(
                condition=(Q(outcome="acceptable_absence") & ~Q(absence_reason=""))
                | (~Q(outcome="acceptable_absence") & Q(absence_reason="")),
                name="appointment_absence_reason_when_acceptable",
                violation_error_message="Give the reason for an acceptable absence, and only for one.",
            ),
            *source_constraints("appointment"),
        ]
        indexes = [
            models.Index(fields=["offender", "-scheduled_at"]),
            models.Index(fields=["outcome", "scheduled_at"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.scheduled_at:%d %b %Y}"

    @property
    def is_missed(self):
        return self.outcome in self.MISSED_OUTCOMES

    @property
    def is_due(self):
        """The appointment time has come: what happened can be recorded."""
        return self.scheduled_at <= timezone.now()

    @property
    def is_failure_to_comply(self):
        return self.outcome in self.FAILURE_OUTCOMES

    def clean(self):
        errors = {}
        if self.outcome in self.HAPPENED_OUTCOMES and self.scheduled_at and self.scheduled_at > (
            self.recorded_at or timezone.now()
        ):
            errors["outcome"] = (
                "The appointment has not happened yet: an attendance or absence can only be recorded after "
                f"{timezone.localtime(self.scheduled_at):%-d %B %Y at %H:%M}."
            )
        if self.outcome == self.Outcome.ACCEPTABLE_ABSENCE and not self.absence_reason:
            errors["absence_reason"] = "Select the reason the absence is acceptable."
        if self.outcome != self.Outcome.ACCEPTABLE_ABSENCE:
            self.absence_reason = ""
        if errors:
            raise ValidationError(errors)


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


class Offence(FedRecord):
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
        CHARGED = "charged", "Charged"
        CONVICTION = "conviction", "Convicted"
        CAUTION = "caution", "Cautioned"
        OUT_OF_COURT = "out_of_court", "Community resolution or other out-of-court disposal"
        NO_FURTHER_ACTION = "nfa", "No further action"
        ACQUITTED = "acquitted", "Acquitted"

    # Outcomes that count as a proven offence in the published reoffending measure.
    PROVEN_OUTCOMES = frozenset({Outcome.CONVICTION, Outcome.CAUTION})
    # Outcomes still open: the case may yet be proven.
    OPEN_OUTCOMES = frozenset({Outcome.PENDING, Outcome.CHARGED})

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="offences")
    committed_on = models.DateField("Date of offence")
    offence_group = models.CharField(max_length=20, choices=Group.choices)
    description = models.CharField(max_length=200, blank=True)
    drug_related = models.BooleanField("Drug-related", default=False, db_default=False)
    alcohol_related = models.BooleanField("Alcohol-related", default=False, db_default=False)
    outcome = models.CharField(max_length=12, choices=Outcome.choices, default=Outcome.PENDING)
    outcome_on = models.DateField("Date of outcome", null=True, blank=True, help_text="For a charge, the charge date.")
    court = models.CharField(
        max_length=100, blank=True, default="", db_default="", help_text="The court that dealt with the case."
    )
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
            *source_constraints("offence"),
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

    def clean(self):
        errors = {}
        for name, day, message in (
            ("committed_on", self.committed_on, "The date of the offence cannot be in the future."),
            ("outcome_on", self.outcome_on, "The date of the outcome cannot be in the future."),
        ):
            try:
                validate_not_future(day, message)
            except ValidationError as error:
                errors[name] = error
        if errors:
            raise ValidationError(errors)


# One offence of each group, as a sentence names it ("Adds a theft offence on 10 January 2024").
ONE_OFFENCE = {
    Offence.Group.VIOLENCE: "an offence of violence against the person",
    Offence.Group.SEXUAL: "a sexual offence",
    Offence.Group.ROBBERY: "a robbery",
    Offence.Group.THEFT: "a theft offence",
    Offence.Group.BURGLARY: "a burglary",
    Offence.Group.VEHICLE: "a vehicle offence",
    Offence.Group.CRIMINAL_DAMAGE: "an offence of criminal damage or arson",
    Offence.Group.DRUGS: "a drug offence",
    Offence.Group.WEAPONS: "an offence of possessing a weapon",
    Offence.Group.PUBLIC_ORDER: "a public order offence",
    Offence.Group.FRAUD: "a fraud offence",
    Offence.Group.MISCELLANEOUS: "a miscellaneous crime against society",
    Offence.Group.SUMMARY_MOTORING: "a summary motoring offence",
    Offence.Group.SUMMARY_OTHER: "a summary non-motoring offence",
}


def one_offence(group):
    """One offence of the group as a sentence names it: "a theft offence", "a burglary"."""
    return ONE_OFFENCE.get(group) or f"an offence ({Offence.Group(group).label.lower()})"


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

    # Proceedings that run until a court or the recall process concludes them: "breach in progress".
    ENFORCEMENT_OF_ORDER_KINDS = frozenset({Kind.BREACH, Kind.RECALL})

    offender = models.ForeignKey(Offender, on_delete=models.CASCADE, related_name="enforcement_actions")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    taken_on = models.DateField(default=timezone.localdate)
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    details = models.TextField(blank=True)
    concluded_on = models.DateField(
        "Date concluded", null=True, blank=True,
        help_text="For breach proceedings or a recall: when they concluded. Until then they are in progress.",
    )
    outcome = models.TextField(
        blank=True, default="", db_default="", help_text="How breach proceedings or a recall concluded."
    )

    class Meta:
        ordering = ["-taken_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(concluded_on__isnull=True) | (
                    Q(kind__in=["breach", "recall"]) & Q(concluded_on__gte=models.F("taken_on"))
                ),
                name="enforcement_concluded_after_taken",
                violation_error_message="Only breach proceedings or a recall conclude, on or after the day taken.",
            ),
        ]
        indexes = [models.Index(fields=["offender", "-taken_on"]), models.Index(fields=["taken_on", "kind"])]

    def __str__(self):
        return f"{self.get_kind_display()} on {self.taken_on:%d %b %Y}"

    @property
    def in_progress(self):
        return self.kind in self.ENFORCEMENT_OF_ORDER_KINDS and self.concluded_on is None
