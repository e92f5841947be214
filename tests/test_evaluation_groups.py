"""Who is in an evaluation's treatment group and who may be a comparison."""

import datetime

import pytest
from django.utils import timezone

from cases.models import Cohort, CohortMembership, Offence
from evaluation.models import Evaluation
from evaluation.population import build

from .factories import MembershipFactory, OffenderFactory
from .pathways_factories import ReferralFactory, ServiceFactory

START, END = datetime.date(2023, 4, 1), datetime.date(2024, 3, 31)


def cautioned(person, on):
    Offence.objects.create(offender=person, committed_on=on - datetime.timedelta(days=10),
                           offence_group=Offence.Group.THEFT, outcome=Offence.Outcome.CAUTION, outcome_on=on)


def at_noon(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(12)))


@pytest.fixture
def people(partnership):
    def person(name):
        return OffenderFactory(last_name=name, area=partnership.area, lead_agency=partnership.police)

    return {name: person(name) for name in ("first", "earlier", "later", "never", "completed", "left")}


def evaluation(**fields):
    return Evaluation(period_start=START, period_end=END, variables=["age"], **fields)


@pytest.mark.django_db
def test_people_first_referred_to_the_service_in_the_period_are_treated_and_anyone_ever_referred_is_no_comparison(
    people
):
    service = ServiceFactory(name="Debt advice")
    ReferralFactory(offender=people["first"], service=service, referred_at=at_noon(START + datetime.timedelta(5)))
    ReferralFactory(offender=people["earlier"], service=service, referred_at=at_noon(START - datetime.timedelta(40)))
    ReferralFactory(offender=people["earlier"], service=service, referred_at=at_noon(START + datetime.timedelta(40)))
    ReferralFactory(offender=people["later"], service=service, referred_at=at_noon(END + datetime.timedelta(20)))
    ReferralFactory(offender=people["never"], referred_at=at_noon(START + datetime.timedelta(5)))  # another service
    for name in ("first", "earlier", "later", "never"):
        cautioned(people[name], START + datetime.timedelta(days=60))

    found = build(evaluation(treatment=Evaluation.Treatment.REFERRED, service=service))

    treated = list(found.offender_ids[: found.treated_count])
    pool = list(found.offender_ids[found.treated_count:])
    assert treated == [people["first"].pk]
    assert found.index_dates[0] == START + datetime.timedelta(days=5)
    assert pool == [people["never"].pk]


@pytest.mark.django_db
def test_completing_a_cohort_counts_from_the_day_it_was_completed(people):
    completed_on = START + datetime.timedelta(days=100)
    MembershipFactory(offender=people["completed"], cohort=Cohort.CHECKPOINT, started_on=START - datetime.timedelta(90),
                      ended_on=completed_on, exit_reason=CohortMembership.ExitReason.COMPLETED)
    MembershipFactory(offender=people["left"], cohort=Cohort.CHECKPOINT, started_on=START,
                      ended_on=completed_on, exit_reason=CohortMembership.ExitReason.DESELECTED)
    cautioned(people["left"], START + datetime.timedelta(days=120))
    cautioned(people["never"], START + datetime.timedelta(days=120))

    found = build(evaluation(treatment=Evaluation.Treatment.COHORT_COMPLETED, cohort=Cohort.CHECKPOINT))

    assert list(found.offender_ids) == [people["completed"].pk, people["never"].pk]
    assert found.index_dates[0] == completed_on


@pytest.mark.django_db
def test_people_first_seen_by_the_service_in_the_period_count_from_the_first_contact(people):
    service = ServiceFactory(name="Recovery service")
    seen_on = START + datetime.timedelta(days=30)
    ReferralFactory(offender=people["first"], service=service, referred_at=at_noon(START - datetime.timedelta(10)),
                    first_contact_at=at_noon(seen_on))
    ReferralFactory(offender=people["later"], service=service, referred_at=at_noon(START + datetime.timedelta(10)))
    for name in ("later", "never"):
        cautioned(people[name], START + datetime.timedelta(days=60))

    found = build(evaluation(treatment=Evaluation.Treatment.SEEN, service=service))

    assert list(found.offender_ids) == [people["first"].pk, people["never"].pk]
    assert found.treated_count == 1 and found.index_dates[0] == seen_on
