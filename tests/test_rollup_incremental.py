"""The incremental roll-up: after changes, only what they affect is calculated again, and the figures are exactly
those a full roll-up gives."""

import datetime
import random

import pytest
from django.db import connection, connections
from django.db.models import F
from django.utils import timezone

from cases.models import (
    Agency,
    Appointment,
    Area,
    CohortMembership,
    EnforcementAction,
    Offence,
    Offender,
    RagChange,
    RagStatus,
    Supervision,
)
from dashboard import changes, rollup
from dashboard.measures import all_measures
from dashboard.models import PendingRollupChange, RollupRun, RollupValue
from dashboard.periods import Quarter, reporting_quarters
from dashboard.publication import publish_quarter
from dashboard.tasks import apply_pending_rollup_changes
from pathways.models import AccommodationStatus, Referral
from synthetic import Plan
from synthetic.management.commands.generate_partnership import generate
from tests.factories import MembershipFactory, OffenderFactory, UserFactory

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the change triggers are PostgreSQL's")

FIELDS = ("measure", "category", "period_start", "period_end", "dimension", "slice_key", "numerator", "denominator",
          "numerator_hidden", "denominator_hidden")


def figures():
    return sorted(RollupValue.objects.values_list(*FIELDS), key=repr)


def forget_pending():
    PendingRollupChange.objects.all().delete()


def full_rollup():
    run = rollup.run_rollup()
    assert run.status == RollupRun.Status.SUCCEEDED
    return run


def _day_in_reporting_quarters(rng):
    quarters = reporting_quarters()
    first, last = quarters[0].start, min(quarters[-1].end, timezone.localdate() - datetime.timedelta(days=1))
    return first + datetime.timedelta(days=rng.randrange((last - first).days + 1))


def _moment(day, rng):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(rng.randrange(24), rng.randrange(60))))


