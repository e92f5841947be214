"""Sharing a case beyond the sharing agreement: who shared it, why, when and until when; withdrawing it ends
the other agency's view at once."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import AccessLogEntry, CaseShare, Offender

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def sees(user, person):
    return Offender.objects.visible_to(user).filter(pk=person.pk).exists()


def test_a_share_records_who_why_and_when_and_opens_the_case(partnership):
    p = partnership
    share = services.share_with_agency(p.police_om, p.police_only_person, p.housing, reason="Housing referral",
                                       ends_on=timezone.localdate() + 30 * DAY)
    assert (share.shared_by, share.shared_by_agency, share.reason) == (p.police_om, p.police, "Housing referral")
    assert share.shared_at <= timezone.now() and share.state == "active"
    assert sees(p.housing_om, p.police_only_person) and not sees(p.probation_om, p.police_only_person)
    logged = AccessLogEntry.objects.get(action="share")
    assert "Northtown Council Housing" in logged.detail and "Housing referral" in logged.detail


def test_withdrawing_a_share_removes_visibility_at_once_and_keeps_the_history(partnership, client_for):
    p = partnership
    person = p.police_only_person
    share = services.share_with_agency(p.police_om, person, p.housing, reason="Housing referral")
    housing = client_for(p.housing_om)
    assert housing.get(person.get_absolute_url()).status_code == 200
    services.withdraw_share(p.police_om, share, reason="Referral closed")
    assert not sees(p.housing_om, person)
    for url in (person.get_absolute_url(), reverse("cases:activity", args=[person.pk]),
                reverse("cases:section_risk", args=[person.pk]), reverse("pathways:person", args=[person.pk])):
        assert housing.get(url).status_code == 404, url
    assert b"BLACKWOOD" not in housing.get("/cases/", {"q": "Blackwood"}).content
    share.refresh_from_db()
    assert (share.withdrawn_by, share.withdrawal_reason, share.state) == (p.police_om, "Referral closed", "withdrawn")
    with pytest.raises(ValidationError, match="already been withdrawn"):
        services.withdraw_share(p.police_om, share, reason="Again")


def test_a_share_ends_after_its_end_date(partnership):
    p = partnership
    share = services.share_with_agency(p.police_om, p.police_only_person, p.housing, reason="For the panel",
                                       ends_on=timezone.localdate())
    assert sees(p.housing_om, p.police_only_person)  # the end date is the last day it is shared
    CaseShare.objects.filter(pk=share.pk).update(ends_on=timezone.localdate() - DAY)
    assert not sees(p.housing_om, p.police_only_person)
    assert CaseShare.objects.get(pk=share.pk).state == "ended"
    with pytest.raises(ValidationError, match="cannot be in the past"):
        services.share_with_agency(p.police_om, p.police_only_person, p.housing, reason="Again",
                                   ends_on=timezone.localdate() - DAY)


def test_sharing_again_replaces_the_share_and_a_reason_is_needed(partnership):
    p = partnership
    first = services.share_with_agency(p.police_om, p.police_only_person, p.housing, reason="First")
    second = services.share_with_agency(p.police_om, p.police_only_person, p.housing, reason="Extended",
                                        ends_on=timezone.localdate() + 10 * DAY)
    first.refresh_from_db()
    assert first.state == "withdrawn" and second.state == "active"
    with pytest.raises(ValidationError, match="why the case is being shared"):
        services.share_with_agency(p.police_om, p.police_only_person, p.housing, reason="  ")
    with pytest.raises(ValidationError, match="already see the case"):
        services.share_with_agency(p.police_om, p.police_only_person, p.police, reason="Mine")


def test_only_the_sharing_or_lead_agency_may_withdraw(partnership, client_for):
    p = partnership
    share = services.share_with_agency(p.police_om, p.iom_person, p.housing, reason="Referral")
    url = reverse("cases:share_withdraw", args=[p.iom_person.pk, share.pk])
    # Probation sees the person under the agreement but neither shared nor leads the case.
    with pytest.raises(PermissionDenied):
        services.withdraw_share(p.probation_om, share, reason="Not ours")
    assert client_for(p.probation_om).post(url, {"reason": "x"}).status_code == 403
    assert client_for(p.police_reader).post(url, {"reason": "x"}).status_code == 403
    assert client_for(p.housing_om).post(url, {"reason": "x"}).status_code == 403
    empty = client_for(p.police_om).post(url, {"reason": ""})
    assert empty.status_code == 200 and "Enter why you are withdrawing the share" in empty.content.decode()
    done = client_for(p.police_om).post(url, {"reason": "Support ended"})
    assert done.status_code == 302 and not sees(p.housing_om, p.iom_person)


def test_the_personal_details_page_lists_shares_with_their_state(partnership, client_for):
    p = partnership
    client = client_for(p.police_om)
    response = client.post(reverse("cases:share", args=[p.iom_person.pk]), {
        "agency": p.housing.pk, "reason": "Rent arrears support", "ends_on_day": "1", "ends_on_month": "1",
        "ends_on_year": str(timezone.localdate().year + 1),
    })
    assert response.status_code == 302
    page = client.get(reverse("cases:personal", args=[p.iom_person.pk])).content.decode()
    assert "Rent arrears support" in page and f"Until 1 Jan {timezone.localdate().year + 1}" in page
    assert "Withdraw<span class=\"govuk-visually-hidden\"> the share with Northtown Council Housing" in page
