"""Staff accounts' credentials beyond the password: API tokens.

Two-factor devices (authenticator apps, backup codes) are django-otp's own models.
"""

from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken, AuthTokenManager
from knox.settings import CONSTANTS


class ApiTokenQuerySet(models.QuerySet):
    def current(self, now=None):
        return self.filter(expiry__gt=now or timezone.now())


class ApiToken(AbstractAuthToken):
    """A REST API token (django-rest-knox). Only the SHA-512 digest of the token is stored, with its first
    characters for lookup: the token itself is shown once, when it is issued, and cannot be read back.

    Every token expires (`expiry` is required here, unlike knox's own model); an expired token is
    refused and deleted the next time it is presented.
    """

    # A plain id to name a token in links and the API, rather than its digest.
    id = models.BigAutoField(primary_key=True)
    digest = models.CharField(max_length=CONSTANTS.DIGEST_LENGTH, unique=True)
    expiry = models.DateTimeField()
    name = models.CharField(max_length=100, blank=True, help_text="What the token is for, to tell tokens apart.")
    last_used_at = models.DateTimeField(null=True, blank=True)

    # knox's manager: create() returns (token record, token text).
    objects = AuthTokenManager.from_queryset(ApiTokenQuerySet)()

    class Meta:
        verbose_name = "API token"
        ordering = ["-created", "-id"]
        indexes = [models.Index(fields=["user", "expiry"])]

    def __str__(self):
        return self.name or f"API token {self.pk}"
