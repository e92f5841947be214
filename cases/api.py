"""REST API for the case record: people, cohort memberships, RAG history and appointments.

Serializers only check the shape of the input; every change goes through the
service functions the browser uses (`cases.services`), so the rights checks,
transactions and access log are the same. People come from
`Offender.objects.visible_to(user)`: a person the user may not see is a 404.
"""

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from reoffending.api import SeesPeople

from . import services
from .audit import log_access
from .filters import CaseFilter
from .identifiers import normalise_identifier, validate_crn, validate_pnc_number, validate_prison_number
from .models import (
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

    def validate_date_of_birth(self, value):
        if value >= timezone.localdate():
            raise serializers.ValidationError("Date of birth must be in the past.")
        return value


class ConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    version = serializers.IntegerField(help_text="The current version of the record.")
    changed = serializers.DictField(
        help_text="Each field you sent whose current value differs from yours: {field: {current, yours}}."
    )
    current = PersonSerializer()


class RagChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.StringRelatedField()
    agency = serializers.StringRelatedField()

    class Meta:
        model = RagChange
        fields = [
            "id", "from_status", "to_status", "reason", "changed_by", "agency", "changed_at", "source",
            "source_reference",
        ]


class RagChangeRequestSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField(choices=RagStatus.choices)
    reason = serializers.CharField(max_length=2000)
    expected_status = serializers.ChoiceField(
        choices=[("", "None"), *RagStatus.choices], required=False,
        help_text="The status you saw. If someone else changed it since, the change is refused with 409 Conflict.",
    )


class MembershipSerializer(serializers.ModelSerializer):
    description = serializers.CharField(read_only=True)

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
        fields = ["id", "kind", "scheduled_at", "outcome", "notes", "agency", "staff", "recorded_at"]
        read_only_fields = ["recorded_at"]


class AppointmentOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Appointment.Outcome.choices)
    notes = serializers.CharField(max_length=500, required=False, allow_blank=True)


# ---------------------------------------------------------------------------
# Views


class PersonFilter(CaseFilter):
    """The case list's search, filters and sort order (`sort=name`, `-rag`, `updated`, `dob`)."""

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix, user=getattr(request, "user", None))


def ensure_casework(user, person):
    """403 before any input is checked when the user's role may not work on the (visible) person."""
    if not Offender.objects.editable_by(user).filter(pk=person.pk).exists():
        raise PermissionDenied("Your role cannot change this case.")


class PersonViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """People (nominals) the user's agency may see under the information sharing agreement."""

    serializer_class = PersonSerializer
    permission_classes = [IsAuthenticated, SeesPeople]
    lookup_value_converter = "int"
    filterset_class = PersonFilter

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

    def retrieve(self, request, *args, **kwargs):
        person = self.get_object()
        log_access(request.user, Action.VIEW, person, detail="API")
        return Response(self.get_serializer(person).data)

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

    @extend_schema(responses={200: PersonSerializer, 409: ConflictSerializer})
    def update(self, request, *args, partial=False, **kwargs):
        person = self.get_object()
        if not services.can_edit_personal_details(request.user, person):
            raise PermissionDenied("Only the lead agency can change this person's details.")
        serializer = self.get_serializer(person, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        expected_version = fields.pop("version", None)
        if expected_version is None:
            raise serializers.ValidationError({"version": ["Give the version of the record you last read."]})
        aliases = fields.pop("aliases", None)
        try:
            person = services.update_offender(
                request.user, Offender.objects.get(pk=person.pk), expected_version=expected_version,
                aliases=aliases, **fields,
            )
        except services.ConcurrentEditError as conflict:
            return self._conflict(conflict.current, fields, aliases)
        return Response(self.get_serializer(person).data)

    @extend_schema(responses={200: PersonSerializer, 409: ConflictSerializer})
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)

    def _conflict(self, current, fields, aliases):
        current_data = self.get_serializer(current).data
        yours = self.get_serializer().fields
        changed = {}
        for name, value in fields.items():
            submitted = yours[name].to_representation(value) if value is not None else None
            if submitted != current_data.get(name):
                changed[name] = {"current": current_data.get(name), "yours": submitted}
        if aliases is not None and aliases != current_data["aliases"]:
            changed["aliases"] = {"current": current_data["aliases"], "yours": aliases}
        return Response(
            {
                "detail": f"This record was changed by someone else at "
                f"{timezone.localtime(current.updated_at):%H:%M on %d %B %Y} after you read it (version "
                f"{current.version}). Nothing was saved: read it again and repeat your change.",
                "version": current.version,
                "changed": changed,
                "current": current_data,
            },
            status=status.HTTP_409_CONFLICT,
        )


