from django.urls import path

from . import export_views, views
from .sections import case_sections

app_name = "cases"

urlpatterns = [
    path("", views.case_list, name="list"),
    path("new/", views.case_create, name="create"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/personal/", views.case_personal, name="personal"),
    path("<int:pk>/sentence/", views.case_sentence, name="sentence"),
    path("<int:pk>/activity/", views.case_activity, name="activity"),
    path("<int:pk>/notes/", views.case_notes, name="notes"),
    path("<int:pk>/access-log/", views.person_access_log, name="person_access_log"),
    path("<int:pk>/edit/", views.case_edit, name="edit"),
    path("<int:pk>/cohorts/new/", views.membership_create, name="membership_create"),
    path("<int:pk>/cohorts/<int:membership_pk>/end/", views.membership_end, name="membership_end"),
    path("<int:pk>/rag/", views.rag_change, name="rag_change"),
    path("<int:pk>/supervision/new/", views.supervision_create, name="supervision_create"),
    path("<int:pk>/appointments/new/", views.appointment_create, name="appointment_create"),
    path("<int:pk>/appointments/<int:appointment_pk>/", views.appointment_detail, name="appointment_detail"),
    path("<int:pk>/appointments/<int:appointment_pk>/outcome/", views.appointment_outcome, name="appointment_outcome"),
    path("<int:pk>/notes/new/", views.note_create, name="note_create"),
    path("<int:pk>/offences/new/", views.offence_create, name="offence_create"),
    path("<int:pk>/offences/<int:offence_pk>/outcome/", views.offence_outcome, name="offence_outcome"),
    path("<int:pk>/enforcement/new/", views.enforcement_create, name="enforcement_create"),
    path("<int:pk>/enforcement/<int:enforcement_pk>/conclude/", views.enforcement_conclude,
         name="enforcement_conclude"),
    path("<int:pk>/share/", views.share, name="share"),
    path("<int:pk>/shares/<int:share_pk>/withdraw/", views.share_withdraw, name="share_withdraw"),
    path("access-log/", views.access_log, name="access_log"),
    path("export/", export_views.export, name="export"),
    # A page for each section another app adds to the case without a page of its own (cases.sections).
    *[
        path(f"<int:pk>/{section.key}/", views.case_section, {"key": section.key}, name=f"section_{section.key}")
        for section in case_sections() if not section.url_name
    ],
]
