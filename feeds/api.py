"""Feeds through the REST API: send a file, read its run, apply a checked run. Same rules as the browser."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from web.api import SeesPeople

from . import runs
from .catalogue import FEEDS
from .models import ImportRun
from .reading import FeedFile, FileRejected


class RunSerializer(serializers.ModelSerializer):
    summary = serializers.CharField(source="summary_line", read_only=True)

    class Meta:
        model = ImportRun
        fields = [
            "id", "kind", "filename", "channel", "status", "rows_total", "rows_done", "created", "updated",
            "unchanged", "rejected", "possible_matches", "summary", "error", "report", "created_at", "finished_at",
        ]
        read_only_fields = fields


class SendSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=list(FEEDS))
    file = serializers.FileField()
    apply = serializers.BooleanField(
        default=False, help_text="Apply straight away when no row is rejected; otherwise only check (the default).")


class FeedRunViewSet(viewsets.ReadOnlyModelViewSet):
    """Import runs: POST a file (multipart: kind, file, apply) to check it, or check and apply it.

    Small files are answered straight away (200 with the run); larger ones go to a
    worker (202, poll the run). A file in which every row is already up to date is
    finished as `up_to_date`: there is nothing to apply. A run is visible to whoever
    sent it and to their agency's administrators.
    """

    serializer_class = RunSerializer
    permission_classes = [IsAuthenticated, SeesPeople]
    lookup_value_converter = "int"
    parser_classes = [parsers.MultiPartParser, parsers.FormParser]
    schema_error_codes = {"post": ["503"]}

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ImportRun.objects.none()
        return ImportRun.objects.visible_to(self.request.user)

    @extend_schema(request=SendSerializer, responses={200: RunSerializer, 202: RunSerializer})
    def create(self, request, *args, **kwargs):
        user = request.user
        if not (user.is_superuser or user.does_casework) or not user.agency_id:
            raise PermissionDenied("Your role cannot import files.")
        data = SendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        uploaded = data.validated_data["file"]
        try:
            run = runs.start_run(user, data.validated_data["kind"], FeedFile(uploaded.name, fileobj=uploaded),
                                 channel=ImportRun.Channel.API)
            run = runs.check_or_queue(run)
            if data.validated_data["apply"] and run.status == ImportRun.Status.CHECKED:
                run = runs.apply_or_queue(run)
        except FileRejected as error:
            raise serializers.ValidationError({"file": [str(error)]}) from error
        except runs.RunRefused as refusal:
            return Response({"detail": str(refusal)}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        code = status.HTTP_202_ACCEPTED if run.status == ImportRun.Status.QUEUED else status.HTTP_200_OK
        return Response(self.get_serializer(run).data, status=code)

    @extend_schema(request=None, responses={
        200: RunSerializer, 202: RunSerializer,
        409: OpenApiResponse(description="The run is not checked, is a dry run, has nothing to change, or has been "
                                         "applied or abandoned already."),
    })
    @action(detail=True, methods=["post"])
    def apply(self, request, pk=None):
        run = get_object_or_404(self.get_queryset(), pk=pk)
        if run.user_id != request.user.pk:
            raise PermissionDenied("Only the person who checked the file can import it.")
        try:
            run = runs.apply_or_queue(run)
        except runs.RunRefused as refusal:
            code = status.HTTP_503_SERVICE_UNAVAILABLE if refusal.unavailable else status.HTTP_409_CONFLICT
            return Response({"detail": str(refusal)}, status=code)
        code = status.HTTP_202_ACCEPTED if run.status == ImportRun.Status.QUEUED else status.HTTP_200_OK
        return Response(self.get_serializer(run).data, status=code)
