"""The feeds' API routes: import runs (send a file, read its run, apply it)."""

from web.api import ApiRouter

from . import api

router = ApiRouter()
router.register("feed-runs", api.FeedRunViewSet, basename="feed-run")

urlpatterns = router.urls
