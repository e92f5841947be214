"""Accounts' API routes: the user's API tokens."""

from django.urls import path

from web.api import ApiRouter

from . import api

router = ApiRouter()
router.register("tokens", api.TokenViewSet, basename="token")

urlpatterns = [
    *router.urls,
    path("token/", api.TokenView.as_view(), name="token"),
]
