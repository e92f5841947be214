# ruff: noqa: S608 - SQL is assembled from table names and constants only; values are always parameters.
"""Compute every measure into the roll-up tables.

One SQL statement per measure covers all quarters and all slices (the quarters are a
VALUES list, the slices a UNION of GROUP BYs over the measure's rows joined to the
person once). The aggregates are small, so they are held in memory and written at the
end in one transaction that deletes the old rows of every quarter, inserts the new
ones and marks the run succeeded: readers see the previous complete roll-up or the new
one, never a mix, and a run that dies at any point leaves the previous one whole.

Only one run works at a time: a PostgreSQL advisory lock is taken for the whole run
(a second run finds it held and stops as "skipped"), and a unique constraint on the
rows is the last line of defence. While it works a run writes a heartbeat, so a run
whose worker died is found and marked failed.

A run can also be shared by several workers (`start_parts`, `run_part`, `combine_parts`):
each measure is a part of its own, computed by any worker and staged in the database;
the part that finds every part done combines them, with the same disclosure control and
the same single switch as a run in one process. Who was on which cohort in each quarter
is then worked out once per run into a table of the run's own that every part joins to.

Between full runs, an incremental run (`apply_pending_changes`) takes in the changes the
triggers of `dashboard.changes` recorded: it calculates only the measures and quarters they
affect, with the same disclosure control and a switch of just those figures, under the same lock.
"""

import contextlib
import datetime
import logging
import threading
from collections import defaultdict

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from cases.models import Offender

from . import changes, disclosure
from .definition import MIX, RATE, RATIO, Tables
from .measures import all_measures
from .models import Dimension, PendingRollupChange, RollupPart, RollupRun, RollupValue, StagedValue
from .periods import Quarter, reporting_quarters

logger = logging.getLogger(__name__)

# pg_advisory_lock key held for the whole run (in one process), or while a run shared by workers starts.
RUN_LOCK_KEY = 7_270_301_001
# pg_advisory_xact_lock(RUN_TABLE_LOCK_CLASS, run id) while a shared run's cohorts table is made.
RUN_TABLE_LOCK_CLASS = 72_703
# Memory for one aggregate's sorts and hashes during the roll-up (the default 4MB spills to disk at scale).
AGGREGATION_WORK_MEM = "256MB"

AGE_BANDS = (
    ("under_18", "Under 18"),
    ("18_24", "18 to 24"),
    ("25_34", "25 to 34"),
    ("35_49", "35 to 49"),
    ("50_plus", "50 and over"),
)

# How each slice key is found from a measure's row (b), its quarter (q) and the person (o).
SLICE_EXPRESSIONS = {
    Dimension.AREA: "CAST(o.area_id AS TEXT)",
    Dimension.AGENCY: "CAST(COALESCE(b.agency_id, o.lead_agency_id) AS TEXT)",
    Dimension.GENDER: "o.gender",
    Dimension.ETHNICITY: "o.ethnicity",
    Dimension.AGE_BAND: (
        "CASE WHEN o.date_of_birth IS NULL THEN NULL "
        "WHEN o.date_of_birth > q.dob18 THEN 'under_18' WHEN o.date_of_birth > q.dob25 THEN '18_24' "
        "WHEN o.date_of_birth > q.dob35 THEN '25_34' WHEN o.date_of_birth > q.dob50 THEN '35_49' "
        "ELSE '50_plus' END"
    ),
}
SLICE_COLUMNS = {dimension: f"{dimension.value}_key" for dimension in SLICE_EXPRESSIONS}

# Priority groups: a person may be in several, so each is a yes/no column of its own and a slice of the whole.
PRIORITY_GROUPS = (
    ("women", "Women", "o.gender = 'female'"),
    ("veterans", "Veterans", "o.veteran"),
    ("care_leavers", "Care leavers", "o.care_leaver"),
    ("disability", "Disability or learning difficulty", "o.disability"),
)
GROUP_COLUMNS = {key: f"group_{key}" for key, _, _ in PRIORITY_GROUPS}


def slice_keys():
    """Every slice a user can ask for, by dimension: {dimension: [key, ...]} (published even when empty)."""
    from cases.models import Agency, Area, Cohort

    return {
        Dimension.AREA.value: [str(pk) for pk in Area.objects.values_list("pk", flat=True)],
        Dimension.AGENCY.value: [str(pk) for pk in Agency.objects.values_list("pk", flat=True)],
        Dimension.COHORT.value: list(Cohort.values),
        Dimension.GENDER.value: list(Offender.Gender.values),
        Dimension.AGE_BAND.value: [key for key, _ in AGE_BANDS],
        Dimension.ETHNICITY.value: list(Offender.Ethnicity.values),
        Dimension.GROUP.value: [key for key, _, _ in PRIORITY_GROUPS],
    }


