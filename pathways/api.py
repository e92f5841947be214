"""REST API for resettlement pathways: needs, actions and referrals.

Changes go through `pathways.services`; lists start from the models' `visible_to(user)`
querysets, so a record about a person the user may not see is a 404.
"""

from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import IsAuthenticated

from cases.api_base import LoggedRetrieveMixin, PersonScopedViewSet, VersionedUpdateMixin, conflict_schema
from cases.models import Agency, User
from web.api import ApiFilterSet, IdFilter, KeyRelatedField, SeesPeople, StrictBooleanFilter, since_1900

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
    pathway = KeyRelatedField(slug_field="key", queryset=Pathway.objects.in_use())
    assessed_by = serializers.StringRelatedField()
    agency = serializers.StringRelatedField()

    class Meta:
        model = NeedAssessment
        fields = ["id", "pathway", "level", "rationale", "assessed_on", "assessed_by", "agency", "created_at"]


class ActionSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="offender_id", read_only=True)
    pathway = KeyRelatedField(slug_field="key", queryset=Pathway.objects.in_use())
    # Any agency and member of staff are read here, so that the service's rule gives its reason for a refusal.
    owner_agency = serializers.PrimaryKeyRelatedField(
        queryset=Agency.objects.all(), help_text="Any partner agency but the OPCC."
    )
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False, allow_null=True,
        help_text="An offender manager, panel chair or administrator of the owning agency.",
    )
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
    owner = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True), required=False,
        help_text="An offender manager, panel chair or administrator of the owning agency.",
    )


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
        extra_kwargs = {"referred_at": {"required": False, "validators": [since_1900]}}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        person = self.context.get("person")
        if person is not None:
            self.fields["action"].queryset = Action.objects.filter(offender=person)


class ReferralUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=0, help_text="The version you last read; 409 if it moved on.")
    status = serializers.ChoiceField(choices=ReferralStatus.choices, required=False)
    first_contact_at = serializers.DateTimeField(required=False, validators=[since_1900])
    decided_on = serializers.DateField(required=False)
    started_on = serializers.DateField(required=False)
    ended_on = serializers.DateField(required=False)
    outcome = serializers.CharField(required=False, allow_blank=True)


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
    create_service = staticmethod(services.record_need)
    logged_as = "needs"
    filterset_fields = ["level"]

    def records(self, person):
        return NeedAssessment.objects.filter(offender=person).select_related("pathway", "assessed_by", "agency")


class PersonActionViewSet(PersonScopedViewSet):
    """A person's action plan; POST adds an action owned by any partner agency."""

    serializer_class = ActionSerializer
    create_service = staticmethod(services.create_action)
    logged_as = "actions"
    filterset_fields = ["status", "pathway", "owner_agency"]

    def records(self, person):
        return Action.objects.filter(offender=person).select_related("pathway", "owner_agency", "owner")


class PersonReferralViewSet(PersonScopedViewSet):
    """A person's referrals to services; POST refers them to a service in the directory."""

    serializer_class = ReferralSerializer
    create_service = staticmethod(services.record_referral)
    logged_as = "referrals"
    filterset_fields = ["status", "urgency", "service"]

    def records(self, person):
        return Referral.objects.filter(offender=person).select_related("service", "referring_agency")


# ---------------------------------------------------------------------------
# Actions and referrals across everyone the user may see (my agency's work list)


class ActionFilter(ApiFilterSet):
    person = IdFilter(field_name="offender_id")
    status = filters.MultipleChoiceFilter(choices=ActionStatus.choices)
    overdue = StrictBooleanFilter(method="filter_overdue", label="Open and past the due date")
    due_before = filters.DateFilter(field_name="due_on", lookup_expr="lte")

    class Meta:
        model = Action
        fields = ["person", "status", "pathway", "owner_agency", "owner", "overdue", "due_before"]

    def filter_overdue(self, queryset, name, value):
        overdue = Action.objects.overdue().values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)


class OwnedRecordViewSet(LoggedRetrieveMixin, VersionedUpdateMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Records about everyone the user's agency may see, which their owners keep up to date with PATCH."""

    permission_classes = [IsAuthenticated, SeesPeople]
    lookup_value_converter = "int"
    http_method_names = ["get", "patch", "head", "options"]

    def get_queryset(self):
        return super().get_queryset().visible_to(self.request.user)


@extend_schema_view(partial_update=extend_schema(
    request=ActionUpdateSerializer,
    responses={200: ActionSerializer, 409: conflict_schema("Action", ActionSerializer())},
))
class ActionViewSet(OwnedRecordViewSet):
    """Actions on everyone the user's agency may see; PATCH updates one, as its owner agency."""

    queryset = Action.objects.select_related("pathway", "owner_agency", "owner")
    serializer_class = ActionSerializer
    filterset_class = ActionFilter
    update_serializer_class = ActionUpdateSerializer
    may_update = staticmethod(services.can_update_action)
    change = staticmethod(services.update_action)
    update_refusal = "Only the agency that owns this action can change it."


class ReferralFilter(ApiFilterSet):
    person = IdFilter(field_name="offender_id")

    class Meta:
        model = Referral
        fields = ["person", "status", "urgency", "service", "referring_agency"]


@extend_schema_view(partial_update=extend_schema(
    request=ReferralUpdateSerializer,
    responses={200: ReferralSerializer, 409: conflict_schema("Referral", ReferralSerializer())},
))
class ReferralViewSet(OwnedRecordViewSet):
    """Referrals about everyone the user's agency may see; PATCH records progress (referrer or provider)."""

    queryset = Referral.objects.select_related("service", "referring_agency")
    serializer_class = ReferralSerializer
    filterset_class = ReferralFilter
    update_serializer_class = ReferralUpdateSerializer
    may_update = staticmethod(services.can_update_referral)
    change = staticmethod(services.update_referral)
    update_refusal = "Only the referring agency or the service provider can update this referral."
