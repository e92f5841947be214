"""REST API for resettlement pathways: needs, actions and referrals.

Changes go through `pathways.services`; lists start from the models' `visible_to(user)`
querysets, so a record about a person the user may not see is a 404.
"""

from django.core.exceptions import PermissionDenied
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases.api import PersonScopedViewSet
from cases.audit import log_access
from cases.models import AccessLogEntry, Agency, User
from reoffending.api import SeesPeople

from . import services
from .models import Action, ActionStatus, NeedAssessment, Pathway, Referral, ReferralStatus, Service

# ---------------------------------------------------------------------------
# Serializers


class PathwaySerializer(serializers.ModelSerializer):
    class Meta:
        model = Pathway
        fields = ["id", "key", "name", "description", "order", "retired"]


class ServiceSerializer(serializers.ModelSerializer):
    pathway = serializers.SlugRelatedField(slug_field="key", read_only=True)
    provided_by = serializers.CharField(read_only=True)

    class Meta:
        model = Service
        fields = ["id", "name", "pathway", "provider", "provided_by", "area", "description", "contact",
                  "target_first_contact_hours", "retired"]


class NeedSerializer(serializers.ModelSerializer):
    pathway = serializers.SlugRelatedField(slug_field="key", queryset=Pathway.objects.in_use())
    assessed_by = serializers.StringRelatedField()
    agency = serializers.StringRelatedField()

    class Meta:
        model = NeedAssessment
        fields = ["id", "pathway", "level", "rationale", "assessed_on", "assessed_by", "agency", "created_at"]


class ActionSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="offender_id", read_only=True)
    pathway = serializers.SlugRelatedField(slug_field="key", queryset=Pathway.objects.in_use())
    owner_agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all())
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                               allow_null=True)
    need = serializers.PrimaryKeyRelatedField(queryset=NeedAssessment.objects.none(), required=False, allow_null=True)
    overdue = serializers.BooleanField(read_only=True)

    class Meta:
        model = Action
        fields = [
            "id", "person", "pathway", "need", "description", "owner_agency", "owner", "raised_on", "due_on",
            "status", "outcome", "completed_on", "source_reference", "overdue", "version", "created_at", "updated_at",
        ]
        read_only_fields = ["status", "outcome", "completed_on", "version"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        person = self.context.get("person")
        if person is not None:
            self.fields["need"].queryset = NeedAssessment.objects.filter(offender=person)


class ActionUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, help_text="The version you last read; 409 if it moved on.")
    status = serializers.ChoiceField(choices=ActionStatus.choices, required=False)
    outcome = serializers.CharField(required=False, allow_blank=True)
    due_on = serializers.DateField(required=False)
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False)


class ReferralSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="offender_id", read_only=True)
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.in_use())
    action = serializers.PrimaryKeyRelatedField(queryset=Action.objects.none(), required=False, allow_null=True)
    referring_agency = serializers.StringRelatedField()

    class Meta:
        model = Referral
        fields = [
            "id", "person", "service", "action", "urgency", "reason", "status", "referred_at", "referring_agency",
            "first_contact_at", "decided_on", "started_on", "ended_on", "outcome", "version", "updated_at",
        ]
        read_only_fields = ["status", "first_contact_at", "decided_on", "started_on", "ended_on", "outcome",
                            "version", "updated_at"]
        extra_kwargs = {"referred_at": {"required": False}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        person = self.context.get("person")
        if person is not None:
            self.fields["action"].queryset = Action.objects.filter(offender=person)


class ReferralUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, help_text="The version you last read; 409 if it moved on.")
    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)
    first_contact_at = serializers.DateTimeField(required=False)
    decided_on = serializers.DateField(required=False)
    started_on = serializers.DateField(required=False)
    ended_on = serializers.DateField(required=False)
    outcome = serializers.CharField(required=False, allow_blank=True)


def conflict_response(current, serializer_class, context):
    return Response(
        {"detail": "This record was changed by someone else after you read it. Nothing was saved: read it again "
                   "and repeat your change.",
         "version": current.version, "current": serializer_class(current, context=context).data},
        status=status.HTTP_409_CONFLICT,
    )


# ---------------------------------------------------------------------------
# Reference data (not about people: every signed-in user)


class PathwayViewSet(viewsets.ReadOnlyModelViewSet):
    """The resettlement pathways, in the partnership's order."""

    queryset = Pathway.objects.all()
    serializer_class = PathwaySerializer
    filterset_fields = ["retired"]
    lookup_value_converter = "int"


class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """The service directory that people are referred to."""

    queryset = Service.objects.select_related("pathway", "provider")
    serializer_class = ServiceSerializer
    filterset_fields = ["pathway", "area", "retired"]
    lookup_value_converter = "int"


# ---------------------------------------------------------------------------
# One person's needs, actions and referrals