def random_changes(rng, count):
    """A seeded mix of what practitioners and feeds do, through the ORM, querysets and plain SQL."""
    people = list(Offender.objects.order_by("pk").values_list("pk", flat=True))
    agencies = list(Agency.objects.order_by("pk").values_list("pk", flat=True))
    areas = list(Area.objects.order_by("pk").values_list("pk", flat=True))
    done = []
    for _ in range(count):
        person = rng.choice(people)
        kind = rng.choice([
            "offence", "outcome", "rag", "join", "exit", "appointment", "appointment_outcome", "release",
            "accommodation", "area", "delete_offence", "delete_appointment", "enforcement", "bulk_outcomes",
            "referral_contact", "raw_rag",
        ])
        day = _day_in_reporting_quarters(rng)
        if kind == "offence":
            outcome = rng.choice([Offence.Outcome.CONVICTION, Offence.Outcome.CAUTION, Offence.Outcome.PENDING])
            outcome_on = None if outcome == Offence.Outcome.PENDING else day + datetime.timedelta(20)
            Offence.objects.create(offender_id=person, committed_on=day, offence_group=Offence.Group.values[0],
                                   outcome=outcome, outcome_on=outcome_on, drug_related=rng.random() < 0.5)
        elif kind == "outcome":
            offence = Offence.objects.filter(offender_id__in=rng.sample(people, 20)).order_by("pk").first()
            if offence:
                offence.outcome = rng.choice([Offence.Outcome.CONVICTION, Offence.Outcome.ACQUITTED])
                offence.outcome_on = offence.committed_on + datetime.timedelta(days=rng.randrange(1, 300))
                offence.save()
        elif kind == "rag":
            current = Offender.objects.get(pk=person).rag_status
            status = rng.choice([s for s in RagStatus.values if s != current])
            RagChange.objects.create(offender_id=person, from_status=current, to_status=status, reason="Review",
                                     changed_at=_moment(day, rng), agency_id=rng.choice(agencies))
            Offender.objects.filter(pk=person).update(rag_status=status)
        elif kind == "raw_rag":
            with connection.cursor() as cursor:  # another system writing straight into the table
                cursor.execute(
                    "INSERT INTO cases_ragchange (offender_id, from_status, to_status, reason, changed_at, source, "
                    "source_system, source_reference) VALUES (%s, '', 'amber', 'Feed', %s, 'import', '', '')",
                    [person, _moment(day, rng)])
        elif kind == "join":
            cohort = rng.choice(["iom", "dip", "sgv", "checkpoint"])
            if not CohortMembership.objects.filter(offender_id=person, cohort=cohort, ended_on=None).exists():
                MembershipFactory(offender_id=person, cohort=cohort, started_on=day)
        elif kind == "exit":
            membership = CohortMembership.objects.filter(offender_id__in=rng.sample(people, 20), ended_on=None,
                                                         started_on__lte=day).order_by("pk").first()
            if membership:
                membership.ended_on, membership.exit_reason = day, "completed"
                membership.save()
        elif kind == "appointment":
            Appointment.objects.create(
                offender_id=person, agency_id=rng.choice(agencies), kind=Appointment.Kind.SUPERVISION,
                scheduled_at=_moment(day, rng),
                outcome=rng.choice([Appointment.Outcome.UNACCEPTABLE_ABSENCE, Appointment.Outcome.ATTENDED_COMPLIED]))
        elif kind == "appointment_outcome":
            appointment = Appointment.objects.filter(offender_id__in=rng.sample(people, 20),
                                                     scheduled_at__lt=timezone.now()).order_by("pk").first()
            if appointment:
                appointment.outcome, appointment.absence_reason = Appointment.Outcome.UNACCEPTABLE_ABSENCE, ""
                appointment.save()
        elif kind == "bulk_outcomes":  # a queryset update: no signal, the triggers still see it
            Appointment.objects.filter(offender_id__in=rng.sample(people, 5), scheduled_at__lt=timezone.now()).update(
                outcome=Appointment.Outcome.ATTENDED_COMPLIED, absence_reason="")
        elif kind == "release":
            Supervision.objects.create(offender_id=person, kind=Supervision.Kind.LICENCE, started_on=day,
                                       released_on=day, responsible_agency_id=rng.choice(agencies))
        elif kind == "accommodation":
            AccommodationStatus.objects.create(offender_id=person, effective_on=day,
                                               status=rng.choice(["settled", "rough_sleeping", "temporary"]))
        elif kind == "area":
            Offender.objects.filter(pk=person).update(area_id=rng.choice(areas), version=F("version") + 1)
        elif kind == "delete_offence":
            Offence.objects.filter(pk__in=Offence.objects.filter(offender_id=person).values("pk")[:1]).delete()
        elif kind == "delete_appointment":
            appointment = Appointment.objects.filter(offender_id__in=rng.sample(people, 20)).order_by("pk").first()
            if appointment:
                appointment.delete()
        elif kind == "enforcement":
            EnforcementAction.objects.create(offender_id=person, kind=EnforcementAction.Kind.values[0], taken_on=day,
                                             agency_id=rng.choice(agencies))
        elif kind == "referral_contact":
            referral = Referral.objects.filter(first_contact_at=None).order_by("pk").first()
            if referral:
                Referral.objects.filter(pk=referral.pk).update(first_contact_at=referral.referred_at
                                                               + datetime.timedelta(hours=rng.randrange(1, 100)))
        done.append(kind)
    return done


@pytest.fixture
def partnership_data(db):
    generate(Plan.build(seed=11, scale=0.001, as_of=timezone.localdate()))


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_incremental_gives_exactly_the_rows_of_a_full_run(partnership_data, seed):
    full_rollup()
    forget_pending()
    rng = random.Random(seed)
    random_changes(rng, 12)
    assert PendingRollupChange.objects.exists()

    apply_pending_rollup_changes()
    incremental = figures()
    assert not PendingRollupChange.objects.exists()
    assert RollupRun.objects.filter(kind=RollupRun.Kind.INCREMENTAL, status=RollupRun.Status.SUCCEEDED).exists()

    full_rollup()
    assert incremental == figures()


def test_a_second_burst_after_the_first_is_taken_in_too(partnership_data):
    full_rollup()
    forget_pending()
    rng = random.Random(9)
    for _ in range(3):
        random_changes(rng, 4)
        apply_pending_rollup_changes()
    incremental = figures()
    full_rollup()
    assert incremental == figures()


