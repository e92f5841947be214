"""REST API for panels: meetings, their agendas and decisions, and the actions set at them.

Meetings come from `Meeting.objects.visible_to(user)` (panels the user's agency is a
member of); agenda items and actions only for people the user may also see. Changes
go through `panels.services`, which checks the user chairs the panel.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from cases.api_base import RAG_CONFLICT, ConflictMixin, LoggedRetrieveMixin
from cases.audit import log_many
from cases.models import AccessLogEntry, Agency, Offender, RagStatus, User
from pathways.api import ActionSerializer
from pathways.models import Pathway
from web.api import KeyRelatedField, SeesPeople

from . import services
from .models import AgendaItem, Meeting, MeetingAction, Panel

# ---------------------------------------------------------------------------
# Serializers


class PanelSerializer(serializers.ModelSerializer):
    class Meta:
        model = Panel
        fields = ["id", "name", "kind", "area", "chair", "cadence", "active"]


class MeetingSerializer(serializers.ModelSerializer):
    panel = serializers.PrimaryKeyRelatedField(queryset=Panel.objects.none())

    class Meta:
        model = Meeting
        fields = ["id", "panel", "held_on", "location", "status", "agenda_generated_at", "closed_at", "created_at"]
        read_only_fields = ["status", "agenda_generated_at", "closed_at"]
        validators = []  # one meeting a panel a day: checked by the service with a clear message

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["panel"].queryset = Panel.objects.visible_to(request.user)


class AgendaItemSerializer(serializers.ModelSerializer):
    person = serializers.IntegerField(source="offender_id", read_only=True)
    name = serializers.CharField(source="offender.full_name", read_only=True)
    reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    rag_decision = serializers.CharField(source="rag_change.to_status", read_only=True, allow_null=True,
                                         default=None)
    actions = serializers.SerializerMethodField()

    class Meta:
        model = AgendaItem
        fields = ["id", "person", "name", "position", "reasons", "added_reason", "discussion", "rag_decision",
                  "next_review_on", "discussed_at", "actions"]

    def get_actions(self, item) -> list[int]:
        return [link.action_id for link in item.meeting_actions.all()]


class DiscussionSerializer(serializers.Serializer):
    discussion = serializers.CharField(allow_blank=True)
    to_status = serializers.ChoiceField(choices=[("", "No change"), *RagStatus.choices], required=False)
    rag_reason = serializers.CharField(required=False, allow_blank=True)
    next_review_on = serializers.DateField(required=False, allow_null=True)
    expected_status = serializers.ChoiceField(
        choices=[("", "None"), *RagStatus.choices], required=False,
        help_text="The RAG status shown on the agenda; a change made elsewhere since is refused with 409.",
    )


class MeetingActionRequestSerializer(serializers.Serializer):
    agenda_item = serializers.IntegerField()
    pathway = KeyRelatedField(slug_field="key", queryset=Pathway.objects.in_use())
    description = serializers.CharField()
    owner_agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.all())
    owner = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), required=False,
                                               allow_null=True)
    due_on = serializers.DateField()


class MeetingActionSerializer(serializers.ModelSerializer):
    action = ActionSerializer(read_only=True)

    class Meta:
        model = MeetingAction
        fields = ["id", "agenda_item", "action"]


# ---------------------------------------------------------------------------
# Views


class PanelViewSet(viewsets.ReadOnlyModelViewSet):
    """Panels the user's agency is a member of."""

    serializer_class = PanelSerializer
    permission_classes = [IsAuthenticated, SeesPeople]
    filterset_fields = ["kind", "area", "active"]
    lookup_value_converter = "int"

    def get_queryset(self):
        return Panel.objects.visible_to(self.request.user)


class MeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     viewsets.GenericViewSet):
    """Meetings of the user's panels; POST schedules one (chairs only), POST .../close/ closes its minutes."""

    serializer_class = MeetingSerializer
    permission_classes = [IsAuthenticated, SeesPeople]
    filterset_fields = {"panel": ["exact"], "status": ["exact"], "held_on": ["gte", "lte"]}
    lookup_value_converter = "int"

    def get_queryset(self):
        return Meeting.objects.visible_to(self.request.user)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        meeting = services.schedule_meeting(request.user, data.pop("panel"), **data)
        return Response(self.get_serializer(meeting).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: MeetingSerializer})
    @action(detail=True, methods=["post"])
    def close(self, request, *args, **kwargs):
        meeting = services.close_meeting(request.user, self.get_object())
        return Response(self.get_serializer(meeting).data)


class MeetingScopedViewSet(viewsets.GenericViewSet):
    """Records of one meeting (/panel-meetings/{meeting_pk}/...), about people the user may see."""

    permission_classes = [IsAuthenticated, SeesPeople]
    lookup_value_converter = "int"

    def get_meeting(self):
        if not hasattr(self, "_meeting"):
            self._meeting = get_object_or_404(
                Meeting.objects.visible_to(self.request.user).select_related("panel__kind"),
                pk=self.kwargs["meeting_pk"],
            )
        return self._meeting

    def visible_people(self):
        return Offender.objects.visible_to(self.request.user)


class AgendaItemViewSet(ConflictMixin, LoggedRetrieveMixin, mixins.ListModelMixin, MeetingScopedViewSet):
    """The meeting's agenda, for the people the user may see; PATCH records the discussion and RAG decision."""

    serializer_class = AgendaItemSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return AgendaItem.objects.none()
        return (
            self.get_meeting().items.filter(offender__in=self.visible_people())
            .select_related("offender", "rag_change").prefetch_related("meeting_actions")
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        log_many(request.user, AccessLogEntry.Action.VIEW, [item.offender for item in page],
                 detail=f"API: agenda of {self.get_meeting().reference}")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(request=DiscussionSerializer, responses={200: AgendaItemSerializer, 409: RAG_CONFLICT})
    def partial_update(self, request, *args, **kwargs):
        item = self.get_object()
        services.ensure_meeting_editable(request.user, item.meeting)
        serializer = DiscussionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.record_discussion(request.user, item, **serializer.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=item.pk)).data)


class MeetingActionViewSet(mixins.ListModelMixin, MeetingScopedViewSet):
    """Actions set at the meeting, for the people the user may see; POST sets one for a member agency."""

    serializer_class = MeetingActionSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return MeetingAction.objects.none()
        return (
            self.get_meeting().meeting_actions.filter(action__offender__in=self.visible_people())
            .select_related("action__pathway", "action__owner_agency", "action__owner")
        )

    @extend_schema(request=MeetingActionRequestSerializer, responses={201: MeetingActionSerializer})
    def create(self, request, *args, **kwargs):
        meeting = self.get_meeting()
        services.ensure_meeting_editable(request.user, meeting)
        serializer = MeetingActionRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        item = meeting.items.filter(offender__in=self.visible_people(), pk=data.pop("agenda_item")).first()
        if item is None:
            raise serializers.ValidationError({"agenda_item": ["No such item on this meeting's agenda."]})
        link = services.add_meeting_action(request.user, item, **data)
        return Response(self.get_serializer(link).data, status=status.HTTP_201_CREATED)
