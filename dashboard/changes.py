# ruff: noqa: S608 - SQL is assembled from table and column names in this module only; values are parameters.
"""What changed since the figures were calculated: the record the incremental roll-up works from.

PostgreSQL triggers on every table a measure reads write a row to `PendingRollupChange` for
each change: the table, the person and the days the changed facts are dated (an offence's
date and the date of its outcome, a membership's start and end, say). Triggers catch every
way data arrives (forms, the API, feeds, bulk inserts and COPY, the admin, a psql session),
and the row commits or rolls back with the change itself, so a change the roll-up has not
taken into account is always still pending.

The triggers are statement-level with transition tables: a feed inserting 10,000 offences
adds one pending row per person and day, not per statement row, and an update that changes
no column a measure reads (a note, a name, an address) records nothing.

`plan` turns pending rows into the measures and quarters to calculate again: a measure reads
a change when its SQL reads the table (`Tables` records which), and a fact dated on a day
affects the quarters the measure compares that day against (`WINDOWS`). Every measure reads
the cohort memberships (its cohort breakdown) and the person (its other breakdowns); areas
and agencies are the slices every quarter publishes, even when empty.
"""

import contextlib
import datetime
from dataclasses import dataclass

from django.db import connection

from .definition import Tables

PENDING_TABLE = "dashboard_pendingrollupchange"
TRIGGER_PREFIX = "dashboard_rollup_"

# A bulk load sets this to 'off' for its transaction and records that everything changed once, at the end.
OFF_SETTING = "dashboard.record_rollup_changes"
# A pending change to everything: every measure, every quarter.
EVERYTHING = "*"

# Read by every measure, whatever its own SQL reads.
EVERY_MEASURE_READS = ("cases_cohortmembership", "cases_offender", "cases_area", "cases_agency")


@dataclass(frozen=True)
class Source:
    """A table the measures read, and how its rows are dated.

    `columns`: the columns measures read; an UPDATE that changes none of them changes no figure.
    `dates`: (first day, last day) SQL over a row image `r`, one pending row each; a NULL first day
    means the row has no such fact (no release date yet), a NULL last day that it is still open.
    `span`: (start, end) columns of a row that holds from its start to its end (a membership):
    an update moving only one of them affects only the days between the old and the new value.
    No dates: any change affects every quarter (the calendar of services, the list of areas).
    """

    table: str
    columns: tuple
    dates: tuple = ()
    person: str | None = "offender_id"
    span: tuple | None = None
    operations: tuple = ("INSERT", "UPDATE", "DELETE")


def _day(column):
    # The partnership's day of a timestamp is within a day of its UTC date, whatever the time zone.
    return (f"(CAST(r.{column} AT TIME ZONE 'UTC' AS DATE) - 1)", f"(CAST(r.{column} AT TIME ZONE 'UTC' AS DATE) + 1)")


def _point(column):
    return (f"r.{column}", f"r.{column}")


_RELEASE_OF_CHECKLIST = "(SELECT s.released_on FROM cases_supervision s WHERE s.id = r.supervision_id)"
_RELEASE_OF_ITEM = (
    "(SELECT s.released_on FROM resettlement_releasechecklist c JOIN cases_supervision s ON s.id = c.supervision_id "
    "WHERE c.id = r.checklist_id)"
)
_STATUS_COLUMNS = ("offender_id", "effective_on", "status")