class RunSkipped(Exception):  # noqa: N818 - what happened, as Celery's Ignore
    """Another process holds the roll-up lock while this run is already running (a redelivery): try later."""


def _years_before(day, years):
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _quarters_cte(quarters):
    """The quarters as a VALUES list, with every boundary the measures compare against precomputed."""
    ops = connection.ops
    tz = timezone.get_current_timezone()
    rows, params = [], []
    for quarter in quarters:
        end = quarter.end
        start_at = timezone.make_aware(datetime.datetime.combine(quarter.start, datetime.time()), tz)
        next_at = timezone.make_aware(datetime.datetime.combine(quarter.next().start, datetime.time()), tz)
        # Age on the last day of the quarter: born after these dates means younger than 18, 25, 35, 50.
        values = [
            ops.adapt_datefield_value(quarter.start),
            ops.adapt_datefield_value(end),
            # "At the end of the quarter" for the quarter still running means today.
            ops.adapt_datefield_value(min(end, timezone.localdate())),
            ops.adapt_datetimefield_value(start_at),
            ops.adapt_datetimefield_value(next_at),
            *(ops.adapt_datefield_value(_years_before(end, years)) for years in (18, 25, 35, 50)),
        ]
        rows.append("(" + ", ".join(["%s"] * len(values)) + ")")
        params.extend(values)
    columns = "q_start, q_end, q_asof, q_start_at, q_next_at, dob18, dob25, dob35, dob50"
    return f"quarters({columns}) AS (VALUES " + ", ".join(rows) + ")", params


# Who was on which cohort at any time in each quarter: (q_start, offender_id, cohort), distinct.
COHORTS_IN_QUARTER_SQL = (
    "SELECT DISTINCT q.q_start, m.offender_id, m.cohort FROM quarters q "
    "JOIN memberships m ON m.started_on <= q.q_end AND (m.ended_on IS NULL OR m.ended_on >= q.q_start)"
)
COHORTS_IN_QUARTER_TABLE = "dashboard_rollup_cohorts_in_quarter"


def _memberships_cte(tables):
    # Memberships are read once into memory: joined to each quarter by date range, a sequential pass beats
    # the index scan per quarter the planner would otherwise choose.
    return (
        f"memberships AS {tables.materialized}(SELECT offender_id, cohort, started_on, ended_on "
        f"FROM {tables.cases_cohortmembership})"
    )


@contextlib.contextmanager
def cohorts_in_quarter_table(quarters):
    """Work out once per run who was on which cohort in each quarter, for every measure to join to.

    Most measures break their figures down by cohort through this table; computing it inside
    each measure's statement cost more than the measure itself. It is a temporary table, so it
    belongs to this database session alone and disappears with it.
    """
    tables = Tables()
    quarters_cte, params = _quarters_cte(quarters)
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {COHORTS_IN_QUARTER_TABLE}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {COHORTS_IN_QUARTER_TABLE} AS "
            f"WITH {quarters_cte}, {_memberships_cte(tables)} {COHORTS_IN_QUARTER_SQL}",
            params,
        )
        if connection.vendor == "postgresql":
            cursor.execute(f"ANALYZE {COHORTS_IN_QUARTER_TABLE}")  # temporary tables are never auto-analysed
    try:
        yield COHORTS_IN_QUARTER_TABLE
    finally:
        with contextlib.suppress(Exception), connection.cursor() as cursor:  # a lost connection dropped it already
            cursor.execute(f"DROP TABLE IF EXISTS {COHORTS_IN_QUARTER_TABLE}")


def _measure_ctes(measure, quarters, tables, cohorts_in_quarter=None):
    """WITH clause defining base (person rows), cbase (cohort rows) and enriched (rows with slice keys).

    `cohorts_in_quarter` names a table made by `cohorts_in_quarter_table` for these quarters;
    without it the statement works out cohort membership itself.
    """
    quarters_cte, params = _quarters_cte(quarters)
    extra, person_sql, cohort_sql = measure.build(tables)
    if cohort_sql is None:
        # People count under every cohort they were on at any time in the quarter.
        cohort_source = cohorts_in_quarter or f"({COHORTS_IN_QUARTER_SQL})"
        cohort_sql = (
            "SELECT b.q_start, b.offender_id, pc.cohort, b.agency_id, b.category, b.num, b.den FROM base b "
            f"JOIN {cohort_source} pc ON pc.q_start = b.q_start AND pc.offender_id = b.offender_id"
        )
    slice_columns = ", ".join(
        [f"{SLICE_EXPRESSIONS[d]} AS {SLICE_COLUMNS[d]}" for d in SLICE_EXPRESSIONS]
        + [f"CASE WHEN {condition} THEN 1 ELSE 0 END AS {GROUP_COLUMNS[key]}" for key, _, condition in PRIORITY_GROUPS]
    )
    offender_table = connection.ops.quote_name(Offender._meta.db_table)
    sql = (
        f"WITH {quarters_cte}, {_memberships_cte(tables)}, {extra}"
        f"base AS ({person_sql}), "
        f"cbase AS ({cohort_sql}), "
        f"enriched AS (SELECT b.q_start, b.offender_id, b.category, b.num, b.den, {slice_columns} "
        f"FROM base b JOIN quarters q ON q.q_start = b.q_start LEFT JOIN {offender_table} o ON o.id = b.offender_id) "
    )
    return sql, params


