"""The case record's API routes: people, their cohort memberships, RAG history and appointments."""

from web.api import ApiRouter

from . import api

router = ApiRouter()
router.register("people", api.PersonViewSet, basename="person")
router.register("people/<int:person_pk>/memberships", api.MembershipViewSet, basename="person-membership")
router.register("people/<int:person_pk>/rag-changes", api.RagChangeViewSet, basename="person-rag-change")
router.register("people/<int:person_pk>/appointments", api.AppointmentViewSet, basename="person-appointment")

urlpatterns = router.urls
