"""Evaluations on invented partnerships with a planted truth, and who may set them up and see what."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase
from django.utils import timezone

from cases.models import AccessLogEntry, Cohort, Offence
from evaluation import services
from evaluation.models import Evaluation, EvaluationMember
from evaluation.planted import plant
from evaluation.population import build, latest_complete_period_end

from .factories import MembershipFactory, OffenderFactory, UserFactory

VARIABLES = ["age", "gender", "previous_offences", "years_since_last"]


def period():
    end = latest_complete_period_end() - datetime.timedelta(days=30)
    return end - datetime.timedelta(days=364), end


def evaluate(user, **overrides):
    start, end = period()
    options = {
        "name": "Checkpoint against similar cautioned adults", "treatment": Evaluation.Treatment.COHORT_STARTED,
        "cohort": Cohort.CHECKPOINT, "period_start": start, "period_end": end, "variables": VARIABLES,
        "with_replacement": False, "seed": 7,
    }
    options.update(overrides)
    with TestCase.captureOnCommitCallbacks(execute=True):
        evaluation = services.create_evaluation(user=user, **options)
    evaluation.refresh_from_db()
    return evaluation


def planted(partnership, *, effect, people=2500, seed=11, selective=True):
    start, end = period()
    return plant(people=people, start=start, end=end, effect=effect, areas=[partnership.area],
                 agency=partnership.police, seed=seed, selective=selective)


@pytest.mark.django_db
def test_matching_finds_a_planted_ten_point_reduction_that_the_raw_comparison_hides(partnership):
    treated = planted(partnership, effect=-0.10)

    evaluation = evaluate(partnership.analyst)

    assert evaluation.status == Evaluation.Status.DONE, evaluation.refusal
    result = evaluation.result
    assert result["treated"] == len(treated)
    # Selection on age and history: the raw comparison is far from the truth, the matched interval holds it.
    assert result["raw_rate"]["difference"] > -0.10 + 0.08
    assert result["rate"]["low"] < -0.10 < result["rate"]["high"]
    assert abs(result["rate"]["difference"] + 0.10) < abs(result["raw_rate"]["difference"] + 0.10)
    assert all(abs(row["smd_after"]) < 0.1 for row in result["balance"] if row["variable"] != "gender")
    before = {row["label"]: row["smd_before"] for row in result["balance"]}
    assert before["Age"] < -0.3 and before["Previous proven offences"] > 0.3
    assert result["matched"] + result["unmatched"] == result["treated"]
    assert result["verdict"].startswith(("Reoffending was significantly lower", "No significant difference found"))
    provenance = evaluation.provenance
    assert provenance["seed"] == 7 and {"numpy", "scipy", "scikit-learn"} <= set(provenance["versions"])
    assert EvaluationMember.objects.filter(evaluation=evaluation, group="treated").count() == len(treated)


@pytest.mark.django_db
def test_a_partnership_where_the_treatment_does_nothing_gets_an_interval_around_zero(partnership):
    planted(partnership, effect=0.0, seed=23)

    evaluation = evaluate(partnership.analyst, with_replacement=True)

    result = evaluation.result
    assert evaluation.status == Evaluation.Status.DONE
    assert result["rate"]["low"] < 0 < result["rate"]["high"]
    assert result["verdict"].startswith("No significant difference found")
    assert "cannot say whether" in result["verdict"]


@pytest.mark.django_db
def test_running_again_on_the_same_record_gives_the_same_answer(partnership):
    planted(partnership, effect=-0.10, people=900, seed=5, selective=False)
    first = evaluate(partnership.analyst)

    again = evaluate(partnership.analyst, seed=first.seed)

    assert again.pk != first.pk
    assert again.provenance == first.provenance
    assert again.result == first.result


@pytest.mark.django_db
def test_a_treatment_group_below_the_minimum_is_refused(partnership):
    planted(partnership, effect=-0.10, people=300, seed=3)

    evaluation = evaluate(partnership.analyst)

    assert evaluation.status == Evaluation.Status.REFUSED
    assert "at least 60" in evaluation.refusal
    assert evaluation.result == {}
    assert not EvaluationMember.objects.filter(evaluation=evaluation).exists()


@pytest.mark.django_db
def test_a_period_still_within_its_follow_up_is_refused(partnership):
    today = timezone.localdate()
    with pytest.raises(ValidationError) as refused:
        evaluate(partnership.analyst, period_start=today - datetime.timedelta(days=200), period_end=today)
    assert "12-month follow-up" in str(refused.value)


@pytest.mark.django_db
def test_only_analysts_and_agency_administrators_may_run_evaluations(partnership):
    for user in (partnership.police_om, partnership.police_reader, partnership.probation_om):
        with pytest.raises(PermissionDenied):
            evaluate(user)
    assert not Evaluation.objects.exists()


@pytest.mark.django_db
def test_the_follow_up_counts_only_offences_proven_in_time(partnership):
    start, end = period()
    day = start + datetime.timedelta(days=10)
    person = OffenderFactory(area=partnership.area, lead_agency=partnership.police)
    MembershipFactory(offender=person, cohort=Cohort.CHECKPOINT, started_on=day)

    def offence(committed, outcome, outcome_on):
        Offence.objects.create(offender=person, committed_on=day + datetime.timedelta(days=committed),
                               offence_group=Offence.Group.THEFT, outcome=outcome,
                               outcome_on=day + datetime.timedelta(days=outcome_on))

    offence(-400, Offence.Outcome.CONVICTION, -380)  # previous
    offence(-5, Offence.Outcome.CAUTION, 0)  # proven on the day itself: not known the day before
    offence(30, Offence.Outcome.CONVICTION, 60)  # counts
    offence(300, Offence.Outcome.CAUTION, 500)  # counts: proven within the 6 months' wait
    offence(300, Offence.Outcome.CONVICTION, 600)  # proven too late
    offence(100, Offence.Outcome.NO_FURTHER_ACTION, 120)  # not proven
    offence(400, Offence.Outcome.CONVICTION, 420)  # after the follow-up year
    evaluation = Evaluation(treatment=Evaluation.Treatment.COHORT_STARTED, cohort=Cohort.CHECKPOINT,
                            period_start=start, period_end=end, variables=["previous_offences"])

    people = build(evaluation)

    assert list(people.offender_ids[: people.treated_count]) == [person.pk]
    assert people.reoffences[0] == 2
    assert people.raw["previous_offences"][0] == 1


def _done_evaluation(partnership, members):
    evaluation = Evaluation.objects.create(
        name="Checkpoint", treatment=Evaluation.Treatment.COHORT_STARTED, cohort=Cohort.CHECKPOINT,
        period_start=datetime.date(2023, 4, 1), period_end=datetime.date(2024, 3, 31), variables=["age"],
        seed=1, status=Evaluation.Status.DONE, result={},
    )
    for person, group in members:
        EvaluationMember.objects.create(evaluation=evaluation, offender=person, group=group,
                                        index_on=datetime.date(2023, 5, 1), matched=True, reoffences=0)
    return evaluation


@pytest.mark.django_db
def test_the_people_download_is_for_roles_that_see_people_and_only_those_their_agency_may_see(
    partnership, client_for
):
    p = partnership
    evaluation = _done_evaluation(p, [(p.iom_person, "treated"), (p.police_only_person, "comparison")])
    url = f"/evaluations/{evaluation.pk}/people.csv"

    assert client_for(p.analyst).get(url).status_code == 403
    with pytest.raises(PermissionDenied):
        services.people_in(user=p.analyst, evaluation=evaluation)

    probation_admin = UserFactory(username="probation.admin", agency=p.probation, role="agency_admin")
    response = client_for(probation_admin).get(url)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    names = [row[1] for row in rows[1:]]
    assert names == [p.iom_person.full_name]
    assert p.police_only_person.last_name not in response.content.decode()
    logged = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.EXPORT, username="probation.admin")
    assert list(logged.values_list("offender_id", flat=True)) == [p.iom_person.pk]


@pytest.mark.django_db
def test_pages_refuse_roles_that_may_not_run_evaluations(partnership, client_for):
    p = partnership
    evaluation = _done_evaluation(p, [(p.iom_person, "treated")])
    for user in (p.police_om, p.police_reader):
        client = client_for(user)
        for url in ("/evaluations/", "/evaluations/new/", f"/evaluations/{evaluation.pk}/",
                    f"/evaluations/{evaluation.pk}/report/"):
            assert client.get(url).status_code == 403, (user, url)
        assert client.post("/evaluations/new/", {"name": "Sneaky"}).status_code == 403
    assert Evaluation.objects.count() == 1


@pytest.mark.django_db
def test_an_analyst_sets_up_an_evaluation_in_the_browser_form(partnership, client_for):
    planted(partnership, effect=-0.10, people=900, seed=9, selective=False)
    start, end = period()
    client = client_for(partnership.analyst)
    data = {
        "name": "Checkpoint", "treatment": "cohort_started", "cohort": "checkpoint",
        "period_start_day": start.day, "period_start_month": start.month, "period_start_year": start.year,
        "period_end_day": end.day, "period_end_month": end.month, "period_end_year": end.year,
        "variables": ["age", "previous_offences"], "with_replacement": "no",
    }

    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post("/evaluations/new/", data)

    evaluation = Evaluation.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/evaluations/{evaluation.pk}/"
    evaluation.refresh_from_db()
    page = client.get(response["Location"]).content.decode()
    assert evaluation.status == Evaluation.Status.DONE
    assert "Balance before and after matching" in page and "95% confidence interval" in page
    # Figures about groups only: nobody in either group is named on the page.
    for member in EvaluationMember.objects.filter(evaluation=evaluation).select_related("offender")[:50]:
        assert member.offender.last_name not in page

    again = client.get(f"/evaluations/new/?again={evaluation.pk}").content.decode()
    assert f'value="{evaluation.seed}"' in again and 'value="Checkpoint"' in again

    late = {**data, "period_end_year": timezone.localdate().year, "period_end_month": timezone.localdate().month,
            "period_end_day": timezone.localdate().day}
    response = client.post("/evaluations/new/", late)
    assert response.status_code == 200
    assert "still within the 12-month follow-up" in response.content.decode()
    assert Evaluation.objects.count() == 1