def measure_sql(measure, quarters, tables=None, cohorts_in_quarter=None):
    """One statement giving (q_start, dimension, slice_key, category, num, den) for every quarter and slice."""
    tables = tables or Tables()
    sql, params = _measure_ctes(measure, quarters, tables, cohorts_in_quarter)
    cohort_select = (
        "SELECT q_start, 'cohort', cohort, category, SUM(num), SUM(den) FROM cbase GROUP BY q_start, cohort, category"
    )
    if connection.vendor == "postgresql":
        # One pass over the rows for every slice at once.
        columns = list(SLICE_COLUMNS.items())
        groups = list(GROUP_COLUMNS.items())
        dimension = "CASE " + " ".join(
            [f"WHEN GROUPING({column}) = 0 THEN '{d.value}'" for d, column in columns]
            + [f"WHEN GROUPING({column}) = 0 THEN '{Dimension.GROUP.value}'" for _, column in groups]
        ) + " ELSE 'all' END"
        group_key = "CASE " + " ".join(f"WHEN GROUPING({column}) = 0 THEN '{key}'" for key, column in groups) + " END"
        key = "COALESCE(" + ", ".join([column for _, column in columns] + [group_key]) + ", '')"
        sets = ", ".join(
            ["(q_start, category)"]
            + [f"(q_start, {column}, category)" for _, column in columns]
            + [f"(q_start, {column}, category)" for _, column in groups]
        )
        # A person with no value for a slice (no date of birth, say) is left out of that slice only;
        # a priority group's slice holds only the people in it.
        keep = " AND ".join(
            [f"NOT (GROUPING({column}) = 0 AND {column} IS NULL)" for _, column in columns]
            + [f"NOT (GROUPING({column}) = 0 AND {column} = 0)" for _, column in groups]
        )
        grouped = (
            f"SELECT q_start, {dimension}, {key}, category, SUM(num), SUM(den) FROM enriched "
            f"GROUP BY GROUPING SETS ({sets}) HAVING {keep}"
        )
        return sql + grouped + " UNION ALL " + cohort_select, params
    selects = ["SELECT q_start, 'all', '', category, SUM(num), SUM(den) FROM enriched GROUP BY q_start, category"]
    for dimension, column in SLICE_COLUMNS.items():
        selects.append(
            f"SELECT q_start, '{dimension.value}', {column}, category, SUM(num), SUM(den) FROM enriched "
            f"WHERE {column} IS NOT NULL GROUP BY q_start, {column}, category"
        )
    for key, column in GROUP_COLUMNS.items():
        selects.append(
            f"SELECT q_start, '{Dimension.GROUP.value}', '{key}', category, SUM(num), SUM(den) FROM enriched "
            f"WHERE {column} = 1 GROUP BY q_start, category"
        )
    selects.append(cohort_select)
    return sql + " UNION ALL ".join(selects), params


def people_sql(measure, quarter, dimension, slice_key, category=None, part="numerator"):
    """The people behind one figure: DISTINCT offender ids, for drill-down (filter by visibility afterwards!)."""
    tables = Tables()
    sql, params = _measure_ctes(measure, [quarter], tables)
    wanted = "den > 0" if part == "denominator" else "num > 0"
    conditions, extra_params = [wanted, "offender_id IS NOT NULL"], []
    if category is not None:
        conditions.append("category = %s")
        extra_params.append(category)
    if dimension == Dimension.COHORT:
        source = "cbase"
        conditions.append("cohort = %s")
        extra_params.append(slice_key)
    else:
        source = "enriched"
        if dimension == Dimension.GROUP:
            if slice_key not in GROUP_COLUMNS:
                raise ValueError(f"No priority group {slice_key}")
            conditions.append(f"{GROUP_COLUMNS[slice_key]} = 1")
        elif dimension != Dimension.ALL:
            conditions.append(f"{SLICE_COLUMNS[Dimension(dimension)]} = %s")
            extra_params.append(slice_key)
    return sql + f"SELECT DISTINCT offender_id FROM {source} WHERE " + " AND ".join(conditions), params + extra_params


