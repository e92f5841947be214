"""Webhooks through the API: an agency's administrators register endpoints, read the delivery log, replay.

Every operation is refused (403) to anyone but an administrator of the agency, who sees only their
own agency's subscriptions; another agency's is a 404.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from web.api import ApiFilterSet, IdFilter

from . import services
from .models import Delivery, EventType, Subscription


class ManagesWebhooks(BasePermission):
    message = "Only your agency's administrators can manage webhooks."

    def has_permission(self, request, view):
        return services.may_manage(request.user)


class SubscriptionSerializer(serializers.ModelSerializer):
    event_types = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), min_length=1, max_length=len(EventType.choices),
    )
    url = serializers.URLField(max_length=500, help_text="An https:// address that accepts POST.")
    paused = serializers.BooleanField(read_only=True)

    class Meta:
        model = Subscription
        fields = ["id", "url", "event_types", "created_at", "paused", "paused_at", "failures_in_a_row"]
        read_only_fields = ["created_at", "paused_at", "failures_in_a_row"]


class NewSubscriptionSerializer(SubscriptionSerializer):
    secret = serializers.CharField(read_only=True, help_text="The signing secret. Shown only this once: keep it.")

    class Meta(SubscriptionSerializer.Meta):
        fields = [*SubscriptionSerializer.Meta.fields, "secret"]


class DeliverySerializer(serializers.ModelSerializer):
    last_status_code = serializers.IntegerField(allow_null=True, read_only=True)

    class Meta:
        model = Delivery
        fields = ["id", "subscription", "event_id", "event_type", "status", "attempts", "last_status_code",
                  "last_error", "created_at", "last_attempt_at", "delivered_at", "payload"]
        read_only_fields = fields


class SubscriptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                          mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """Your agency's webhook subscriptions. POST registers one (its secret is in the answer, once);
    POST .../resume/ sends events again to a paused one; DELETE withdraws it."""

    serializer_class = SubscriptionSerializer
    permission_classes = [IsAuthenticated, ManagesWebhooks]
    lookup_value_converter = "int"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Subscription.objects.none()
        return Subscription.objects.filter(agency_id=self.request.user.agency_id)

    @extend_schema(responses={201: NewSubscriptionSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        subscription = services.register(request.user, **serializer.validated_data)
        return Response(NewSubscriptionSerializer(subscription).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.withdraw(self.request.user, instance)

    @extend_schema(request=None, responses={200: SubscriptionSerializer})
    @action(detail=True, methods=["post"])
    def resume(self, request, *args, **kwargs):
        return Response(self.get_serializer(services.resume(request.user, self.get_object())).data)


class DeliveryFilter(ApiFilterSet):
    subscription = IdFilter()

    class Meta:
        model = Delivery
        fields = ["subscription", "status", "event_type"]


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The delivery log of your agency's webhooks, newest first; POST .../replay/ sends one again."""

    serializer_class = DeliverySerializer
    permission_classes = [IsAuthenticated, ManagesWebhooks]
    lookup_value_converter = "int"
    filterset_class = DeliveryFilter

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Delivery.objects.none()
        return Delivery.objects.filter(subscription__agency_id=self.request.user.agency_id).select_related(
            "subscription"
        )

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def replay(self, request, *args, **kwargs):
        delivery = services.replay(request.user, self.get_object())
        return Response(self.get_serializer(delivery).data, status=status.HTTP_202_ACCEPTED)
