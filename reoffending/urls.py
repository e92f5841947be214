from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import include, path

from . import two_factor
from .forms import SignInForm
from .security import admin_site_has_permission

admin.site.has_permission = admin_site_has_permission


@login_required
def home(request):
    """Case workers start at the case list; analysts, who see numbers only, at the dashboard."""
    if not request.user.sees_people:
        return redirect("dashboard:index")
    return redirect("cases:list")


def health(request):
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("", home, name="home"),
    path(
        "sign-in/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True, authentication_form=SignInForm),
        name="login",
    ),
    path("sign-out/", auth_views.LogoutView.as_view(), name="logout"),
    path("sign-in/security-code/", two_factor.verify, name="two_factor_verify"),
    path("sign-in/set-up-authenticator-app/", two_factor.setup, name="two_factor_setup"),
    path("cases/", include("cases.urls")),
    path("cases/", include("cases.import_urls")),
    path("api/v1/", include("reoffending.api_urls")),
    path("dashboard/", include("dashboard.urls")),
    path("pathways/", include("pathways.urls")),
    path("panels/", include("panels.urls")),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
]