def offender_ids_for(measure, quarter, dimension, slice_key, category=None, part="numerator"):
    sql, params = people_sql(measure, quarter, dimension, slice_key, category, part)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _as_date(value):
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(str(value)[:10])


@contextlib.contextmanager
def aggregation_transaction():
    """A read transaction in which PostgreSQL sorts and hashes the big aggregates in memory, not on disk."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"SET LOCAL work_mem = '{AGGREGATION_WORK_MEM}'")
                # A measure's rows come from CTEs without statistics, and the planner, guessing them few,
                # looked each of a million rows up by index (the person, for the slices) instead of
                # hashing one side once. Date-range joins have no other way and still nest.
                cursor.execute("SET LOCAL enable_nestloop = off")
        yield


def compute_measure(measure, quarters, cohorts_in_quarter=None):
    """The measure's figures: {quarter start: [RollupValue, ...]} (unsaved)."""
    sql, params = measure_sql(measure, quarters, cohorts_in_quarter=cohorts_in_quarter)
    keeps_denominator = measure.kind in {RATE, RATIO}
    ends = {quarter.start: quarter.end for quarter in quarters}
    by_quarter = defaultdict(list)
    with aggregation_transaction(), connection.cursor() as cursor:
        cursor.execute(sql, params)
        for q_start, dimension, slice_key, category, num, den in cursor.fetchall():
            start = _as_date(q_start)
            by_quarter[start].append(
                RollupValue(
                    measure=measure.name, category=category or "", period_start=start, period_end=ends[start],
                    dimension=dimension, slice_key=str(slice_key or ""), numerator=int(num or 0),
                    denominator=int(den or 0) if keeps_denominator else None,
                )
            )
    if measure.kind == MIX:
        # A mix's total is a published figure of its own (category ""), protected like its categories.
        for start, values in by_quarter.items():
            totals = defaultdict(int)
            for value in values:
                totals[(value.dimension, value.slice_key)] += value.numerator
            values.extend(
                RollupValue(measure=measure.name, category="", period_start=start, period_end=ends[start],
                            dimension=dimension, slice_key=slice_key, numerator=total)
                for (dimension, slice_key), total in totals.items()
            )
    return by_quarter


def with_families(measures):
    """The measures, with every other measure of their disclosure families (protected together)."""
    families = {measure.disclosure_family for measure in measures}
    wanted = {measure.name for measure in measures}
    return [m for m in all_measures() if m.disclosure_family in families or m.name in wanted]


def protect_quarter(measures, values, slice_keys):
    """Mark the quarter's hidden figures (disclosure control), adding rows for hidden zeros; returns all rows."""
    by_name = {measure.name: measure for measure in measures}
    families = defaultdict(list)
    for measure in measures:
        families[measure.disclosure_family].append(measure)
    extra = []
    for members in families.values():
        family = disclosure.family_of(members)
        names = {measure.name for measure in members}
        cells, shown_by = {}, defaultdict(list)
        rows = [value for value in values if value.measure in names]
        for value in rows:
            for part in ("numerator", "denominator"):
                quantity = family.parts.get((value.measure, value.category, part))
                if quantity is None or (part == "denominator" and value.denominator is None):
                    continue
                cell = (value.dimension, value.slice_key, quantity)
                cells[cell] = value.numerator if part == "numerator" else value.denominator
                shown_by[cell].append((value, part))
        hidden = disclosure.Table(family, cells, slice_keys).protect()
        for cell in hidden:
            if cell not in shown_by:
                extra.extend(_hidden_zero_rows(family, by_name, cell, rows, hidden))
            for value, part in shown_by.get(cell, ()):
                setattr(value, f"{part}_hidden", True)
    return values + extra


def _hidden_zero_rows(family, by_name, cell, rows, hidden):
    """Rows for a hidden figure nobody is counted in (a category of a mix beside a hidden total, say)."""
    dimension, slice_key, quantity = cell
    template = rows[0] if rows else None
    made = []
    for (name, category, part), wanted in family.parts.items():
        if wanted != quantity or part != "numerator" or template is None:
            continue
        measure = by_name[name]
        # The denominator is hidden only if it is itself; a published zero elsewhere stays one here.
        denominator = family.parts.get((name, category, "denominator"))
        made.append(RollupValue(
            measure=name, category=category, period_start=template.period_start, period_end=template.period_end,
            dimension=dimension, slice_key=slice_key, numerator=0, numerator_hidden=True,
            denominator=0 if measure.kind in {RATE, RATIO} else None,
            denominator_hidden=denominator is None or (dimension, slice_key, denominator) in hidden,
        ))
    return made


