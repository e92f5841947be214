from django.apps import AppConfig


class SyntheticConfig(AppConfig):
    """Invented partnerships: the small demo (seed_demo, demo_code) and the large generated one
    (generate_partnership) for benchmarks. It imports the apps; no app imports it."""

    name = "synthetic"
    verbose_name = "Invented partnerships"
