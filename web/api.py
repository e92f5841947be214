"""What every app's REST API shares: errors, pagination, filters and the people-access permission.

Service functions raise Django's ValidationError and PermissionDenied; the API
answers them as 400 with field errors and 403, the same refusals the browser shows.
Every error body is an object with a `detail` message; a 400 also names each field
that was refused (`non_field_errors` for the request as a whole).

Query parameters are checked as strictly as the schema describes them: a page, a page
size, an id or a true/false that is not one is refused with 400, never ignored.
"""

from django import forms
from django.core import signing
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field
from rest_framework import exceptions, pagination, permissions, routers, serializers
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.utils.urls import replace_query_param
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


class CursorPagination(pagination.CursorPagination):
    """Pages that follow on from a cursor, in id order and without a count.

    For a client that reads a whole list: each page is read from the last id of the one before
    through the primary key's index, so page 400 costs what page 1 does, and records added or
    removed while the client reads do not shift the pages it has still to read (nobody is read
    twice, nor skipped while they stay visible), as they would shift numbered pages. Cursors are
    signed: one that the API did not give is refused with 400, so a client cannot skip ahead by
    offsets it makes up.
    """

    ordering = ("id",)
    page_size = PagePagination.page_size
    page_size_query_param = PagePagination.page_size_query_param
    max_page_size = PagePagination.max_page_size
    # Query parameters a cursor page cannot honour: it is neither numbered nor sorted other than by id.
    refused_parameters = {"page": "Cursor pages are not numbered: follow `next`, or leave out `cursor` and "
                          "`pagination=cursor` to page by number.",
                          "sort": "Cursor pages are in id order: leave out `sort`, or page by number."}
    invalid_cursor = "Not a cursor this API gave: follow `next` or `previous` as given, or start again with " \
        "`pagination=cursor`."
    signer = signing.Signer(salt="web.api.CursorPagination")

    def paginate_queryset(self, queryset, request, view=None):
        for name, reason in self.refused_parameters.items():
            if request.query_params.get(name):
                raise exceptions.ValidationError({name: [reason]})
        return super().paginate_queryset(queryset, request, view)

    def get_page_size(self, request):
        return PagePagination.get_page_size(self, request)

    def encode_cursor(self, cursor):
        tokens = {"o": cursor.offset, "r": int(cursor.reverse), "p": cursor.position}
        return replace_query_param(self.base_url, self.cursor_query_param, self.signer.sign_object(tokens))

    def decode_cursor(self, request):
        encoded = single_query_value(request, self.cursor_query_param)
        if encoded is None:
            return None
        try:
            tokens = self.signer.unsign_object(encoded)
            offset, reverse, position = tokens["o"], tokens["r"], tokens["p"]
        except (signing.BadSignature, ValueError, TypeError, KeyError):
            raise exceptions.ValidationError({self.cursor_query_param: [self.invalid_cursor]}) from None
        return pagination.Cursor(offset=offset, reverse=bool(reverse), position=position)


class PageOrCursorPagination(pagination.BasePagination):
    """Numbered pages, as every list has; or cursor pages for a client that asks with `pagination=cursor`
    (or sends a `cursor`), for reading a whole list at the same cost per page however far it goes."""

    choice_query_param = "pagination"
    choices = ("page", "cursor")

    def __init__(self):
        self.by_number = PagePagination()
        self.by_cursor = CursorPagination()
        self.chosen = self.by_number

    def paginate_queryset(self, queryset, request, view=None):
        choice = single_query_value(request, self.choice_query_param)
        if choice is not None and choice not in self.choices:
            raise exceptions.ValidationError({self.choice_query_param: ["Give page or cursor."]})
        has_cursor = request.query_params.get(self.by_cursor.cursor_query_param) is not None
        if choice == "page" and has_cursor:
            raise exceptions.ValidationError({self.by_cursor.cursor_query_param: [
                "A cursor is for cursor pages: leave out `pagination=page`."]})
        self.chosen = self.by_cursor if choice == "cursor" or has_cursor else self.by_number
        return self.chosen.paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        return self.chosen.get_paginated_response(data)

    def get_schema_operation_parameters(self, view):
        cursor = self.by_cursor.cursor_query_param
        return [
            *self.by_number.get_schema_operation_parameters(view),
            {
                "name": self.choice_query_param, "required": False, "in": "query",
                "description": "`page` (the default): numbered pages with a count. `cursor`: pages in id order "
                "that follow on from a cursor, without a count; the same cost per page however far a client "
                "reads, and nobody is read twice, nor skipped while they stay visible, as records change. Follow "
                f"`next` (which carries `{cursor}`) to the end. Cursor pages cannot be numbered (`page`) or sorted "
                "(`sort`).",
                "schema": {"type": "string", "enum": list(self.choices), "default": "page"},
            },
            {
                "name": cursor, "required": False, "in": "query",
                "description": "Where a cursor page starts: copy it from `next` or `previous`; it implies "
                "`pagination=cursor`. A cursor the API did not give is refused with 400.",
                "schema": {"type": "string"},
            },
        ]

    def get_paginated_response_schema(self, schema):
        """One shape for both: `count` and `count_is_capped` come with numbered pages only."""
        numbered = self.by_number.get_paginated_response_schema(schema)
        numbered["required"] = ["results"]
        for name in ("count", "count_is_capped"):
            numbered["properties"][name]["description"] = (
                numbered["properties"][name].get("description", "How many records match.")
                + " Numbered pages only: absent from cursor pages.")
        return numbered


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
