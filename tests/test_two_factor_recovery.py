"""When the authenticator app is lost: one-time backup codes, and an administrator's reset. Both access-logged."""

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import ApiToken
from accounts.two_factor import current_code
from cases.models import AccessLogEntry, Role

from .factories import AgencyFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def sign_in_with_password(client, user):
    response = client.post("/sign-in/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def with_app(user):
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def codes_on(response):
    html = response.content.decode()
    block = html.split('id="backup-codes"')[1].split("</ul>")[0]
    return [part.split("</code>")[0] for part in block.split('<code class="app-secret">')[1:]]


# --- backup codes ---------------------------------------------------------------------------------


def test_setting_up_an_app_shows_ten_backup_codes_once(client, partnership):
    user = partnership.police_om
    sign_in_with_password(client, user)
    client.get("/sign-in/set-up-authenticator-app/?next=/cases/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    response = client.post("/sign-in/set-up-authenticator-app/", {"token": current_code(device), "next": "/cases/"})
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    codes = codes_on(response)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(code.replace(" ", "")) == 8 for code in codes)
    assert 'href="/cases/"' in response.content.decode()
    stored = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert stored == {code.replace(" ", "") for code in codes}
    assert client.get("/cases/").status_code == 200
    # Nothing shows the codes again: the account page only counts them.
    account = client.get("/account/").content.decode()
    assert "10 unused backup codes" in account and codes[0] not in account


def test_a_backup_code_signs_in_once_and_a_used_code_fails_the_second_time(client, partnership):
    user = partnership.police_om
    with_app(user)
    code = services.create_backup_codes(user)[0]

    sign_in_with_password(client, user)
    assert client.get("/sign-in/security-code/?next=/cases/").status_code == 200
    response = client.post("/sign-in/backup-code/", {"code": f" {code[:4].upper()}-{code[4:]} ", "next": "/cases/"})
    assert response.status_code == 302 and response["Location"] == "/cases/"
    page = client.get("/cases/")
    assert page.status_code == 200 and "You have 9 backup codes left" in page.content.decode()
    assert services.backup_codes_left(user) == 9

    client.post("/sign-out/")
    sign_in_with_password(client, user)
    again = client.post("/sign-in/backup-code/", {"code": code, "next": "/cases/"})
    assert again.status_code == 200
    assert "not right or has been used already" in again.content.decode()
    assert client.get("/cases/").status_code == 302


def test_a_wrong_or_malformed_backup_code_is_refused_with_a_reason(client, partnership):
    user = partnership.police_om
    with_app(user)
    services.create_backup_codes(user)
    sign_in_with_password(client, user)
    short = client.post("/sign-in/backup-code/", {"code": "abc"})
    assert "8 letters and numbers" in short.content.decode()
    wrong = client.post("/sign-in/backup-code/", {"code": "zzzz zzzz"})
    assert "not right" in wrong.content.decode()
    assert client.get("/cases/").status_code == 302
    assert services.backup_codes_left(user) == 10


def test_another_users_backup_code_does_not_work(client, partnership):
    with_app(partnership.police_om)
    with_app(partnership.probation_om)
    theirs = services.create_backup_codes(partnership.probation_om)[0]
    services.create_backup_codes(partnership.police_om)
    sign_in_with_password(client, partnership.police_om)
    assert client.post("/sign-in/backup-code/", {"code": theirs}).status_code == 200
    assert client.get("/cases/").status_code == 302
    assert services.backup_codes_left(partnership.probation_om) == 10


def test_new_backup_codes_replace_the_old_ones(client_for, partnership):
    user = partnership.police_om
    old = services.create_backup_codes(user)
    client = client_for(user)
    confirm = client.get("/account/backup-codes/")
    assert "10 unused backup codes" in confirm.content.decode()
    response = client.post("/account/backup-codes/")
    new = [code.replace(" ", "") for code in codes_on(response)]
    assert len(new) == 10 and not set(new) & set(old)
    assert "earlier backup codes no longer work" in response.content.decode()
    assert services.use_backup_code(user, new[0]) is not None
    assert services.use_backup_code(user, old[0]) is None
    assert StaticDevice.objects.filter(user=user).count() == 1


def test_backup_codes_are_access_logged_without_the_codes(partnership):
    user = partnership.police_om
    codes = services.create_backup_codes(user)
    services.use_backup_code(user, codes[3])
    entries = AccessLogEntry.objects.filter(username=user.username, object_type="otp_static.staticdevice")
    details = [e.detail for e in entries.order_by("pk")]
    assert details == ["10 new backup codes created; any earlier codes no longer work",
                       "Signed in with a backup code; 9 left"]
    assert not any(code in detail for code in codes for detail in details)


def test_a_user_without_an_app_is_sent_to_set_one_up_not_to_backup_codes(client, partnership):
    sign_in_with_password(client, partnership.police_om)
    response = client.get("/sign-in/backup-code/")
    assert response["Location"].startswith("/sign-in/set-up-authenticator-app/")


# --- an administrator's reset ---------------------------------------------------------------------


def test_an_agency_administrator_resets_a_colleague_who_must_then_set_up_a_new_app(client_for, partnership):
    colleague = partnership.police_om
    with_app(colleague)
    services.create_backup_codes(colleague)
    _record, token = ApiToken.objects.create(user=colleague)
    admin = client_for(partnership.police_admin)

    listing = admin.get("/account/staff/").content.decode()
    assert "police.om" in listing and "probation.om" not in listing
    confirm = admin.get(f"/account/staff/{colleague.pk}/reset-two-factor/")
    assert confirm.status_code == 200
    assert TOTPDevice.objects.filter(user=colleague).exists()  # a GET changes nothing

    missing_reason = admin.post(f"/account/staff/{colleague.pk}/reset-two-factor/", {"reason": "  "})
    assert "Enter why" in missing_reason.content.decode()
    assert TOTPDevice.objects.filter(user=colleague).exists()

    done = admin.post(f"/account/staff/{colleague.pk}/reset-two-factor/", {"reason": "Phone lost; called back"},
                      follow=True)
    assert "has been reset" in done.content.decode()
    assert not TOTPDevice.objects.filter(user=colleague).exists()
    assert not StaticDevice.objects.filter(user=colleague).exists()
    entry = AccessLogEntry.objects.get(object_type="cases.user", object_id=str(colleague.pk))
    assert entry.username == "police.admin" and entry.action == "change"
    assert entry.detail == "Two-factor authentication reset for police.om: Phone lost; called back"

    # The colleague's next sign-in goes to setting up a new app, not to the old code page.
    client = Client()
    client.post("/sign-in/", {"username": colleague.username, "password": PASSWORD})
    assert client.get("/cases/")["Location"].startswith("/sign-in/set-up-authenticator-app/")
    # API tokens are a separate credential and keep working.
    assert ApiToken.objects.filter(user=colleague).count() == 1 and token


def test_a_session_already_signed_in_stops_counting_as_two_factor_after_a_reset(client_for, partnership):
    colleague_session = client_for(partnership.police_om)
    assert colleague_session.get("/cases/").status_code == 200
    services.reset_two_factor(partnership.police_admin, user=partnership.police_om, reason="Phone stolen")
    assert colleague_session.get("/cases/")["Location"].startswith("/sign-in/set-up-authenticator-app/")


def test_an_administrator_of_another_agency_cannot_reset_and_is_told_nothing(client_for, partnership):
    target = partnership.police_om
    with_app(target)
    probation_admin = UserFactory(username="probation.admin", agency=partnership.probation, role=Role.AGENCY_ADMIN)
    client = client_for(probation_admin)
    assert "police.om" not in client.get("/account/staff/").content.decode()
    assert client.get(f"/account/staff/{target.pk}/reset-two-factor/").status_code == 404
    assert client.post(f"/account/staff/{target.pk}/reset-two-factor/", {"reason": "x"}).status_code == 404
    assert client.get("/account/staff/987654321/reset-two-factor/").status_code == 404
    assert TOTPDevice.objects.filter(user=target).exists()
    with pytest.raises(PermissionDenied):
        services.reset_two_factor(probation_admin, user=target, reason="x")
    assert not AccessLogEntry.objects.filter(object_type="cases.user").exists()


def test_staff_who_are_not_administrators_are_refused(client_for, partnership):
    with_app(partnership.police_admin)
    for user in (partnership.police_om, partnership.police_reader, partnership.analyst):
        client = client_for(user)
        assert client.get("/account/staff/").status_code == 403
        assert client.post(f"/account/staff/{partnership.police_admin.pk}/reset-two-factor/",
                           {"reason": "x"}).status_code == 403
    assert TOTPDevice.objects.filter(user=partnership.police_admin).exists()


def test_an_agency_administrator_cannot_reset_a_superuser_or_themselves(client_for, partnership):
    superuser = UserFactory(username="system.admin", agency=partnership.police, is_superuser=True)
    with_app(superuser)
    client = client_for(partnership.police_admin)
    assert client.get(f"/account/staff/{superuser.pk}/reset-two-factor/").status_code == 404
    assert client.get(f"/account/staff/{partnership.police_admin.pk}/reset-two-factor/").status_code == 404
    assert TOTPDevice.objects.filter(user=superuser).exists()


def test_a_superuser_resets_anyone_in_any_agency(client_for, partnership):
    superuser = UserFactory(username="system.admin", agency=None, is_superuser=True)
    other_agency = AgencyFactory(name="Elsewhere Probation")
    far_away = UserFactory(username="far.away", agency=other_agency, role=Role.OFFENDER_MANAGER)
    with_app(far_away)
    client = client_for(superuser)
    listing = client.get("/account/staff/").content.decode()
    assert "far.away" in listing and "Elsewhere Probation" in listing
    client.post(f"/account/staff/{far_away.pk}/reset-two-factor/", {"reason": "Locked out, verified by phone"})
    assert not TOTPDevice.objects.filter(user=far_away).exists()
    assert AccessLogEntry.objects.filter(username="system.admin", object_id=str(far_away.pk)).exists()


def test_the_staff_list_runs_the_same_queries_for_more_staff(client_for, partnership):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_for(partnership.police_admin)
    client.get("/account/staff/")
    with CaptureQueriesContext(connection) as few:
        client.get("/account/staff/")
    for n in range(20):
        person = UserFactory(username=f"extra.{n}", agency=partnership.police, role=Role.OFFENDER_MANAGER)
        with_app(person)
        services.create_backup_codes(person)
    with CaptureQueriesContext(connection) as many:
        page = client.get("/account/staff/")
    assert "extra.19" in page.content.decode()
    assert len(many) == len(few)
