"""Resettlement pathways' API routes: needs, actions, referrals, the pathways and the service directory."""

from web.api import ApiRouter

from . import api

router = ApiRouter()
router.register("people/<int:person_pk>/needs", api.PersonNeedViewSet, basename="person-need")
router.register("people/<int:person_pk>/actions", api.PersonActionViewSet, basename="person-action")
router.register("people/<int:person_pk>/referrals", api.PersonReferralViewSet, basename="person-referral")
router.register("actions", api.ActionViewSet, basename="action")
router.register("referrals", api.ReferralViewSet, basename="referral")
router.register("pathways", api.PathwayViewSet, basename="pathway")
router.register("services", api.ServiceViewSet, basename="service")

urlpatterns = router.urls