@pytest.fixture
def two_quarters(db):
    quarters = reporting_quarters()
    earlier, current = quarters[-3], quarters[-1]
    for quarter in (earlier, current):
        for _ in range(12):
            MembershipFactory(offender=OffenderFactory(), started_on=quarter.start + datetime.timedelta(days=3))
    return earlier, current


def test_a_change_dated_in_one_quarter_leaves_other_quarters_untouched(two_quarters):
    earlier, current = two_quarters
    full_rollup()
    forget_pending()
    before = {row[:-1]: row[-1] for row in RollupValue.objects.values_list(
        "measure", "category", "period_start", "dimension", "slice_key", "computed_at")}
    person = Offender.objects.filter(cohort_memberships__started_on__gte=current.start).first()
    RagChange.objects.create(offender=person, from_status="", to_status="red", reason="Review",
                             changed_at=timezone.now())

    [result] = apply_pending_rollup_changes()
    run = RollupRun.objects.get(pk=result["run"])
    assert run.kind == RollupRun.Kind.INCREMENTAL
    assert run.scope == {"rag_mix": [current.key], "rag_movement": [current.key]}
    after = {row[:-1]: row[-1] for row in RollupValue.objects.values_list(
        "measure", "category", "period_start", "dimension", "slice_key", "computed_at")}
    for key, computed_at in after.items():
        measure, _, period_start = key[:3]
        if measure in {"rag_mix", "rag_movement"} and period_start == current.start:
            assert computed_at == run.finished_at
        else:
            assert before[key] == computed_at, key
    assert RollupValue.objects.filter(measure="rag_mix", period_start=current.start, dimension="all",
                                      category="red").get().numerator == 1


def test_a_cohort_exit_affects_only_the_quarters_from_the_exit_on(two_quarters):
    earlier, current = two_quarters
    membership = CohortMembership.objects.filter(started_on__lt=current.start).first()
    forget_pending()
    membership.ended_on, membership.exit_reason = current.start + datetime.timedelta(days=1), "completed"
    membership.save()
    [change] = PendingRollupChange.objects.values_list("source", "first_day", "last_day")
    assert change == ("cases_cohortmembership", membership.ended_on, None)
    scope = changes.plan([change], all_measures(), reporting_quarters())
    assert {quarter for quarters in scope.values() for quarter in quarters} == {current}


def test_an_update_no_measure_reads_records_nothing(two_quarters):
    forget_pending()
    person = Offender.objects.first()
    person.address, person.last_name = "1 New Street", "Renamed"
    person.save()
    membership = CohortMembership.objects.first()
    membership.iom_category = "flex"
    membership.save()
    assert not PendingRollupChange.objects.exists()


def test_nothing_pending_runs_nothing(two_quarters):
    full_rollup()
    forget_pending()
    runs = RollupRun.objects.count()
    before = figures()
    assert apply_pending_rollup_changes() == []
    assert RollupRun.objects.count() == runs
    assert figures() == before


def test_a_change_while_a_full_run_holds_the_lock_stays_pending(two_quarters):
    full_rollup()
    forget_pending()
    runs = RollupRun.objects.count()
    RagChange.objects.create(offender=Offender.objects.first(), from_status="", to_status="red", reason="Review")
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [rollup.RUN_LOCK_KEY])
        assert rollup.apply_pending_changes() is None
    finally:
        other.close()
    assert PendingRollupChange.objects.exists() and RollupRun.objects.count() == runs
    assert rollup.apply_pending_changes() is not None  # the lock let go, the change is taken in
    assert not PendingRollupChange.objects.exists()


def test_a_full_run_waits_for_an_incremental_run_instead_of_being_skipped(two_quarters):
    working = RollupRun.objects.create(kind=RollupRun.Kind.INCREMENTAL, status=RollupRun.Status.RUNNING)
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [rollup.RUN_LOCK_KEY])
        queued = RollupRun.objects.create()
        with pytest.raises(rollup.RunSkipped):
            rollup.run_rollup(queued)
        shared = RollupRun.objects.create()
        with pytest.raises(rollup.RunSkipped):
            rollup.start_parts(shared)
    finally:
        other.close()
    queued.refresh_from_db()
    shared.refresh_from_db()
    assert queued.status == shared.status == RollupRun.Status.QUEUED, "left for the task to retry, not skipped"
    RollupRun.objects.filter(pk=working.pk).update(status=RollupRun.Status.SUCCEEDED)
    assert rollup.run_rollup(queued).status == RollupRun.Status.SUCCEEDED


