from django.apps import AppConfig


class HistoryConfig(AppConfig):
    name = "history"
    verbose_name = "Change history"

    def ready(self):
        from cases.timeline import register_timeline_source

        from . import fallback
        from .activity import timeline_sources

        fallback.connect()
        for source in timeline_sources():
            register_timeline_source(source)
