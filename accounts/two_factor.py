"""Two-factor sign-in: set up an authenticator app, then give its 6-digit code after every password.

Set-up also gives the user one-time backup codes, each accepted once instead of the app's code.
"""

import base64

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from web.widgets import GovukFormMixin

from . import services

DEVICE_NAME = "Authenticator app"


class SecurityCodeForm(GovukFormMixin, forms.Form):
    token = forms.CharField(
        label="Security code",
        help_text="The 6-digit code shown in your authenticator app",
        max_length=10,
        error_messages={"required": "Enter the 6-digit security code from your authenticator app"},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false",
                   "class": "govuk-input--width-5"}
        ),
    )

    def __init__(self, *args, device=None, **kwargs):
        self.device = device
        super().__init__(*args, **kwargs)

    def clean_token(self):
        token = "".join(self.cleaned_data["token"].split())
        if not (token.isdigit() and len(token) == 6):
            raise forms.ValidationError("Enter the security code as 6 digits")
        # verify_token is throttled by django-otp: repeated wrong codes are refused for longer and longer.
        if self.device is None or not self.device.verify_token(token):
            raise forms.ValidationError(
                "The security code is not right or has expired. Wait for a new code and try again."
            )
        return token


class BackupCodeForm(GovukFormMixin, forms.Form):
    code = forms.CharField(
        label="Backup code",
        help_text="One of the 8-character backup codes you saved when you set up your authenticator app",
        max_length=20,
        error_messages={"required": "Enter one of your backup codes"},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "spellcheck": "false",
                                      "autocapitalize": "none", "class": "govuk-input--width-10"}),
    )

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        self.device = None
        super().__init__(*args, **kwargs)

    def clean_code(self):
        code = self.cleaned_data["code"]
        if len(services.normalise_backup_code(code)) != 8:
            raise forms.ValidationError("Enter the backup code as 8 letters and numbers, for example abcd 2345")
        # Used up here, so a code is accepted once only; wrong codes are throttled like app codes.
        self.device = services.use_backup_code(self.user, code)
        if self.device is None:
            raise forms.ValidationError(
                "The backup code is not right or has been used already. Check it and try again."
            )
        return code


def readable_secret(device):
    """The key as the base32 text authenticator apps accept typed in, in groups of four."""
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def qr_code_svg(uri):
    """An inline SVG QR code (no image request, no inline style), for scanning into an app."""
    svg = segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#0b0c0c", light="#ffffff",
                                                title="QR code for your authenticator app")
    return mark_safe(svg)  # noqa: S308 - markup made by segno; the URI is encoded as QR modules, not text


def readable_codes(codes):
    """Backup codes in two groups of four characters, easier to copy down."""
    return [f"{code[:4]} {code[4:]}" for code in codes]


def current_code(device):
    """The code the device's app shows now (for the demo command and tests)."""
    from django_otp.oath import totp

    code = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    return f"{code:0{device.digits}d}"


def _next_url(request):
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()},
                                       require_https=request.is_secure()):
        return candidate
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _confirmed_device(user):
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


@login_required
@require_http_methods(["GET", "POST"])
def verify(request):
    """After the password: the current code from the user's authenticator app."""
    if request.user.is_verified():
        return redirect(_next_url(request))
    device = _confirmed_device(request.user)
    if device is None:
        return redirect(f"{resolve_url('two_factor_setup')}?{request.GET.urlencode()}")
    form = SecurityCodeForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        otp_login(request, device)
        return redirect(_next_url(request))
    return render(request, "two_factor/verify.html", {"form": form, "next": _next_url(request)})


@login_required
@require_http_methods(["GET", "POST"])
def backup_code(request):
    """Instead of the app's code: one of the user's one-time backup codes."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if _confirmed_device(user) is None:
        return redirect(f"{resolve_url('two_factor_setup')}?{request.GET.urlencode()}")
    form = BackupCodeForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        otp_login(request, form.device)
        left = form.device.token_set.count()
        advice = " Create a new set in Your account." if left <= 3 else ""
        messages.warning(request, f"You have {left} backup code{'s' if left != 1 else ''} left.{advice}")
        return redirect(_next_url(request))
    return render(request, "two_factor/backup_code.html", {"form": form, "next": _next_url(request)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def setup(request):
    """First sign-in: add the service to an authenticator app and prove it works with one code, then
    save the backup codes shown once on the response.

    Someone who already has an app set up must give its code first: a password
    alone must never be enough to add a second app to somebody's account.
    """
    user = request.user
    if _confirmed_device(user) is not None and not user.is_verified():
        return redirect(f"{resolve_url('two_factor_verify')}?{request.GET.urlencode()}")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    form = SecurityCodeForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        otp_login(request, device)
        codes = services.create_backup_codes(user)
        return render(request, "two_factor/backup_codes.html",
                      {"codes": readable_codes(codes), "continue_url": _next_url(request), "first_time": True})
    return render(
        request,
        "two_factor/setup.html",
        {
            "form": form,
            "next": _next_url(request),
            "secret": readable_secret(device),
            "otpauth_uri": device.config_url,
            "qr_code": qr_code_svg(device.config_url),
        },
    )
