from django.urls import path

from . import views

app_name = "pathways"

urlpatterns = [
    path("my-actions/", views.my_actions, name="my_actions"),
    path("services/", views.service_directory, name="services"),
    path("people/<int:pk>/", views.person, name="person"),
    path("people/<int:pk>/assess/", views.assess, name="assess"),
    path("people/<int:pk>/actions/new/", views.action_create, name="action_create"),
    path("people/<int:pk>/referrals/new/", views.referral_create, name="referral_create"),
    path("people/<int:pk>/status/<slug:kind>/new/", views.status_create, name="status_create"),
    path("actions/<int:pk>/", views.action_detail, name="action_detail"),
    path("referrals/<int:pk>/", views.referral_detail, name="referral_detail"),
]
