from django.apps import AppConfig


class RiskConfig(AppConfig):
    name = "risk"
    verbose_name = "Risk"

    def ready(self):
        from cases.sections import CaseSection, register_case_section
        from cases.timeline import register_timeline_source

        from .activity import timeline_sources
        from .sections import case_overview_context, case_section_context

        register_case_section(CaseSection(
            key="risk", title="Risk", template_name="risk/_case_section.html", context=case_section_context,
            order=20, overview_template="risk/_case_overview.html", overview=case_overview_context,
        ))
        for source in timeline_sources():
            register_timeline_source(source)
