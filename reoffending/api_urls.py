"""Routes of the REST API, mounted at /api/v1/. The OpenAPI schema is at /api/v1/schema/ and its
documentation (Swagger UI, served from this site's own static files) at /api/v1/docs/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from cases import api as cases_api

router = SimpleRouter(use_regex_path=False)
router.register("people", cases_api.PersonViewSet, basename="person")
router.register("people/<int:person_pk>/memberships", cases_api.MembershipViewSet, basename="person-membership")
router.register("people/<int:person_pk>/rag-changes", cases_api.RagChangeViewSet, basename="person-rag-change")
router.register("people/<int:person_pk>/appointments", cases_api.AppointmentViewSet, basename="person-appointment")

app_name = "api"

urlpatterns = [
    path("", include(router.urls)),
    path("token/", cases_api.TokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
