"""Field-level history: every change to a person, a cohort membership, an action or a referral keeps the
values before and after, and who made it, shown on the person's activity log to those who may see them."""

import datetime

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import AccessLogEntry
from history.changes import describe_changes
from history.models import ActionChange, MembershipChange, PersonChange, ReferralChange
from pathways import services as pathways
from pathways.models import Service

from .pathways_factories import pathway
from .test_case_record import person_form_data

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def edit_form(partnership, person, **changes):
    return person_form_data(partnership, **{
        "first_names": person.first_names, "last_name": person.last_name, "version": person.version,
        "date_of_birth_day": person.date_of_birth.day, "date_of_birth_month": person.date_of_birth.month,
        "date_of_birth_year": person.date_of_birth.year, "gender": person.gender, "ethnicity": person.ethnicity,
        "pnc_number": person.pnc_number, "crn": person.crn, "address": person.address, "postcode": person.postcode,
        "aliases": "", "lead_offender_manager": person.lead_offender_manager_id or "", **changes,
    })


def change_entries(response):
    return [row["entry"] for row in response.context["entries"] if row["entry"].tag == "Changed"]


@pytest.fixture
def moved(partnership, client_for):
    """The police offender manager records, through the form, that Jordan has moved."""
    p = partnership
    person = p.iom_person
    person.address = "14 Mill Lane, Northtown"
    person.save()
    response = client_for(p.police_om).post(
        reverse("cases:edit", args=[person.pk]), edit_form(p, person, address="2 Station Road, Northtown")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    person.refresh_from_db()
    return person


def test_the_triggers_keep_the_values_before_a_change_and_who_made_it(partnership, moved):
    assert connection.vendor == "postgresql"
    change = PersonChange.objects.filter(pgh_obj=moved).latest("pgh_id")
    assert change.address == "14 Mill Lane, Northtown"
    assert change.pgh_context["user"] == partnership.police_om.pk
    assert change.pgh_context["url"] == f"/cases/{moved.pk}/edit/"


def test_the_activity_log_says_what_changed_from_what_to_what_and_who(partnership, client_for, moved):
    response = client_for(partnership.probation_om).get(reverse("cases:activity", args=[moved.pk]))
    entry, earlier = change_entries(response)  # newest first; the fixture's own save came before
    assert entry.title == "Personal details changed"
    assert entry.text == "Changed address from “14 Mill Lane, Northtown” to “2 Station Road, Northtown”"
    assert entry.who == str(partnership.police_om)
    body = response.content.decode()
    assert "Changed address from “14 Mill Lane, Northtown” to “2 Station Road, Northtown”" in body
    assert earlier.text.endswith("to “14 Mill Lane, Northtown”")
    assert earlier.who == "a partner system's feed or a scheduled task"  # saved outside any request


def test_each_change_shows_its_own_step_and_unchanged_saves_leave_no_history(partnership, moved):
    p = partnership
    person = moved
    services.update_offender(p.police_om, person, expected_version=person.version, postcode="NT2 2BB",
                             lead_offender_manager=p.police_admin)
    services.update_offender(p.police_om, person, expected_version=person.version, postcode="NT2 2BB")
    assert PersonChange.objects.filter(pgh_obj=person).count() == 3  # the last save changed nothing
    _fixture, first, second = (describe_changes(PersonChange, [c.pk])[c.pk]
                               for c in PersonChange.objects.filter(pgh_obj=person).order_by("pgh_id"))
    assert first.lines == ["Changed address from “14 Mill Lane, Northtown” to “2 Station Road, Northtown”"]
    assert sorted(second.lines) == [
        f"Changed lead offender manager from {p.police_om} to {p.police_admin}",
        "Changed postcode from not set to “NT2 2BB”",
    ]


def test_history_is_visible_only_with_the_person(partnership, client_for, moved):
    p = partnership
    url = reverse("cases:activity", args=[moved.pk])
    assert client_for(p.housing_om).get(url).status_code == 404  # housing may not see Jordan
    assert client_for(p.analyst).get(url).status_code in (403, 404)
    # Nor does the history leak through another person's log.
    other = client_for(p.probation_om).get(reverse("cases:activity", args=[p.police_only_person.pk]))
    assert other.status_code == 404
    own = client_for(p.police_om).get(reverse("cases:activity", args=[p.police_only_person.pk]))
    assert change_entries(own) == []
    assert "Mill Lane" not in own.content.decode()


def test_cohort_action_and_referral_changes_are_described(partnership, client_for):
    p = partnership
    person = p.iom_person
    membership = person.cohort_memberships.get()
    services.end_cohort_membership(p.police_om, membership, ended_on=timezone.localdate(), exit_reason="completed")
    action = pathways.create_action(p.police_om, person, pathway=pathway("accommodation"),
                                    description="Find a hostel place", owner_agency=p.police,
                                    due_on=timezone.localdate() + 7 * DAY)
    pathways.update_action(p.police_om, action, expected_version=action.version, status="in_progress",
                           due_on=timezone.localdate() + 14 * DAY)
    service = Service.objects.create(name="Housing advice", pathway=pathway("accommodation"),
                                     provider=p.police)
    referral = pathways.record_referral(p.police_om, person, service=service, reason="Sofa surfing")
    pathways.update_referral(p.police_om, referral, expected_version=referral.version, status="withdrawn",
                             ended_on=timezone.localdate(), outcome="Found his own room")
    assert MembershipChange.objects.filter(offender=person).count() == 1
    assert ActionChange.objects.filter(offender=person).count() == 1
    assert ReferralChange.objects.filter(offender=person).count() == 1

    response = client_for(p.police_om).get(reverse("cases:activity", args=[person.pk]))
    entries = {entry.title: entry for entry in change_entries(response)}
    assert "Changed exit reason from not set to Completed or order ended" in entries[
        "Cohort membership changed: IOM (fixed)"].text
    action_change = entries["Action changed: Find a hostel place"].text
    assert "Changed status from Open to In progress" in action_change
    assert "Changed due date" in action_change or "Changed due on" in action_change
    assert "Changed status from Referred to Withdrawn" in entries["Referral to Housing advice changed"].text

    narrowed = client_for(p.police_om).get(reverse("cases:activity", args=[person.pk]),
                                              {"category": "referral_changes"})
    assert narrowed.status_code == 200, narrowed
    assert [e.title for e in change_entries(narrowed)] == ["Referral to Housing advice changed"]


def test_erasing_the_person_erases_their_history(partnership, moved):
    p = partnership
    action = pathways.create_action(p.police_om, moved, pathway=pathway("accommodation"),
                                    description="Find a hostel place", owner_agency=p.police,
                                    due_on=timezone.localdate() + 7 * DAY)
    pathways.update_action(p.police_om, action, expected_version=action.version, status="in_progress")
    person_id = moved.pk
    assert ActionChange.objects.filter(offender_id=person_id).exists()
    services.erase_offender(p.police_admin, moved, reason="Data retention review")
    assert not PersonChange.objects.filter(pgh_obj_id=person_id).exists()
    assert not ActionChange.objects.filter(offender_id=person_id).exists()
    assert AccessLogEntry.objects.filter(offender_id=person_id, action="delete").exists()


def test_changes_made_outside_a_request_are_put_down_to_the_user_named_and_no_one_after(partnership):
    from history.middleware import changes_made_by

    p = partnership
    person = p.iom_person
    with changes_made_by(p.police_om, url="/scripts/move"):
        services.update_offender(p.police_om, person, expected_version=person.version, postcode="NT9 9ZZ")
    services.update_offender(p.police_om, person, expected_version=person.version, postcode="NT8 8YY")
    named, after = PersonChange.objects.filter(pgh_obj=person).order_by("pgh_id")
    assert named.pgh_context == {"user": p.police_om.pk, "url": "/scripts/move"}
    assert after.pgh_context is None


def test_the_personal_details_page_links_to_their_changes(partnership, client_for):
    response = client_for(partnership.probation_om).get(reverse("cases:personal", args=[partnership.iom_person.pk]))
    assert "?category=person_changes&amp;category=membership_changes" in response.content.decode()
