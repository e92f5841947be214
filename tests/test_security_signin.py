"""Sign-in hardening: a second factor for everyone, lockout, idle sessions, strong passwords."""

import datetime

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.shortcuts import resolve_url
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.two_factor import current_code
from reoffending.security import IdleTimeoutMiddleware

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def sign_in_with_password(client, user, password=PASSWORD, next_url=""):
    url = "/sign-in/" + (f"?next={next_url}" if next_url else "")
    return client.post(url, {"username": user.username, "password": password, "next": next_url})


def test_password_alone_does_not_open_the_case_list(client, partnership):
    sign_in_with_password(client, partnership.police_om)
    response = client.get("/cases/")
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in/set-up-authenticator-app/?next=/cases/")


def test_user_with_an_app_is_asked_for_the_code_not_a_new_app(client, partnership):
    TOTPDevice.objects.create(user=partnership.police_om, name="Authenticator app", confirmed=True)
    sign_in_with_password(client, partnership.police_om)
    assert client.get("/cases/")["Location"].startswith("/sign-in/security-code/")
    # A password alone must not be enough to add another app to the account.
    assert client.get("/sign-in/set-up-authenticator-app/")["Location"].startswith("/sign-in/security-code/")


def test_admin_and_api_also_need_the_second_factor(client, partnership):
    partnership.police_admin.is_staff = True
    partnership.police_admin.save()
    sign_in_with_password(client, partnership.police_admin)
    assert client.get("/admin/")["Location"].startswith("/sign-in/set-up-authenticator-app/")
    response = client.get("/api/v1/")
    assert response.status_code == 403 and "Two-factor" in response.json()["detail"]


def test_setting_up_an_app_shows_secret_uri_and_qr_code_then_verifies(client, partnership):
    user = partnership.police_om
    sign_in_with_password(client, user)
    page = client.get("/sign-in/set-up-authenticator-app/?next=/cases/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    html = page.content.decode()
    assert "otpauth://totp/" in html and "<svg" in html
    assert "Primary navigation" not in html
    assert page.context["secret"].replace(" ", "") in html.replace(" ", "")

    wrong = client.post("/sign-in/set-up-authenticator-app/", {"token": "000000", "next": "/cases/"})
    assert wrong.status_code == 200 and "not right" in wrong.content.decode()
    device.refresh_from_db()
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()

    response = client.post("/sign-in/set-up-authenticator-app/", {"token": current_code(device), "next": "/cases/"})
    # Signed in: the backup codes are shown once, then the page asked for.
    assert response.status_code == 200 and "Save your backup codes" in response.content.decode()
    assert 'href="/cases/"' in response.content.decode()
    assert TOTPDevice.objects.get(user=user).confirmed
    assert client.get("/cases/").status_code == 200


def test_security_code_after_password_opens_the_service(client, partnership):
    user = partnership.probation_om
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    sign_in_with_password(client, user, next_url="/cases/")
    wrong = client.post("/sign-in/security-code/", {"token": "12ab", "next": "/cases/"})
    assert "6 digits" in wrong.content.decode()
    assert client.get("/cases/").status_code == 302
    response = client.post("/sign-in/security-code/", {"token": current_code(device), "next": "/cases/"})
    assert response["Location"] == "/cases/"
    assert client.get("/cases/").status_code == 200


def test_security_code_page_ignores_a_next_url_on_another_site(client, partnership):
    user = partnership.probation_om
    device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    sign_in_with_password(client, user)
    response = client.post(
        "/sign-in/security-code/", {"token": current_code(device), "next": "https://evil.example/"}
    )
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)


def test_repeated_wrong_passwords_lock_the_account_with_a_clear_message(client, partnership, settings):
    user = partnership.police_om
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in_with_password(client, user, password="wrong password").status_code == 200
    assert sign_in_with_password(client, user, password="wrong password").status_code == 429
    # Now even the right password is refused until the lock expires.
    locked = sign_in_with_password(client, user)
    assert locked.status_code == 429
    text = locked.content.decode()
    assert "Your account is locked" in text and "30 minutes" in text
    assert "_auth_user_id" not in client.session


def test_a_wrong_password_then_the_right_one_signs_in(client, partnership):
    user = partnership.police_om
    sign_in_with_password(client, user, password="wrong password")
    response = sign_in_with_password(client, user)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_session_ends_after_thirty_minutes_without_activity(client_for, partnership, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    client = client_for(partnership.police_om)
    assert client.get("/cases/").status_code == 200
    assert client.session.get_expiry_age() <= 30 * 60
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - datetime.timedelta(seconds=1)
    )
    response = client.get("/cases/")
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")


def test_activity_pushes_the_session_expiry_on_at_most_once_a_minute(client_for, partnership):
    client = client_for(partnership.police_om)
    assert client.get("/cases/").status_code == 200
    session_key = client.session.session_key
    nearly_expired = timezone.now() + datetime.timedelta(minutes=2)

    # Refreshed within the last minute: the next page view does not write the session.
    Session.objects.filter(session_key=session_key).update(expire_date=nearly_expired)
    assert client.get("/cases/").status_code == 200
    assert Session.objects.get(session_key=session_key).expire_date == nearly_expired

    # Last refreshed over a minute ago: the page view pushes the expiry a full 30 minutes on.
    session = client.session
    session[IdleTimeoutMiddleware.SESSION_KEY] -= IdleTimeoutMiddleware.REFRESH_AFTER_SECONDS
    session.save()
    Session.objects.filter(session_key=session_key).update(expire_date=nearly_expired)
    assert client.get("/cases/").status_code == 200
    expires_in = Session.objects.get(session_key=session_key).expire_date - timezone.now()
    assert datetime.timedelta(minutes=29) < expires_in <= datetime.timedelta(minutes=30)


@pytest.mark.parametrize("password", ["short", "password12345", "12345678901234", "police.om-2026"])
def test_weak_passwords_are_refused(partnership, password):
    with pytest.raises(ValidationError):
        validate_password(password, user=partnership.police_om)


def test_a_long_passphrase_is_accepted(partnership):
    validate_password("tangerine lighthouse kettle 42", user=partnership.police_om)


def test_demo_users_get_an_app_and_demo_code_prints_its_code(partnership, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    from synthetic.management.commands.seed_demo import enrol_demo_authenticator_apps

    enrol_demo_authenticator_apps()
    device = TOTPDevice.objects.get(user=partnership.police_om, confirmed=True)
    settings.LOCAL_DEVELOPMENT = True
    out = StringIO()
    call_command("demo_code", "police.om", stdout=out)
    assert out.getvalue().strip() == current_code(device)
    settings.LOCAL_DEVELOPMENT = False
    with pytest.raises(CommandError, match="local demo only"):
        call_command("demo_code", "police.om", stdout=StringIO())


def test_only_system_administrators_use_the_django_admin(client_for, partnership, django_user_model):
    from django.contrib.auth.models import Permission

    staff = partnership.police_admin
    staff.is_staff = True
    staff.save()
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="cases"))
    client = client_for(staff)
    for url in ["/admin/", f"/admin/cases/offender/{partnership.police_only_person.pk}/change/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/admin/login/"), url
    superuser = django_user_model.objects.create_superuser("root", "root@example.org", "a long admin passphrase")
    assert client_for(superuser).get("/admin/cases/offender/").status_code == 200