class PersonScopedViewSet(viewsets.GenericViewSet):
    """Records that belong to one person: /people/{person_pk}/...; 404 when the person is not visible."""

    permission_classes = [IsAuthenticated, SeesPeople]
    lookup_value_converter = "int"
    logged_as = ""

    def get_person(self):
        if not hasattr(self, "_person"):
            self._person = get_object_or_404(
                Offender.objects.visible_to(self.request.user), pk=self.kwargs["person_pk"]
            )
        return self._person

    def records(self, person):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.serializer_class.Meta.model.objects.none()
        return self.records(self.get_person())

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        log_access(request.user, Action.VIEW, self.get_person(), detail=f"API: {self.logged_as}")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        log_access(request.user, Action.VIEW, record, offender=self.get_person(), detail="API")
        return Response(self.get_serializer(record).data)

    def casework_input(self, serializer_class):
        """The validated input of a change, after the 404 and 403 checks."""
        person = self.get_person()
        ensure_casework(self.request.user, person)
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return person, serializer.validated_data


class RagChangeViewSet(PersonScopedViewSet):
    """A person's RAG history, newest first; POST records a change of status."""

    serializer_class = RagChangeSerializer
    logged_as = "RAG history"
    filterset_fields = ["to_status", "source"]

    def records(self, person):
        return person.rag_changes.select_related("changed_by", "agency")

    @extend_schema(
        request=RagChangeRequestSerializer,
        responses={201: RagChangeSerializer, 409: inline_serializer(
            "RagConflict", {"detail": serializers.CharField(), "rag_status": serializers.CharField()})},
    )
    def create(self, request, *args, **kwargs):
        person, data = self.casework_input(RagChangeRequestSerializer)
        try:
            change = services.record_rag_change(request.user, person, **data)
        except services.ConcurrentEditError as conflict:
            return Response(
                {
                    "detail": "The RAG status was changed by someone else after you read it. Nothing was saved.",
                    "rag_status": conflict.current.rag_status,
                },
                status=status.HTTP_409_CONFLICT,
            )
        return Response(self.get_serializer(change).data, status=status.HTTP_201_CREATED)


class MembershipViewSet(PersonScopedViewSet):
    """A person's cohort memberships; POST enrols them in a cohort, POST .../end/ closes a membership."""

    serializer_class = MembershipSerializer
    logged_as = "cohort memberships"
    filterset_fields = ["cohort"]

    def records(self, person):
        return person.cohort_memberships.all()

    def create(self, request, *args, **kwargs):
        person, data = self.casework_input(MembershipSerializer)
        membership = services.enrol_in_cohort(request.user, person, **data)
        return Response(self.get_serializer(membership).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EndMembershipSerializer, responses={200: MembershipSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request, *args, **kwargs):
        person = self.get_person()
        ensure_casework(request.user, person)
        membership = self.get_object()
        serializer = EndMembershipSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        membership = services.end_cohort_membership(request.user, membership, **serializer.validated_data)
        return Response(self.get_serializer(membership).data)


class AppointmentViewSet(PersonScopedViewSet):
    """A person's contacts and appointments; PATCH records the outcome of one."""

    serializer_class = AppointmentSerializer
    logged_as = "appointments"
    filterset_fields = ["kind", "outcome"]

    def records(self, person):
        return person.appointments.select_related("agency", "staff")

    def create(self, request, *args, **kwargs):
        person, data = self.casework_input(AppointmentSerializer)
        appointment = services.record_appointment(request.user, person, staff=request.user, **data)
        return Response(self.get_serializer(appointment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=AppointmentOutcomeSerializer, responses={200: AppointmentSerializer})
    def partial_update(self, request, *args, **kwargs):
        person = self.get_person()
        ensure_casework(request.user, person)
        appointment = self.get_object()
        serializer = AppointmentOutcomeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = services.record_appointment_outcome(request.user, appointment, **serializer.validated_data)
        return Response(self.get_serializer(appointment).data)


class TokenView(APIView):
    """Your API token. Issued only to a session signed in with the security code, so tokens inherit
    two-factor sign-in; POST replaces any earlier token, DELETE withdraws it."""

    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: inline_serializer("ApiToken", {"token": serializers.CharField()})})
    def post(self, request):
        Token.objects.filter(user=request.user).delete()
        token = Token.objects.create(user=request.user)
        return Response({"token": token.key}, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    def delete(self, request):
        Token.objects.filter(user=request.user).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)
