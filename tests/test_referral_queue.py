"""The incoming referrals queue: the agency that runs a service sees its referrals arrive, accepts or declines
them, records the first contact, and sees the time left to its first-contact target; breaches are counted."""

import datetime
import re

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.locking import ConcurrentEditError
from cases.models import AccessLogEntry, Cohort, Role
from dashboard.periods import Quarter
from dashboard.rollup import run_rollup
from pathways import services
from pathways.models import Pathway, Referral, Service
from pathways.queue_views import describe_span, first_contact_deadline

from .factories import AgencyFactory, MembershipFactory, OffenderFactory, SharingAgreementFactory, UserFactory
from .pathways_factories import ReferralFactory
from .test_dashboard_measures import figure

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)


@pytest.fixture
def treatment(partnership):
    """A drug and alcohol service that sees DIP cohort members, and one of its case workers."""
    p = partnership
    p.treatment = AgencyFactory(name="Northtown Recovery", kind="treatment", area=p.area)
    SharingAgreementFactory(agency=p.treatment, cohort=Cohort.DIP)
    p.treatment_worker = UserFactory(username="recovery.worker", agency=p.treatment, role=Role.OFFENDER_MANAGER)
    p.treatment_reader = UserFactory(username="recovery.reader", agency=p.treatment, role=Role.READ_ONLY)
    drugs = Pathway.objects.get(key="drugs")
    p.hub = Service.objects.create(name="Recovery hub", pathway=drugs, provider=p.treatment,
                                   target_first_contact_hours=120)
    p.dip_person = OffenderFactory(first_names="Robin", last_name="Marsh", area=p.area, lead_agency=p.police,
                                   lead_offender_manager=p.police_om)
    MembershipFactory(offender=p.dip_person, cohort=Cohort.DIP)
    return p


def refer(p, person=None, urgency="routine", hours_ago=1, now=None, **fields):
    return ReferralFactory(offender=person or p.dip_person, service=p.hub, urgency=urgency,
                           referring_agency=p.police, referred_by=p.police_om,
                           referred_at=(now or timezone.now()) - hours_ago * HOUR, **fields)


# The target and the time left


def test_an_emergency_is_due_within_24_hours_and_a_routine_referral_within_the_services_target(treatment):
    p = treatment
    assert refer(p, urgency="emergency").first_contact_target_hours == 24
    assert refer(p).first_contact_target_hours == 120
    p.hub.target_first_contact_hours = 8
    p.hub.save()
    assert refer(p, urgency="emergency").first_contact_target_hours == 8  # the service's own is shorter
    p.hub.target_first_contact_hours = None
    p.hub.save()
    assert refer(p).first_contact_target_hours is None
    assert refer(p, urgency="emergency").first_contact_target_hours == 24


def test_time_left_and_time_past_the_target_read_as_a_practitioner_would(treatment):
    p = treatment
    now = timezone.now()
    waiting = refer(p, urgency="emergency", hours_ago=5, now=now)
    assert first_contact_deadline(waiting, now)["text"] == "19 hours left"
    late = refer(p, urgency="emergency", hours_ago=30, now=now)
    assert first_contact_deadline(late, now) | {"due": None} == {
        "state": "overdue", "text": "6 hours past the target", "due": None}
    seen = refer(p, urgency="emergency", hours_ago=30, now=now, first_contact_at=now - 20 * HOUR)
    assert first_contact_deadline(seen, now) == {"state": "made", "met": True, "text": "Made 10 hours after referral"}
    assert describe_span(datetime.timedelta(days=3, hours=4, minutes=5)) == "3 days 4 hours"
    assert describe_span(datetime.timedelta(hours=1, minutes=1)) == "1 hour 1 minute"


# The queue


def test_the_provider_sees_an_emergency_referral_arrive_first_with_its_time_left(treatment, client_for):
    p = treatment
    routine = refer(p, hours_ago=50)
    emergency = refer(p, urgency="emergency", hours_ago=2)
    page = client_for(p.treatment_worker).get(reverse("referrals:incoming"))
    assert page.status_code == 200
    assert [r.pk for r in page.context["page"].object_list] == [emergency.pk, routine.pk]
    text = page.content.decode()
    assert "MARSH, Robin" in text and "Emergency" in text
    # 24 and 120 hours from the referrals, less the moments the test took.
    assert re.search(r"(22 hours|21 hours 59 minutes) left", text)
    assert re.search(r"2 days 2[12] hours left", text)
    logged = AccessLogEntry.objects.filter(user=p.treatment_worker, action="view", offender_id=p.dip_person.pk)
    assert logged.exists()


