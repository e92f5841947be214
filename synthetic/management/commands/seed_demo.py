import importlib
import os
import random
import shlex
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction

# Each app may offer `<app>.demo.seed(context, rng)`; they run in this order,
# each building on what the earlier ones made.
DEMO_APPS = ["pathways", "panels", "resettlement", "evaluation", "dashboard", "history", "alerts"]


def enrol_demo_authenticator_apps():
    """Give every demo user a confirmed TOTP device, so `demo_code` can stand in for a phone."""
    from django.contrib.auth import get_user_model
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for user in get_user_model().objects.filter(totpdevice__isnull=True):
        TOTPDevice.objects.create(user=user, name="Demo authenticator app", confirmed=True)


def security_code_command(username):
    """The command, to paste into another terminal, that prints a demo user's current security code."""
    python = Path(sys.executable)
    if python.is_relative_to(settings.BASE_DIR):
        python = python.relative_to(settings.BASE_DIR)
    environment = ["LOCAL_DEVELOPMENT=1"]
    database = os.environ.get("DATABASE_URL", "")
    if database.startswith("sqlite:"):  # a file of its own, not the default one (a server's URL may hold a password)
        environment.append(f"DATABASE_URL={shlex.quote(database)}")
    return (f"cd {shlex.quote(str(settings.BASE_DIR))} && "
            f"{' '.join(environment)} {shlex.quote(str(python))} manage.py demo_code {username}")


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
            enrol_demo_authenticator_apps()
        from cases.models import Offender

        invented = Offender.objects.count() - len(context["people"])
        pool = f", and {invented:,} more invented for the evaluation's comparison group" if invented > 0 else ""
        self.stdout.write(self.style.SUCCESS(
            f"Demo partnership ready: {len(context['people'])} people on the case load{pool}."))
        self.stdout.write(f"Sign in with any of these user names and the password {cases_demo.DEMO_PASSWORD}:")
        for username, user in context["staff"].items():
            self.stdout.write(f"  {username:<18} {user.get_role_display()} at {user.agency}")
        self.stdout.write("  admin              System administrator (Django admin at /admin/)")
        self.stdout.write(
            "Every demo user has an authenticator app set up already. For the 6-digit security code asked for"
            " after the password, run this in another terminal (with the user name you signed in with):"
        )
        self.stdout.write(f"  {security_code_command('om.police')}")
