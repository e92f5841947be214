from django.urls import path

from . import views

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_create, name="create"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/edit/", views.case_edit, name="edit"),
    path("<int:pk>/cohorts/new/", views.membership_create, name="membership_create"),
    path("<int:pk>/cohorts/<int:membership_pk>/end/", views.membership_end, name="membership_end"),
    path("<int:pk>/rag/", views.rag_change, name="rag_change"),
    path("<int:pk>/supervision/new/", views.supervision_create, name="supervision_create"),
    path("<int:pk>/appointments/new/", views.appointment_create, name="appointment_create"),
    path("<int:pk>/appointments/<int:appointment_pk>/outcome/", views.appointment_outcome, name="appointment_outcome"),
    path("<int:pk>/notes/new/", views.note_create, name="note_create"),
    path("<int:pk>/offences/new/", views.offence_create, name="offence_create"),
    path("<int:pk>/offences/<int:offence_pk>/outcome/", views.offence_outcome, name="offence_outcome"),
    path("<int:pk>/enforcement/new/", views.enforcement_create, name="enforcement_create"),
    path("<int:pk>/share/", views.share, name="share"),
    path("access-log/", views.access_log, name="access_log"),
]
