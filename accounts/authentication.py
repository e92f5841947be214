"""API token authentication: django-rest-knox's hashed tokens, noting when each token was last used."""

import datetime

from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication

from .models import ApiToken


class ApiTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <token>`. Expired tokens are refused (and deleted by knox); an inactive user is
    refused. The token's `last_used_at` is written at most once a minute, so a busy client costs no write
    per request."""

    LAST_USED_RESOLUTION = datetime.timedelta(minutes=1)

    def validate_user(self, auth_token):
        user, token = super().validate_user(auth_token)
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= self.LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
        return user, token


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI schema describes the token header."""

    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        scheme = build_bearer_security_scheme_object(
            header_name="Authorization", token_prefix=self.target.authenticate_header(None)
        )
        scheme["description"] = (
            "`Authorization: Token <token>`. Issue a token at /api/v1/token/ from a session signed in with the "
            "security code, or on the API tokens page; tokens expire and can be withdrawn."
        )
        return scheme