def test_the_queue_holds_only_the_agencys_own_services_and_people_it_may_see(treatment, client_for):
    p = treatment
    refer(p, person=p.police_only_person)  # the treatment service may not see Casey Blackwood
    other = Service.objects.create(name="Probation hostel", pathway=p.hub.pathway, provider=p.probation)
    ReferralFactory(offender=p.iom_person, service=other, referring_agency=p.police)
    text = client_for(p.treatment_worker).get(reverse("referrals:incoming")).content.decode()
    assert "Blackwood" not in text and "Ashworth" not in text
    police_view = client_for(p.police_om).get(reverse("referrals:incoming")).content.decode()
    assert "runs no services" in police_view


def test_open_and_closed_referrals_are_listed_apart(treatment, client_for):
    p = treatment
    refer(p)
    refer(p, status="declined", decided_on=timezone.localdate())
    client = client_for(p.treatment_worker)
    assert len(client.get(reverse("referrals:incoming")).context["page"].object_list) == 1
    closed = client.get(reverse("referrals:incoming"), {"show": "closed"}).context["page"].object_list
    assert [r.status for r in closed] == ["declined"]


def test_the_queue_runs_the_same_queries_however_long_it_is(treatment, client_for):
    p = treatment
    client = client_for(p.treatment_worker)
    refer(p)
    with CaptureQueriesContext(connection) as short:
        client.get(reverse("referrals:incoming"))
    for index in range(60):
        person = OffenderFactory(area=p.area, lead_agency=p.police)
        MembershipFactory(offender=person, cohort=Cohort.DIP)
        refer(p, person=person, urgency="emergency" if index % 3 else "routine", hours_ago=index)
    with CaptureQueriesContext(connection) as long:
        client.get(reverse("referrals:incoming"))
    # One more: past a page, the paginator counts the referrals.
    assert len(long.captured_queries) == len(short.captured_queries) + 1


def test_analysts_have_no_queue(treatment, client_for):
    assert client_for(treatment.analyst).get(reverse("referrals:incoming")).status_code == 403


# Accepting, declining and first contact


def test_the_provider_accepts_a_referral_and_records_the_first_contact(treatment, client_for):
    p = treatment
    referral = refer(p, urgency="emergency", hours_ago=3)
    client = client_for(p.treatment_worker)
    detail = client.get(reverse("referrals:incoming_detail", args=[referral.pk])).content.decode()
    assert re.search(r"(21 hours|20 hours 59 minutes) left", detail) and "Accept or decline" in detail
    response = client.post(reverse("referrals:decide", args=[referral.pk]), {"decision": "accept", "version": 1})
    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.decided_by, referral.decided_on) == (
        "accepted", p.treatment_worker, timezone.localdate())
    contact = timezone.localtime() - HOUR
    response = client.post(reverse("referrals:first_contact", args=[referral.pk]), {
        "contacted_at_day": contact.day, "contacted_at_month": contact.month, "contacted_at_year": contact.year,
        "contact_time": f"{contact:%H:%M}", "version": referral.version,
    }, follow=True)
    assert "First contact recorded, within the target." in response.content.decode()
    referral.refresh_from_db()
    assert referral.met_contact_target is True and referral.version == 3


def test_declining_needs_a_reason(treatment, client_for):
    p = treatment
    referral = refer(p)
    client = client_for(p.treatment_worker)
    url = reverse("referrals:decide", args=[referral.pk])
    response = client.post(url, {"decision": "decline", "reason": " ", "version": 1})
    assert response.status_code == 200 and "Enter why the referral is declined." in response.content.decode()
    client.post(url, {"decision": "decline", "reason": "Already in treatment elsewhere.", "version": 1})
    referral.refresh_from_db()
    assert referral.status == "declined" and referral.decision_reason == "Already in treatment elsewhere."


def test_a_referral_is_decided_once(treatment):
    p = treatment
    referral = refer(p)
    services.decide_referral(p.treatment_worker, referral, expected_version=1, accept=True)
    with pytest.raises(ValidationError, match="already been accepted"):
        services.decide_referral(p.treatment_worker, referral, expected_version=2, accept=False, reason="Full")


def test_a_stale_decision_is_refused(treatment):
    p = treatment
    referral = refer(p)
    services.record_first_contact(p.treatment_worker, referral, expected_version=1, contacted_at=timezone.now())
    with pytest.raises(ConcurrentEditError):
        services.decide_referral(p.treatment_worker, referral, expected_version=1, accept=True)


