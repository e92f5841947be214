"""Changes to staff accounts' credentials. Each is one transaction and is written to the access log."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import formats, timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.audit import log_access
from cases.models import AccessLogEntry, Role, User

from .models import ApiToken

Action = AccessLogEntry.Action


def issue_api_token(user, *, name=""):
    """A new API token for the user: returns (the token's record, the token itself).

    The token is not stored, only its hash, so the caller shows it once. It expires after
    REST_KNOX["TOKEN_TTL"]. Refused once the user holds API_TOKEN_LIMIT current tokens.
    """
    name = name.strip()
    with transaction.atomic():
        # Serialises issues for one user, so two at once cannot both pass the limit.
        User.objects.select_for_update().filter(pk=user.pk).first()
        if ApiToken.objects.filter(user=user).current().count() >= settings.API_TOKEN_LIMIT:
            raise ValidationError(
                f"You already have {settings.API_TOKEN_LIMIT} API tokens. Withdraw one you no longer use first."
            )
        record, token = ApiToken.objects.create(user=user, name=name)
        expires = formats.date_format(timezone.localtime(record.expiry), "j F Y")
        purpose = f" ({name})" if name else ""
        log_access(user, Action.CREATE, record, detail=f"API token issued{purpose}, expires {expires}")
    return record, token


def withdraw_api_tokens(user, tokens):
    """Withdraw (delete) those of `tokens` that belong to the user; returns how many were withdrawn.

    Nobody can withdraw another person's token through this: the tokens are narrowed to the user's own.
    """
    with transaction.atomic():
        ids = list(tokens.filter(user=user).values_list("pk", flat=True))
        if not ids:
            return 0
        ApiToken.objects.filter(pk__in=ids).delete()
        detail = "API token withdrawn" if len(ids) == 1 else f"{len(ids)} API tokens withdrawn"
        log_access(user, Action.DELETE, object_type=ApiToken._meta.label_lower,
                   object_id=str(ids[0]) if len(ids) == 1 else "", detail=detail)
    return len(ids)


# --- two-factor authentication: backup codes and an administrator's reset ------------------------

BACKUP_CODE_COUNT = 10
BACKUP_DEVICE_NAME = "Backup codes"


def normalise_backup_code(text):
    """Codes are shown in two groups of four letters and digits; spaces, hyphens and case do not matter."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def create_backup_codes(user):
    """A new set of one-time backup codes for the user, replacing any earlier set: returns the codes.

    The caller shows them once. Each code signs in once, at the security code step, instead of a
    code from the authenticator app.
    """
    with transaction.atomic():
        StaticDevice.objects.filter(user=user).delete()
        device = StaticDevice.objects.create(user=user, name=BACKUP_DEVICE_NAME, confirmed=True)
        codes = set()
        while len(codes) < BACKUP_CODE_COUNT:
            codes.add(StaticToken.random_token())
        StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
        log_access(user, Action.CREATE, device,
                   detail=f"{BACKUP_CODE_COUNT} new backup codes created; any earlier codes no longer work")
    return sorted(codes)


def backup_codes_left(user):
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def use_backup_code(user, code):
    """The user's backup-code device if `code` is one of their unused codes, which is then used up; else None.

    The device row is locked while the code is checked and deleted, so one code cannot sign in twice
    even at the same moment. Wrong codes are throttled by django-otp like wrong app codes.
    """
    code = normalise_backup_code(code)
    with transaction.atomic():
        device = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
        if device is None or not code or not device.verify_token(code):
            return None
        left = device.token_set.count()
        log_access(user, Action.CHANGE, device, detail=f"Signed in with a backup code; {left} left")
    return device


def staff_resettable_by(admin):
    """Whose two-factor authentication the admin may reset: a superuser, anyone else's; an agency
    administrator, that of the other staff of their own agency, but never a superuser's."""
    if not admin.is_active:
        return User.objects.none()
    staff = User.objects.exclude(pk=admin.pk)
    if admin.is_superuser:
        return staff
    if admin.role != Role.AGENCY_ADMIN or admin.agency_id is None:
        return User.objects.none()
    return staff.filter(agency_id=admin.agency_id, is_superuser=False)


def reset_two_factor(admin, *, user, reason):
    """Remove the user's authenticator app and backup codes, so they must set up a new app at their next
    sign-in; a session they have open stops counting as signed in with two factors at its next request.

    Refused (PermissionDenied) outside `staff_resettable_by`. Their API tokens are not touched.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": "Enter why two-factor authentication is being reset"})
    if not staff_resettable_by(admin).filter(pk=user.pk).exists():
        raise PermissionDenied("You cannot reset this person's two-factor authentication.")
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        log_access(admin, Action.CHANGE, user,
                   detail=f"Two-factor authentication reset for {user.username}: {reason}")