def _set_progress(run, progress, step, **fields):
    run.progress, run.step = progress, step
    RollupRun.objects.filter(pk=run.pk).update(progress=progress, step=step[:200], heartbeat_at=timezone.now(),
                                               **fields)


class Heartbeat:
    """Writes the run's heartbeat every ROLLUP_HEARTBEAT_SECONDS from a thread of its own while the run works.

    One statement of the roll-up may take minutes at scale, so progress alone is no sign of life. The
    thread dies with the process: a worker killed mid-run leaves a heartbeat that stops, which
    `dashboard.services.fail_stalled_runs` finds.
    """

    def __init__(self, run):
        self.run_id = run.pk
        self.every = settings.ROLLUP_HEARTBEAT_SECONDS
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"rollup-{run.pk}-heartbeat", daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.stopped.set()
        self.thread.join(timeout=10)

    def _beat(self):
        try:
            while not self.stopped.wait(self.every):
                try:
                    RollupRun.objects.filter(pk=self.run_id, status=RollupRun.Status.RUNNING).update(
                        heartbeat_at=timezone.now())
                except Exception as error:  # noqa: BLE001 - a missed beat; the next one tries again
                    logger.warning("Heartbeat of roll-up run %s not written: %s", self.run_id, error)
        finally:
            connection.close()  # this thread's own connection


def _try_run_lock():
    if connection.vendor != "postgresql":
        return True  # SQLite (the laptop demo) serialises writers on its own
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [RUN_LOCK_KEY])
        return cursor.fetchone()[0]


def _release_run_lock():
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [RUN_LOCK_KEY])


def _shared_run_running(run=None):
    """Whether another run is being worked on in parts by several workers (it holds no lock between parts)."""
    running = RollupRun.objects.filter(status=RollupRun.Status.RUNNING, parts__isnull=False)
    return (running.exclude(pk=run.pk) if run is not None else running).exists()


def _incremental_run_running():
    """Whether an incremental run holds the lock now: it finishes in seconds, so a full run waits for it."""
    return RollupRun.objects.filter(kind=RollupRun.Kind.INCREMENTAL, status=RollupRun.Status.RUNNING).exists()


def protect_figures(run, quarters, measures, computed):
    """Disclosure control over every quarter's computed figures ({quarter start: [RollupValue]}); all rows."""
    keys = slice_keys()
    values = []
    for index, quarter in enumerate(quarters):
        _set_progress(run, 80 + int(15 * index / len(quarters)), f"Protecting {quarter.short_label}")
        values.extend(protect_quarter(measures, computed.pop(quarter.start, []), keys))
    return values


def switch_figures(run, quarters, measure_names, values, *, replaced=None, pending=()):
    """Put the run's figures in place of the previous ones and mark the run succeeded, in one transaction.

    Readers see either every figure of the previous run or every figure of this one, never a mix, and
    the run's time (its `finished_at`, also every row's `computed_at`) changes with them. Published
    figures this run calculates differently get their revisions in the same transaction. `replaced`
    (a Q over RollupValue) narrows what an incremental run replaces to what it calculated again, and
    the `pending` changes it took in are deleted with the switch, so a change is never taken in twice
    nor lost.
    """
    finished_at = timezone.now()
    for value in values:
        value.computed_at, value.run = finished_at, run
    if replaced is None:
        replaced = Q(period_start__in=[quarter.start for quarter in quarters], measure__in=measure_names)
    with transaction.atomic():
        RollupValue.objects.filter(replaced).delete()
        RollupValue.objects.bulk_create(values, batch_size=2000)
        record_published_revisions(run)
        _delete_pending(pending)
        run.status, run.finished_at, run.rows_written = RollupRun.Status.SUCCEEDED, finished_at, len(values)
        _set_progress(run, 100, "Finished", status=run.status, finished_at=finished_at, rows_written=len(values))
    return len(values)


def record_published_revisions(run):
    """Published figures this run calculated differently get a revision (published reports never change)."""
    from .publication import record_revisions  # the publication reads figures, which read this module

    return record_revisions(run)


