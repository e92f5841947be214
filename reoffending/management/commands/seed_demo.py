import importlib
import random

from django.core.management.base import BaseCommand
from django.db import transaction

# Each app may offer `<app>.demo.seed(context, rng)`; they run in this order,
# each building on what the earlier ones made.
DEMO_APPS = ["pathways", "panels", "dashboard"]


class Command(BaseCommand):
    help = "Load an invented partnership for trying the service locally (safe to run twice)."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=300)
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, people, seed, **options):
        from cases import demo as cases_demo

        rng = random.Random(seed)
        with transaction.atomic():
            context = cases_demo.seed(rng, people=people)
            for app in DEMO_APPS:
                try:
                    module = importlib.import_module(f"{app}.demo")
                except ModuleNotFoundError:
                    continue
                module.seed(context, rng)
        self.stdout.write(self.style.SUCCESS(f"Demo partnership ready: {len(context['people'])} people."))
        self.stdout.write(f"Sign in with any of these user names and the password {cases_demo.DEMO_PASSWORD}:")
        for username, user in context["staff"].items():
            self.stdout.write(f"  {username:<18} {user.get_role_display()} at {user.agency}")
        self.stdout.write("  admin              System administrator (Django admin at /admin/)")
