"""Through the gate: the pre-release checklist, the releases board and the person's own plan."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.locking import ConcurrentEditError
from cases.models import AccessLogEntry, Agency, Cohort, Role, Supervision
from resettlement import calendar, services
from resettlement.models import (
    ChecklistItem,
    ChecklistItemType,
    ChecklistSettings,
    ItemStatus,
    PlanVersion,
    ReleaseChecklist,
)

from .factories import AgencyFactory, MembershipFactory, OffenderFactory, UserFactory
from .pathways_factories import AccommodationStatusFactory, pathway
from .resettlement_factories import ReleaseFactory

D = datetime.date


def next_friday(after):
    day = after
    while day.weekday() != calendar.FRIDAY or calendar.is_before_bank_holiday(day):
        day += datetime.timedelta(days=1)
    return day


@pytest.fixture
def prison(partnership):
    return AgencyFactory(name="HMP Northtown", kind=Agency.Kind.PRISON, area=partnership.area)


# The calendar of England and Wales.


@pytest.mark.parametrize(("day", "friday", "before_holiday"), [
    (D(2026, 4, 2), False, True),    # Thursday before Good Friday
    (D(2026, 8, 28), True, True),    # Friday before the late summer bank holiday
    (D(2026, 12, 4), True, False),   # an ordinary Friday
    (D(2026, 12, 23), False, False),  # Christmas Eve is a working day
    (D(2026, 12, 24), False, True),  # Christmas Day is a Friday
    (D(2027, 12, 24), True, True),   # Christmas Day on Saturday: the holidays move to Monday and Tuesday
])
def test_release_days_before_weekends_and_bank_holidays_are_told_apart(day, friday, before_holiday):
    assert calendar.is_friday(day) is friday
    assert calendar.is_before_bank_holiday(day) is before_holiday


def test_working_days_after_release_skip_weekends_and_bank_holidays():
    # Released Friday 28 August 2026: Monday 31 is a bank holiday, so day two is Wednesday 2 September.
    assert calendar.add_working_days(D(2026, 8, 28), 2) == D(2026, 9, 2)
    assert calendar.add_working_days(D(2026, 12, 4), 2) == D(2026, 12, 8)


# The checklist opens at the window.


def test_checklist_opens_when_release_comes_within_the_window(partnership, prison):
    today = D(2026, 3, 2)
    person = partnership.iom_person
    at_window = ReleaseFactory(offender=person, released_on=today + datetime.timedelta(weeks=12),
                               responsible_agency=prison)
    beyond = ReleaseFactory(offender=partnership.police_only_person, released_on=today + datetime.timedelta(
        weeks=12, days=1), responsible_agency=partnership.probation)
    already_out = ReleaseFactory(offender=person, released_on=today - datetime.timedelta(days=1),
                                 responsible_agency=prison)

    assert services.open_due_checklists(today) == 1
    checklist = ReleaseChecklist.objects.get()
    assert checklist.supervision == at_window and checklist.opened_on == today and checklist.opened_by is None
    assert checklist.prison == prison
    assert not ReleaseChecklist.objects.filter(supervision__in=[beyond, already_out]).exists()
    # Run again (the next day, or twice): nothing opens twice.
    assert services.open_due_checklists(today) == 0
    assert services.open_due_checklists(today + datetime.timedelta(days=1)) == 1
    assert ReleaseChecklist.objects.filter(supervision=beyond).exists()


def test_checklist_has_every_item_in_use_with_the_local_agency_of_its_kind_as_owner(partnership, prison):
    other_area_council = AgencyFactory(name="Southtown Council", kind=Agency.Kind.LOCAL_AUTHORITY)
    ChecklistItemType.objects.filter(key="travel").update(retired=True)
    ReleaseFactory(offender=partnership.iom_person, responsible_agency=prison)
    services.open_due_checklists()

    items = {item.item_type.key: item for item in ChecklistItem.objects.select_related("item_type", "owner_agency")}
    assert set(items) == {"accommodation", "id", "bank_account", "benefit_claim", "gp", "treatment",
                          "probation_appointment"}
    assert items["accommodation"].owner_agency == partnership.housing != other_area_council
    assert items["probation_appointment"].owner_agency == partnership.probation
    assert items["id"].owner_agency == prison
    assert items["benefit_claim"].owner_agency is None  # no DWP office in the partnership
    assert {item.status for item in items.values()} == {ItemStatus.NOT_STARTED}


def test_the_partnership_changes_how_many_weeks_ahead_the_checklist_opens(partnership):
    today = timezone.localdate()
    ReleaseFactory(offender=partnership.iom_person, released_on=today + datetime.timedelta(weeks=14))
    assert services.open_due_checklists() == 0
    ChecklistSettings.objects.create(weeks_before_release=16)
    assert services.open_due_checklists() == 1


def test_recording_a_release_date_within_the_window_opens_its_checklist(partnership,
                                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        release = Supervision.objects.create(
            offender=partnership.iom_person, kind=Supervision.Kind.LICENCE, started_on=D(2025, 1, 6),
            released_on=timezone.localdate() + datetime.timedelta(weeks=3), responsible_agency=partnership.probation,
        )
    assert ReleaseChecklist.objects.filter(supervision=release).exists()


def test_a_checklist_opened_by_hand_is_refused_twice_and_without_a_release_date(partnership):
    far = ReleaseFactory(offender=partnership.iom_person,
                         released_on=timezone.localdate() + datetime.timedelta(weeks=30))
    checklist = services.open_checklist(partnership.probation_om, far)
    assert checklist.opened_by == partnership.probation_om and checklist.items.count() == 8
    with pytest.raises(ValidationError, match="already open"):
        services.open_checklist(partnership.probation_om, far)
    undated = ReleaseFactory(offender=partnership.iom_person, released_on=None, release_type="")
    with pytest.raises(ValidationError, match="release date"):
        services.open_checklist(partnership.probation_om, undated)
    with pytest.raises(PermissionDenied):
        services.open_checklist(partnership.housing_om, ReleaseFactory(
            offender=partnership.iom_person, released_on=timezone.localdate() + datetime.timedelta(weeks=40)))


# Statuses and owners.


@pytest.fixture
def checklist(partnership, prison):
    release = ReleaseFactory(offender=partnership.iom_person, responsible_agency=prison)
    services.open_due_checklists()
    return release.release_checklist


def item(checklist, key):
    return checklist.items.get(item_type__key=key)


def test_an_item_records_status_owner_and_date_and_is_logged(partnership, checklist):
    accommodation = item(checklist, "accommodation")
    done_on = timezone.localdate()
    updated = services.update_checklist_item(
        partnership.probation_om, accommodation, status=ItemStatus.DONE, owner_agency=partnership.probation,
        due_on=done_on, notes="Bed booked at Riverside hostel", expected_version=accommodation.version,
    )
    assert (updated.status, updated.owner_agency, updated.due_on, updated.version) == (
        ItemStatus.DONE, partnership.probation, done_on, 2)
    assert updated.updated_by == partnership.probation_om and updated.settled_on == done_on
    reopened = services.update_checklist_item(partnership.probation_om, updated, status=ItemStatus.IN_PROGRESS,
                                              owner_agency=partnership.probation)
    assert reopened.settled_on is None
    entry = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.CHANGE,
                                          object_id=str(updated.pk)).order_by("occurred_at", "pk").first()
    assert entry.offender_id == partnership.iom_person.pk
    assert "Not started, Northtown Council Housing to Done, Probation Service North" in entry.detail


def test_an_item_update_is_refused_when_stale_undated_or_not_allowed(partnership, checklist):
    gp = item(checklist, "gp")
    services.update_checklist_item(partnership.police_om, gp, status=ItemStatus.IN_PROGRESS, expected_version=1)
    with pytest.raises(ConcurrentEditError):
        services.update_checklist_item(partnership.probation_om, gp, status=ItemStatus.DONE,
                                       due_on=timezone.localdate(), expected_version=1)
    with pytest.raises(ValidationError, match="day it was done"):
        services.update_checklist_item(partnership.probation_om, gp, status=ItemStatus.DONE, expected_version=2)
    with pytest.raises(ValidationError, match="future"):
        services.update_checklist_item(partnership.probation_om, gp, status=ItemStatus.DONE,
                                       due_on=timezone.localdate() + datetime.timedelta(days=1))
    for outsider in (partnership.housing_om, partnership.police_reader, partnership.analyst):
        with pytest.raises(PermissionDenied):
            services.update_checklist_item(outsider, gp, status=ItemStatus.NOT_NEEDED)
    gp.refresh_from_db()
    assert (gp.status, gp.version) == (ItemStatus.IN_PROGRESS, 2)


def test_the_item_page_saves_and_refuses_agencies_that_may_not_see_the_person(partnership, checklist, client_for):
    gp = item(checklist, "gp")
    url = reverse("resettlement:item_update", args=[partnership.iom_person.pk, gp.pk])
    data = {"expected_version": 1, "status": "declined", "owner_agency": partnership.probation.pk,
            "due_on_0": "", "due_on_1": "", "due_on_2": "", "notes": "Has a GP already, will not change"}
    assert client_for(partnership.housing_om).post(url, data).status_code == 404
    assert client_for(partnership.police_reader).post(url, data).status_code == 403
    response = client_for(partnership.probation_om).post(url, data)
    assert response.status_code == 302
    gp.refresh_from_db()
    assert gp.status == ItemStatus.DECLINED and gp.owner_agency == partnership.probation


# The releases board.


def board_text(client, **query):
    response = client.get(reverse("resettlement:board"), query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_board_lists_only_releases_the_agency_may_see(partnership, client_for):
    ReleaseFactory(offender=partnership.iom_person)
    ReleaseFactory(offender=partnership.police_only_person)
    later = OffenderFactory(first_names="Robin", last_name="Farfuture", area=partnership.area,
                            lead_agency=partnership.police)
    ReleaseFactory(offender=later, released_on=timezone.localdate() + datetime.timedelta(weeks=13))

    police = board_text(client_for(partnership.police_om))
    assert "Ashworth" in police and "Blackwood" in police and "Farfuture" not in police
    probation = board_text(client_for(partnership.probation_om))
    assert "Ashworth" in probation and "Blackwood" not in probation
    housing = board_text(client_for(partnership.housing_om))
    assert "Ashworth" not in housing and "Blackwood" not in housing and "No releases" in housing
    assert client_for(partnership.analyst).get(reverse("resettlement:board")).status_code == 403


def test_a_friday_release_without_accommodation_is_flagged(partnership, prison, client_for):
    friday = next_friday(timezone.localdate() + datetime.timedelta(days=7))
    ReleaseFactory(offender=partnership.iom_person, released_on=friday, responsible_agency=prison)
    weekday = friday - datetime.timedelta(days=2)
    housed = ReleaseFactory(offender=partnership.police_only_person, released_on=weekday, responsible_agency=prison)
    services.open_due_checklists()
    housed_item = item(housed.release_checklist, "accommodation")
    services.update_checklist_item(partnership.police_om, housed_item, status=ItemStatus.DONE,
                                   due_on=timezone.localdate())
    AccommodationStatusFactory(offender=partnership.iom_person, status="custody")

    page = board_text(client_for(partnership.police_om))
    rows = page.split('<tr class="govuk-table__row">')[2:]
    ashworth = next(row for row in rows if "Ashworth" in row)
    blackwood = next(row for row in rows if "Blackwood" in row)
    assert "Friday release" in ashworth and "No accommodation" in ashworth and "In custody" in ashworth
    assert "0 of 8" in ashworth and "HMP Northtown" in ashworth
    assert "Friday release" not in blackwood and "No accommodation" not in blackwood and "1 of 8" in blackwood


def test_the_board_filters_by_prison_area_and_cohort(partnership, prison, client_for):
    other_prison = AgencyFactory(name="HMP Southfield", kind=Agency.Kind.PRISON)
    ReleaseFactory(offender=partnership.iom_person, responsible_agency=prison)
    ReleaseFactory(offender=partnership.police_only_person, responsible_agency=other_prison)
    MembershipFactory(offender=partnership.police_only_person, cohort=Cohort.DIP)
    client = client_for(partnership.police_om)

    by_prison = board_text(client, prison=prison.pk)
    assert "Ashworth" in by_prison and "Blackwood" not in by_prison
    # Every filter has a label a screen reader can say (a method filter has no model field to name it).
    assert "Prison (optional)" in by_prison and "[invalid name]" not in by_prison
    by_cohort = board_text(client, cohort=Cohort.DIP)
    assert "Blackwood" in by_cohort and "Ashworth" not in by_cohort
    elsewhere = OffenderFactory(last_name="Elsewhere", lead_agency=partnership.police)
    ReleaseFactory(offender=elsewhere)
    by_area = board_text(client, area=partnership.area.pk)
    assert "Ashworth" in by_area and "Elsewhere" not in by_area


def test_the_board_reads_a_fixed_number_of_queries_whatever_its_length(partnership, client_for,
                                                                       django_assert_max_num_queries):
    client = client_for(partnership.police_om)
    ReleaseFactory(offender=partnership.iom_person)
    services.open_due_checklists()
    client.get(reverse("resettlement:board"))  # warm the session and settings
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(reverse("resettlement:board"))
    for n in range(12):
        person = OffenderFactory(last_name=f"Many{n}", area=partnership.area, lead_agency=partnership.police)
        ReleaseFactory(offender=person)
    services.open_due_checklists()
    with django_assert_max_num_queries(len(one)):
        assert "Many11" in client.get(reverse("resettlement:board")).content.decode()


def test_the_board_exports_what_the_agency_may_see_and_logs_each_person(partnership, client_for):
    ReleaseFactory(offender=partnership.iom_person)
    ReleaseFactory(offender=partnership.police_only_person)
    response = client_for(partnership.probation_om).get(reverse("resettlement:board_export"), {"download": "csv"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()
                                           if response.streaming else response.content.decode())))
    assert [row["last_name"] for row in rows] == ["Ashworth"]
    assert rows[0]["no_accommodation"] == "yes"
    exports = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT, user=partnership.probation_om)
    assert list(exports.values_list("offender_id", flat=True)) == [partnership.iom_person.pk]
    assert client_for(partnership.analyst).get(reverse("resettlement:board_export"),
                                               {"download": "csv"}).status_code == 403


def test_the_case_shows_its_release_and_refuses_agencies_that_may_not_see_it(partnership, checklist, client_for):
    url = reverse("resettlement:person_release", args=[partnership.iom_person.pk])
    page = client_for(partnership.probation_om).get(url).content.decode()
    assert "Accommodation for the night of release" in page and "Pre-release checklist" in page
    assert client_for(partnership.housing_om).get(url).status_code == 404
    overview = client_for(partnership.probation_om).get(partnership.iom_person.get_absolute_url()).content.decode()
    assert "Arrange accommodation for the night of release" in overview
    assert reverse("resettlement:board") in overview  # in the primary navigation


# The person's own plan.


def test_a_plan_is_drafted_agreed_and_then_stands_unchanged(partnership):
    person, worker = partnership.iom_person, partnership.probation_om
    version = services.start_plan(worker, person)
    with pytest.raises(ValidationError, match="at least one goal"):
        services.record_agreement(worker, person, agreement="agreed", agreement_on=timezone.localdate())
    goal = services.add_goal(worker, person, text="  Stay off the gear and see my daughter  ",
                             pathway=pathway("drugs"))
    assert goal.text == "Stay off the gear and see my daughter" and goal.version == version
    mine = services.add_step(worker, goal, text="Go to the recovery group on Tuesdays")
    theirs = services.add_step(worker, goal, text="Book the first script appointment",
                               owner_agency=partnership.probation, due_on=timezone.localdate())
    assert (mine.owner_label, theirs.owner_label) == ("Me", "Probation Service North")
    with pytest.raises(ValidationError) as refused:
        services.record_agreement(worker, person, agreement="not_agreed", agreement_on=timezone.localdate())
    assert "note" in refused.value.error_dict
    services.record_agreement(worker, person, agreement="could_not_answer", agreement_on=timezone.localdate(),
                              note="Too unwell to talk it through today")
    version.refresh_from_db()
    assert version.agreement == "could_not_answer" and version.agreement_recorded_by == worker
    with pytest.raises(ValidationError, match="start a review"):
        services.add_goal(worker, person, text="Another goal")
    with pytest.raises(ValidationError, match="start a review"):
        services.add_step(worker, goal, text="Another step")
    with pytest.raises(ValidationError, match="already has a plan"):
        services.start_plan(worker, person)
    with pytest.raises(PermissionDenied):
        services.start_plan(partnership.housing_om, partnership.police_only_person)


def test_a_review_keeps_the_earlier_version_as_it_was(partnership):
    person, worker = partnership.iom_person, partnership.police_om
    services.start_plan(worker, person)
    goal = services.add_goal(worker, person, text="Get a job on the building sites")
    services.add_step(worker, goal, text="Get my CSCS card")
    with pytest.raises(ValidationError, match="not been put to the person"):
        services.review_plan(worker, person, reason="Too soon")
    services.record_agreement(worker, person, agreement="agreed", agreement_on=timezone.localdate())
    with pytest.raises(ValidationError):
        services.review_plan(worker, person, reason="  ")
    second = services.review_plan(worker, person, reason="Released: new hostel, new goals")
    assert second.number == 2 and second.review_reason == "Released: new hostel, new goals"
    new_goal = services.add_goal(worker, person, text="Keep my room at the hostel")
    copied = second.goals.get(text="Get a job on the building sites")
    assert [s.text for s in copied.steps.all()] == ["Get my CSCS card"]
    services.add_step(worker, copied, text="Apply to the labour agency")

    first = PlanVersion.objects.get(plan__offender=person, number=1)
    assert first.agreement == "agreed"
    assert [g.text for g in first.goals.all()] == ["Get a job on the building sites"]
    assert [s.text for s in first.goals.get().steps.all()] == ["Get my CSCS card"]
    assert second.goals.count() == 2 and new_goal.version == second
    with pytest.raises(ValidationError, match="earlier version"):
        services.add_step(worker, first.goals.get(), text="Changing history")


def test_the_plan_pages_show_versions_and_a_plain_copy_for_the_person(partnership, client_for):
    person, worker = partnership.iom_person, partnership.probation_om
    services.start_plan(worker, person)
    goal = services.add_goal(worker, person, text="Be a proper dad to Kai")
    services.add_step(worker, goal, text="Ring the family centre", owner_agency=None)
    services.record_agreement(worker, person, agreement="agreed", agreement_on=timezone.localdate())
    services.review_plan(worker, person, reason="After release")
    client = client_for(worker)

    plan = client.get(reverse("resettlement:person_plan", args=[person.pk])).content.decode()
    assert "Be a proper dad to Kai" in plan and "Version 1" in plan
    printed = client.get(reverse("resettlement:plan_print", args=[person.pk])).content.decode()
    assert "My plan" in printed and "I will: Ring the family centre" in printed and "Not asked yet" in printed
    earlier = client.get(reverse("resettlement:plan_version", args=[person.pk, 1])).content.decode()
    assert "Agreed" in earlier
    for url in (reverse("resettlement:person_plan", args=[person.pk]),
                reverse("resettlement:plan_print", args=[person.pk]),
                reverse("resettlement:plan_version", args=[person.pk, 1])):
        assert client_for(partnership.housing_om).get(url).status_code == 404


def test_goals_are_added_through_the_page_and_refused_to_read_only_staff(partnership, client_for):
    person = partnership.iom_person
    reader = UserFactory(agency=partnership.probation, role=Role.READ_ONLY)
    services.start_plan(partnership.probation_om, person)
    url = reverse("resettlement:goal_create", args=[person.pk])
    assert client_for(reader).post(url, {"text": "Mine"}).status_code == 403
    response = client_for(partnership.probation_om).post(url, {"text": ""})
    assert "Enter the goal in the person&#x27;s own words" in response.content.decode()
    client_for(partnership.probation_om).post(url, {"text": "Learn to drive"})
    assert PlanVersion.objects.get(plan__offender=person).goals.get().text == "Learn to drive"
