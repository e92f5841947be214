"""Your account (backup codes, API tokens) and, for administrators, resetting a colleague's two-factor
authentication."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cases.models import Role

from . import services
from .forms import IssueTokenForm, ResetTwoFactorForm, StaffSearchForm
from .models import ApiToken
from .two_factor import readable_codes

STAFF_PER_PAGE = 50


@login_required
def index(request):
    return render(request, "accounts/index.html", {
        "token_count": ApiToken.objects.filter(user=request.user).current().count(),
        "backup_codes_left": services.backup_codes_left(request.user),
        "manages_staff": manages_staff(request.user),
    })


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def backup_codes(request):
    """Create a new set of backup codes (the earlier set stops working), shown once on the POST's response."""
    if request.method == "POST":
        codes = services.create_backup_codes(request.user)
        return render(request, "two_factor/backup_codes.html", {
            "codes": readable_codes(codes), "continue_url": reverse("accounts:index"), "first_time": False,
        })
    return render(request, "accounts/backup_codes.html", {"left": services.backup_codes_left(request.user)})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The user's current API tokens, and a form to issue one. A new token is shown on the response to the
    POST itself (never stored, never cached), so reloading the list cannot show it again."""
    form = IssueTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            record, token = services.issue_api_token(request.user, name=form.cleaned_data["name"])
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return render(request, "accounts/api_token_issued.html", {"record": record, "token": token})
    tokens = ApiToken.objects.filter(user=request.user).current()
    return render(request, "accounts/api_tokens.html", {
        "form": form, "tokens": tokens, "ttl_days": settings.REST_KNOX["TOKEN_TTL"].days,
    })


@login_required
@require_http_methods(["GET", "POST"])
def withdraw_api_token(request, pk):
    token = get_object_or_404(ApiToken.objects.filter(user=request.user).current(), pk=pk)
    if request.method == "POST":
        services.withdraw_api_tokens(request.user, ApiToken.objects.filter(pk=token.pk))
        messages.success(request, "The API token has been withdrawn. Systems using it can no longer sign in with it.")
        return redirect("accounts:api_tokens")
    return render(request, "accounts/withdraw_api_tokens.html", {"token": token})


@login_required
@require_http_methods(["GET", "POST"])
def withdraw_all_api_tokens(request):
    tokens = ApiToken.objects.filter(user=request.user).current()
    if request.method == "POST":
        count = services.withdraw_api_tokens(request.user, tokens)
        messages.success(request, f"{count} API token{'s have' if count != 1 else ' has'} been withdrawn.")
        return redirect("accounts:api_tokens")
    return render(request, "accounts/withdraw_api_tokens.html", {"count": tokens.count()})


# --- administrators: staff and their two-factor authentication -----------------------------------


def manages_staff(user):
    return user.is_active and (user.is_superuser or (user.role == Role.AGENCY_ADMIN and user.agency_id is not None))


def staff_in_reach(user):
    if not manages_staff(user):
        raise PermissionDenied("Only agency administrators can manage staff.")
    return services.staff_resettable_by(user)


@login_required
def staff(request):
    """Staff of the administrator's agency (everyone, for superusers), with their two-factor set-up."""
    people = staff_in_reach(request.user).select_related("agency").annotate(
        has_app=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)),
        # A subquery, not a join, so the count needs no GROUP BY over every user column.
        codes_left=StaticToken.objects.filter(device__user=OuterRef("pk"), device__confirmed=True)
        .order_by().values("device__user").annotate(n=Count("pk")).values("n"),
    ).order_by("agency__name", "last_name", "first_name", "username")
    form = StaffSearchForm(request.GET or None)
    if form.is_valid() and (q := form.cleaned_data["q"].strip()):
        people = people.filter(Q(username__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q))
    page = Paginator(people, STAFF_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "accounts/staff.html", {"form": form, "page": page})


@login_required
@require_http_methods(["GET", "POST"])
def reset_two_factor(request, pk):
    """Confirm, with a reason, then remove the person's authenticator app and backup codes.
    Someone outside the administrator's reach is a 404, as if they did not exist."""
    person = get_object_or_404(staff_in_reach(request.user).select_related("agency"), pk=pk)
    form = ResetTwoFactorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.reset_two_factor(request.user, user=person, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form.add_error("reason", error.messages)
        else:
            messages.success(request, f"Two-factor authentication has been reset for {person}. They must set up "
                                      "a new authenticator app the next time they sign in.")
            return redirect("accounts:staff")
    has_app = TOTPDevice.objects.filter(user=person, confirmed=True).exists()
    return render(request, "accounts/reset_two_factor.html", {"person": person, "form": form, "has_app": has_app})
