"""Who may own an action: staff of the owning agency whose role can update it; never the OPCC or an analyst.

The same rule in the service, the browser's form and the API (which answers with the service's reason).
"""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.models import Role
from panels.forms import MeetingActionForm
from panels.models import Panel, PanelMembership
from pathways import services
from pathways.forms import ActionForm, ActionUpdateForm
from pathways.models import Action, possible_action_owners

from .factories import UserFactory
from .pathways_factories import ActionFactory, pathway

pytestmark = pytest.mark.django_db

API = "/api/v1"
NEXT_WEEK = timezone.localdate() + datetime.timedelta(days=7)


@pytest.fixture
def staff(partnership):
    p = partnership
    p.police_chair = UserFactory(username="police.chair", agency=p.police, role=Role.PANEL_CHAIR)
    p.police_leaver = UserFactory(username="police.leaver", agency=p.police, role=Role.OFFENDER_MANAGER,
                                  is_active=False)
    p.opcc_admin = UserFactory(username="opcc.admin", agency=p.opcc, role=Role.AGENCY_ADMIN)
    return p


def create(p, **fields):
    return services.create_action(p.police_om, p.iom_person, pathway=pathway("accommodation"),
                                  description="Rent deposit", due_on=NEXT_WEEK, **fields)


def test_only_active_staff_in_a_role_that_can_update_actions_may_own_them(staff):
    p = staff
    assert set(possible_action_owners(p.police)) == {p.police_om, p.police_admin, p.police_chair}
    # The OPCC owns no actions, whatever its staff's roles.
    assert not possible_action_owners(p.opcc).exists()
    assert p.analyst not in possible_action_owners() and p.opcc_admin not in possible_action_owners()


@pytest.mark.parametrize("who, field", [
    ("police_reader", "owner"), ("police_leaver", "owner"), ("probation_om", "owner"), ("analyst", "owner"),
])
def test_the_service_refuses_an_owner_who_cannot_act_for_the_owning_agency(staff, who, field):
    with pytest.raises(ValidationError) as refusal:
        create(staff, owner_agency=staff.police, owner=getattr(staff, who))
    assert field in refusal.value.message_dict
    assert not Action.objects.exists()


def test_the_service_refuses_the_opcc_as_owner_agency(staff):
    with pytest.raises(ValidationError) as refusal:
        create(staff, owner_agency=staff.opcc)
    assert "cannot own actions" in refusal.value.message_dict["owner_agency"][0]
    with pytest.raises(ValidationError):
        create(staff, owner_agency=staff.opcc, owner=staff.opcc_admin)
    assert not Action.objects.exists()


def test_the_owner_of_an_existing_action_can_only_become_someone_who_can_act(staff):
    p = staff
    action = create(p, owner_agency=p.police, owner=p.police_om)
    with pytest.raises(ValidationError) as refusal:
        services.update_action(p.police_om, action, expected_version=action.version, owner=p.police_reader)
    assert "owner" in refusal.value.message_dict
    services.update_action(p.police_om, action, expected_version=action.version, owner=p.police_chair)
    assert Action.objects.get(pk=action.pk).owner == p.police_chair


def test_the_new_action_form_offers_only_the_owning_agencys_staff_who_can_act(staff):
    p = staff
    form = ActionForm(initial={"owner_agency": p.police.pk})
    assert set(form.fields["owner"].queryset) == {p.police_om, p.police_admin, p.police_chair}
    assert p.opcc not in form.fields["owner_agency"].queryset
    assert p.probation in form.fields["owner_agency"].queryset
    # After choosing probation, probation's staff are offered.
    bound = ActionForm({"owner_agency": p.probation.pk})
    assert set(bound.fields["owner"].queryset) == {p.probation_om}


def test_the_action_update_form_offers_only_the_owning_agencys_staff_who_can_act(staff):
    action = ActionFactory(offender=staff.iom_person, owner_agency=staff.police)
    form = ActionUpdateForm(action=action)
    assert set(form.fields["owner"].queryset) == {staff.police_om, staff.police_admin, staff.police_chair}


def test_the_browser_refuses_another_agencys_person_and_the_opcc_with_clear_errors(staff, client_for):
    p = staff
    client = client_for(p.police_om)
    url = reverse("pathways:action_create", args=[p.iom_person.pk])
    page = client.get(url).content.decode()
    assert p.police_chair.get_full_name() in page and p.police_reader.get_full_name() not in page
    assert p.opcc.name not in page and p.probation_om.get_full_name() not in page
    data = {"pathway": pathway("accommodation").pk, "description": "Rent deposit", "due_on_day": NEXT_WEEK.day,
            "due_on_month": NEXT_WEEK.month, "due_on_year": NEXT_WEEK.year}
    # Probation chosen, with a police officer still selected from the list shown before.
    response = client.post(url, data | {"owner_agency": p.probation.pk, "owner": p.police_om.pk})
    assert response.status_code == 200
    assert "Choose a member of staff of Probation Service North from the list, or nobody." in response.content.decode()
    assert p.probation_om.get_full_name() in response.content.decode()  # the list now offers probation's staff
    response = client.post(url, data | {"owner_agency": p.police.pk, "owner": p.police_reader.pk})
    assert response.status_code == 200 and "from the list" in response.content.decode()
    response = client.post(url, data | {"owner_agency": p.opcc.pk})
    assert response.status_code == 200
    assert not Action.objects.exists()
    response = client.post(url, data | {"owner_agency": p.probation.pk, "owner": p.probation_om.pk})
    assert response.status_code == 302
    assert Action.objects.get().owner == p.probation_om


def test_the_api_refuses_owners_who_cannot_act_with_the_services_reason(staff, api_for):
    p = staff
    api = api_for(p.police_om)
    url = f"{API}/people/{p.iom_person.pk}/actions/"
    body = {"pathway": "accommodation", "description": "Rent deposit", "due_on": NEXT_WEEK.isoformat()}
    refused = api.post(url, body | {"owner_agency": p.police.pk, "owner": p.police_reader.pk}, format="json")
    assert refused.status_code == 400 and "cannot update actions" in refused.json()["owner"][0]
    refused = api.post(url, body | {"owner_agency": p.opcc.pk}, format="json")
    assert refused.status_code == 400 and "cannot own actions" in refused.json()["owner_agency"][0]
    refused = api.post(url, body | {"owner_agency": p.opcc.pk, "owner": p.analyst.pk}, format="json")
    assert refused.status_code == 400
    assert not Action.objects.exists()
    created = api.post(url, body | {"owner_agency": p.police.pk, "owner": p.police_chair.pk}, format="json")
    assert created.status_code == 201, created.json()
    change = api.patch(f"{API}/actions/{created.json()['id']}/", {"owner": p.police_reader.pk, "version": 1},
                       format="json")
    assert change.status_code == 400 and "owner" in change.json()


def test_a_panel_never_offers_the_opcc_or_staff_who_cannot_act(staff):
    p = staff
    chair = p.police_chair
    panel = Panel.objects.create(name="Northtown IOM", kind="iom_main", area=p.area, chair=chair)
    for agency in (p.police, p.probation, p.opcc):
        PanelMembership.objects.create(panel=panel, agency=agency)
    form = MeetingActionForm(panel=panel)
    assert set(form.fields["owner_agency"].queryset) == {p.police, p.probation}
    assert set(form.fields["owner"].queryset) == {p.police_om, p.police_admin, p.police_chair, p.probation_om}
