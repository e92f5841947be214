from django.urls import path

from . import views

app_name = "alerts"

urlpatterns = [
    path("", views.alert_list, name="list"),
    path("clear/", views.clear, name="clear"),
    path("settings/", views.alert_settings, name="settings"),
]
