"""Panels' API routes: panels, meetings, agendas and the actions set at them."""

from web.api import ApiRouter

from . import api

router = ApiRouter()
router.register("panels", api.PanelViewSet, basename="panel")
router.register("panel-meetings", api.MeetingViewSet, basename="panel-meeting")
router.register("panel-meetings/<int:meeting_pk>/items", api.AgendaItemViewSet, basename="panel-meeting-item")
router.register("panel-meetings/<int:meeting_pk>/actions", api.MeetingActionViewSet, basename="panel-meeting-action")

urlpatterns = router.urls
