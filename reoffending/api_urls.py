"""Routes of the REST API, mounted at /api/v1/: each app's own routes, and a root listing them.

The OpenAPI schema is at /api/v1/schema/ and its documentation (Swagger UI, served from this
site's own static files) at /api/v1/docs/.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework import exceptions
from rest_framework.decorators import api_view, schema
from rest_framework.routers import APIRootView

# The root's index: each top-level collection and the name of its list route.
API_ROOT = {
    "people": "person-list",
    "actions": "action-list",
    "referrals": "referral-list",
    "pathways": "pathway-list",
    "services": "service-list",
    "tokens": "token-list",
    "measures": "measure-list",
    "feed-runs": "feed-run-list",
    "panels": "panel-list",
    "panel-meetings": "panel-meeting-list",
    "webhooks": "webhook-list",
    "webhook-deliveries": "webhook-delivery-list",
}

app_name = "api"


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE"])
@schema(None)
def not_found(request):
    """An address under the API that names no operation: 404 in the API's error shape."""
    raise exceptions.NotFound()



urlpatterns = [
    path("", APIRootView.as_view(api_root_dict=API_ROOT), name="api-root"),
    path("", include("cases.api_urls")),
    path("", include("pathways.api_urls")),
    path("", include("accounts.api_urls")),
    path("", include("dashboard.api_urls")),
    path("", include("feeds.api_urls")),
    path("", include("panels.api_urls")),
    path("", include("webhooks.api_urls")),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    # Any other address under the API (an id that is not a whole number, say) is a JSON 404, as the schema says.
    re_path(r"^[\s\S]*$", not_found),
]
