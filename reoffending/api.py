"""What every app's REST API shares: errors, pagination and the people-access permission.

Service functions raise Django's ValidationError and PermissionDenied; the API
answers them as 400 with field errors and 403, the same refusals the browser shows.
"""

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, pagination, permissions
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from reoffending.pagination import CappedPaginator


def service_error_detail(error):
    """A Django ValidationError as DRF field errors, with non-field errors under DRF's usual key."""
    if hasattr(error, "error_dict"):
        return {
            (api_settings.NON_FIELD_ERRORS_KEY if field == NON_FIELD_ERRORS else field): [
                message for item in errors for message in item.messages
            ]
            for field, errors in error.error_dict.items()
        }
    return {api_settings.NON_FIELD_ERRORS_KEY: error.messages}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(service_error_detail(exc))
    return drf_exception_handler(exc, context)


class PagePagination(pagination.PageNumberPagination):
    """Numbered pages whose count stops at 10,000 rows (`count_is_capped` says when it did).

    Counting every record an agency may see would evaluate the sharing rules over the
    whole partnership on each call; a client that needs more narrows the query.
    """

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    count_cap = 10_000

    def django_paginator_class(self, object_list, per_page):
        return CappedPaginator(object_list, per_page, cap=self.count_cap)

    def get_paginated_response(self, data):
        return Response({
            "count": self.page.paginator.count,
            "count_is_capped": self.page.paginator.more_than_cap,
            "next": self.get_next_link(),
            "previous": self.get_previous_link(),
            "results": data,
        })

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_is_capped"] = {
            "type": "boolean",
            "description": f"True when more than {self.count_cap:,} records match: `count` stops there.",
        }
        return schema


class SeesPeople(permissions.BasePermission):
    """Analysts see aggregate figures only: every endpoint about people refuses them."""

    message = "Your role gives access to aggregate figures only."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.sees_people)
