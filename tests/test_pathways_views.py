"""Pathways in the browser: assessing, action plans, referrals, my actions, and who may see and change what."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import AccessLogEntry
from pathways.models import (
    AccommodationStatus,
    Action,
    NeedAssessment,
    Pathway,
    Referral,
)

from .factories import OffenderFactory, UserFactory
from .pathways_factories import (
    ActionFactory,
    NeedAssessmentFactory,
    ReferralFactory,
    ServiceFactory,
    pathway,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def date_parts(name, day):
    return {f"{name}_day": day.day, f"{name}_month": day.month, f"{name}_year": day.year}


def test_offender_manager_assesses_all_pathways_and_reassessment_keeps_history(partnership, client_for):
    p = partnership
    client = client_for(p.police_om)
    url = reverse("pathways:assess", args=[p.iom_person.pk])
    assert client.get(url).status_code == 200
    data = date_parts("assessed_on", TODAY - 7 * DAY)
    for p_ in Pathway.objects.in_use():
        data[f"level_{p_.key}"] = "none"
    data |= {"level_accommodation": "significant", "rationale_accommodation": "No fixed abode since release.",
             "level_drugs": "some", "rationale_drugs": "Uses cannabis daily."}
    response = client.post(url, data)
    assert response.status_code == 302
    assert NeedAssessment.objects.filter(offender=p.iom_person).count() == Pathway.objects.in_use().count()

    # Saving again with one change adds one row; the earlier assessment stays.
    data |= date_parts("assessed_on", TODAY) | {"level_accommodation": "some",
                                                 "rationale_accommodation": "Hostel place found."}
    client.post(url, data)
    accommodation = NeedAssessment.objects.filter(offender=p.iom_person, pathway__key="accommodation")
    assert [a.level for a in accommodation.order_by("assessed_on")] == ["significant", "some"]
    page = client.get(reverse("pathways:person", args=[p.iom_person.pk]))
    assert "No fixed abode since release." in page.content.decode()
    assert "Hostel place found." in page.content.decode()


def test_a_need_without_a_reason_is_shown_in_the_error_summary_and_nothing_is_saved(partnership, client_for):
    p = partnership
    client = client_for(p.police_om)
    response = client.post(reverse("pathways:assess", args=[p.iom_person.pk]),
                           date_parts("assessed_on", TODAY) | {"level_accommodation": "significant",
                                                               "level_drugs": "extreme"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "govuk-error-summary" in body and "Say why there is a need on accommodation" in body
    assert "Select a valid choice" in body
    assert not NeedAssessment.objects.exists()


def test_actions_for_two_agencies_and_overdue_on_my_actions(partnership, client_for):
    p = partnership
    client = client_for(p.police_om)
    url = reverse("pathways:action_create", args=[p.iom_person.pk])
    accommodation = pathway("accommodation")
    for agency, owner in ((p.police, p.police_om), (p.housing, None)):
        response = client.post(url, {
            "pathway": accommodation.pk, "description": f"Task for {agency}", "owner_agency": agency.pk,
            "owner": owner.pk if owner else "", **date_parts("due_on", TODAY + 3 * DAY),
        })
        assert response.status_code == 302, response.content.decode()
    assert set(Action.objects.values_list("owner_agency", flat=True)) == {p.police.pk, p.housing.pk}
    # The council's housing team cannot see this IOM case, and the plan says so.
    plan = client.get(reverse("pathways:person", args=[p.iom_person.pk])).content.decode()
    assert plan.count("Cannot see this person") == 1

    Action.objects.filter(owner_agency=p.police).update(raised_on=TODAY - 10 * DAY, due_on=TODAY - DAY)
    page = client.get(reverse("pathways:my_actions"))
    body = page.content.decode()
    assert "Task for Northtown Police" in body and "Overdue" in body
    assert page.context["counts"]["overdue"] == 1
    agency_page = client.get(reverse("pathways:my_actions"), {"whose": "agency", "due": "overdue"})
    assert [a.description for a in agency_page.context["page"].object_list] == ["Task for Northtown Police"]


@pytest.mark.parametrize(("due", "listed"), [("open", 4), ("overdue", 1), ("soon", 3)])
def test_each_my_actions_filter_lists_as_many_as_it_says(partnership, client_for, due, listed):
    p = partnership
    for due_on in (TODAY - DAY, TODAY + DAY, TODAY + 2 * DAY, TODAY + 60 * DAY):
        ActionFactory(offender=p.iom_person, owner_agency=p.police, owner=p.police_om, due_on=due_on,
                      raised_on=TODAY - 10 * DAY)
    hidden = OffenderFactory(lead_agency=p.housing, area=p.area)
    ActionFactory(offender=hidden, owner_agency=p.police, owner=p.police_om, due_on=TODAY - DAY)
    page = client_for(p.police_om).get(reverse("pathways:my_actions"), {"due": due}).context["page"]
    assert page.paginator.count == listed == len(page.object_list)
    assert all(action.offender_id == p.iom_person.pk for action in page.object_list)


def test_bad_action_input_gets_clear_errors_and_writes_nothing(partnership, client_for):
    p = partnership
    client = client_for(p.police_om)
    url = reverse("pathways:action_create", args=[p.iom_person.pk])
    response = client.post(url, {"pathway": 999999, "description": "Find a flat", "owner_agency": p.housing.pk,
                                 **date_parts("due_on", TODAY - DAY)})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Select a pathway from the list." in body and "The due date cannot be in the past." in body
    response = client.post(url, {"pathway": pathway("ete").pk, "description": "x", "owner_agency": p.housing.pk,
                                 "owner": p.police_om.pk, "due_on_day": "31", "due_on_month": "2",
                                 "due_on_year": "2030"})
    assert "Enter a real date" in response.content.decode()
    assert not Action.objects.exists()


def test_owner_agency_updates_its_action(partnership, client_for):
    p = partnership
    action = ActionFactory(offender=p.iom_person, owner_agency=p.probation)
    client = client_for(p.probation_om)
    url = reverse("pathways:action_detail", args=[action.pk])
    assert client.get(url).context["editable"]
    response = client.post(url, {"version": 1, "status": "done", "outcome": "Placed on the CV workshop.",
                                 **date_parts("due_on", action.due_on), "owner": p.probation_om.pk})
    assert response.status_code == 302
    action.refresh_from_db()
    assert action.status == "done" and action.owner == p.probation_om and action.completed_on == TODAY


def test_another_agency_sees_the_action_read_only_and_cannot_post(partnership, client_for):
    p = partnership
    action = ActionFactory(offender=p.iom_person, owner_agency=p.probation)
    client = client_for(p.police_om)
    page = client.get(reverse("pathways:action_detail", args=[action.pk]))
    assert page.status_code == 200 and page.context["form"] is None
    assert "Only Probation Service North can update this action." in page.content.decode()
    response = client.post(reverse("pathways:action_detail", args=[action.pk]),
                           {"version": 1, "status": "cancelled", "outcome": "Not needed"})
    assert response.status_code == 403
    action.refresh_from_db()
    assert action.status == "open"


def test_a_stale_form_is_refused_with_a_message(partnership, client_for):
    p = partnership
    action = ActionFactory(offender=p.iom_person, owner_agency=p.police)
    Action.objects.filter(pk=action.pk).update(version=2, outcome="Someone else's note")
    client = client_for(p.police_om)
    response = client.post(reverse("pathways:action_detail", args=[action.pk]), {
        "version": 1, "status": "done", "outcome": "Mine", **date_parts("due_on", action.due_on),
    })
    assert response.status_code == 200
    assert "changed by someone else" in response.content.decode()
    action.refresh_from_db()
    assert action.outcome == "Someone else's note" and action.status == "open"


def test_a_person_the_agency_may_not_see_exposes_nothing(partnership, client_for):
    p = partnership
    hidden = p.police_only_person
    NeedAssessmentFactory(offender=hidden, rationale="Secret rationale")
    action = ActionFactory(offender=hidden, owner_agency=p.probation, description="Hidden task",
                           owner=p.probation_om, due_on=TODAY, raised_on=TODAY - 5 * DAY)
    Action.objects.filter(pk=action.pk).update(due_on=TODAY - DAY)
    referral = ReferralFactory(offender=hidden)
    client = client_for(p.probation_om)
    for name, args in [
        ("pathways:person", [hidden.pk]), ("pathways:assess", [hidden.pk]),
        ("pathways:action_create", [hidden.pk]), ("pathways:referral_create", [hidden.pk]),
        ("pathways:status_create", [hidden.pk, "accommodation"]),
        ("pathways:action_detail", [action.pk]), ("pathways:referral_detail", [referral.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 404, name
        assert client.post(reverse(name, args=args), {"version": 1, "status": "done"}).status_code == 404, name
    for whose in ("mine", "agency"):
        page = client.get(reverse("pathways:my_actions"), {"whose": whose})
        body = page.content.decode()
        assert "Hidden task" not in body and hidden.last_name.upper() not in body
        assert page.context["counts"]["open"] == 0
    assert not Action.objects.filter(status="done").exists()


def test_read_only_staff_may_look_but_not_work(partnership, client_for):
    p = partnership
    action = ActionFactory(offender=p.iom_person, owner_agency=p.police)
    client = client_for(p.police_reader)
    assert client.get(reverse("pathways:person", args=[p.iom_person.pk])).status_code == 200
    assert client.get(reverse("pathways:assess", args=[p.iom_person.pk])).status_code == 403
    assert client.get(reverse("pathways:action_detail", args=[action.pk])).context["form"] is None
    assert client.post(reverse("pathways:action_detail", args=[action.pk]), {"version": 1}).status_code == 403


def test_analysts_have_no_my_actions_page(partnership, client_for):
    assert client_for(partnership.analyst).get(reverse("pathways:my_actions")).status_code == 403


def test_referral_recorded_and_its_outcome(partnership, client_for):
    p = partnership
    service = ServiceFactory(name="Homeless Persons Unit", provider=p.housing, area=p.area)
    ServiceFactory(name="Elsewhere only", area=OffenderFactory().area)
    client = client_for(p.police_om)
    url = reverse("pathways:referral_create", args=[p.iom_person.pk])
    form_page = client.get(url)
    assert "Homeless Persons Unit" in form_page.content.decode()
    assert "Elsewhere only" not in form_page.content.decode()
    referred_at = timezone.localtime() - datetime.timedelta(hours=5)
    response = client.post(url, {"service": service.pk, "urgency": "emergency", "reason": "Sleeping rough",
                                 "referred_at": referred_at.strftime("%Y-%m-%dT%H:%M")})
    assert response.status_code == 302
    referral = Referral.objects.get()
    contact = timezone.localtime(referral.referred_at + datetime.timedelta(hours=3))
    response = client.post(reverse("pathways:referral_detail", args=[referral.pk]), {
        "version": 1, "status": "completed", "first_contact_at": contact.strftime("%Y-%m-%dT%H:%M"),
        **date_parts("decided_on", TODAY), **date_parts("started_on", TODAY), **date_parts("ended_on", TODAY),
        "outcome": "Housed in supported accommodation.",
    })
    assert response.status_code == 302, response.content.decode()
    referral.refresh_from_db()
    # The service sets no target of its own; an emergency is to be seen within 24 hours all the same.
    assert referral.status == "completed" and referral.met_contact_target is True
    assert referral.time_to_first_contact == datetime.timedelta(hours=3)


def test_referral_completed_without_dates_is_refused_clearly(partnership, client_for):
    p = partnership
    referral = ReferralFactory(offender=p.iom_person, referring_agency=p.police)
    response = client_for(p.police_om).post(reverse("pathways:referral_detail", args=[referral.pk]),
                                            {"version": 1, "status": "completed"})
    body = response.content.decode()
    assert response.status_code == 200 and "govuk-error-summary" in body
    assert "Enter the date the person started with the service" in body
    referral.refresh_from_db()
    assert referral.status == "referred" and referral.version == 1


def test_accommodation_on_the_day_of_release_is_recorded(partnership, client_for):
    p = partnership
    client = client_for(p.probation_om)
    response = client.post(reverse("pathways:status_create", args=[p.iom_person.pk, "accommodation"]), {
        "status": "approved_premises", "on_release_day": "on", **date_parts("effective_on", TODAY - 2 * DAY),
    })
    assert response.status_code == 302
    record = AccommodationStatus.objects.get()
    assert record.on_release_day and record.agency == p.probation
    assert client.get(reverse("pathways:status_create", args=[p.iom_person.pk, "nonsense"])).status_code == 404


def test_case_overview_shows_the_action_plan_and_the_pathways_tab_the_needs(partnership, client_for):
    p = partnership
    NeedAssessmentFactory(offender=p.iom_person, level="significant")
    ActionFactory(offender=p.iom_person, due_on=TODAY, raised_on=TODAY - 3 * DAY, description="Find a hostel bed")
    Action.objects.update(due_on=TODAY - DAY)
    AccommodationStatus.objects.create(offender=p.iom_person, status="no_fixed_abode", on_release_day=True,
                                       effective_on=TODAY - 3 * DAY)
    client = client_for(p.probation_om)
    body = client.get(reverse("cases:detail", args=[p.iom_person.pk])).content.decode()
    assert "Action plan" in body and "1 overdue" in body
    assert "Overdue action for" in body and "Find a hostel bed" in body  # needs your attention
    assert f'href="{reverse("pathways:person", args=[p.iom_person.pk])}"' in body  # the Pathways tab
    pathways = client.get(reverse("pathways:person", args=[p.iom_person.pk])).content.decode()
    assert "Significant need" in pathways and "Day of release" in pathways


def test_viewing_and_changing_are_access_logged(partnership, client_for):
    p = partnership
    action = ActionFactory(offender=p.iom_person, owner_agency=p.police, owner=p.police_om)
    client = client_for(p.police_om)
    client.get(reverse("pathways:person", args=[p.iom_person.pk]))
    client.get(reverse("pathways:action_detail", args=[action.pk]))
    client.get(reverse("pathways:my_actions"))
    client.post(reverse("pathways:action_detail", args=[action.pk]), {
        "version": 1, "status": "in_progress", **date_parts("due_on", action.due_on), "owner": p.police_om.pk,
    })
    entries = AccessLogEntry.objects.filter(user=p.police_om, offender_id=p.iom_person.pk)
    assert entries.filter(action="view", object_type="pathways.pathways").exists()
    assert entries.filter(action="view", object_type="pathways.action", object_id=str(action.pk)).exists()
    assert entries.filter(action="view", detail="My actions list").exists()
    assert entries.filter(action="change", object_type="pathways.action").exists()


def count_queries(client, url, data=None):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, data or {})
    assert response.status_code == 200
    return len(context.captured_queries)


def add_actions(partnership, count):
    for _ in range(count):
        person = OffenderFactory(area=partnership.area, lead_agency=partnership.police)
        ActionFactory(offender=person, owner_agency=partnership.police, owner=partnership.police_om,
                      pathway=pathway("ete"), due_on=TODAY + DAY)
        ActionFactory(offender=person, owner_agency=partnership.police,
                      owner=UserFactory(agency=partnership.police), due_on=TODAY + DAY)


@pytest.mark.parametrize("whose", ["mine", "agency"])
def test_my_actions_query_count_does_not_grow(partnership, client_for, django_assert_max_num_queries, whose):
    client = client_for(partnership.police_om)
    url = reverse("pathways:my_actions")
    add_actions(partnership, 2)
    small = count_queries(client, url, {"whose": whose})
    add_actions(partnership, 40)
    large = count_queries(client, url, {"whose": whose})
    assert small == large
    with django_assert_max_num_queries(14):
        client.get(url, {"whose": whose})


def test_pathways_page_query_count_does_not_grow(partnership, client_for):
    p = partnership
    client = client_for(p.police_om)
    url = reverse("pathways:person", args=[p.iom_person.pk])
    ActionFactory(offender=p.iom_person)
    small = count_queries(client, url)
    for key in ("ete", "drugs", "alcohol", "finance"):
        NeedAssessmentFactory(offender=p.iom_person, pathway=pathway(key))
        ActionFactory(offender=p.iom_person, pathway=pathway(key), owner=UserFactory(agency=p.police))
        ReferralFactory(offender=p.iom_person, service=ServiceFactory(pathway=pathway(key)))
        AccommodationStatus.objects.create(offender=p.iom_person, status="temporary")
    assert count_queries(client, url) == small


def test_a_retired_pathway_keeps_its_history_but_takes_no_new_work(partnership, client_for):
    p = partnership
    aces = pathway("aces")
    NeedAssessmentFactory(offender=p.iom_person, pathway=aces, rationale="Care history noted in 2024.")
    Pathway.objects.filter(pk=aces.pk).update(retired=True, name="Childhood experiences (old)")
    client = client_for(p.police_om)
    body = client.get(reverse("pathways:person", args=[p.iom_person.pk])).content.decode()
    assert "Childhood experiences (old) (retired)" in body and "Care history noted in 2024." in body
    assess = client.get(reverse("pathways:assess", args=[p.iom_person.pk]))
    assert "level_aces" not in assess.context["form"].fields
    response = client.post(reverse("pathways:action_create", args=[p.iom_person.pk]), {
        "pathway": aces.pk, "description": "x", "owner_agency": p.police.pk, **date_parts("due_on", TODAY),
    })
    assert "Select a pathway from the list." in response.content.decode()
    assert not Action.objects.exists()


def test_the_catalogue_and_directory_are_managed_in_the_admin(client_for):
    admin = UserFactory(username="sysadmin", agency=None, is_superuser=True, is_staff=True)
    client = client_for(admin)
    for model in ("pathway", "service", "needassessment", "action", "referral", "accommodationstatus"):
        assert client.get(f"/admin/pathways/{model}/").status_code == 200, model
    page = client.get(reverse("pathways:services"))
    assert page.status_code == 200
