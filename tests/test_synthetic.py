"""The synthetic partnership generator, run tiny: its data must obey the same rules as real data."""

import datetime

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.urls import reverse

from cases.models import (
    Agency,
    Appointment,
    CaseShare,
    CohortMembership,
    Offence,
    Offender,
    RagChange,
    Role,
    SharingAgreement,
    User,
)
from panels.models import Meeting, Panel
from pathways.models import AccommodationStatus, Action, NeedAssessment, Referral
from synthetic import Plan
from synthetic.management.commands.generate_partnership import generate

AS_OF = datetime.date(2026, 11, 1)
TINY = 0.001


def tiny_plan(seed=7):
    return Plan.build(seed=seed, scale=TINY, as_of=AS_OF)


@pytest.fixture
def generated(db):
    return generate(tiny_plan())


def fingerprint():
    """A digest of the generated rows that ignores surrogate keys of child tables."""
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT md5(string_agg(concat_ws('|', id, first_names, last_name, date_of_birth, pnc_number, crn,
                                            prison_number, rag_status, lead_agency_id IS NULL), ',' ORDER BY id))
            FROM cases_offender
        """)
        people = cursor.fetchone()[0]
        cursor.execute("""
            SELECT md5(string_agg(concat_ws('|', offender_id, kind, scheduled_at, outcome), ','
                                  ORDER BY offender_id, scheduled_at, kind, outcome))
            FROM cases_appointment
        """)
        return people, cursor.fetchone()[0]


class Rollback(Exception):
    pass


def generate_and_fingerprint(seed):
    result = {}
    try:
        with transaction.atomic():
            generate(tiny_plan(seed))
            result["fingerprint"] = fingerprint()
            raise Rollback
    except Rollback:
        pass
    return result["fingerprint"]


def test_tiny_run_fills_every_table_in_proportion(generated):
    assert Offender.objects.count() == 100
    assert Agency.objects.count() == 25
    assert Appointment.objects.count() == 2000
    assert Offence.objects.count() == 200
    assert RagChange.objects.count() > 200
    assert CohortMembership.objects.filter(ended_on__isnull=True).count() > 80
    assert {step["label"] for step in generated["steps"]} >= {"people", "appointments", "access log"}


def test_generated_people_pass_model_validation(generated):
    for person in Offender.objects.all()[:100]:
        person.full_clean()


def test_current_rag_status_is_the_latest_change(generated):
    for person in Offender.objects.prefetch_related("rag_changes"):
        changes = list(person.rag_changes.all())  # newest first
        assert person.rag_status == (changes[0].to_status if changes else "")
        for newer, older in zip(changes, changes[1:], strict=False):
            assert newer.from_status == older.to_status


def test_lead_offender_managers_work_for_the_lead_agency(generated):
    assert not Offender.objects.exclude(lead_offender_manager__isnull=True).exclude(
        lead_offender_manager__agency=F("lead_agency")
    ).exists()


def test_offence_outcomes_and_memberships_are_consistent(generated):
    assert not Offence.objects.filter(outcome="pending", outcome_on__isnull=False).exists()
    assert not Offence.objects.exclude(outcome="pending").filter(outcome_on__isnull=True).exists()
    assert not Offence.objects.filter(outcome_on__gt=AS_OF).exists()
    assert not Appointment.objects.filter(outcome="scheduled", scheduled_at__lt=datetime.datetime(
        2026, 11, 1, tzinfo=datetime.UTC)).exists()


def expected_visible_ids(user):
    cohorts = SharingAgreement.objects.filter(agency=user.agency).values("cohort")
    on_shared_cohort = CohortMembership.objects.filter(ended_on__isnull=True, cohort__in=cohorts).values("offender")
    shared = CaseShare.objects.active().filter(agency=user.agency).values("offender")
    return set(
        Offender.objects.filter(lead_agency=user.agency).values_list("pk", flat=True)
    ) | set(Offender.objects.filter(pk__in=on_shared_cohort).values_list("pk", flat=True)) | set(
        Offender.objects.filter(pk__in=shared).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("kind", [Agency.Kind.POLICE, Agency.Kind.PROBATION, Agency.Kind.TREATMENT, Agency.Kind.DWP])
def test_visibility_follows_the_sharing_agreement(generated, kind):
    user = User.objects.filter(agency__kind=kind, role=Role.OFFENDER_MANAGER).order_by("pk").first()
    visible = set(Offender.objects.visible_to(user).values_list("pk", flat=True))
    assert visible == expected_visible_ids(user)
    if kind in (Agency.Kind.POLICE, Agency.Kind.PROBATION):
        assert 0 < len(visible) < Offender.objects.count()


def test_analysts_see_no_generated_people(generated):
    analyst = User.objects.filter(role=Role.ANALYST).first()
    assert not Offender.objects.visible_to(analyst).exists()


def test_generated_staff_can_use_the_case_pages(generated, client_for):
    user = User.objects.filter(agency__kind=Agency.Kind.PROBATION, role=Role.OFFENDER_MANAGER).first()
    client = client_for(user)
    assert client.get(reverse("cases:list")).status_code == 200
    seen = Offender.objects.visible_to(user).first()
    unseen = Offender.objects.exclude(pk__in=Offender.objects.visible_to(user)).first()
    assert client.get(reverse("cases:detail", args=[seen.pk])).status_code == 200
    assert client.get(reverse("cases:detail", args=[unseen.pk])).status_code == 404


def test_same_seed_gives_the_same_partnership(db):
    first = generate_and_fingerprint(seed=11)
    assert generate_and_fingerprint(seed=11) == first
    assert generate_and_fingerprint(seed=12) != first


def test_management_command_runs_tiny(db):
    call_command("generate_partnership", scale=TINY, seed=3, as_of=AS_OF, stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Offender.objects.count() == 100


def test_pathway_actions_address_the_same_persons_needs(generated):
    actions = Action.objects.all()
    assert actions.count() == 500
    assert NeedAssessment.objects.count() == 500
    assert not actions.exclude(need__offender=F("offender")).exists()
    assert not actions.exclude(need__pathway=F("pathway")).exists()
    assert not actions.exclude(owner__isnull=True).exclude(owner__agency=F("owner_agency")).exists()
    assert actions.filter(status__in=["open", "in_progress"]).exists()
    assert Referral.objects.exists()
    assert AccommodationStatus.objects.filter(on_release_day=True).exists()


def schema_snapshot():
    with connection.cursor() as cursor:
        cursor.execute("""
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid), condeferrable, condeferred
            FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1, 2
        """)
        constraints = cursor.fetchall()
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1")
        return constraints, cursor.fetchall()


def test_generation_restores_every_index_and_constraint(db):
    before = schema_snapshot()
    generate(tiny_plan())
    assert schema_snapshot() == before


def test_panels_meet_monthly_with_distinct_people_on_each_agenda(generated):
    assert Panel.objects.count() == 3
    for panel in Panel.objects.all():
        meetings = panel.meetings.all()
        assert meetings.count() == 61  # five years of monthly meetings and the next ones
        assert meetings.filter(status="closed").count() >= 59
        assert meetings.filter(status="scheduled").exists()
        assert panel.memberships.exists()
    closed = Meeting.objects.filter(status="closed").first()
    assert closed.items.count() == 15
    assert closed.attendance.exists()


def test_rollup_with_the_shared_cohort_table_gives_the_figures_of_each_statement_alone(generated):
    from dashboard.measures import all_measures
    from dashboard.periods import reporting_quarters
    from dashboard.rollup import cohorts_in_quarter_table, compute_measure

    def figures(by_quarter):
        return sorted(
            (v.period_start, v.dimension, v.slice_key, v.category, v.numerator, v.denominator)
            for values in by_quarter.values() for v in values
        )

    quarters = reporting_quarters(count=8, today=AS_OF)
    with cohorts_in_quarter_table(quarters) as table:
        for measure in all_measures():
            shared = figures(compute_measure(measure, quarters, table))
            alone = figures(compute_measure(measure, quarters))
            assert shared == alone, measure.name
    cohort_rows = [row for measure in all_measures() for row in figures(compute_measure(measure, quarters))
                   if row[1] == "cohort"]
    assert cohort_rows  # the generated people are on cohorts, so the comparison covered the cohort slices
