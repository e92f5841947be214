from django.apps import AppConfig


class PathwaysConfig(AppConfig):
    name = "pathways"
    verbose_name = "Resettlement pathways"

    def ready(self):
        from cases.sections import CaseSection, register_case_section
        from cases.timeline import register_timeline_source

        from .activity import timeline_sources
        from .sections import case_overview_context

        register_case_section(CaseSection(
            key="pathways", title="Pathways", url_name="pathways:person", order=40,
            overview_template="pathways/_case_overview.html", overview=case_overview_context,
        ))
        for source in timeline_sources():
            register_timeline_source(source)
