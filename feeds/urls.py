from django.urls import path

from . import views

app_name = "feeds"

urlpatterns = [
    path("", views.upload, name="upload"),
    path("<str:kind>/template.csv", views.template_file, name="template"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/apply/", views.run_apply, name="run_apply"),
    path("matches/", views.match_list, name="matches"),
    path("matches/<int:pk>/", views.match_detail, name="match"),
]
