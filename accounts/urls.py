from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.index, name="index"),
    path("backup-codes/", views.backup_codes, name="backup_codes"),
    path("staff/", views.staff, name="staff"),
    path("staff/<int:pk>/reset-two-factor/", views.reset_two_factor, name="reset_two_factor"),
    path("api-tokens/", views.api_tokens, name="api_tokens"),
    path("api-tokens/<int:pk>/withdraw/", views.withdraw_api_token, name="withdraw_api_token"),
    path("api-tokens/withdraw-all/", views.withdraw_all_api_tokens, name="withdraw_all_api_tokens"),
]
