"""An offender manager works from the case overview: risk, what needs attention, and the breach prompt at the
second failure to comply within 12 months."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from cases.models import Appointment, EnforcementAction, Supervision
from risk import services as risk
from risk.models import RiskAssessment

from ..factories import AppointmentFactory
from .browser import give_authenticator_app

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("variant, javascript", [("with the mouse", True), ("without JavaScript", False)])
def test_offender_manager_reads_the_overview_and_is_prompted_to_consider_breach(
    journey, partnership, variant, javascript
):
    p = partnership
    person = p.iom_person
    today = timezone.localdate()
    Supervision.objects.create(offender=person, kind=Supervision.Kind.COMMUNITY_ORDER,
                               started_on=today - datetime.timedelta(days=200), responsible_agency=p.police)
    AppointmentFactory(offender=person, agency=p.police, outcome="unacceptable_absence",
                       scheduled_at=timezone.now() - datetime.timedelta(days=40))
    visit_at = (timezone.localtime() - datetime.timedelta(days=1)).replace(hour=9, minute=15, second=0,
                                                                          microsecond=0)
    visit = AppointmentFactory(offender=person, agency=p.police, kind="home_visit", outcome="scheduled",
                               scheduled_at=visit_at)
    risk.record_risk_assessment(p.probation_om, person, rosh_level="high", tier="B2",
                                assessed_on=today - datetime.timedelta(days=60))
    risk.raise_risk_flag(p.probation_om, person, kind="officer_safety", level="high",
                         registered_on=today - datetime.timedelta(days=80),
                         review_on=today + datetime.timedelta(days=3))
    give_authenticator_app(p.police_om)
    j = journey(f"case overview and breach prompt {variant}", javascript=javascript)

    j.sign_in(p.police_om)
    j.expect_heading("Cases")
    j.follow("ASHWORTH, Jordan")
    j.expect_heading("Jordan Ashworth")
    main = j.page.get_by_role("main")
    risk_card = j.page.locator(".govuk-summary-card").filter(has=j.page.get_by_role("heading", name="Risk"))
    expect(risk_card).to_contain_text("High")
    expect(risk_card).to_contain_text("B2")
    expect(risk_card).to_contain_text("Officer safety (high)")
    expect(main).to_contain_text("1 failure to comply within 12 months")
    attention = j.page.get_by_role("heading", name="Needs your attention")
    expect(attention).to_be_visible()
    expect(main).to_contain_text("Review the officer safety flag")
    j.checkpoint("case overview")

    # Risk: a new assessment, kept alongside the earlier one.
    j.follow("Risk")
    j.expect_heading("Risk", level=2)
    j.checkpoint("risk")
    j.follow("Record a risk of serious harm assessment")
    j.expect_heading("Record a risk of serious harm assessment")
    j.checkpoint("record a risk assessment")
    j.press("Save")
    j.follow_error("Select the risk of serious harm", j.page.get_by_role("radio", name="Low", exact=True))
    j.choose("Very high")
    j.fill("Tier (optional)", "a3")
    j.fill_date("Date of assessment", today)
    j.press("Save")
    j.expect_success("Risk assessment recorded.")
    expect(main).to_contain_text("Very high")
    j.checkpoint("risk after assessment")
    assert RiskAssessment.objects.filter(offender=person).count() == 2
    assert RiskAssessment.objects.filter(offender=person).first().tier == "A3"

    # The home visit yesterday has no outcome yet: it is on the attention list.
    j.follow("Overview")
    j.follow(f"Record the outcome of the police home visit on {visit_at:%-d %B %Y}")
    j.expect_heading("Jordan Ashworth")
    j.checkpoint("appointment")
    j.follow("Record the outcome")
    j.expect_heading("Record the outcome of an appointment")
    expect(main).to_contain_text("Another failure to comply means considering breach action")
    j.checkpoint("record the outcome")
    j.choose("Unacceptable absence")
    j.press("Save")
    j.expect_success("Appointment outcome recorded.")
    prompt = j.page.get_by_role("region", name="Important")
    expect(prompt).to_contain_text("2 failures to comply within 12 months: consider breach action.")
    j.checkpoint("breach prompt")
    assert not EnforcementAction.objects.exists()  # a prompt, never an action by itself

    j.follow("Record enforcement action", within=prompt)
    j.expect_heading("Record enforcement action")
    expect(j.page.get_by_role("radio", name="Breach proceedings")).to_be_checked()
    j.checkpoint("enforcement form")
    assert not EnforcementAction.objects.exists()
    assert Appointment.objects.get(pk=visit.pk).outcome == "unacceptable_absence"

    # The activity log, narrowed to failures to comply.
    j.visit(f"/cases/{person.pk}/activity/")
    j.expect_heading("Activity log", level=2)
    j.select("Compliance (optional)", "Failures to comply")
    j.press("Apply filters")
    expect(main).to_contain_text("2 entries, newest first.")
    j.checkpoint("activity log of failures")
