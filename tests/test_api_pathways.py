"""The REST API for needs, actions and referrals."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from pathways.models import Action, NeedAssessment, Referral

from .pathways_factories import ActionFactory, NeedAssessmentFactory, ReferralFactory, ServiceFactory

API = "/api/v1"


def in_a_week():
    return (timezone.localdate() + datetime.timedelta(days=7)).isoformat()


def test_record_a_need_and_list_the_history(partnership, api_for):
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/needs/"
    created = client.post(url, {"pathway": "accommodation", "level": "significant", "rationale": "NFA"},
                          format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["pathway"] == "accommodation"
    assert client.post(url, {"pathway": "nonsense", "level": "some"}, format="json").status_code == 400
    with_nul = client.post(url, {"pathway": "accommodation\x00", "level": "some"}, format="json")
    assert with_nul.status_code == 400 and "pathway" in with_nul.json()
    assert client.post(url, {"pathway": "accommodation", "level": "huge"}, format="json").status_code == 400
    assert client.get(url).json()["count"] == 1


def test_create_an_action_for_another_agency_and_only_that_agency_updates_it(partnership, api_for):
    police = api_for(partnership.police_om)
    created = police.post(
        f"{API}/people/{partnership.iom_person.pk}/actions/",
        {"pathway": "accommodation", "description": "Rent deposit scheme", "owner_agency": partnership.probation.pk,
         "due_on": in_a_week()},
        format="json",
    )
    assert created.status_code == 201, created.json()
    action = created.json()
    assert action["status"] == "open" and action["version"] == 1 and not action["overdue"]
    url = f"{API}/actions/{action['id']}/"
    assert police.patch(url, {"status": "done", "version": 1}, format="json").status_code == 403
    probation = api_for(partnership.probation_om)
    done = probation.patch(url, {"status": "done", "outcome": "Deposit paid", "version": 1}, format="json")
    assert done.status_code == 200, done.json()
    assert done.json()["status"] == "done" and done.json()["completed_on"] and done.json()["version"] == 2
    stale = probation.patch(url, {"status": "open", "version": 1}, format="json")
    assert stale.status_code == 409 and stale.json()["version"] == 2
    assert stale.json()["changed"] == {"status": {"current": "done", "yours": "open"}}
    assert stale.json()["current"]["outcome"] == "Deposit paid"
    assert probation.patch(url, {"status": "later", "version": 2}, format="json").status_code == 400
    assert probation.patch(url, {"status": "open"}, format="json").status_code == 400


def test_action_input_errors_are_400(partnership, api_for):
    client = api_for(partnership.police_om)
    url = f"{API}/people/{partnership.iom_person.pk}/actions/"
    response = client.post(url, {"pathway": "accommodation", "description": "x", "owner_agency": partnership.police.pk,
                                 "due_on": "2000-01-01"}, format="json")
    assert response.status_code == 400 and "due_on" in response.json()
    other_persons_need = NeedAssessmentFactory(offender=partnership.police_only_person)
    response = client.post(url, {"pathway": "accommodation", "description": "x", "owner_agency": partnership.police.pk,
                                 "due_on": in_a_week(), "need": other_persons_need.pk}, format="json")
    assert response.status_code == 400 and "need" in response.json()


def test_actions_list_filters_and_hides_people_the_agency_may_not_see(partnership, api_for):
    seen = ActionFactory(offender=partnership.iom_person, owner_agency=partnership.probation)
    overdue = ActionFactory(offender=partnership.iom_person, owner_agency=partnership.police,
                            raised_on=timezone.localdate() - datetime.timedelta(days=30),
                            due_on=timezone.localdate() - datetime.timedelta(days=1))
    hidden = ActionFactory(offender=partnership.police_only_person, owner_agency=partnership.police)
    probation = api_for(partnership.probation_om)
    ids = {a["id"] for a in probation.get(f"{API}/actions/").json()["results"]}
    assert ids == {seen.pk, overdue.pk}
    assert [a["id"] for a in probation.get(f"{API}/actions/", {"overdue": "true"}).json()["results"]] == [overdue.pk]
    mine = probation.get(f"{API}/actions/", {"owner_agency": partnership.probation.pk}).json()["results"]
    assert [a["id"] for a in mine] == [seen.pk]
    assert probation.get(f"{API}/actions/{hidden.pk}/").status_code == 404
    assert probation.patch(f"{API}/actions/{hidden.pk}/", {"status": "done", "version": 1},
                           format="json").status_code == 404
    assert api_for(partnership.police_om).get(f"{API}/actions/{hidden.pk}/").status_code == 200


def test_refer_to_a_service_and_record_progress(partnership, api_for):
    service = ServiceFactory(provider=partnership.housing, name="Rent deposit scheme")
    police = api_for(partnership.police_om)
    created = police.post(f"{API}/people/{partnership.iom_person.pk}/referrals/",
                          {"service": service.pk, "urgency": "emergency", "reason": "Released NFA"}, format="json")
    assert created.status_code == 201, created.json()
    url = f"{API}/referrals/{created.json()['id']}/"
    # The provider's agency does not see the person until the case is shared with it.
    assert api_for(partnership.housing_om).get(url).status_code == 404
    accepted = police.patch(url, {"status": "accepted", "version": 1}, format="json")
    assert accepted.status_code == 400 and "decided_on" in accepted.json()
    accepted = police.patch(url, {"status": "accepted", "decided_on": timezone.localdate().isoformat(),
                                  "version": 1}, format="json")
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    assert police.patch(url, {"status": "withdrawn", "version": 1}, format="json").status_code == 409
    assert api_for(partnership.probation_om).patch(url, {"outcome": "x", "version": 2},
                                                   format="json").status_code == 403


@pytest.mark.parametrize("suffix", ["needs/", "actions/", "referrals/"])
def test_a_persons_pathway_records_are_404_to_agencies_that_may_not_see_them(partnership, api_for, suffix):
    hidden = partnership.police_only_person
    client = api_for(partnership.probation_om)
    assert client.get(f"{API}/people/{hidden.pk}/{suffix}").status_code == 404
    assert client.post(f"{API}/people/{hidden.pk}/{suffix}", {}, format="json").status_code == 404
    assert api_for(partnership.analyst).get(f"{API}/people/{hidden.pk}/{suffix}").status_code == 403
    assert api_for(partnership.police_reader).post(f"{API}/people/{hidden.pk}/{suffix}", {},
                                                   format="json").status_code == 403


def test_hidden_referrals_are_not_listed_and_analysts_are_refused(partnership, api_for):
    ReferralFactory(offender=partnership.police_only_person, referring_agency=partnership.police)
    assert api_for(partnership.probation_om).get(f"{API}/referrals/").json()["count"] == 0
    assert api_for(partnership.police_om).get(f"{API}/referrals/").json()["count"] == 1
    assert api_for(partnership.analyst).get(f"{API}/referrals/").status_code == 403
    assert api_for(partnership.analyst).get(f"{API}/actions/").status_code == 403


def test_the_catalogue_is_open_to_every_signed_in_user(partnership, api_for):
    ServiceFactory(name="Jobcentre drop-in")
    analyst = api_for(partnership.analyst)
    assert analyst.get(f"{API}/pathways/").json()["count"] >= 10
    assert analyst.get(f"{API}/services/").json()["count"] == 1
    assert APIClient().get(f"{API}/pathways/").status_code == 401


def test_action_list_uses_a_constant_number_of_queries(partnership, api_for, django_assert_max_num_queries):
    client = api_for(partnership.police_om)
    ActionFactory(offender=partnership.iom_person, owner_agency=partnership.police)
    with django_assert_max_num_queries(6):
        client.get(f"{API}/actions/")
    for _ in range(25):
        ActionFactory(offender=partnership.iom_person, owner_agency=partnership.police)
    with django_assert_max_num_queries(6):
        assert len(client.get(f"{API}/actions/").json()["results"]) == 26
    assert Action.objects.count() == 26 and not NeedAssessment.objects.exists() and not Referral.objects.exists()