SOURCES = (
    Source("cases_cohortmembership", ("offender_id", "cohort", "started_on", "ended_on"),
           dates=(("r.started_on", "r.ended_on"),), span=("started_on", "ended_on")),
    # A person's own details put their rows in other slices, wherever they are counted; a new person is counted
    # nowhere until facts about them arrive, and erasing one deletes those facts first.
    Source("cases_offender", ("area_id", "lead_agency_id", "gender", "ethnicity", "date_of_birth", "veteran",
                              "care_leaver", "disability"), person="id", operations=("UPDATE",)),
    Source("cases_area", ("id",), person=None, operations=("INSERT", "DELETE")),
    Source("cases_agency", ("id",), person=None, operations=("INSERT", "DELETE")),
    Source("cases_offence", ("offender_id", "committed_on", "outcome", "outcome_on", "drug_related",
                             "alcohol_related"), dates=(_point("committed_on"), _point("outcome_on"))),
    Source("cases_supervision", ("offender_id", "kind", "started_on", "released_on"),
           dates=(_point("started_on"), _point("released_on"))),
    Source("cases_ragchange", ("offender_id", "from_status", "to_status", "changed_at", "agency_id"),
           dates=(_day("changed_at"),)),
    Source("cases_appointment", ("offender_id", "kind", "scheduled_at", "outcome"), dates=(_day("scheduled_at"),)),
    Source("cases_enforcementaction", ("offender_id", "kind", "taken_on", "agency_id"), dates=(_point("taken_on"),)),
    Source("pathways_accommodationstatus", _STATUS_COLUMNS, dates=(_point("effective_on"),)),
    Source("pathways_etestatus", _STATUS_COLUMNS, dates=(_point("effective_on"),)),
    Source("pathways_benefitstatus", _STATUS_COLUMNS, dates=(_point("effective_on"),)),
    Source("pathways_treatmentengagement", ("offender_id", "effective_on", "substance", "stage"),
           dates=(_point("effective_on"),)),
    Source("pathways_needassessment", ("offender_id", "pathway_id", "level", "assessed_on"),
           dates=(_point("assessed_on"),)),
    Source("pathways_pathway", ("key",), person=None),
    Source("pathways_referral", ("offender_id", "service_id", "urgency", "status", "referred_at", "first_contact_at",
                                 "referring_agency_id"), dates=(_day("referred_at"),)),
    Source("pathways_service", ("target_first_contact_hours", "provider_id"), person=None),
    Source("pathways_action", ("offender_id", "owner_agency_id", "raised_on", "due_on", "completed_on")),
    Source("panels_meeting", ("held_on",), person=None),
    Source("panels_meetingaction", ("meeting_id", "action_id"), person=None),
    Source("panels_checkpointcontract", ("offender_id", "agency_id", "started_on", "outcome", "outcome_on",
                                         "victim_consulted", "restorative_justice_offered", "victim_satisfaction"),
           dates=(_point("started_on"), _point("outcome_on"))),
    Source("resettlement_releasechecklist", ("supervision_id",), dates=((_RELEASE_OF_CHECKLIST,) * 2,)),
    Source("resettlement_checklistitem", ("checklist_id", "status", "settled_on"), dates=((_RELEASE_OF_ITEM,) * 2,),
           person=None),
    Source("resettlement_workingday", ("day", "weekday", "is_bank_holiday", "is_working_day", "working_day_number"),
           dates=(_point("day"),), person=None),
)
SOURCES_BY_TABLE = {source.table: source for source in SOURCES}

# How far from a fact's days a measure looks: (days before, days after), None for without limit. A fact dated on
# a day affects the quarters overlapping [first day - before, last day + after]. Tables not listed: no limit.
WINDOWS = {
    "cases_cohortmembership": (0, 0),  # on a cohort at some time in, or at the end of, the quarter; joined, left
    "cases_supervision": (0, 0),  # releases, order starts and qualifying events in the quarter
    # A proven reoffence counts for a cohort quarter up to 12 months before it was committed.
    "cases_offence": (370, 0),
    "cases_ragchange": (0, None),  # a status stands until the next change, however much later
    # Missed in the first 30 days of an order; the first appointment within two working days of release.
    "cases_appointment": (31, 0),
    "cases_enforcementaction": (0, 0),
    # The status standing at the end of a quarter (or on the day of release) until the next record.
    "pathways_accommodationstatus": (0, None),
    "pathways_etestatus": (0, None),
    "pathways_benefitstatus": (0, None),
    "pathways_treatmentengagement": (0, None),
    "pathways_needassessment": (0, None),
    "pathways_referral": (0, 0),  # referrals made in the quarter
    "panels_checkpointcontract": (0, 0),  # started or ended in the quarter
    "resettlement_releasechecklist": (0, 0),  # the release's quarter
    "resettlement_checklistitem": (0, 0),
    "resettlement_workingday": (10, 0),  # a release's next two working days, and a bank holiday after it
}


