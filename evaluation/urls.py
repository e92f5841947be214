from django.urls import path

from . import views

app_name = "evaluation"

urlpatterns = [
    path("", views.evaluation_list, name="list"),
    path("new/", views.new, name="new"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/report/", views.report, name="report"),
    path("<int:pk>/people.csv", views.people_csv, name="people"),
]
