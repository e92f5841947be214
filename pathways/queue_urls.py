from django.urls import path

from . import queue_views

app_name = "referrals"

urlpatterns = [
    path("incoming/", queue_views.incoming, name="incoming"),
    path("incoming/<int:pk>/", queue_views.incoming_detail, name="incoming_detail"),
    path("incoming/<int:pk>/decision/", queue_views.decide, name="decide"),
    path("incoming/<int:pk>/first-contact/", queue_views.first_contact, name="first_contact"),
]
