from django.apps import AppConfig


class PanelsConfig(AppConfig):
    name = "panels"
    verbose_name = "Panels"

    def ready(self):
        from cases.sections import CaseSection, register_case_section

        from .sections import case_section_context

        register_case_section(CaseSection(
            key="panels", title="Panels", template_name="panels/_case_section.html",
            context=case_section_context, order=20,
        ))
