from django.apps import AppConfig


class FeedsConfig(AppConfig):
    """Bulk import: facts arriving from partner systems as files, matched to the right person."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "feeds"
