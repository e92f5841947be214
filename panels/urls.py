from django.urls import path

from . import views

app_name = "panels"

urlpatterns = [
    path("", views.panel_list, name="list"),
    path("<int:pk>/", views.panel_detail, name="detail"),
    path("new/", views.panel_create, name="create"),
    path("types/", views.panel_types, name="types"),
    path("types/new/", views.panel_type_create, name="type_create"),
    path("<int:pk>/meetings/new/", views.meeting_create, name="meeting_create"),
    path("meetings/<int:pk>/", views.meeting_detail, name="meeting"),
    path("meetings/<int:pk>/generate/", views.meeting_generate, name="generate"),
    path("meetings/<int:pk>/people/new/", views.meeting_add_person, name="add_person"),
    path("meetings/<int:pk>/plan/", views.agenda_plan, name="plan"),
    path("meetings/<int:pk>/attendance/", views.attendance, name="attendance"),
    path("meetings/<int:pk>/items/<int:item_pk>/", views.item_detail, name="item"),
    path("meetings/<int:pk>/items/<int:item_pk>/actions/new/", views.item_action_add, name="item_action"),
    path("meetings/<int:pk>/items/<int:item_pk>/mappa-level/", views.item_mappa_level, name="item_mappa"),
    path("meetings/<int:pk>/close/", views.meeting_close, name="close"),
    path("meetings/<int:pk>/minutes/", views.minutes, name="minutes"),
    path("meetings/<int:pk>/minutes.docx", views.minutes_download, name="minutes_docx"),
    path("people/<int:offender_pk>/checkpoint/new/", views.checkpoint_create, name="checkpoint_create"),
    path("checkpoint/<int:pk>/", views.checkpoint_detail, name="checkpoint"),
]