def run_rollup(run=None, *, quarters=None, measures=None):
    """Compute every measure for every reporting quarter and switch the roll-up to the new figures at once.

    Returns the run. Every figure is computed and protected first; then the old figures are
    replaced, revisions recorded and the run marked succeeded in one transaction
    (`switch_figures`), so a run that dies at any point leaves the previous figures whole.
    When another full run holds the lock, a new run is marked skipped and nothing is written; a run
    already running (a redelivery while its first attempt still holds the lock), or a new run that
    finds an incremental run at work, raises RunSkipped and is left as it is (the task retries).
    Database errors propagate (the Celery task retries them) after the run is marked failed.
    """
    run = run or RollupRun.objects.create()
    quarters = sorted(quarters or reporting_quarters())
    measures = with_families(measures) if measures else all_measures()
    locked = _try_run_lock()
    if not locked or _shared_run_running(run):
        if locked:
            _release_run_lock()
        if run.status == RollupRun.Status.RUNNING:
            raise RunSkipped(f"Roll-up run {run.pk} is still held by another process")
        if not locked and _incremental_run_running():
            # Seconds from done: the full run waits (the task retries) rather than being lost.
            raise RunSkipped(f"Roll-up run {run.pk} waits for an incremental run to finish")
        _set_progress(run, 0, "Another roll-up was already running", status=RollupRun.Status.SKIPPED,
                      finished_at=timezone.now())
        run.status = RollupRun.Status.SKIPPED
        return run
    try:
        run.status = RollupRun.Status.RUNNING
        _set_progress(run, 0, "Starting", status=run.status, started_at=timezone.now(), finished_at=None, error="",
                      periods=len(quarters))
        with Heartbeat(run):
            computed = defaultdict(list)
            with cohorts_in_quarter_table(quarters) as cohorts_in_quarter:
                for index, measure in enumerate(measures):
                    _set_progress(run, int(80 * index / len(measures)), f"Calculating {measure.label.lower()}")
                    for start, values in compute_measure(measure, quarters, cohorts_in_quarter).items():
                        computed[start].extend(values)
            values = protect_figures(run, quarters, measures, computed)
            _set_progress(run, 95, "Saving the figures and comparing them with published board reports")
            switch_figures(run, quarters, [measure.name for measure in measures], values)
        return run
    except Exception as error:
        logger.exception("Roll-up run %s failed", run.pk)
        if connection.in_atomic_block and connection.needs_rollback:
            raise  # the caller's transaction is broken; it will record nothing either way
        # The database itself may be gone; then the original error matters more than the record.
        with contextlib.suppress(Exception):
            _set_progress(run, run.progress, run.step, status=RollupRun.Status.FAILED,
                          finished_at=timezone.now(), error=str(error)[:2000])
        raise
    finally:
        with contextlib.suppress(Exception):  # a lost connection has released the lock already
            _release_run_lock()


# The incremental run.


def apply_pending_changes():
    """Calculate again only the measures and quarters that pending changes affect; returns the run, or None.

    Takes the run lock as a full run does, so it never overlaps one: when the lock is held (or a shared
    run is running) it does nothing and the changes stay pending for the next attempt; a full run
    finishing queues one. The changes are read once; every figure they affect is computed from data
    committed at least as late as they were (each change commits with its pending row), protected per
    quarter with every measure of its disclosure family, and switched in with the pending rows deleted,
    in one transaction. Changes committed meanwhile stay pending for the next run. Figures of published
    quarters are replaced and get their revisions exactly as in a full run (`switch_figures`).
    Nothing pending, nothing runs: no run is recorded.
    """
    if connection.vendor != "postgresql" or not PendingRollupChange.objects.exists():
        return None  # SQLite (the demo) has no triggers: Recalculate and the nightly run keep it up to date
    if not _try_run_lock():
        return None
    run = None
    try:
        if _shared_run_running():
            return None
        pending = list(PendingRollupChange.objects.order_by("pk").values_list("pk", "source", "first_day", "last_day"))
        quarters = sorted(reporting_quarters())
        scope = changes.plan([row[1:] for row in pending], all_measures(), quarters)
        ids = [row[0] for row in pending]
        if not scope:
            # Dated outside every reporting quarter (a working day next year, say): nothing to calculate.
            with transaction.atomic():
                _delete_pending(ids)
            return None
        run = RollupRun.objects.create(
            kind=RollupRun.Kind.INCREMENTAL, status=RollupRun.Status.RUNNING, started_at=timezone.now(),
            heartbeat_at=timezone.now(), changes_applied=len(ids),
            scope={measure.name: [quarter.key for quarter in sorted(wanted)] for measure, wanted in scope.items()},
        )
        affected = sorted(set().union(*scope.values()))
        _set_progress(run, 0, "Starting", periods=len(affected), quarter_keys=[quarter.key for quarter in affected])
        with Heartbeat(run):
            computed = defaultdict(list)
            with cohorts_in_quarter_table(affected) as cohorts_in_quarter:
                for index, (measure, wanted) in enumerate(scope.items()):
                    _set_progress(run, int(80 * index / len(scope)), f"Calculating {measure.label.lower()}")
                    for start, values in compute_measure(measure, sorted(wanted), cohorts_in_quarter).items():
                        computed[start].extend(values)
            keys = slice_keys()
            values, replaced = [], Q(pk__in=[])
            for quarter in affected:
                measures = [measure for measure, wanted in scope.items() if quarter in wanted]
                values.extend(protect_quarter(measures, computed.pop(quarter.start, []), keys))
                replaced |= Q(period_start=quarter.start, measure__in=[measure.name for measure in measures])
            _set_progress(run, 95, "Saving the figures and comparing them with published board reports")
            switch_figures(run, affected, None, values, replaced=replaced, pending=ids)
        return run
    except Exception as error:
        logger.exception("Incremental roll-up run %s failed", run.pk if run else "")
        if run is not None and not (connection.in_atomic_block and connection.needs_rollback):
            with contextlib.suppress(Exception):
                _set_progress(run, run.progress, run.step, status=RollupRun.Status.FAILED,
                              finished_at=timezone.now(), error=str(error)[:2000])
        raise
    finally:
        with contextlib.suppress(Exception):
            _release_run_lock()