def test_published_quarters_get_revisions_as_with_a_full_run(two_quarters, settings):
    earlier, current = two_quarters
    analyst = UserFactory(role="analyst")
    full_rollup()
    forget_pending()
    publication = publish_quarter(analyst, earlier)
    published = set(publication.figures.values_list(*FIELDS))
    # A late record: someone joined a cohort in the published quarter.
    MembershipFactory(offender=OffenderFactory(), started_on=earlier.start + datetime.timedelta(days=10))

    apply_pending_rollup_changes()
    incremental_revisions = sorted(publication.revisions.values_list(
        "measure", "category", "period_start", "dimension", "slice_key", "numerator", "denominator",
        "numerator_hidden", "denominator_hidden", "reason"))
    assert incremental_revisions, "the changed figure of the published quarter is revised"
    assert set(publication.figures.values_list(*FIELDS)) == published  # the published report never changes
    revised = RollupRun.objects.filter(kind=RollupRun.Kind.INCREMENTAL).get()
    assert set(publication.revisions.values_list("run", flat=True)) == {revised.pk}

    # A full run now finds the same figures, so it records nothing more: the incremental run did what it would.
    full_rollup()
    assert sorted(publication.revisions.values_list(
        "measure", "category", "period_start", "dimension", "slice_key", "numerator", "denominator",
        "numerator_hidden", "denominator_hidden", "reason")) == incremental_revisions


def test_publishing_needs_a_full_run_after_the_quarter(two_quarters):
    """An incremental run calculated only what changed: it is not the run a board report is published from."""
    earlier, _ = two_quarters
    full_rollup()
    RollupRun.objects.update(finished_at=timezone.make_aware(datetime.datetime.combine(earlier.end,
                                                                                        datetime.time(12))))
    RagChange.objects.create(offender=Offender.objects.first(), from_status="", to_status="red", reason="Review")
    apply_pending_rollup_changes()
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        publish_quarter(UserFactory(role="analyst"), earlier)


def test_every_table_a_measure_reads_is_watched():
    watched = {source.table for source in changes.SOURCES}
    for measure in all_measures():
        assert changes.tables_read(measure) <= watched, measure.name


def test_the_watched_columns_exist():
    from django.apps import apps

    columns = {model._meta.db_table: {field.column for field in model._meta.concrete_fields}
               for model in apps.get_models()}
    for source in changes.SOURCES:
        assert set(source.columns) <= columns[source.table], source.table


def test_every_person_detail_a_slice_reads_is_watched():
    import re

    watched = set(changes.SOURCES_BY_TABLE["cases_offender"].columns)
    expressions = " ".join([*rollup.SLICE_EXPRESSIONS.values(), *(c for _, _, c in rollup.PRIORITY_GROUPS)])
    read = set(re.findall(r"\bo\.(\w+)", expressions))
    assert read <= watched


def test_the_catch_up_is_in_celery_beat(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.get(task="dashboard.tasks.apply_pending_rollup_changes")
    assert task.enabled and task.interval.every == 30 and task.interval.period == "seconds"


def test_a_committed_change_queues_the_task_once(db, django_capture_on_commit_callbacks, monkeypatch):
    from dashboard import receivers

    queued = []
    monkeypatch.setattr(apply_pending_rollup_changes, "apply_async", lambda **kwargs: queued.append(kwargs))
    conf = apply_pending_rollup_changes.app.conf
    eager, conf.task_always_eager = conf.task_always_eager, False
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            person = OffenderFactory()
            RagChange.objects.create(offender=person, from_status="", to_status="red", reason="Review")
            RagChange.objects.create(offender=person, from_status="red", to_status="amber", reason="Review")
    finally:
        conf.task_always_eager = eager
    assert callbacks.count(receivers.changes_committed) == 1
    assert len(queued) == 1 and queued[0]["countdown"] >= 0


def test_quarter_outside_the_reporting_range_needs_nothing(db):
    far = Quarter.containing(timezone.localdate()).next().next().start
    assert changes.plan([("resettlement_workingday", far, far)], all_measures(), reporting_quarters()) == {}
