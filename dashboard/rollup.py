# ruff: noqa: S608 - SQL is assembled from table names and constants only; values are always parameters.
"""Compute every measure into the roll-up tables.

One SQL statement per measure covers all quarters and all slices (the quarters are a
VALUES list, the slices a UNION of GROUP BYs over the measure's rows joined to the
person once). The aggregates are small, so they are held in memory and written one
quarter at a time: each quarter's old rows are deleted and the new ones inserted in
one transaction, so a rerun replaces a quarter exactly and a run that dies half way
leaves every quarter it had not reached as it was.

Only one run works at a time: a PostgreSQL advisory lock is taken for the whole run
(a second run finds it held and stops as "skipped"), a transaction-level lock guards
each quarter's rewrite, and a unique constraint on the rows is the last line of defence.
"""

import contextlib
import datetime
import logging
from collections import defaultdict

from django.db import connection, transaction
from django.utils import timezone

from cases.models import Offender

from .measures import RATE, RATIO, Tables, all_measures
from .models import Dimension, RollupRun, RollupValue
from .periods import reporting_quarters

logger = logging.getLogger(__name__)

# pg_advisory_lock keys: one for the whole run, one namespace for per-quarter locks.
RUN_LOCK_KEY = 7_270_301_001
QUARTER_LOCK_NAMESPACE = 72_703
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


class RunSkipped(Exception):
    """Another roll-up run holds the lock."""


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
    slice_columns = ", ".join(f"{SLICE_EXPRESSIONS[d]} AS {SLICE_COLUMNS[d]}" for d in SLICE_EXPRESSIONS)
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
        dimension = "CASE " + " ".join(
            f"WHEN GROUPING({column}) = 0 THEN '{d.value}'" for d, column in columns
        ) + " ELSE 'all' END"
        key = "COALESCE(" + ", ".join(column for _, column in columns) + ", '')"
        sets = ", ".join(["(q_start, category)", *(f"(q_start, {column}, category)" for _, column in columns)])
        # A person with no value for a slice (no date of birth, say) is left out of that slice only.
        keep = " AND ".join(f"NOT (GROUPING({column}) = 0 AND {column} IS NULL)" for _, column in columns)
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
        if dimension != Dimension.ALL:
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
    return by_quarter


def _set_progress(run, progress, step, **fields):
    run.progress, run.step = progress, step
    RollupRun.objects.filter(pk=run.pk).update(progress=progress, step=step[:200], **fields)


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


def _lock_quarter(quarter):
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [QUARTER_LOCK_NAMESPACE, quarter.start.toordinal()])


def replace_quarter(quarter, measure_names, values, run=None):
    """Swap in one quarter's new figures: delete and insert in one transaction."""
    now = timezone.now()
    for value in values:
        value.computed_at, value.run = now, run
    with transaction.atomic():
        _lock_quarter(quarter)
        RollupValue.objects.filter(period_start=quarter.start, measure__in=measure_names).delete()
        RollupValue.objects.bulk_create(values, batch_size=2000)
    return len(values)


def run_rollup(run=None, *, quarters=None, measures=None):
    """Compute every measure for every reporting quarter and replace their roll-up rows.

    Returns the run. When another run holds the lock, the run is marked skipped and
    nothing is written. Database errors propagate (the Celery task retries them)
    after the run is marked failed.
    """
    run = run or RollupRun.objects.create()
    quarters = sorted(quarters or reporting_quarters())
    measures = measures or all_measures()
    if not _try_run_lock():
        _set_progress(run, 0, "Another roll-up was already running", status=RollupRun.Status.SKIPPED,
                      finished_at=timezone.now())
        run.status = RollupRun.Status.SKIPPED
        return run
    try:
        run.status = RollupRun.Status.RUNNING
        _set_progress(run, 0, "Starting", status=run.status, started_at=timezone.now(), error="",
                      periods=len(quarters))
        computed = defaultdict(list)
        with cohorts_in_quarter_table(quarters) as cohorts_in_quarter:
            for index, measure in enumerate(measures):
                _set_progress(run, int(80 * index / len(measures)), f"Calculating {measure.label.lower()}")
                for start, values in compute_measure(measure, quarters, cohorts_in_quarter).items():
                    computed[start].extend(values)
        names = [measure.name for measure in measures]
        written = 0
        for index, quarter in enumerate(quarters):
            _set_progress(run, 80 + int(20 * index / len(quarters)), f"Saving {quarter.short_label}")
            written += replace_quarter(quarter, names, computed.get(quarter.start, []), run)
        run.status = RollupRun.Status.SUCCEEDED
        run.finished_at = timezone.now()
        run.rows_written = written
        _set_progress(run, 100, "Finished", status=run.status, finished_at=run.finished_at, rows_written=written)
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
