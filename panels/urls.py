from django.urls import path

from . import views

app_name = "panels"

urlpatterns = [
    path("", views.panel_list, name="list"),
    path("<int:pk>/", views.panel_detail, name="detail"),
    path("<int:pk>/meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/generate/", views.meeting_generate, name="generate"),
    path("meetings/<int:pk>/people/new/", views.meeting_add_person, name="add_person"),
    path("meetings/<int:pk>/attendance/new/", views.attendance_add, name="attendance_add"),
    path("meetings/<int:pk>/attendance/<int:attendance_pk>/remove/", views.attendance_remove,
         name="attendance_remove"),
    path("meetings/<int:pk>/items/<int:item_pk>/", views.item_detail, name="item"),
    path("meetings/<int:pk>/items/<int:item_pk>/actions/new/", views.item_action_add, name="item_action"),
    path("meetings/<int:pk>/items/<int:item_pk>/mappa-level/", views.item_mappa_level, name="item_mappa"),
    path("meetings/<int:pk>/close/", views.meeting_close, name="close"),
    path("meetings/<int:pk>/minutes/", views.minutes, name="minutes"),
    path("meetings/<int:pk>/minutes.docx", views.minutes_download, name="minutes_docx"),
    path("people/<int:offender_pk>/checkpoint/new/", views.checkpoint_create, name="checkpoint_create"),
    path("checkpoint/<int:pk>/", views.checkpoint_detail, name="checkpoint"),
]