def _delete_pending(ids):
    """Delete the pending changes a run took in (as one array: a feed can leave more than a statement's parameters)."""
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {PendingRollupChange._meta.db_table} WHERE id = ANY(%s)", [list(ids)])


def changes_pending():
    return connection.vendor == "postgresql" and PendingRollupChange.objects.exists()


# A run shared by several workers.


def run_cohorts_table(run_id):
    """The name of a shared run's own table of who was on which cohort in each quarter."""
    return f"{COHORTS_IN_QUARTER_TABLE}_run_{int(run_id)}"


def ensure_run_cohorts_table(run, quarters):
    """Make the run's cohorts table once (the first part to need it, or the start); returns its name.

    A real (unlogged) table rather than a temporary one, so every worker's session can join to it.
    Working it out in each part instead cost a second a part at 100,000 people, for nearly every measure.
    """
    name = run_cohorts_table(run.pk)
    tables = Tables()
    quarters_cte, params = _quarters_cte(quarters)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RUN_TABLE_LOCK_CLASS, run.pk])
        cursor.execute("SELECT to_regclass(%s)", [name])
        if cursor.fetchone()[0] is None:
            cursor.execute(
                f"CREATE UNLOGGED TABLE {name} AS WITH {quarters_cte}, {_memberships_cte(tables)} "
                f"{COHORTS_IN_QUARTER_SQL}",
                params,
            )
            cursor.execute(f"ANALYZE {name}")
    return name


