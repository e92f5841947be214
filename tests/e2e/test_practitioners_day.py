"""Journey 6: the practitioner's day. An offender manager signs in to an alert, follows it to the person,
records the missed appointment it asks for and refers the person to treatment as an emergency; the
treatment provider sees the referral arrive in its queue with the time left and accepts it."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from alerts.models import Alert
from alerts.tasks import raise_overdue_outcome_alerts
from cases import services as case_services
from cases.models import Agency, Appointment, Cohort, Role, SharingAgreement
from pathways.models import Pathway, Referral, Service

from ..factories import UserFactory
from .browser import give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def day(partnership):
    """Probation has changed the police's IOM case overnight; a police appointment two days ago has no outcome."""
    p = partnership
    p.treatment = Agency.objects.create(name="Northtown Recovery Service", kind=Agency.Kind.TREATMENT, area=p.area)
    SharingAgreement.objects.create(agency=p.treatment, cohort=Cohort.DIP)
    p.treatment_worker = UserFactory(username="recovery.worker", first_name="Sanjay", last_name="Gill",
                                     agency=p.treatment, role=Role.OFFENDER_MANAGER)
    p.hub = Service.objects.create(name="Recovery hub", pathway=Pathway.objects.get(key="drugs"), provider=p.treatment,
                                   target_first_contact_hours=120)
    # Outside a test transaction, as in service: the alert is raised when the change commits.
    case_services.record_rag_change(p.probation_om, p.iom_person, to_status="amber",
                                    reason="Missed probation supervision on Monday")
    p.missed = Appointment.objects.create(
        offender=p.iom_person, agency=p.police, staff=p.police_om, kind=Appointment.Kind.HOME_VISIT,
        scheduled_at=(timezone.localtime() - datetime.timedelta(days=2)).replace(hour=10, minute=0, second=0,
                                                                                 microsecond=0),
    )
    raise_overdue_outcome_alerts()
    for user in (p.police_om, p.treatment_worker):
        give_authenticator_app(user)
    return p


@pytest.mark.parametrize("variant, javascript", [("with the mouse", True), ("without JavaScript", False)])
def test_an_alert_leads_to_the_work_and_an_emergency_referral_reaches_the_treatment_queue(
    journey, day, variant, javascript
):
    p = day
    om = journey(f"6 offender manager works from alerts {variant}", javascript=javascript)
    om.sign_in(p.police_om)
    om.expect_heading("Cases")
    header = om.page.get_by_role("banner")
    expect(header.get_by_role("link", name="Alerts 2 new")).to_be_visible()
    om.follow("Alerts 2 new", within=header)
    om.expect_heading("Alerts")
    om.checkpoint("alerts")
    alerts = om.page.get_by_role("table")
    expect(alerts).to_contain_text("Probation Service North changed the RAG status from none to Amber.")

    # The overdue outcome: record the unacceptable absence it asks for.
    om.follow("Record the outcome of the police home visit", within=alerts, exact=False)
    om.expect_heading("Record the outcome of an appointment")
    om.checkpoint("record the outcome")
    om.choose("Unacceptable absence")
    om.press("Save")
    om.expect_success("Appointment outcome recorded.")
    om.expect_heading("Jordan Ashworth")
    om.checkpoint("case page after the outcome")
    expect(header.get_by_role("link", name="Alerts 1 new")).to_be_visible()  # that alert has cleared itself

    # Clear the other alert, having read it.
    om.follow("Alerts 1 new", within=header)
    om.press("Clear the alert about Jordan Ashworth")
    om.expect_success("1 alert cleared.")
    om.expect_heading("Alerts")
    expect(om.page.get_by_text("You have no new alerts.")).to_be_visible()
    om.checkpoint("alerts cleared")

    # An emergency referral to the treatment service, sharing the case so it can take it on.
    om.visit(f"/pathways/people/{p.iom_person.pk}/referrals/new/")
    om.expect_heading("Refer to a service")
    om.select("Service", "Drugs: Recovery hub (Northtown Recovery Service)")
    om.choose("Emergency")
    om.fill("Reason for the referral (optional)", "Overdosed at the weekend; asking for help now.")
    om.tick("Share the case with the provider if it is a partner agency that cannot see this person yet")
    om.press("Save")
    om.expect_success("Referral to Recovery hub recorded.")

    # The treatment provider sees it arrive, with the time left to its 24-hour target, and accepts it.
    tp = journey(f"6 treatment provider accepts an emergency referral {variant}", javascript=javascript)
    tp.sign_in(p.treatment_worker)
    header = tp.page.get_by_role("banner")
    expect(header.get_by_role("link", name="Alerts 1 new")).to_be_visible()
    tp.follow("Incoming referrals", within=tp.page.get_by_role("navigation", name="Primary navigation"))
    tp.expect_heading("Incoming referrals")
    tp.checkpoint("incoming referrals")
    queue = tp.page.get_by_role("table")
    row = queue.get_by_role("row").filter(has_text="ASHWORTH, Jordan")
    expect(row).to_contain_text("Emergency")
    expect(row).to_contain_text("Recovery hub")
    expect(row).to_contain_text(re.compile(r"23 hours 5\d minutes left"))
    tp.follow("ASHWORTH, Jordan (referral to Recovery hub)", within=queue)
    tp.expect_heading("Jordan Ashworth: referral to Recovery hub")
    tp.checkpoint("incoming referral")
    tp.follow("Accept or decline")
    tp.expect_heading("Accept or decline the referral")
    tp.checkpoint("accept or decline")
    tp.choose("Decline the referral")
    tp.press("Save")
    tp.follow_error("Enter why the referral is declined.", tp.field("Reason (optional)"))
    tp.checkpoint("accept or decline with an error")
    tp.choose("Accept the referral")
    tp.press("Save")
    tp.expect_success("Referral accepted.")
    tp.follow("Record the first contact")
    tp.expect_heading("Record the first contact")
    tp.checkpoint("record the first contact")
    tp.press("Save")
    tp.expect_success("First contact recorded, within the target.")
    tp.checkpoint("referral after first contact")

    referral = Referral.objects.get(offender=p.iom_person)
    assert (referral.urgency, referral.status, referral.decided_by) == ("emergency", "accepted", p.treatment_worker)
    assert referral.first_contact_at is not None and referral.met_contact_target is True
    p.missed.refresh_from_db()
    assert p.missed.outcome == Appointment.Outcome.UNACCEPTABLE_ABSENCE
    assert not Alert.objects.filter(recipient=p.police_om, cleared_at__isnull=True).exists()
