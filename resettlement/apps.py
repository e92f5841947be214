from django.apps import AppConfig


class ResettlementConfig(AppConfig):
    name = "resettlement"
    verbose_name = "Through the gate"

    def ready(self):
        from django.db.models.signals import post_save

        from cases.models import Supervision
        from cases.sections import CaseSection, register_case_section

        from .receivers import release_date_saved
        from .sections import plan_overview_context, release_overview_context

        post_save.connect(release_date_saved, sender=Supervision, dispatch_uid="resettlement_release_date_saved")
        register_case_section(CaseSection(
            key="release", title="Release", url_name="resettlement:person_release", order=35,
            overview_template="resettlement/_release_overview.html", overview=release_overview_context,
        ))
        register_case_section(CaseSection(
            key="own_plan", title="Own plan", url_name="resettlement:person_plan", order=45,
            overview_template="resettlement/_plan_overview.html", overview=plan_overview_context,
        ))