def test_first_contact_is_after_the_referral_not_in_the_future_and_once(treatment):
    p = treatment
    referral = refer(p, hours_ago=2)
    with pytest.raises(ValidationError) as early:
        services.record_first_contact(p.treatment_worker, referral, expected_version=1,
                                      contacted_at=timezone.now() - 3 * HOUR)
    assert "contacted_at" in early.value.message_dict
    with pytest.raises(ValidationError) as future:
        services.record_first_contact(p.treatment_worker, referral, expected_version=1,
                                      contacted_at=timezone.now() + 2 * HOUR)
    assert "future" in future.value.message_dict["contacted_at"][0]
    services.record_first_contact(p.treatment_worker, referral, expected_version=1, contacted_at=timezone.now())
    with pytest.raises(ValidationError, match="already recorded"):
        services.record_first_contact(p.treatment_worker, referral, expected_version=2, contacted_at=timezone.now())


def test_only_case_workers_of_the_provider_answer_a_referral(treatment, client_for):
    p = treatment
    referral = refer(p)
    for user in (p.treatment_reader, p.police_om):
        with pytest.raises((PermissionDenied, Referral.DoesNotExist)):
            services.decide_referral(user, referral, expected_version=1, accept=True)
    # The referring police officer cannot reach the provider's queue page for it; the reader sees it read-only.
    assert client_for(p.police_om).get(reverse("referrals:incoming_detail", args=[referral.pk])).status_code == 404
    reader = client_for(p.treatment_reader)
    page = reader.get(reverse("referrals:incoming_detail", args=[referral.pk])).content.decode()
    assert "Accept or decline" not in page
    assert reader.post(reverse("referrals:decide", args=[referral.pk]),
                       {"decision": "accept", "version": 1}).status_code == 403
    referral.refresh_from_db()
    assert referral.status == "referred"


def test_a_first_contact_in_the_minute_of_the_referral_is_not_before_it(treatment):
    """The form gives times to the minute: 17:20 for a referral made at 17:20:35 is the same minute."""
    p = treatment
    referral = refer(p, hours_ago=0)
    referral.referred_at = referral.referred_at.replace(second=35)
    referral.save()
    in_that_minute = referral.referred_at.replace(second=0, microsecond=0)
    saved = services.record_first_contact(p.treatment_worker, referral, expected_version=1,
                                          contacted_at=in_that_minute)
    assert saved.first_contact_at == referral.referred_at and saved.met_contact_target is True


def test_a_provider_that_may_not_see_the_person_gets_404(treatment, client_for):
    p = treatment
    referral = refer(p, person=p.police_only_person)
    client = client_for(p.treatment_worker)
    for name in ("incoming_detail", "decide", "first_contact"):
        assert client.get(reverse(f"referrals:{name}", args=[referral.pk])).status_code == 404
    assert client.post(reverse("referrals:decide", args=[referral.pk]),
                       {"decision": "accept", "version": 1}).status_code == 404
    referral.refresh_from_db()
    assert referral.status == "referred"


# The dashboard


def test_missed_first_contact_targets_are_counted_on_the_dashboard(treatment):
    p = treatment
    quarter = Quarter.from_key("2024-04-01")
    referred = timezone.make_aware(datetime.datetime(2024, 5, 1, 9))
    p.hub.target_first_contact_hours = 72
    p.hub.save()
    unmeasured = Service.objects.create(name="Drop-in", pathway=p.hub.pathway, provider=p.treatment)
    for service, urgency, seen_after, status in [
        (p.hub, "emergency", 20, "accepted"),  # within 24 hours
        (p.hub, "emergency", 30, "accepted"),  # late
        (p.hub, "routine", 70, "accepted"),  # within the service's 72 hours
        (p.hub, "routine", 80, "completed"),  # late
        (p.hub, "routine", None, "accepted"),  # never seen, target long past
        (p.hub, "routine", None, "declined"),  # declined: no contact was due
        (unmeasured, "routine", None, "referred"),  # no target
        (unmeasured, "emergency", None, "referred"),  # an emergency has one all the same
    ]:
        Referral.objects.create(
            offender=p.dip_person, service=service, urgency=urgency, referred_at=referred, status=status,
            referring_agency=p.police, decided_on=referred.date() if status != "referred" else None,
            first_contact_at=referred + seen_after * HOUR if seen_after else None,
            started_on=referred.date() if status == "completed" else None,
            ended_on=referred.date() if status == "completed" else None,
        )
    run_rollup(quarters=[quarter])
    assert figure("contact_target_breaches", quarter, category="seen_late") == (2, None)
    assert figure("contact_target_breaches", quarter, category="not_seen") == (2, None)
    # The share within target uses the same targets: 2 of the 7 referrals with one.
    assert figure("contact_target_met", quarter) == (2, 7)
