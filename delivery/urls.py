from django.urls import path

from . import views

app_name = "delivery"

urlpatterns = [
    path("", views.plan, name="plan"),
    path("objectives/new/", views.objective_create, name="objective_create"),
    path("objectives/<int:pk>/actions/new/", views.action_create, name="action_create"),
    path("actions/<int:pk>/", views.action_detail, name="action"),
    path("pack/", views.pack, name="pack"),
    path("pack.csv", views.pack_download, name="pack_csv"),
]