class _RecordingTables(Tables):
    """Tables that remember which tables a measure's SQL named."""

    def __init__(self):
        super().__init__()
        self.read = set()

    def __getattr__(self, label):
        value = super().__getattr__(label)
        self.read.add(label)
        return value


def tables_read(measure):
    """The tables whose changes can change the measure's figures."""
    tables = _RecordingTables()
    measure.build(tables)
    return tables.read | set(EVERY_MEASURE_READS)


def quarters_affected(table, first_day, last_day, quarters):
    """The quarters (of `quarters`) a change to `table` dated from `first_day` to `last_day` can change."""
    before, after = WINDOWS.get(table, (None, None))
    low = None if first_day is None or before is None else first_day - datetime.timedelta(days=before)
    high = None if last_day is None or after is None else last_day + datetime.timedelta(days=after)
    return {quarter for quarter in quarters
            if (low is None or quarter.end >= low) and (high is None or quarter.start <= high)}


def plan(changes, measures, quarters):
    """{measure: set of quarters} to calculate again for `changes` (rows of (table, first day, last day)).

    Every other measure of a measure's disclosure family joins it in the same quarters: hidden figures are
    chosen across the family, so a changed figure can hide or show its neighbours.
    """
    reads = {measure.name: tables_read(measure) for measure in measures}
    wanted = {}
    for table, first_day, last_day in set(changes):
        affected = quarters_affected(table, first_day, last_day, quarters)
        if not affected:
            continue
        for measure in measures:
            if table == EVERYTHING or table in reads[measure.name]:
                wanted.setdefault(measure.name, set()).update(affected)
    families = {}
    for measure in measures:
        families.setdefault(measure.disclosure_family, set()).update(wanted.get(measure.name, ()))
    return {measure: families[measure.disclosure_family] for measure in measures
            if families[measure.disclosure_family]}


# -- The triggers -------------------------------------------------------------------------------------------------


def _images(source, rows):
    """SELECT (offender_id, first_day, last_day) of every dated fact in the row images `rows`."""
    person = f"r.{source.person}" if source.person else "CAST(NULL AS BIGINT)"
    if not source.dates:
        return f"SELECT {person}, CAST(NULL AS DATE), CAST(NULL AS DATE) FROM {rows} r"
    values = ", ".join(f"(CAST({first} AS DATE), CAST({last} AS DATE))" for first, last in source.dates)
    return (
        f"SELECT {person}, d.first_day, d.last_day FROM {rows} r "
        f"CROSS JOIN LATERAL (VALUES {values}) d(first_day, last_day) WHERE d.first_day IS NOT NULL"
    )


def _changed(source):
    """The rows an UPDATE changed in a column a measure reads: (o, n) pairs of old and new images."""
    old = ", ".join(f"o.{column}" for column in source.columns)
    new = ", ".join(f"n.{column}" for column in source.columns)
    return (
        f"old_rows o FULL JOIN new_rows n ON n.id = o.id "
        f"WHERE (o.id IS NULL OR n.id IS NULL OR ({old}) IS DISTINCT FROM ({new}))"
    )


