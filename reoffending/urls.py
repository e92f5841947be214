from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect
from django.urls import include, path

from .security import admin_site_has_permission

admin.site.has_permission = admin_site_has_permission


@login_required
def home(request):
    """Case workers start at the case list; analysts, who see numbers only, at the dashboard."""
    if not request.user.sees_people:
        return redirect("dashboard:index")
    return redirect("cases:list")


# /health/live/, /health/ready/ and /metrics are answered by operations.health.HealthCheckMiddleware,
# ahead of host checks, the HTTPS redirect, sessions and sign-in.
urlpatterns = [
    path("", home, name="home"),
    path("", include("accounts.sign_in_urls")),
    path("account/", include("accounts.urls")),
    path("cases/", include("cases.urls")),
    path("feeds/", include("feeds.urls")),
    path("api/v1/", include("reoffending.api_urls")),
    path("dashboard/", include("dashboard.urls")),
    path("evaluations/", include("evaluation.urls")),
    path("pathways/", include("pathways.urls")),
    path("panels/", include("panels.urls")),
    path("board/plan/", include("delivery.urls")),
    path("referrals/", include("pathways.queue_urls")),
    path("alerts/", include("alerts.urls")),
    path("risk/", include("risk.urls")),
    path("releases/", include("resettlement.urls")),
    path("admin/", admin.site.urls),
]

handler500 = "operations.views.server_error"
