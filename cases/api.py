"""REST API for the case record: people, cohort memberships, RAG history and appointments.

Serializers only check the shape of the input; every change goes through the
service functions the browser uses (`cases.services`), so the rights checks,
transactions and access log are the same. People come from
`Offender.objects.visible_to(user)`: a person the user may not see is a 404.
"""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from web.api import ApiFilterSet, IdFilter, PageOrCursorPagination, SeesPeople, StrictBooleanFilter, since_1900

from . import services
from .api_base import RAG_CONFLICT, LoggedRetrieveMixin, PersonScopedViewSet, VersionedUpdateMixin, conflict_schema
from .audit import log_access
from .filters import CaseFilter
from .identifiers import normalise_identifier, validate_crn, validate_pnc_number, validate_prison_number
from .models import (
    AbsenceReason,
    AccessLogEntry,
    Appointment,
    Cohort,
    CohortMembership,
    Offender,
    RagChange,
    RagStatus,
    Role,
    User,
)
from .search import MAX_SEARCH_LENGTH

Action = AccessLogEntry.Action


# ---------------------------------------------------------------------------
# Serializers


class IdentifierField(serializers.CharField):
    """A PNC number, CRN or prison number, upper-cased and without spaces before it is checked."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return normalise_identifier(super().to_internal_value(data))


@extend_schema_field(serializers.ListField(child=serializers.CharField(max_length=200)))
class AliasesField(serializers.ListField):
    def __init__(self, **kwargs):
        super().__init__(child=serializers.CharField(max_length=200), required=False, **kwargs)

    def get_attribute(self, instance):
        return [alias.name for alias in instance.aliases.all()]

    def to_internal_value(self, data):
        return [name.strip() for name in super().to_internal_value(data) if name.strip()]


class OpenCohortSerializer(serializers.ModelSerializer):
    description = serializers.CharField(read_only=True)

    class Meta:
        model = CohortMembership
        fields = ["id", "cohort", "description", "started_on"]


class PersonSerializer(serializers.ModelSerializer):
    aliases = AliasesField()
    pnc_number = IdentifierField(max_length=13, validators=[validate_pnc_number], help_text="For example 2015/0123456X")
    crn = IdentifierField(max_length=7, validators=[validate_crn], help_text="For example X123456")
    prison_number = IdentifierField(max_length=7, validators=[validate_prison_number], help_text="For example A1234BC")
    lead_offender_manager = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), allow_null=True, required=False,
        help_text="A member of staff of the lead agency (offender manager or panel chair).",
    )
    version = serializers.IntegerField(
        required=False, min_value=0,
        help_text="The version you last read. Required when changing a person: a change made by someone else "
        "since then is refused with 409 Conflict.",
    )
    open_cohorts = serializers.SerializerMethodField()
    rag_status = serializers.ChoiceField(
        choices=RagStatus.choices, read_only=True, allow_blank=True, help_text="Empty until a status is recorded."
    )

    class Meta:
        model = Offender
        fields = [
            "id", "first_names", "last_name", "aliases", "date_of_birth", "gender", "ethnicity",
            "address", "postcode", "area", "pnc_number", "crn", "prison_number",
            "veteran", "care_leaver", "disability", "womens_cohort",
            "lead_agency", "lead_offender_manager", "rag_status", "review_date", "open_cohorts",
            "version", "created_at", "updated_at",
        ]
        read_only_fields = ["lead_agency", "rag_status", "created_at", "updated_at"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is None:
            return
        instance = self.instance if isinstance(self.instance, Offender) else None
        agency_id = instance.lead_agency_id if instance is not None else getattr(request.user, "agency_id", None)
        self.fields["lead_offender_manager"].queryset = User.objects.filter(
            agency_id=agency_id, is_active=True, role__in=[Role.OFFENDER_MANAGER, Role.PANEL_CHAIR]
        )

    @extend_schema_field(OpenCohortSerializer(many=True))
    def get_open_cohorts(self, person):
        memberships = getattr(person, "open_memberships", None)
        if memberships is None:
            memberships = person.cohort_memberships.filter(ended_on__isnull=True).order_by("cohort")
        return OpenCohortSerializer(memberships, many=True).data


class RagChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.StringRelatedField()
    agency = serializers.StringRelatedField()

    class Meta:
        model = RagChange
        fields = [
            "id", "from_status", "to_status", "reason", "changed_by", "agency", "changed_at", "source",
            "source_system", "source_reference",
        ]


class RagChangeRequestSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=RagStatus.choices)
    reason = serializers.CharField(max_length=2000)
    changed_at = serializers.DateTimeField(
        required=False, validators=[since_1900],
        help_text="When the status changed, if not now: a past date is allowed, a future one is not.",
    )
    expected_status = serializers.ChoiceField(
        choices=[("", "None"), *RagStatus.choices], required=False,
        help_text="The status you saw. If someone else changed it since, the change is refused with 409 Conflict.",
    )


class MembershipSerializer(serializers.ModelSerializer):
    description = serializers.CharField(read_only=True)
    exit_reason = serializers.ChoiceField(
        choices=CohortMembership.ExitReason.choices, read_only=True, allow_blank=True,
        help_text="Empty while the membership is open.",
    )

    class Meta:
        model = CohortMembership
        fields = [
            "id", "cohort", "iom_category", "mappa_category", "mappa_level", "started_on", "ended_on",
            "exit_reason", "description", "created_at",
        ]
        read_only_fields = ["ended_on", "exit_reason", "created_at"]

    def validate(self, attrs):
        cohort = attrs.get("cohort")
        errors = {}
        if cohort == Cohort.IOM and not attrs.get("iom_category"):
            errors["iom_category"] = "Select the IOM category."
        if cohort == Cohort.MAPPA:
            if not attrs.get("mappa_category"):
                errors["mappa_category"] = "Select the MAPPA category."
            if not attrs.get("mappa_level"):
                errors["mappa_level"] = "Select the MAPPA level."
        if errors:
            raise serializers.ValidationError(errors)
        if cohort != Cohort.IOM:
            attrs["iom_category"] = ""
        if cohort != Cohort.MAPPA:
            attrs["mappa_category"] = attrs["mappa_level"] = None
        return attrs


class EndMembershipSerializer(serializers.Serializer):
    ended_on = serializers.DateField()
    exit_reason = serializers.ChoiceField(choices=CohortMembership.ExitReason.choices)


class AppointmentSerializer(serializers.ModelSerializer):
    agency = serializers.StringRelatedField()
    staff = serializers.StringRelatedField()

    class Meta:
        model = Appointment
        fields = [
            "id", "kind", "scheduled_at", "outcome", "absence_reason", "notes", "agency", "staff", "recorded_at",
            "source_system", "source_reference",
        ]
        read_only_fields = ["recorded_at", "source_system", "source_reference"]
        extra_kwargs = {"scheduled_at": {"validators": [since_1900]}}


class AppointmentOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Appointment.Outcome.choices)
    absence_reason = serializers.ChoiceField(
        choices=AbsenceReason.choices, required=False, allow_blank=True,
        help_text="Required for an acceptable absence.",
    )
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True)


# ---------------------------------------------------------------------------
# Views


class PersonFilter(CaseFilter, ApiFilterSet):
    """The case list's search, filters and sort order (`sort=name`, `-rag`, `updated`, `dob`)."""

    q = extend_schema_field({"type": "string", "maxLength": MAX_SEARCH_LENGTH})(django_filters.CharFilter(
        method="filter_search", max_length=MAX_SEARCH_LENGTH,
        help_text="A PNC number in any form (17/128C), or a name; add a date of birth (17/05/1990) to narrow it.",
    ))
    area = IdFilter(help_text="The area's id.")
    lead_agency = IdFilter(help_text="The lead agency's id.")
    mine = StrictBooleanFilter(method="filter_mine", help_text="Only people you are the lead offender manager of.")

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix, user=getattr(request, "user", None))


