from django.urls import path

from . import views

app_name = "risk"

urlpatterns = [
    path("people/<int:pk>/assessments/new/", views.assessment_create, name="assessment_create"),
    path("people/<int:pk>/scores/new/", views.score_create, name="score_create"),
    path("people/<int:pk>/flags/new/", views.flag_create, name="flag_create"),
    path("people/<int:pk>/flags/<int:flag_pk>/review/", views.flag_review, name="flag_review"),
    path("people/<int:pk>/flags/<int:flag_pk>/remove/", views.flag_remove, name="flag_remove"),
]
