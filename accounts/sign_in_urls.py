"""Signing in and out: the password, then the second factor. Mounted at the site's root, unnamespaced,
because LOGIN_URL and the two-factor middleware name these routes."""

from django.contrib.auth import views as auth_views
from django.urls import path

from . import two_factor
from .forms import SignInForm

urlpatterns = [
    path(
        "sign-in/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("sign-in/security-code/", two_factor.verify, name="two_factor_verify"),
    path("sign-in/set-up-authenticator-app/", two_factor.setup, name="two_factor_setup"),
    path("sign-in/backup-code/", two_factor.backup_code, name="two_factor_backup_code"),
]
