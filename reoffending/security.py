"""Sign-in hardening that applies to every page: a second factor after the password, an idle timeout."""

import time

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice


def has_confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


class RequireTwoFactorMiddleware:
    """A signed-in user who has not yet given a code from their authenticator app reaches nothing else.

    They are sent to the code page (or, before they have an app set up, to the
    set-up page), with the page they asked for kept as `next`. The Django admin
    is covered too. API calls get a 403 rather than a redirect.
    Must come after django_otp.middleware.OTPMiddleware, which sets `user.is_verified`.
    """

    # Reachable while signed in but not yet verified.
    EXEMPT_URL_NAMES = ("two_factor_verify", "two_factor_backup_code", "two_factor_setup", "logout", "login")

    def __init__(self, get_response):
        self.get_response = get_response
        self._exempt_paths = None

    def exempt_paths(self):
        if self._exempt_paths is None:
            self._exempt_paths = frozenset(reverse(name) for name in self.EXEMPT_URL_NAMES)
        return self._exempt_paths

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not self._verified(user):
            path = request.path_info
            if path not in self.exempt_paths() and not path.startswith(settings.STATIC_URL):
                if path.startswith("/api/"):
                    return JsonResponse(
                        {"detail": "Two-factor authentication is required: sign in through the website first."},
                        status=403,
                    )
                target = "two_factor_verify" if has_confirmed_device(user) else "two_factor_setup"
                return redirect_to_login(request.get_full_path(), reverse(target))
        return self.get_response(request)

    @staticmethod
    def _verified(user):
        is_verified = getattr(user, "is_verified", None)
        return bool(is_verified and is_verified())


def lockout_response(request, original_response=None, credentials=None):
    """What django-axes shows once an account is locked: why, for how long, and who to ask."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "registration/locked_out.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "cooloff_minutes": minutes},
        status=429,
    )


def admin_site_has_permission(request):
    """The Django admin bypasses the sharing agreement, so only system administrators may use it."""
    return request.user.is_active and request.user.is_superuser


class IdleTimeoutMiddleware:
    """Keeps a signed-in session alive while it is used, writing it at most once a minute.

    The session expires SESSION_COOKIE_AGE after it was last written. Writing it on every
    request (SESSION_SAVE_EVERY_REQUEST) costs an UPDATE per page view; refreshing only
    when the last write is a minute old gives the same idle timeout to within that minute.
    Must come after SessionMiddleware.
    """

    REFRESH_AFTER_SECONDS = 60
    SESSION_KEY = "_activity_refreshed_at"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None and session.session_key:
            now = int(time.time())
            if now - session.get(self.SESSION_KEY, 0) >= self.REFRESH_AFTER_SECONDS:
                session[self.SESSION_KEY] = now
        return self.get_response(request)
