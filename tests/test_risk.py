"""Risk of serious harm, tier, scores and flags: recorded with who and when, kept as history, recorded by
case workers of any agency that may see the person."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from cases.locking import ConcurrentEditError
from risk import services
from risk.models import RiskAssessment, RiskFlag, RiskFlagReview, RiskScore

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)
TODAY = datetime.date.today


def date_parts(name, day):
    return {f"{name}_day": day.day, f"{name}_month": day.month, f"{name}_year": day.year}


def test_assessments_are_kept_as_history_and_the_latest_stands(partnership, client_for):
    p = partnership
    today = timezone.localdate()
    services.record_risk_assessment(p.police_om, p.iom_person, rosh_level="medium", tier="c2",
                                    assessed_on=today - 90 * DAY)
    latest = services.record_risk_assessment(p.probation_om, p.iom_person, rosh_level="high", tier="B3",
                                             assessed_on=today - DAY)
    assert RiskAssessment.objects.count() == 2
    assert (latest.recorded_by, latest.agency, latest.tier) == (p.probation_om, p.probation, "B3")
    assert RiskAssessment.objects.filter(offender=p.iom_person).first() == latest
    page = client_for(p.police_om).get(reverse("cases:section_risk", args=[p.iom_person.pk])).content.decode()
    assert "Medium" in page and "C2" in page and "High" in page and "B3" in page  # history, not overwritten
    overview = client_for(p.police_om).get(p.iom_person.get_absolute_url()).content.decode()
    assert "Risk of serious harm" in overview and "B3" in overview


def test_bad_risk_input_is_refused_with_a_reason(partnership):
    p = partnership
    with pytest.raises(ValidationError) as error:
        services.record_risk_assessment(p.police_om, p.iom_person, rosh_level="high", tier="Z9",
                                        assessed_on=timezone.localdate() + DAY)
    assert set(error.value.message_dict) == {"tier", "assessed_on"}
    with pytest.raises(ValidationError, match="score, select its band, or both"):
        services.record_risk_score(p.police_om, p.iom_person, kind="ogrs_2", assessed_on=timezone.localdate())
    with pytest.raises(ValidationError, match="percentage from 0 to 100"):
        services.record_risk_score(p.police_om, p.iom_person, kind="rsr", score=120, assessed_on=timezone.localdate())
    with pytest.raises(IntegrityError, match="risk_tier_valid"), transaction.atomic():
        RiskAssessment.objects.create(offender=p.iom_person, rosh_level="low", tier="E1", agency=p.police,
                                      assessed_on=timezone.localdate())
    assert not RiskScore.objects.exists()


def test_scores_show_the_latest_of_each_kind(partnership, client_for):
    p = partnership
    today = timezone.localdate()
    services.record_risk_score(p.probation_om, p.iom_person, kind="ogrs_2", score=55, assessed_on=today - 100 * DAY)
    services.record_risk_score(p.probation_om, p.iom_person, kind="ogrs_2", score=61.5, band="high",
                               assessed_on=today - DAY)
    services.record_risk_score(p.probation_om, p.iom_person, kind="rsr", band="medium", assessed_on=today)
    overview = client_for(p.police_om).get(p.iom_person.get_absolute_url()).content.decode()
    assert "OGRS (2 years): 61.5%, high" in overview and "RSR (serious reoffending): medium" in overview
    assert "55%" not in overview


def test_a_flag_is_raised_reviewed_and_removed_with_its_history(partnership, client_for):
    p = partnership
    today = timezone.localdate()
    flag = services.raise_risk_flag(p.police_om, p.iom_person, kind="officer_safety", level="high",
                                    registered_on=today - 30 * DAY, review_on=today + 5 * DAY, notes="Dog at address")
    with pytest.raises(ValidationError, match="already has this flag"):
        services.raise_risk_flag(p.probation_om, p.iom_person, kind="officer_safety", level="low",
                                 registered_on=today, review_on=today + DAY)
    overview = client_for(p.police_om).get(p.iom_person.get_absolute_url()).content.decode()
    assert "Review the officer safety flag" in overview  # needs your attention: review due within two weeks
    services.review_risk_flag(p.probation_om, flag, reviewed_on=today, level="medium",
                              next_review_on=today + 90 * DAY, expected_version=1)
    flag.refresh_from_db()
    assert (flag.level, flag.review_on, flag.version) == ("medium", today + 90 * DAY, 2)
    with pytest.raises(ConcurrentEditError):
        services.remove_risk_flag(p.police_om, flag, ended_on=today, reason="Dog rehomed", expected_version=1)
    services.remove_risk_flag(p.police_om, flag, ended_on=today, reason="Dog rehomed", expected_version=2)
    flag.refresh_from_db()
    assert not flag.is_open and flag.ended_by == p.police_om
    review = RiskFlagReview.objects.get()
    assert (review.reviewed_by, review.agency, review.level) == (p.probation_om, p.probation, "medium")
    page = client_for(p.police_om).get(reverse("cases:section_risk", args=[p.iom_person.pk])).content.decode()
    assert "No open risk flags." in page and "Dog rehomed" in page
    # A new flag of the same kind may be raised once the old one is removed.
    services.raise_risk_flag(p.police_om, p.iom_person, kind="officer_safety", level="low", registered_on=today,
                             review_on=today + DAY)
    assert RiskFlag.objects.open().count() == 1


def test_flag_review_refuses_bad_dates(partnership):
    p = partnership
    today = timezone.localdate()
    flag = services.raise_risk_flag(p.police_om, p.iom_person, kind="weapons", level="low", registered_on=today,
                                    review_on=today + DAY)
    with pytest.raises(ValidationError) as error:
        services.review_risk_flag(p.police_om, flag, reviewed_on=today + DAY, level="low", next_review_on=today)
    assert set(error.value.message_dict) == {"reviewed_on", "next_review_on"}
    with pytest.raises(ValidationError, match="before the flag was raised"):
        services.review_risk_flag(p.police_om, flag, reviewed_on=today - DAY, level="low",
                                  next_review_on=today + DAY)


def test_case_workers_of_agencies_that_see_the_person_record_risk_and_no_one_else(partnership, client_for):
    p = partnership
    today = timezone.localdate()
    url = reverse("risk:assessment_create", args=[p.iom_person.pk])
    data = {"rosh_level": "very_high", "tier": "A3", **date_parts("assessed_on", today)}
    assert client_for(p.probation_om).post(url, data).status_code == 302  # a partner under the agreement
    assert RiskAssessment.objects.get().agency == p.probation
    assert client_for(p.police_reader).post(url, data).status_code == 403
    assert client_for(p.housing_om).post(url, data).status_code == 404
    assert client_for(p.analyst).post(url, data).status_code in (403, 404)
    with pytest.raises(PermissionDenied):
        services.record_risk_assessment(p.housing_om, p.iom_person, rosh_level="low", assessed_on=today)
    assert RiskAssessment.objects.count() == 1


def test_the_flag_forms_work_in_the_browser_way(partnership, client_for):
    p = partnership
    today = timezone.localdate()
    client = client_for(p.police_om)
    created = client.post(reverse("risk:flag_create", args=[p.iom_person.pk]), {
        "kind": "domestic_abuse", "level": "high", **date_parts("registered_on", today),
        **date_parts("review_on", today + 30 * DAY),
    })
    assert created.status_code == 302
    flag = RiskFlag.objects.get()
    review_url = reverse("risk:flag_review", args=[p.iom_person.pk, flag.pk])
    assert 'name="expected_version" value="1"' in client.get(review_url).content.decode()
    stale = client.post(review_url, {"expected_version": 0, "level": "low", **date_parts("reviewed_on", today),
                                     **date_parts("next_review_on", today + DAY)})
    assert stale.status_code == 200 and "changed by someone else" in stale.content.decode()
    removed = client.post(reverse("risk:flag_remove", args=[p.iom_person.pk, flag.pk]), {
        "expected_version": 1, **date_parts("ended_on", today), "reason": "Victim moved away; no contact"})
    assert removed.status_code == 302
    assert client.get(review_url).status_code == 404  # a removed flag is not reviewed
