"""Journey 4: a member of staff without their phone signs in with a backup code, manages API tokens and
backup codes; their agency administrator resets a colleague's two-factor authentication."""

import pytest
from playwright.sync_api import expect

from accounts import services
from accounts.models import ApiToken

from .browser import PASSWORD, give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_staff_sign_in_with_a_backup_code_and_manage_tokens_and_codes(journey, partnership, javascript):
    user = partnership.police_om
    give_authenticator_app(user)
    code = services.create_backup_codes(user)[0]
    j = journey(f"4 account{'' if javascript else ' without javascript'}", javascript=javascript)

    j.visit("/")
    j.fill("Username", user.username)
    j.fill("Password", PASSWORD)
    j.press("Sign in")
    j.expect_heading("Enter your security code")
    j.follow("use a backup code")
    j.expect_heading("Use a backup code")
    j.press("Continue")
    j.follow_error("Enter one of your backup codes", j.field("Backup code"))
    j.checkpoint("backup code with an error")
    j.fill("Backup code", f"{code[:4]} {code[4:]}")
    j.press("Continue")
    expect(j.page.get_by_text("You have 9 backup codes left.")).to_be_visible()
    j.checkpoint("signed in with a backup code")

    j.follow("Your account")
    j.expect_heading("Your account")
    j.checkpoint("your account")
    j.follow("Manage API tokens")
    j.expect_heading("API tokens")
    j.fill("What is the token for? (optional)", "Housing sync")
    j.press("Create a token")
    j.expect_heading("Your new API token")
    token = j.page.locator("#api-token").inner_text()
    assert token.startswith("reo_")
    j.checkpoint("new API token")
    j.follow("I have copied the token")
    row = j.page.get_by_role("row").filter(has_text="Housing sync")
    expect(row).to_contain_text("Never")
    j.checkpoint("API tokens")
    j.follow("Withdraw token Housing sync", within=row, exact=False)
    j.expect_heading("Withdraw this API token?")
    j.checkpoint("withdraw a token")
    j.press("Withdraw the token")
    j.expect_success("The API token has been withdrawn")
    assert not ApiToken.objects.filter(user=user).exists()

    j.visit("/account/")
    j.follow("Create new backup codes")
    j.expect_heading("Create new backup codes")
    j.checkpoint("create new backup codes")
    j.press("Create new backup codes")
    j.expect_heading("Your new backup codes")
    expect(j.page.locator("#backup-codes li")).to_have_count(10)
    j.checkpoint("new backup codes")
    assert services.use_backup_code(user, code) is None


def test_an_administrator_resets_a_colleagues_two_factor_authentication(journey, partnership):
    admin, colleague = partnership.police_admin, partnership.police_om
    give_authenticator_app(admin)
    give_authenticator_app(colleague)
    j = journey("4 administrator resets two-factor")

    j.sign_in(admin)
    j.page.get_by_role("navigation", name="Primary navigation").get_by_role("link", name="Staff").click()
    j.expect_heading("Staff")
    j.checkpoint("staff")
    j.follow(f"Reset two-factor for {colleague.username}")
    j.expect_heading("Reset two-factor authentication")
    j.press("Reset two-factor authentication")
    j.follow_error("Enter why two-factor authentication is being reset", j.field("Why are you resetting it?"))
    j.checkpoint("reset with an error")
    j.fill("Why are you resetting it?", "Phone lost; identity checked by a call back")
    j.press("Reset two-factor authentication")
    j.expect_success("Two-factor authentication has been reset")
    j.checkpoint("reset done")
    row = j.page.get_by_role("row").filter(has_text=colleague.username)
    expect(row).to_contain_text("Not set up")
