"""Bulk import of people and cohort lists, and export of case lists (browser pages)."""

from django.urls import path

from . import import_views

app_name = "transfer"

urlpatterns = [
    path("import/", import_views.upload, name="import_upload"),
    path("import/template.csv", import_views.template_file, name="import_template"),
    path("import/<str:job_id>/", import_views.job, name="import_job"),
    path("import/<str:job_id>/confirm/", import_views.confirm, name="import_confirm"),
    path("export/", import_views.export, name="export"),
]