PERSON_CONFLICT = conflict_schema("Person", PersonSerializer())


@extend_schema_view(
    update=extend_schema(responses={200: PersonSerializer, 409: PERSON_CONFLICT}),
    partial_update=extend_schema(responses={200: PersonSerializer, 409: PERSON_CONFLICT}),
)
class PersonViewSet(
    LoggedRetrieveMixin, VersionedUpdateMixin, mixins.ListModelMixin, mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    """People (nominals) the user's agency may see under the information sharing agreement."""

    serializer_class = PersonSerializer
    permission_classes = [IsAuthenticated, SeesPeople]
    lookup_value_converter = "int"
    filterset_class = PersonFilter
    # Clients that read everyone they may see follow cursors: every page costs the same.
    pagination_class = PageOrCursorPagination
    update_refusal = "Only the lead agency can change this person's details."

    def get_queryset(self):
        return (
            Offender.objects.visible_to(self.request.user)
            .select_related("area", "lead_agency", "lead_offender_manager")
            .prefetch_related(
                "aliases",
                Prefetch(
                    "cohort_memberships",
                    queryset=CohortMembership.objects.filter(ended_on__isnull=True).order_by("cohort"),
                    to_attr="open_memberships",
                ),
            )
        )

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        if (request.query_params.get("q") or "").strip():
            log_access(request.user, Action.SEARCH, object_type="cases.offender",
                       detail=f"API search for: {request.query_params['q'][:200]}")
        return response

    def create(self, request, *args, **kwargs):
        user = request.user
        if not (user.is_superuser or user.does_casework):
            raise PermissionDenied("Your role cannot create cases.")
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        fields.pop("version", None)
        person = services.create_offender(user, aliases=fields.pop("aliases", ()), **fields)
        return Response(self.get_serializer(person).data, status=status.HTTP_201_CREATED)

    def may_update(self, user, person):
        return services.can_edit_personal_details(user, person)

    def change(self, user, person, *, expected_version, aliases=None, **fields):
        return services.update_offender(user, Offender.objects.get(pk=person.pk), expected_version=expected_version,
                                        aliases=aliases, **fields)


class RagChangeViewSet(PersonScopedViewSet):
    """A person's RAG history, newest first; POST records a change of status."""

    serializer_class = RagChangeSerializer
    create_serializer_class = RagChangeRequestSerializer
    create_service = staticmethod(services.record_rag_change)
    logged_as = "RAG history"
    filterset_fields = ["to_status", "source"]

    def records(self, person):
        return person.rag_changes.select_related("changed_by", "agency")

    @extend_schema(request=RagChangeRequestSerializer, responses={201: RagChangeSerializer, 409: RAG_CONFLICT})
    def create(self, request, *args, **kwargs):
        return super().create(request, *args, **kwargs)


class MembershipViewSet(PersonScopedViewSet):
    """A person's cohort memberships; POST enrols them in a cohort, POST .../end/ closes a membership."""

    serializer_class = MembershipSerializer
    create_service = staticmethod(services.enrol_in_cohort)
    logged_as = "cohort memberships"
    filterset_fields = ["cohort"]

    def records(self, person):
        return person.cohort_memberships.all()

    @extend_schema(request=EndMembershipSerializer, responses={200: MembershipSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request, *args, **kwargs):
        return self.change_record(EndMembershipSerializer, services.end_cohort_membership)


def _record_own_appointment(user, person, **data):
    """Appointments recorded through the API are the user's own."""
    return services.record_appointment(user, person, staff=user, **data)


class AppointmentViewSet(PersonScopedViewSet):
    """A person's contacts and appointments; PATCH records the outcome of one."""

    serializer_class = AppointmentSerializer
    create_service = staticmethod(_record_own_appointment)
    logged_as = "appointments"
    filterset_fields = ["kind", "outcome"]

    def records(self, person):
        return person.appointments.select_related("agency", "staff")

    @extend_schema(request=AppointmentOutcomeSerializer, responses={200: AppointmentSerializer})
    def partial_update(self, request, *args, **kwargs):
        return self.change_record(AppointmentOutcomeSerializer, services.record_appointment_outcome)
