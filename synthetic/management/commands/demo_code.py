from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.two_factor import current_code


class Command(BaseCommand):
    help = "Print the current 6-digit security code of a demo user (local development only)."

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        if not settings.LOCAL_DEVELOPMENT:
            raise CommandError(
                "demo_code is for the local demo only (LOCAL_DEVELOPMENT=1): real staff use their own phone."
            )
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user called {username!r}.")
        device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()
        if device is None:
            raise CommandError(f"{username} has no authenticator app yet: sign in and set one up, or run seed_demo.")
        self.stdout.write(current_code(device))
