"""Needs, actions, statuses and referrals through the service functions."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases.locking import ConcurrentEditError
from cases.models import AccessLogEntry
from pathways import services
from pathways.models import (
    AccommodationStatus,
    Action,
    NeedAssessment,
    NeedLevel,
    Pathway,
    Referral,
    TreatmentEngagement,
    current_needs,
)

from .pathways_factories import (
    AccommodationStatusFactory,
    ActionFactory,
    NeedAssessmentFactory,
    ServiceFactory,
    pathway,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


def test_the_catalogue_holds_the_resettlement_pathways():
    keys = set(Pathway.objects.values_list("key", flat=True))
    assert {"accommodation", "ete", "finance", "health", "families", "drugs", "alcohol", "attitudes", "abuse",
            "sex_work"} <= keys


def test_reassessment_keeps_history_and_the_latest_is_current(partnership):
    p = partnership
    first = services.record_need(p.police_om, p.iom_person, pathway="accommodation", level=NeedLevel.SIGNIFICANT,
                                 rationale="No fixed abode.", assessed_on=TODAY - 30 * DAY)
    second = services.record_need(p.probation_om, p.iom_person, pathway=pathway("accommodation"),
                                  level=NeedLevel.SOME, rationale="In a hostel.")
    assert NeedAssessment.objects.filter(offender=p.iom_person).count() == 2
    assert list(NeedAssessment.objects.filter(offender=p.iom_person).current()) == [second]
    assert list(NeedAssessment.objects.filter(offender=p.iom_person).as_of(TODAY - 10 * DAY)) == [first]
    assert current_needs(p.iom_person)[second.pathway_id].level == NeedLevel.SOME
    assert second.agency == p.probation and second.assessed_by == p.probation_om
    assert AccessLogEntry.objects.filter(object_type="pathways.needassessment", offender_id=p.iom_person.pk,
                                         action="create").count() == 2


def test_unknown_and_retired_pathways_are_refused_and_nothing_is_written(partnership):
    p = partnership
    retired = Pathway.objects.create(key="old", name="Old pathway", retired=True)
    for bad in ("no-such-pathway", retired):
        with pytest.raises(ValidationError) as error:
            services.record_need(p.police_om, p.iom_person, pathway=bad, level=NeedLevel.SOME)
        assert "pathway" in error.value.message_dict
        with pytest.raises(ValidationError):
            services.create_action(p.police_om, p.iom_person, pathway=bad, description="x",
                                   owner_agency=p.police, due_on=TODAY)
    assert not NeedAssessment.objects.exists() and not Action.objects.exists()
    assert not AccessLogEntry.objects.filter(object_type__startswith="pathways").exists()


def test_due_date_before_the_action_is_raised_is_refused(partnership):
    p = partnership
    with pytest.raises(ValidationError) as error:
        services.create_action(p.police_om, p.iom_person, pathway="accommodation", description="Find a flat",
                               owner_agency=p.housing, due_on=TODAY - DAY)
    assert "due_on" in error.value.message_dict
    assert not Action.objects.exists()


def test_a_case_worker_assigns_actions_to_two_agencies(partnership):
    p = partnership
    need = services.record_need(p.police_om, p.iom_person, pathway="accommodation", level=NeedLevel.SIGNIFICANT)
    own = services.create_action(p.police_om, p.iom_person, pathway="accommodation", description="Home visit",
                                 owner_agency=p.police, owner=p.police_om, due_on=TODAY + 7 * DAY, need=need)
    theirs = services.create_action(p.police_om, p.iom_person, pathway="accommodation",
                                    description="Rent deposit scheme", owner_agency=p.housing, due_on=TODAY)
    assert own.need == need and theirs.owner_agency == p.housing and theirs.version == 1
    with pytest.raises(ValidationError) as error:
        services.create_action(p.police_om, p.iom_person, pathway="accommodation", description="x",
                               owner_agency=p.housing, owner=p.police_om, due_on=TODAY)
    assert "owner" in error.value.message_dict


def test_read_only_staff_and_unseeing_agencies_cannot_create(partnership):
    p = partnership
    for user in (p.police_reader, p.analyst, p.housing_om):
        with pytest.raises(PermissionDenied):
            services.create_action(user, p.iom_person, pathway="accommodation", description="x",
                                   owner_agency=p.police, due_on=TODAY)
    with pytest.raises(PermissionDenied):
        services.record_need(p.probation_om, p.police_only_person, pathway="drugs", level=NeedLevel.SOME)


def test_only_the_owner_agency_updates_an_action(partnership):
    p = partnership
    action = ActionFactory(offender=p.iom_person, owner_agency=p.police)
    with pytest.raises(PermissionDenied):
        services.update_action(p.probation_om, action, expected_version=1, status=Action.Status.DONE)
    with pytest.raises(PermissionDenied):
        services.update_action(p.police_reader, action, expected_version=1, status=Action.Status.DONE)
    with pytest.raises(Action.DoesNotExist):
        services.update_action(p.housing_om, action, expected_version=1, status=Action.Status.DONE)
    action.refresh_from_db()
    assert action.status == Action.Status.OPEN and action.version == 1


def test_done_sets_the_completion_date_and_bumps_the_version(partnership):
    p = partnership
    action = ActionFactory(offender=p.iom_person, owner_agency=p.police)
    updated = services.update_action(p.police_om, action, expected_version=1, status=Action.Status.DONE,
                                     outcome="Tenancy signed.")
    assert updated.completed_on == TODAY and updated.version == 2 and updated.outcome == "Tenancy signed."
    assert AccessLogEntry.objects.filter(object_type="pathways.action", object_id=str(action.pk),
                                         action="change").exists()
    reopened = services.update_action(p.police_om, action, expected_version=2, status=Action.Status.IN_PROGRESS)
    assert reopened.completed_on is None


def test_a_stale_version_is_refused(partnership):
    p = partnership
    action = ActionFactory(offender=p.iom_person, owner_agency=p.police)
    services.update_action(p.police_om, action, expected_version=1, outcome="Called the landlord.")
    with pytest.raises(ConcurrentEditError):
        services.update_action(p.police_admin, action, expected_version=1, status=Action.Status.CANCELLED)
    action.refresh_from_db()
    assert action.status == Action.Status.OPEN and action.version == 2


def test_overdue_is_derived_from_status_and_due_date(partnership):
    p = partnership
    late = ActionFactory(offender=p.iom_person, due_on=TODAY - DAY)
    late_in_progress = ActionFactory(offender=p.iom_person, due_on=TODAY - DAY, status=Action.Status.IN_PROGRESS)
    due_today = ActionFactory(offender=p.iom_person, due_on=TODAY)
    ActionFactory(offender=p.iom_person, due_on=TODAY - DAY, status=Action.Status.DONE)
    ActionFactory(offender=p.iom_person, due_on=TODAY - DAY, status=Action.Status.CANCELLED)
    assert set(Action.objects.overdue()) == {late, late_in_progress}
    assert set(Action.objects.overdue(today=TODAY + DAY)) == {late, late_in_progress, due_today}
    assert set(Action.objects.overdue(today=TODAY - DAY)) == set()
    assert late.overdue and not due_today.overdue and due_today.is_overdue(TODAY + DAY)


def test_accommodation_at_quarter_end_and_on_release(partnership):
    p = partnership
    quarter_end = TODAY - 10 * DAY
    AccommodationStatusFactory(offender=p.iom_person, status="no_fixed_abode", effective_on=TODAY - 40 * DAY,
                               on_release_day=True)
    settled = AccommodationStatusFactory(offender=p.iom_person, status="settled", effective_on=TODAY - 20 * DAY)
    AccommodationStatusFactory(offender=p.iom_person, status="custody", effective_on=TODAY - 5 * DAY)
    at_end = AccommodationStatus.objects.as_of(quarter_end)
    assert list(at_end) == [settled]
    assert AccommodationStatus.objects.current().get().status == "custody"
    assert AccommodationStatus.objects.filter(on_release_day=True, status="no_fixed_abode").count() == 1


def test_treatment_requirement_must_match_substance(partnership):
    p = partnership
    services.record_treatment_engagement(p.police_om, p.iom_person, substance="drugs", stage="in_treatment",
                                         requirement="drr")
    with pytest.raises(ValidationError):
        services.record_treatment_engagement(p.police_om, p.iom_person, substance="alcohol", stage="assessed",
                                             requirement="drr")
    assert TreatmentEngagement.objects.count() == 1


def test_referral_dates_measure_time_to_first_contact(partnership):
    p = partnership
    service = ServiceFactory(name="Treatment provider", pathway=pathway("drugs"), provider=p.housing,
                             target_first_contact_hours=24)
    referred_at = timezone.now() - datetime.timedelta(hours=30)
    referral = services.record_referral(p.police_om, p.iom_person, service=service, urgency="emergency",
                                        referred_at=referred_at)
    with pytest.raises(ValidationError) as error:
        services.update_referral(p.police_om, referral, expected_version=1, status="accepted")
    assert "decided_on" in error.value.message_dict
    updated = services.update_referral(
        p.police_om, referral, expected_version=1, status="accepted", decided_on=TODAY,
        first_contact_at=referred_at + datetime.timedelta(hours=20),
    )
    assert updated.met_contact_target is True and updated.version == 2
    annotated = Referral.objects.with_time_to_first_contact().get()
    assert annotated.first_contact_delay == datetime.timedelta(hours=20)
    with pytest.raises(ValidationError):
        services.update_referral(p.police_om, referral, expected_version=2,
                                 first_contact_at=referred_at - datetime.timedelta(hours=1))


def test_needs_of_unseen_people_are_not_listed(partnership):
    p = partnership
    NeedAssessmentFactory(offender=p.police_only_person)
    ActionFactory(offender=p.police_only_person)
    assert not NeedAssessment.objects.visible_to(p.probation_om).exists()
    assert not Action.objects.visible_to(p.probation_om).exists()
    assert Action.objects.visible_to(p.police_reader).count() == 1


def test_an_action_for_an_agency_that_cannot_see_the_person_can_share_the_case(partnership):
    p = partnership
    hidden = services.create_action(p.police_om, p.iom_person, pathway="accommodation", description="Flat",
                                    owner_agency=p.housing, due_on=TODAY)
    assert not services.agency_can_see(p.housing, p.iom_person)
    with pytest.raises(Action.DoesNotExist):
        services.update_action(p.housing_om, hidden, expected_version=1, status=Action.Status.IN_PROGRESS)
    shared = services.create_action(p.police_om, p.iom_person, pathway="accommodation", description="Deposit",
                                    owner_agency=p.housing, due_on=TODAY, share_with_owner=True)
    assert services.agency_can_see(p.housing, p.iom_person)
    services.update_action(p.housing_om, shared, expected_version=1, status=Action.Status.IN_PROGRESS)
    assert AccessLogEntry.objects.filter(action="share", offender_id=p.iom_person.pk, user=p.police_om).count() == 1
    # Sharing again with an agency that already sees the person writes nothing more.
    services.create_action(p.police_om, p.iom_person, pathway="ete", description="CV", owner_agency=p.housing,
                           due_on=TODAY, share_with_owner=True)
    assert AccessLogEntry.objects.filter(action="share").count() == 1


def test_a_referral_can_open_the_case_to_the_provider_who_then_records_progress(partnership):
    p = partnership
    service = ServiceFactory(name="Homeless Persons Unit", provider=p.housing)
    referral = services.record_referral(p.police_om, p.iom_person, service=service, share_with_provider=True,
                                        referred_at=timezone.now() - datetime.timedelta(hours=2))
    updated = services.update_referral(p.housing_om, referral, expected_version=1, status="accepted",
                                       decided_on=TODAY, first_contact_at=timezone.now())
    assert updated.status == "accepted"
    with pytest.raises(ConcurrentEditError):
        services.update_referral(p.police_om, referral, expected_version=1, outcome="Stale")
    with pytest.raises(PermissionDenied):
        services.update_referral(p.police_reader, referral, expected_version=2, outcome="Read only")
