"""The OpenAPI schema of the API: every operation documents each error it can answer, in one shape.

Errors are described once, as components (`Error`, `ValidationError`), and each operation
lists the codes it can give: 401 without credentials, 403 when the role or agency may not,
404 for a record that is not there or not visible (and for a page past the last), 400 when
its parameters or body are refused, 415 when a body comes in a media type it does not read,
409 where a change can meet someone else's, 503 where a worker must be reachable. An
operation's own description of a code (a 409's current record, say) is kept.
"""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular.openapi import AutoSchema
from rest_framework import permissions, serializers

ERROR = {"$ref": "#/components/schemas/Error"}
VALIDATION_ERROR = {"$ref": "#/components/schemas/ValidationError"}

COMPONENTS = {
    "Error": {
        "type": "object",
        "description": "Every error answer: a message to show. Some carry more (a 400 the fields, a 409 the record).",
        "properties": {"detail": {"type": "string", "description": "What went wrong, in words to show a user."}},
        "required": ["detail"],
    },
    "ValidationError": {
        "type": "object",
        "description": "A refused request: `detail`, and each refused field (a query parameter or a field of the "
        "body) with its messages; `non_field_errors` for the request as a whole. A field inside a list or "
        "an object is reported inside it, by position or name.",
        "properties": {
            "detail": {"type": "string"},
            "non_field_errors": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["detail"],
        "additionalProperties": {
            "oneOf": [{"type": "array", "items": {}}, {"type": "object"}],
            "description": "The messages about one field.",
        },
    },
}

DESCRIPTIONS = {
    "400": "Refused: a parameter or a field of the body is not valid, or a rule of the record was broken. "
    "Nothing was saved.",
    "401": "No valid credentials: send `Authorization: Token <key>` with a current token.",
    "403": "Your role or agency may not do this.",
    "404": "Not found, or not visible to your agency; for a list, a page past the last.",
    "409": "Someone else changed the record since you read it, or its state does not allow this now. "
    "Nothing was saved.",
    "415": "The body is not in a media type this operation reads: send JSON (`Content-Type: application/json`), "
    "or a form where the operation says so.",
    "503": "A service the request needs (the task queue) cannot be reached: try again later.",
}


def _error_response(code):
    schema = VALIDATION_ERROR if code == "400" else ERROR
    return {"description": DESCRIPTIONS[code], "content": {"application/json": {"schema": schema}}}


def _nullable_source(field):
    model = getattr(getattr(field.parent, "Meta", None), "model", None)
    if model is None or "." in field.source:
        return False
    try:
        return model._meta.get_field(field.source).null
    except FieldDoesNotExist:
        return False


class ApiAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error answers each operation can give."""

    # Views may add codes of their own: {"post": ["409"]}, by lower-case method name or "*".
    def error_codes(self):
        codes = ["401"]
        view = self.view
        safe = self.method in permissions.SAFE_METHODS
        checks_more_than_sign_in = any(
            type(permission) is not permissions.IsAuthenticated for permission in view.get_permissions()
        )
        if not safe or checks_more_than_sign_in:
            codes.append("403")
        paged = self._is_list_view() and self._get_paginator() is not None
        if "{" in self.path or paged:
            codes.append("404")
        if self.method in {"POST", "PUT", "PATCH"} or self._has_query_parameters():
            codes.append("400")
        if self._takes_a_body():
            codes.append("415")
        extra = getattr(view, "schema_error_codes", {})
        codes += extra.get(self.method.lower(), []) + extra.get("*", [])
        return codes

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        """As drf-spectacular, and a record named in words is null where the reference may be empty."""
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.StringRelatedField) and _nullable_source(field):
            schema["nullable"] = True
        return schema

    def _takes_a_body(self):
        return self.method in {"POST", "PUT", "PATCH"} and self._get_request_body() is not None

    def _has_query_parameters(self):
        return any(parameter.get("in") == "query" for parameter in self._get_parameters())

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        for code in self.error_codes():
            if code not in responses:
                responses[code] = _error_response(code)
            else:
                responses[code].setdefault("description", DESCRIPTIONS[code])
                if not responses[code]["description"]:
                    responses[code]["description"] = DESCRIPTIONS[code]
                if "content" not in responses[code]:
                    responses[code]["content"] = _error_response(code)["content"]
        return dict(sorted(responses.items()))


API_DESCRIPTION = """\
People, cohorts, RAG history, appointments, pathways, panels, feeds and measures of the partnership, as
your agency may see them under the information sharing agreement.

**Authentication.** Send `Authorization: Token <key>`. A token is issued at `/api/v1/token/` to a browser
session signed in with its security code, expires, and can be withdrawn. Without a current token every
operation answers 401.

**Bodies** are JSON (`Content-Type: application/json`); a body in another media type is answered 415.

**Errors.** Every error is a JSON object with a `detail` message. A 400 also names each refused field or
query parameter (`ValidationError`); a 409 carries the record as it is now and what differs from what you
sent. A person your agency may not see is answered 404, exactly as a person who does not exist.

**Lists.** Lists are paged: `page` (from 1) and `page_size` (1 to 200, default 50). `count` stops at
10,000: `count_is_capped` is true when more records match, and only the pages within the cap are
offered; narrow the query to see the rest. To read a whole list, ask the people list for cursor pages
(`pagination=cursor`) and follow `next` to the end: pages in id order without a count, each costing the
same however far you read, and nobody read twice as records change. A cursor the API did not give is
refused with 400. Query parameters are checked as strictly as they are
described here: an id that names nothing matches nothing, a value that is not of the parameter's
type is refused with 400.

**Versions.** This is version 1, at `/api/v1/`. Within it, changes only add: new operations, new
optional parameters and fields, new values of enums that are documented as open, new error messages.
Removing or renaming anything, or making an optional input required, needs `/api/v2/`. An operation to
be withdrawn is marked deprecated here and answers with `Deprecation` and `Sunset` headers
(RFC 9745, RFC 8594) for at least six months before it goes.

**Events.** Rather than poll, a partner system can subscribe to signed webhooks: see the README."""


def add_error_components(result, generator, request, public):
    """Postprocessing hook: the shared error bodies, and the description of the contract."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(COMPONENTS)
    result["info"]["description"] = API_DESCRIPTION
    return result
