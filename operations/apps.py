from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """Running the service: health and readiness, request metrics, database limits and routing."""

    name = "operations"
