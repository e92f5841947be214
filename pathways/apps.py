from django.apps import AppConfig


class PathwaysConfig(AppConfig):
    name = "pathways"
    verbose_name = "Resettlement pathways"

    def ready(self):
        from cases.sections import CaseSection, register_case_section

        from .sections import case_section_context

        register_case_section(CaseSection(
            key="pathways", title="Resettlement pathways", template_name="pathways/_case_section.html",
            context=case_section_context, order=10,
        ))
