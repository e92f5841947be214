"""What every app's REST API shares: errors, pagination, filters and the people-access permission.

Service functions raise Django's ValidationError and PermissionDenied; the API
answers them as 400 with field errors and 403, the same refusals the browser shows.
Every error body is an object with a `detail` message; a 400 also names each field
that was refused (`non_field_errors` for the request as a whole).

Query parameters are checked as strictly as the schema describes them: a page, a page
size, an id or a true/false that is not one is refused with 400, never ignored.
"""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, pagination, permissions, routers, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from web.pagination import CappedPaginator


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


INVALID_REQUEST = "The request was not valid: see the fields named."


def exception_handler(exc, context):
    """DRF's answers, with one body shape: `detail`, and for a 400 the refused fields beside it."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(service_error_detail(exc))
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        data = response.data
        if not isinstance(data, dict):
            data = {api_settings.NON_FIELD_ERRORS_KEY: data}
        response.data = {"detail": INVALID_REQUEST, **data}
    return response


def single_query_value(request, name):
    """The one value of a query parameter (None when absent); 400 when it is given more than once."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise exceptions.ValidationError({name: ["Give this parameter once."]})
    return values[0] if values else None


def query_values(request):
    """Each query parameter's one value (400 for one given twice), for a serializer of the query: an empty value is
    kept as given, so `?quarter=` is refused as no date rather than read, as a form would, as not given."""
    return {name: single_query_value(request, name) for name in request.query_params}


class QueryBooleanField(serializers.BooleanField):
    """A true/false query parameter of a serializer, read as the filters read one: `true` or `false` (`1`, `0`),
    not every word the REST framework takes for yes or no (`t`, `on`, `no` ...)."""

    TRUE_VALUES = {"true", "1"}
    FALSE_VALUES = {"false", "0"}
    NULL_VALUES = set()


def whole_number_in(request, name, *, minimum, maximum=None):
    value = single_query_value(request, name)
    if value is None:
        return None
    limit = f"from {minimum} to {maximum}" if maximum is not None else f"of {minimum} or more"
    message = f"Give a whole number {limit}."
    try:
        number = int(value)
    except ValueError:
        raise exceptions.ValidationError({name: [message]}) from None
    if number < minimum or (maximum is not None and number > maximum) or not value.strip().isdigit():
        raise exceptions.ValidationError({name: [message]})
    return number


class KeyRelatedField(serializers.SlugRelatedField):
    """A record named by its key (a pathway's `accommodation`): text PostgreSQL cannot hold, a NUL character,
    names no record and is refused as such, rather than failing the query."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data.replace("\x00", ""))
        return super().to_internal_value(data)


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

    def get_page_size(self, request):
        size = whole_number_in(request, self.page_size_query_param, minimum=1, maximum=self.max_page_size)
        return self.page_size if size is None else size

    def get_page_number(self, request, paginator):
        number = whole_number_in(request, self.page_query_param, minimum=1)
        return 1 if number is None else number

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "default": 1}
                parameter["description"] = "A page number; a page past the last is answered 404."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size,
                                       "default": self.page_size}
                parameter["description"] = "How many records a page holds."
        return parameters

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


def since_1900(value):
    """Times before 1900 are refused: they are mistakes here, and local time then had offsets in seconds."""
    if value.year < 1900:
        raise exceptions.ValidationError("Give a time in 1900 or later.")


class StrictIntegerField(forms.IntegerField):
    """A whole number that must be given when its parameter is: `?person=` is refused, not ignored."""

    def clean(self, value):
        if value is not None and not str(value).strip().lstrip("-").isdigit():
            raise DjangoValidationError("Give a whole number.")
        return super().clean(value)


class StrictBooleanField(forms.Field):
    """`true` or `false` (1 or 0); anything else is refused rather than read as no filter."""

    def to_python(self, value):
        if value is None:
            return None
        text = str(value).strip().lower()
        if text in {"true", "1"}:
            return True
        if text in {"false", "0"}:
            return False
        raise DjangoValidationError("Give true or false.")

    def validate(self, value):
        pass


@extend_schema_field({"type": "integer"})
class IdFilter(filters.Filter):
    """Records that refer to the record with this id; an id that names nothing matches nothing."""

    field_class = StrictIntegerField


class StrictCodeField(forms.CharField):
    """A code that must be given when its parameter is: `?kind=` is refused, not ignored."""

    def clean(self, value):
        if value == "":
            raise DjangoValidationError("Give a code.")
        return super().clean(value)


@extend_schema_field({"type": "string", "minLength": 1})
class CodeFilter(filters.CharFilter):
    """Records that refer to the record with this code (a panel type, say, whose key is a word, not a number);
    a code that names nothing matches nothing."""

    field_class = StrictCodeField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


@extend_schema_field({"type": "boolean"})
class StrictBooleanFilter(filters.BooleanFilter):
    """A true/false filter that refuses other values: the REST framework's own widget reads any value it does
    not know as "no filter", so the raw text is passed to the field instead."""

    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


def accepts_empty(declared):
    """Whether a filter's parameter may be given empty: free text (an empty search matches all) and a
    comma-separated list (`?sort=` is the empty list) may; a choice, date, number, true/false or code may not."""
    if isinstance(declared, filters.BaseCSVFilter):
        return True
    return isinstance(declared, filters.CharFilter) and not isinstance(declared, CodeFilter)


class ApiFilterSet(filters.FilterSet):
    """Filters of the API: references by id and strict true/false, and each parameter given at most once."""

    FILTER_DEFAULTS = {
        **filters.FilterSet.FILTER_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.BooleanField: {"filter_class": StrictBooleanFilter},
    }

    @classmethod
    def filter_for_lookup(cls, field, lookup_type):
        """A reference to a record whose key is a code, not a number, is filtered by that code."""
        filter_class, params = super().filter_for_lookup(field, lookup_type)
        if filter_class is IdFilter and not isinstance(field.target_field, models.IntegerField):
            return CodeFilter, params
        return filter_class, params

    def is_valid(self):
        valid = super().is_valid()
        if not hasattr(self.data, "getlist"):
            return valid
        for name, declared in self.filters.items():
            values = self.data.getlist(name)
            field = name if name in self.form.fields else None
            if not isinstance(declared, (filters.MultipleChoiceFilter, filters.BaseCSVFilter)) and len(values) > 1:
                self.form.add_error(field, "Give this parameter once.")
                valid = False
            elif "" in values and not accepts_empty(declared) and (field is None or field not in self.form.errors):
                # django-filter reads `?status=` as no filter; a choice, date, number or code it is not.
                self.form.add_error(field, "Give a value, or leave this parameter out.")
                valid = False
        return valid


class FilterBackend(filters.DjangoFilterBackend):
    filterset_base = ApiFilterSet


class SeesPeople(permissions.BasePermission):
    """Analysts see aggregate figures only: every endpoint about people refuses them."""

    message = "Your role gives access to aggregate figures only."

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.sees_people)


class ApiRouter(routers.SimpleRouter):
    """Each app's API routes: typed path converters, and no .json suffix twins of every route.

    The project's API URL conf includes every app's routes and lists them at its root.
    """

    include_format_suffixes = False

    def __init__(self):
        super().__init__(use_regex_path=False)
