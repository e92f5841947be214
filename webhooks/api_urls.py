"""Webhooks' API routes: an agency's subscriptions and their delivery log."""

from web.api import ApiRouter

from . import api

router = ApiRouter()
router.register("webhooks", api.SubscriptionViewSet, basename="webhook")
router.register("webhook-deliveries", api.DeliveryViewSet, basename="webhook-delivery")

urlpatterns = router.urls