def drop_run_cohorts_tables(*, keep_active=True):
    """Drop the cohorts tables of shared runs that have finished, failed or been skipped; returns how many."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE %s",
                       [COHORTS_IN_QUARTER_TABLE.replace("_", r"\_") + r"\_run\_%"])
        names = [row[0] for row in cursor.fetchall()]
    active = set()
    if keep_active:
        active = {run_cohorts_table(pk) for pk in RollupRun.objects.filter(
            status__in=[RollupRun.Status.QUEUED, RollupRun.Status.RUNNING]).values_list("pk", flat=True)}
    dropped = 0
    for name in names:
        if name not in active:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(name)}")
            dropped += 1
    return dropped


def start_parts(run):
    """Start a run that several workers share: one part a measure; returns the measures still to compute.

    Refused as `run_rollup` refuses (another run in one process holds the lock, or another shared
    run is running): the run is marked skipped, or RunSkipped is raised for a run already running.
    Delivered again, it starts nothing new: the parts already done stay done.
    """
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RUN_LOCK_KEY])
            locked = cursor.fetchone()[0]
        run = RollupRun.objects.select_for_update().get(pk=run.pk)
        if not locked or _shared_run_running(run):
            if run.status == RollupRun.Status.RUNNING or (not locked and _incremental_run_running()):
                raise RunSkipped(f"Roll-up run {run.pk} waits for another run")
            _set_progress(run, 0, "Another roll-up was already running", status=RollupRun.Status.SKIPPED,
                          finished_at=timezone.now())
            run.status = RollupRun.Status.SKIPPED
            return run, []
        if not run.quarter_keys:
            run.quarter_keys = [quarter.key for quarter in sorted(reporting_quarters())]
            RollupRun.objects.filter(pk=run.pk).update(quarter_keys=run.quarter_keys)
        run.status = RollupRun.Status.RUNNING
        _set_progress(run, run.progress, "Starting", status=run.status, started_at=timezone.now(),
                      finished_at=None, error="", periods=len(run.quarter_keys))
        RollupPart.objects.bulk_create([RollupPart(run=run, measure=measure.name) for measure in all_measures()],
                                       ignore_conflicts=True)
    ensure_run_cohorts_table(run, _quarters_of(run))
    pending = RollupPart.objects.filter(run=run).exclude(status=RollupPart.Status.DONE)
    return run, list(pending.values_list("measure", flat=True))


def _quarters_of(run):
    return [Quarter.from_key(key) for key in run.quarter_keys]


def _measure_named(name):
    return next(measure for measure in all_measures() if measure.name == name)


def run_part(run, measure_name):
    """Compute one measure of a shared run and stage its figures; the part that finds every part done combines.

    Safe to run twice: a part already done is not computed again, a part computed again replaces its
    own staged rows, and only one combine switches the figures. Returns True when this call switched them.
    """
    part = RollupPart.objects.get(run=run, measure=measure_name)
    try:
        with Heartbeat(run):
            if part.status != RollupPart.Status.DONE:
                RollupPart.objects.filter(pk=part.pk).update(
                    status=RollupPart.Status.RUNNING, attempts=F("attempts") + 1, started_at=timezone.now(),
                    finished_at=None)
                quarters = _quarters_of(run)
                cohorts = ensure_run_cohorts_table(run, quarters)
                computed = compute_measure(_measure_named(measure_name), quarters, cohorts)
                if not stage_part(run, part, computed):
                    return False
            elif RollupPart.objects.filter(run=run).exclude(status=RollupPart.Status.DONE).exists():
                return False
            return combine_parts(run)
    except Exception as error:
        logger.exception("Roll-up run %s, part %s failed", run.pk, measure_name)
        with contextlib.suppress(Exception):
            _set_progress(run, run.progress, run.step, status=RollupRun.Status.FAILED,
                          finished_at=timezone.now(), error=f"{measure_name}: {error}"[:2000])
        raise


def stage_part(run, part, computed):
    """Store a part's figures in place of any it staged before and mark it done; True if it was the last."""
    rows = [value for values in computed.values() for value in values]
    with transaction.atomic():
        # Two copies of one part (a message delivered twice) take turns here.
        RollupPart.objects.select_for_update().get(pk=part.pk)
        # Counted with the run locked, so of parts finishing together exactly one sees the last done; and a
        # copy of a part that finishes after the run was switched in stages nothing.
        locked = RollupRun.objects.select_for_update().get(pk=run.pk)
        if locked.status == RollupRun.Status.SUCCEEDED:
            return False
        StagedValue.objects.filter(run=run, measure=part.measure).delete()
        StagedValue.objects.bulk_create(
            [StagedValue(run=run, measure=value.measure, category=value.category, period_start=value.period_start,
                         period_end=value.period_end, dimension=value.dimension, slice_key=value.slice_key,
                         numerator=value.numerator, denominator=value.denominator) for value in rows],
            batch_size=2000,
        )
        RollupPart.objects.filter(pk=part.pk).update(status=RollupPart.Status.DONE, finished_at=timezone.now(),
                                                     rows_staged=len(rows))
        parts = RollupPart.objects.filter(run=run)
        total, done = parts.count(), parts.filter(status=RollupPart.Status.DONE).count()
        _set_progress(run, int(80 * done / total), f"Calculated {done} of {total} measures")
        return done == total


def combine_parts(run):
    """Protect the staged figures of every quarter and switch them in, as a run in one process does.

    The switch happens with the run's row locked and only if the run has not already succeeded, so a
    combine started twice (a last part delivered again) switches once. The staged rows and the run's
    cohorts table go once the figures are in place. Returns True when this call switched them.
    """
    quarters = _quarters_of(run)
    names = set(RollupPart.objects.filter(run=run).values_list("measure", flat=True))
    measures = with_families([measure for measure in all_measures() if measure.name in names])
    ends = {quarter.start: quarter.end for quarter in quarters}
    computed = defaultdict(list)
    fields = ("measure", "category", "period_start", "dimension", "slice_key", "numerator", "denominator")
    for row in StagedValue.objects.filter(run=run).values_list(*fields).iterator(chunk_size=5000):
        value = RollupValue(**dict(zip(fields, row, strict=True)))
        value.period_end = ends[value.period_start]
        computed[value.period_start].append(value)
    values = protect_figures(run, quarters, measures, computed)
    _set_progress(run, 95, "Saving the figures and comparing them with published board reports")
    with transaction.atomic():
        if RollupRun.objects.select_for_update().get(pk=run.pk).status == RollupRun.Status.SUCCEEDED:
            return False
        switch_figures(run, quarters, [measure.name for measure in measures], values)
        StagedValue.objects.filter(run=run).delete()
    with contextlib.suppress(Exception), connection.cursor() as cursor:  # the sweep drops what is left
        cursor.execute(f"DROP TABLE IF EXISTS {run_cohorts_table(run.pk)}")
    return True
