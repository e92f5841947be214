"""The dashboard's API routes: measures by quarter and slice."""

from web.api import ApiRouter

from . import api

router = ApiRouter()
router.register("measures", api.MeasureViewSet, basename="measure")

urlpatterns = router.urls