def _update_images(source):
    if source.span is None:
        return (
            f"{_images(source, f'(SELECT o.* FROM {_changed(source)} AND o.id IS NOT NULL)')} UNION "
            f"{_images(source, f'(SELECT n.* FROM {_changed(source)} AND n.id IS NOT NULL)')}"
        )
    # Only the start or only the end moved: the days between its old and new value (a cohort exit recorded today
    # changes today's quarter, not every quarter since the person joined). Anything else: both images in full.
    start, end = source.span
    others = [column for column in source.columns if column not in source.span]
    same = " AND ".join(f"o.{column} IS NOT DISTINCT FROM n.{column}" for column in others)
    moved = (
        f"SELECT o.{source.person}, LEAST(o.{end}, n.{end}), CASE WHEN o.{end} IS NULL OR n.{end} IS NULL THEN NULL "
        f"ELSE GREATEST(o.{end}, n.{end}) END FROM old_rows o JOIN new_rows n ON n.id = o.id "
        f"WHERE {same} AND o.{start} = n.{start} AND o.{end} IS DISTINCT FROM n.{end} "
        f"UNION SELECT o.{source.person}, LEAST(o.{start}, n.{start}), GREATEST(o.{start}, n.{start}) "
        f"FROM old_rows o JOIN new_rows n ON n.id = o.id "
        f"WHERE {same} AND o.{end} IS NOT DISTINCT FROM n.{end} AND o.{start} <> n.{start}"
    )
    rest = (
        f"{_changed(source)} AND NOT (o.id IS NOT NULL AND n.id IS NOT NULL AND {same} "
        f"AND (o.{start} = n.{start} OR o.{end} IS NOT DISTINCT FROM n.{end}))"
    )
    return (
        f"{moved} UNION {_images(source, f'(SELECT o.* FROM {rest} AND o.id IS NOT NULL)')} UNION "
        f"{_images(source, f'(SELECT n.* FROM {rest} AND n.id IS NOT NULL)')}"
    )


def _function_body(source, operation):
    if operation == "INSERT":
        select = _images(source, "new_rows")
    elif operation == "DELETE":
        select = _images(source, "old_rows")
    elif operation == "UPDATE":
        select = _update_images(source)
    else:  # TRUNCATE: everything the table held
        select = "SELECT CAST(NULL AS BIGINT), CAST(NULL AS DATE), CAST(NULL AS DATE)"
    return (
        f"INSERT INTO {PENDING_TABLE} (source, offender_id, first_day, last_day) "
        f"SELECT DISTINCT '{source.table}', x.* FROM ({select}) x(offender_id, first_day, last_day); RETURN NULL;"
    )


def _transition(operation):
    return {
        "INSERT": "REFERENCING NEW TABLE AS new_rows",
        "UPDATE": "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "REFERENCING OLD TABLE AS old_rows",
        "TRUNCATE": "",
    }[operation]


def trigger_statements(sources=SOURCES):
    """CREATE statements for every table's triggers (one per operation: transition tables allow no more)."""
    statements = []
    for source in sources:
        for operation in (*source.operations, "TRUNCATE"):
            name = f"{TRIGGER_PREFIX}{operation.lower()}"
            function = f"{name}_{source.table}"
            statements.append(
                f"CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF current_setting('{OFF_SETTING}', true) = 'off' THEN RETURN NULL; END IF; "
                f"{_function_body(source, operation)} END; $$"
            )
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {source.table}")
            statements.append(
                f"CREATE TRIGGER {name} AFTER {operation} ON {source.table} {_transition(operation)} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    return statements


def drop_statements(sources=SOURCES):
    statements = []
    for source in sources:
        for operation in (*source.operations, "TRUNCATE"):
            name = f"{TRIGGER_PREFIX}{operation.lower()}"
            statements.append(f"DROP TRIGGER IF EXISTS {name} ON {source.table}")
            statements.append(f"DROP FUNCTION IF EXISTS {name}_{source.table}()")
    return statements


@contextlib.contextmanager
def recorded_as_one_change():
    """Within the block, the triggers record nothing; at its end one change to everything is recorded.

    For a bulk load (the synthetic partnership) whose millions of rows would otherwise be noted one
    by one. Use it inside a transaction: the setting lasts until the block ends or the transaction does.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL {OFF_SETTING} = 'off'")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"SET LOCAL {OFF_SETTING} = 'on'")
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {PENDING_TABLE} (source) VALUES (%s)", [EVERYTHING])


def _run_on_postgresql(statements, schema_editor=None):
    conn = schema_editor.connection if schema_editor else connection
    if conn.vendor != "postgresql":
        return
    with conn.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def install_triggers(schema_editor=None):
    """Create (or replace) the triggers; PostgreSQL only (the SQLite demo recalculates in full)."""
    _run_on_postgresql(trigger_statements(), schema_editor)


def remove_triggers(schema_editor=None):
    _run_on_postgresql(drop_statements(), schema_editor)
