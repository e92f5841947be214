from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpResponse
from django.urls import include, path
from django.views.generic import RedirectView

from . import two_factor
from .forms import SignInForm
from .security import admin_site_has_permission

admin.site.has_permission = admin_site_has_permission


def health(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:list", permanent=False), name="home"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("sign-in/security-code/", two_factor.verify, name="two_factor_verify"),
    path("sign-in/set-up-authenticator-app/", two_factor.setup, name="two_factor_setup"),
    path("cases/", include("cases.urls")),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
]
