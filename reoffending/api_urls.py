"""Routes of the REST API, mounted at /api/v1/. The OpenAPI schema is at /api/v1/schema/ and its
documentation (Swagger UI, served from this site's own static files) at /api/v1/docs/."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from cases import api as cases_api
from dashboard import api as dashboard_api
from panels import api as panels_api
from pathways import api as pathways_api


class ApiRouter(DefaultRouter):
    """Routes with typed path converters, and a root listing them; no .json suffix twins of every route."""

    include_format_suffixes = False


router = ApiRouter(use_regex_path=False)
router.register("people", cases_api.PersonViewSet, basename="person")
router.register("people/<int:person_pk>/memberships", cases_api.MembershipViewSet, basename="person-membership")
router.register("people/<int:person_pk>/rag-changes", cases_api.RagChangeViewSet, basename="person-rag-change")
router.register("people/<int:person_pk>/appointments", cases_api.AppointmentViewSet, basename="person-appointment")
router.register("people/<int:person_pk>/needs", pathways_api.PersonNeedViewSet, basename="person-need")
router.register("people/<int:person_pk>/actions", pathways_api.PersonActionViewSet, basename="person-action")
router.register("people/<int:person_pk>/referrals", pathways_api.PersonReferralViewSet, basename="person-referral")
router.register("actions", pathways_api.ActionViewSet, basename="action")
router.register("referrals", pathways_api.ReferralViewSet, basename="referral")
router.register("pathways", pathways_api.PathwayViewSet, basename="pathway")
router.register("services", pathways_api.ServiceViewSet, basename="service")
router.register("measures", dashboard_api.MeasureViewSet, basename="measure")
router.register("panels", panels_api.PanelViewSet, basename="panel")
router.register("panel-meetings", panels_api.MeetingViewSet, basename="panel-meeting")
router.register("panel-meetings/<int:meeting_pk>/items", panels_api.AgendaItemViewSet, basename="panel-meeting-item")
router.register("panel-meetings/<int:meeting_pk>/actions", panels_api.MeetingActionViewSet,
                basename="panel-meeting-action")

app_name = "api"

urlpatterns = [
    path("", include(router.urls)),
    path("token/", cases_api.TokenView.as_view(), name="token"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
]
