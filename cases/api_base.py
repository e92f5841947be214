"""What every app's API about people builds on: records of one person, logged reads, versioned changes.

Reads of a record about a person are written to the access log. A change to a record that carries a
version names the version last read; a change made from a record someone else has saved since is
answered `409 Conflict` with one body everywhere: `detail`, the current `version` (null when the
check was on a status rather than a version), what `changed` between the request and the record
(`{field: {current, yours}}`) and the `current` record.
"""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from web.api import SeesPeople

from .access import person_or_404
from .audit import log_access
from .locking import ConcurrentEditError
from .models import AccessLogEntry
from .services import ensure_casework_allowed


def conflict_schema(name, current):
    """The 409 body, for the OpenAPI schema; `current` describes the record as the endpoint shows it."""
    return inline_serializer(f"{name}Conflict", {
        "detail": serializers.CharField(),
        "version": serializers.IntegerField(allow_null=True, help_text="The current version of the record."),
        "changed": serializers.DictField(
            help_text="Each field you sent whose current value differs from yours: {field: {current, yours}}."
        ),
        "current": current,
    })


RAG_CONFLICT = conflict_schema("RagStatus", inline_serializer("CurrentRagStatus", {
    "rag_status": serializers.CharField(help_text="The person's RAG status now."),
}))


class ConflictMixin:
    """Answers a stale change (`cases.locking.ConcurrentEditError`) with 409 Conflict.

    A view that validated what was sent keeps it in `self.submitted`, so the body can say which of
    those fields someone else changed.
    """

    submitted = None

    def handle_exception(self, exc):
        if isinstance(exc, ConcurrentEditError):
            return self.conflict_response(exc)
        return super().handle_exception(exc)

    def conflict_response(self, error):
        if error.field == "version":
            current = self.get_serializer(error.current).data
            fields = self.get_serializer().fields
            changed = {}
            for name, value in (self.submitted or {}).items():
                yours = fields[name].to_representation(value) if value is not None else None
                if yours != current.get(name):
                    changed[name] = {"current": current.get(name), "yours": yours}
            version = error.current.version
        else:
            current = {error.field: error.current_value}
            changed = {error.field: {"current": error.current_value, "yours": error.expected}}
            version = None
        return Response(
            {
                "detail": f"{error.summary} after you read it. Nothing was saved: read it again and repeat your "
                "change.",
                "version": version,
                "changed": changed,
                "current": current,
            },
            status=status.HTTP_409_CONFLICT,
        )


class LoggedRetrieveMixin:
    """GET of one record about a person, logged as a consultation of their data."""

    def retrieve(self, request, *args, **kwargs):
        record = self.get_object()
        log_access(request.user, AccessLogEntry.Action.VIEW, record, offender=getattr(record, "offender_id", None),
                   detail="API")
        return Response(self.get_serializer(record).data)


class VersionedUpdateMixin(ConflictMixin):
    """PUT and PATCH of a record that carries a version.

    403 before the input is read unless `may_update(user, record)`, 400 without the version last
    read, 409 when it is stale; otherwise `change(user, record, expected_version=..., **data)`.
    The input is `update_serializer_class`, or the endpoint's own serializer bound to the record.
    """

    update_serializer_class = None
    update_refusal = "You cannot change this record."

    def may_update(self, user, record):
        raise NotImplementedError

    def change(self, user, record, *, expected_version, **data):
        raise NotImplementedError

    def update(self, request, *args, partial=False, **kwargs):
        record = self.get_object()
        if not self.may_update(request.user, record):
            raise PermissionDenied(self.update_refusal)
        if self.update_serializer_class is not None:
            serializer = self.update_serializer_class(data=request.data, context=self.get_serializer_context())
        else:
            serializer = self.get_serializer(record, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        expected_version = data.pop("version", None)
        if expected_version is None:
            raise serializers.ValidationError({"version": ["Give the version of the record you last read."]})
        self.submitted = data
        record = self.change(request.user, record, expected_version=expected_version, **data)
        return Response(self.get_serializer(record).data)

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


class PersonScopedViewSet(ConflictMixin, LoggedRetrieveMixin, viewsets.GenericViewSet):
    """Records that belong to one person: /people/{person_pk}/...; 404 when the person is not visible.

    Listing them is logged once, as a view of the person's `logged_as`. POST validates the input
    (`create_serializer_class`, or the endpoint's serializer) after the 404 and 403 checks and
    calls `create_service(user, person, **data)` (a staticmethod).
    """

    permission_classes = [IsAuthenticated, SeesPeople]
    lookup_value_converter = "int"
    logged_as = ""
    create_service = None
    create_serializer_class = None

    def get_person(self):
        if not hasattr(self, "_person"):
            self._person = person_or_404(self.request.user, self.kwargs["person_pk"])
        return self._person

    def records(self, person):
        raise NotImplementedError

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.serializer_class.Meta.model.objects.none()
        return self.records(self.get_person())

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if "person_pk" in self.kwargs and not getattr(self, "swagger_fake_view", False):
            context["person"] = self.get_person()
        return context

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        log_access(request.user, AccessLogEntry.Action.VIEW, self.get_person(), detail=f"API: {self.logged_as}")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def validated(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def casework_person(self):
        """The person, for a change: 404 when unseen, 403 (before any input is read) when the role may not."""
        person = self.get_person()
        ensure_casework_allowed(self.request.user, person)
        return person

    def create(self, request, *args, **kwargs):
        person = self.casework_person()
        data = self.validated(self.create_serializer_class or self.get_serializer_class())
        record = self.create_service(request.user, person, **data)
        return Response(self.get_serializer(record).data, status=status.HTTP_201_CREATED)

    def change_record(self, serializer_class, service):
        """A change to one of the person's records: 404, 403 and 400 as for any change, then `service(user, record,
        **data)`; answers with the record."""
        self.casework_person()
        record = self.get_object()
        record = service(self.request.user, record, **self.validated(serializer_class))
        return Response(self.get_serializer(record).data)
