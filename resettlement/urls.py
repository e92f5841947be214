from django.urls import path

from . import views

app_name = "resettlement"

urlpatterns = [
    path("", views.board, name="board"),
    path("export/", views.board_export, name="board_export"),
    path("people/<int:pk>/", views.person_release, name="person_release"),
    path("people/<int:pk>/releases/<int:supervision_pk>/open/", views.checklist_open, name="checklist_open"),
    path("people/<int:pk>/items/<int:item_pk>/", views.item_update, name="item_update"),
    path("people/<int:pk>/plan/", views.person_plan, name="person_plan"),
    path("people/<int:pk>/plan/start/", views.plan_start, name="plan_start"),
    path("people/<int:pk>/plan/goals/new/", views.goal_create, name="goal_create"),
    path("people/<int:pk>/plan/goals/<int:goal_pk>/steps/new/", views.step_create, name="step_create"),
    path("people/<int:pk>/plan/agreement/", views.agreement, name="agreement"),
    path("people/<int:pk>/plan/review/", views.review, name="review"),
    path("people/<int:pk>/plan/print/", views.plan_print, name="plan_print"),
    path("people/<int:pk>/plan/versions/<int:number>/", views.plan_version, name="plan_version"),
]
