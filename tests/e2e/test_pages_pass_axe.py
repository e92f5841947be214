"""Pages no journey passes through on its way: each still meets WCAG 2.2 AA as far as axe-core can tell
(no serious or critical finding), with JavaScript and without."""

import pytest

from cases import services as case_services

from .browser import give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("javascript", [True, False], ids=["with JavaScript", "without JavaScript"])
def test_personal_details_access_log_sharing_and_alert_settings_pass_axe(journey, partnership, javascript):
    p = partnership
    person = p.iom_person
    share = case_services.share_with_agency(p.police_om, person, p.housing, reason="Housing needs a tenancy check")
    give_authenticator_app(p.police_om)
    j = journey(f"pages checked with axe {'with' if javascript else 'without'} JavaScript", javascript=javascript)
    j.sign_in(p.police_om)
    for path, heading, title in (
        (f"/cases/{person.pk}/personal/", person.full_name, "personal details"),
        (f"/cases/{person.pk}/access-log/", None, "who viewed or changed the person"),
        (f"/cases/{person.pk}/share/", None, "share with another agency"),
        (f"/cases/{person.pk}/shares/{share.pk}/withdraw/", None, "withdraw a share"),
        ("/alerts/settings/", "Alert settings", "alert settings"),
    ):
        assert j.visit(path).status == 200, path
        if heading:
            j.expect_heading(heading)
        j.checkpoint(title)
