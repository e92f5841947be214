from django.apps import AppConfig


class PanelsConfig(AppConfig):
    name = "panels"
    verbose_name = "Panels"

    def ready(self):
        from cases.sections import CaseSection, register_case_section
        from cases.timeline import register_timeline_source

        from .activity import timeline_sources
        from .sections import case_overview_context, case_section_context

        register_case_section(CaseSection(
            key="panels", title="Panels", template_name="panels/_case_section.html",
            context=case_section_context, order=50,
            overview_template="panels/_case_overview.html", overview=case_overview_context,
        ))
        for source in timeline_sources():
            register_timeline_source(source)