class PersonNeedViewSet(PersonScopedViewSet):
    """A person's needs assessments, newest first within each pathway; POST records an assessment."""

    serializer_class = NeedSerializer
    logged_as = "needs"
    filterset_fields = ["level"]

    def records(self, person):
        return NeedAssessment.objects.filter(offender=person).select_related("pathway", "assessed_by", "agency")

    def create(self, request, *args, **kwargs):
        person, data = self.casework_input(NeedSerializer)
        need = services.record_need(request.user, person, **data)
        return Response(self.get_serializer(need).data, status=status.HTTP_201_CREATED)


class PersonActionViewSet(PersonScopedViewSet):
    """A person's action plan; POST adds an action owned by any partner agency."""

    serializer_class = ActionSerializer
    logged_as = "actions"
    filterset_fields = ["status", "pathway", "owner_agency"]

    def records(self, person):
        return Action.objects.filter(offender=person).select_related("pathway", "owner_agency", "owner")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "person_pk" in self.kwargs and not getattr(self, "swagger_fake_view", False):
            context["person"] = self.get_person()
        return context

    def create(self, request, *args, **kwargs):
        person, data = self.casework_input(ActionSerializer)
        action = services.create_action(request.user, person, **data)
        return Response(self.get_serializer(action).data, status=status.HTTP_201_CREATED)


class PersonReferralViewSet(PersonScopedViewSet):
    """A person's referrals to services; POST refers them to a service in the directory."""

    serializer_class = ReferralSerializer
    logged_as = "referrals"
    filterset_fields = ["status", "urgency", "service"]

    def records(self, person):
        return Referral.objects.filter(offender=person).select_related("service", "referring_agency")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "person_pk" in self.kwargs and not getattr(self, "swagger_fake_view", False):
            context["person"] = self.get_person()
        return context

    def create(self, request, *args, **kwargs):
        person, data = self.casework_input(ReferralSerializer)
        referral = services.record_referral(request.user, person, **data)
        return Response(self.get_serializer(referral).data, status=status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------
# Actions and referrals across everyone the user may see (my agency's work list)


class ActionFilter(filters.FilterSet):
    person = filters.NumberFilter(field_name="offender_id")
    status = filters.MultipleChoiceFilter(choices=ActionStatus.choices)
    overdue = filters.BooleanFilter(method="filter_overdue", label="Open and past the due date")
    due_before = filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = Action
        fields = ["person", "status", "pathway", "owner_agency", "owner", "overdue", "due_before"]

    def filter_overdue(self, queryset, name, value):
        overdue = Action.objects.overdue().values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)


class ActionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                    viewsets.GenericViewSet):
    """Actions on everyone the user's agency may see; PATCH updates one, as its owner agency."""

    serializer_class = ActionSerializer
    permission_classes = [IsAuthenticated, SeesPeople]
    filterset_class = ActionFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return Action.objects.visible_to(self.request.user).select_related("pathway", "owner_agency", "owner")

    def retrieve(self, request, *args, **kwargs):
        action = self.get_object()
        log_access(request.user, AccessLogEntry.Action.VIEW, action, offender=action.offender_id, detail="API")
        return Response(self.get_serializer(action).data)

    @extend_schema(request=ActionUpdateSerializer, responses={200: ActionSerializer})
    def partial_update(self, request, *args, **kwargs):
        action = self.get_object()
        if not services.can_update_action(request.user, action):
            raise PermissionDenied("Only the agency that owns this action can change it.")
        serializer = ActionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            action = services.update_action(request.user, action, expected_version=data.pop("version"), **data)
        except services.ConcurrentEditError as conflict:
            return conflict_response(conflict.current, ActionSerializer, self.get_serializer_context())
        return Response(self.get_serializer(action).data)


class ReferralFilter(filters.FilterSet):
    person = filters.NumberFilter(field_name="offender_id")

    class Meta:
        model = Referral
        fields = ["person", "status", "urgency", "service", "referring_agency"]


class ReferralViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                      viewsets.GenericViewSet):
    """Referrals about everyone the user's agency may see; PATCH records progress (referrer or provider)."""

    serializer_class = ReferralSerializer
    permission_classes = [IsAuthenticated, SeesPeople]
    filterset_class = ReferralFilter
    lookup_value_converter = "int"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return Referral.objects.visible_to(self.request.user).select_related("service", "referring_agency")

    def retrieve(self, request, *args, **kwargs):
        referral = self.get_object()
        log_access(request.user, AccessLogEntry.Action.VIEW, referral, offender=referral.offender_id, detail="API")
        return Response(self.get_serializer(referral).data)

    @extend_schema(request=ReferralUpdateSerializer, responses={200: ReferralSerializer})
    def partial_update(self, request, *args, **kwargs):
        referral = self.get_object()
        if not services.can_update_referral(request.user, referral):
            raise PermissionDenied("Only the referring agency or the service provider can update this referral.")
        serializer = ReferralUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            referral = services.update_referral(request.user, referral, expected_version=data.pop("version"), **data)
        except services.ConcurrentEditError as conflict:
            return conflict_response(conflict.current, ReferralSerializer, self.get_serializer_context())
        return Response(self.get_serializer(referral).data)

