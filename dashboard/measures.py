# ruff: noqa: S608 - SQL is assembled from table names and constants only; values are always parameters.
"""The measures the Reducing Reoffending Board asks for, each as one set-based SQL query.

A measure gives, for every reporting quarter at once, rows at the grain of a person
(or of an event about a person) with the columns

    q_start, offender_id, agency_id, category, num, den

and, when the measure has its own notion of cohort (entries to a cohort, the
reoffending cohort), the same rows with a `cohort` column. The roll-up engine
(`dashboard.rollup`) joins these rows to the person once, slices them by area,
agency, cohort, gender, age band and ethnicity, and sums `num` and `den`.

`agency_id` may be NULL, in which case the person's lead agency is used; measures
about an agency's own work (enforcement, panel actions) give the acting agency.

The SQL is written for both PostgreSQL (production, tests) and SQLite (the laptop
demo): dates are compared as dates, and the only vendor-specific piece, adding days
to a date, goes through `Tables.add_days`.
"""

from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection

from cases.models import Appointment, Cohort, Offence, RagStatus

COUNT = "count"  # a number of people or events
RATE = "rate"  # numerator out of denominator, shown as a percentage
RATIO = "ratio"  # numerator per denominator, shown as a decimal
MIX = "mix"  # counts split into categories that add up to a total

FOLLOW_UP_DAYS = 365  # proven reoffending: offences committed within one year of the start
COURT_LAG_DAYS = 183  # ... and proven (convicted or cautioned) within a further six months
FIRST_MONTH_DAYS = 30  # missed appointments in the first month of an order

NULL_ID = "CAST(NULL AS BIGINT)"


class Tables:
    """Database table names and vendor-specific SQL pieces for the measure queries."""

    def __init__(self, vendor=None):
        self.vendor = vendor or connection.vendor
        self._tables = {}

    def __getattr__(self, label):
        # `t.cases_offender` -> the table of cases.Offender, so a renamed table cannot silently break SQL.
        if "_" not in label or label.startswith("_"):
            raise AttributeError(label)
        if label not in self._tables:
            app_label, model_name = label.split("_", 1)
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError as error:
                raise AttributeError(label) from error
            self._tables[label] = connection.ops.quote_name(model._meta.db_table)
        return self._tables[label]

    def add_days(self, expression, days):
        days = int(days)
        if self.vendor == "sqlite":
            return f"date({expression}, '{days:+d} days')"
        return f"({expression} + {days})"

    def hours_between(self, start, end):
        """Whole hours from one timestamp to a later one."""
        if self.vendor == "sqlite":
            return f"CAST(ROUND((julianday({end}) - julianday({start})) * 24) AS INTEGER)"
        return f"CAST(ROUND(EXTRACT(EPOCH FROM ({end} - {start})) / 3600) AS INTEGER)"

    @property
    def materialized(self):
        """Keep a CTE as a computed table (PostgreSQL would otherwise inline it and pick index scans)."""
        return "MATERIALIZED " if self.vendor == "postgresql" else ""

    def in_list(self, values):
        return "(" + ", ".join("'" + str(value).replace("'", "''") + "'" for value in sorted(values)) + ")"


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    description: str
    kind: str
    # (t: Tables) -> (extra CTE definitions or "", person-level SELECT, cohort-level SELECT or None)
    build: object
    categories: tuple = ()
    # Days after the end of a quarter before its figure is final (proven reoffending waits 18 months).
    maturity_days: int = 0
    higher_is_better: bool | None = None
    # The app whose data the measure reads: measures of apps not installed yet are left out.
    source_app: str = "cases"
    unit: str = "people"
    group: str = "Cohort"
    requires: tuple = field(default=())  # model labels that must exist, e.g. ("pathways.Referral",)

    @property
    def category_labels(self):
        return dict(self.categories)

    def is_available(self):
        if not apps.is_installed(self.source_app):
            return False
        for label in self.requires:
            try:
                apps.get_model(label)
            except LookupError:
                return False
        return True


# -- Cohort size and flow ----------------------------------------------------------------------------------------


def _cohort_size(t):
    on_at_end = (
        "FROM quarters q JOIN memberships m ON m.started_on <= q.q_end "
        "AND (m.ended_on IS NULL OR m.ended_on > q.q_end)"
    )
    person = (
        f"SELECT DISTINCT q.q_start, m.offender_id, {NULL_ID} AS agency_id, '' AS category, 1 AS num, 0 AS den "
        f"{on_at_end}"
    )
    cohort = (
        f"SELECT DISTINCT q.q_start, m.offender_id, m.cohort, {NULL_ID} AS agency_id, '' AS category, 1 AS num, "
        f"0 AS den {on_at_end}"
    )
    return "", person, cohort


def _membership_event(date_column):
    def build(t):
        in_quarter = (
            f"FROM quarters q JOIN memberships m ON m.{date_column} >= q.q_start "
            f"AND m.{date_column} <= q.q_end"
        )
        person = (
            f"SELECT DISTINCT q.q_start, m.offender_id, {NULL_ID} AS agency_id, '' AS category, 1 AS num, 0 AS den "
            f"{in_quarter}"
        )
        cohort = (
            f"SELECT DISTINCT q.q_start, m.offender_id, m.cohort, {NULL_ID} AS agency_id, '' AS category, 1 AS num, "
            f"0 AS den {in_quarter}"
        )
        return "", person, cohort

    return build


# -- Proven reoffending ------------------------------------------------------------------------------------------


def _reoffending_starts(t):
    """People starting on a cohort or released from prison in each quarter, with their start date."""
    return (
        "starts AS ("
        "SELECT q.q_start, m.offender_id, m.cohort, m.started_on AS start_on FROM quarters q "
        "JOIN memberships m ON m.started_on >= q.q_start AND m.started_on <= q.q_end "
        "UNION ALL "
        f"SELECT q.q_start, s.offender_id, NULL, s.released_on FROM quarters q "
        f"JOIN {t.cases_supervision} s ON s.released_on >= q.q_start AND s.released_on <= q.q_end), "
        "person_starts AS (SELECT q_start, offender_id, MIN(start_on) AS start_on FROM starts "
        "GROUP BY q_start, offender_id), "
        "cohort_starts AS (SELECT q_start, offender_id, cohort, MIN(start_on) AS start_on FROM starts "
        "WHERE cohort IS NOT NULL GROUP BY q_start, offender_id, cohort), "
    )


def _proven_offences(t, start):
    """Offences committed in the year after `start` and proven within a further six months."""
    return (
        f"FROM {t.cases_offence} f WHERE f.offender_id = s.offender_id "
        f"AND f.committed_on > {start} AND f.committed_on <= {t.add_days(start, FOLLOW_UP_DAYS)} "
        f"AND f.outcome IN {t.in_list(Offence.PROVEN_OUTCOMES)} "
        f"AND f.outcome_on <= {t.add_days(start, FOLLOW_UP_DAYS + COURT_LAG_DAYS)}"
    )


def _reoffending_rate(t):
    reoffended = f"CASE WHEN EXISTS (SELECT 1 {_proven_offences(t, 's.start_on')}) THEN 1 ELSE 0 END"
    person = (
        f"SELECT s.q_start, s.offender_id, {NULL_ID} AS agency_id, '' AS category, {reoffended} AS num, 1 AS den "
        "FROM person_starts s"
    )
    cohort = (
        f"SELECT s.q_start, s.offender_id, s.cohort, {NULL_ID} AS agency_id, '' AS category, {reoffended} AS num, "
        "1 AS den FROM cohort_starts s"
    )
    return _reoffending_starts(t), person, cohort


def _reoffences_per_reoffender(t):
    # One row per proven reoffence (num) and one per reoffender (den), so sums give the published ratio.
    offences = f"(SELECT COUNT(*) {_proven_offences(t, 's.start_on')})"
    person = (
        f"SELECT q_start, offender_id, {NULL_ID} AS agency_id, '' AS category, n AS num, 1 AS den FROM "
        f"(SELECT s.q_start, s.offender_id, {offences} AS n FROM person_starts s) x WHERE n > 0"
    )
    cohort = (
        f"SELECT q_start, offender_id, cohort, {NULL_ID} AS agency_id, '' AS category, n AS num, 1 AS den FROM "
        f"(SELECT s.q_start, s.offender_id, s.cohort, {offences} AS n FROM cohort_starts s) x WHERE n > 0"
    )
    return _reoffending_starts(t), person, cohort


# -- RAG -----------------------------------------------------------------------------------------------------------


def _rag_mix(t):
    # Each change holds from its time until the next change: one pass over the history, no per-quarter sort.
    spans = (
        "rag_spans AS (SELECT offender_id, to_status, changed_at, LEAD(changed_at) OVER ("
        f"PARTITION BY offender_id ORDER BY changed_at, id) AS next_at FROM {t.cases_ragchange}), "
    )
    person = (
        f"SELECT q.q_start, r.offender_id, {NULL_ID} AS agency_id, r.to_status AS category, 1 AS num, 0 AS den "
        "FROM quarters q JOIN rag_spans r ON r.changed_at < q.q_next_at "
        "AND (r.next_at IS NULL OR r.next_at >= q.q_next_at)"
    )
    return spans, person, None


IMPROVEMENTS = {(RagStatus.RED, RagStatus.AMBER), (RagStatus.RED, RagStatus.GREEN), (RagStatus.AMBER, RagStatus.GREEN)}


def _rag_movement(t):
    improved = " OR ".join(f"(r.from_status = '{a}' AND r.to_status = '{b}')" for a, b in sorted(IMPROVEMENTS))
    category = f"CASE WHEN r.from_status = '' THEN 'first' WHEN {improved} THEN 'improved' ELSE 'worsened' END"
    person = (
        f"SELECT q.q_start, r.offender_id, r.agency_id, {category} AS category, 1 AS num, 0 AS den "
        f"FROM quarters q JOIN {t.cases_ragchange} r ON r.changed_at >= q.q_start_at AND r.changed_at < q.q_next_at"
    )
    return "", person, None


# -- Appointments and enforcement -----------------------------------------------------------------------------


def _missed_first_month(t):
    starts = (
        "order_starts AS (SELECT q.q_start, s.offender_id, MIN(COALESCE(s.released_on, s.started_on)) AS start_on "
        f"FROM quarters q JOIN {t.cases_supervision} s ON COALESCE(s.released_on, s.started_on) >= q.q_start "
        "AND COALESCE(s.released_on, s.started_on) <= q.q_end "
        f"AND s.kind <> 'custody' GROUP BY q.q_start, s.offender_id), "
    )
    missed = (
        f"(SELECT COUNT(*) FROM {t.cases_appointment} a WHERE a.offender_id = o.offender_id "
        f"AND a.outcome = '{Appointment.Outcome.MISSED}' AND a.scheduled_at >= o.start_on "
        f"AND a.scheduled_at < {t.add_days('o.start_on', FIRST_MONTH_DAYS)})"
    )
    person = (
        f"SELECT q_start, offender_id, {NULL_ID} AS agency_id, CASE WHEN n = 0 THEN 'none' WHEN n = 1 THEN 'one' "
        "ELSE 'two_or_more' END AS category, 1 AS num, 0 AS den "
        f"FROM (SELECT o.q_start, o.offender_id, {missed} AS n FROM order_starts o) x"
    )
    return starts, person, None


def _enforcement(t):
    person = (
        f"SELECT q.q_start, e.offender_id, e.agency_id, e.kind AS category, 1 AS num, 0 AS den FROM quarters q "
        f"JOIN {t.cases_enforcementaction} e ON e.taken_on >= q.q_start AND e.taken_on <= q.q_end"
    )
    return "", person, None


def _enforcement_categories():
    from cases.models import EnforcementAction

    return tuple(EnforcementAction.Kind.choices)


CASES_MEASURES = [
    Measure(
        "cohort_size", "People on a cohort", "People on at least one cohort at the end of the quarter.",
        COUNT, _cohort_size, group="Cohort",
    ),
    Measure(
        "cohort_entries", "Cohort entries", "People who joined a cohort during the quarter.",
        COUNT, _membership_event("started_on"), group="Cohort",
    ),
    Measure(
        "cohort_exits", "Cohort exits", "People who left a cohort during the quarter.",
        COUNT, _membership_event("ended_on"), group="Cohort",
    ),
    Measure(
        "proven_reoffending", "Proven reoffending rate",
        "Of the people who started on a cohort or were released from prison in the quarter, the share who "
        "committed an offence within one year that was proven by a conviction or caution within a further six "
        "months.",
        RATE, _reoffending_rate, maturity_days=FOLLOW_UP_DAYS + COURT_LAG_DAYS, higher_is_better=False,
        group="Reoffending",
    ),
    Measure(
        "reoffences_per_reoffender", "Reoffences per reoffender",
        "Proven reoffences in the follow-up year for each person who reoffended.",
        RATIO, _reoffences_per_reoffender, maturity_days=FOLLOW_UP_DAYS + COURT_LAG_DAYS,
        higher_is_better=False, unit="offences", group="Reoffending",
    ),
    Measure(
        "rag_mix", "RAG status at the end of the quarter", "People by their RAG status on the last day of the quarter.",
        MIX, _rag_mix, categories=tuple(RagStatus.choices), group="RAG",
    ),
    Measure(
        "rag_movement", "RAG changes", "Changes of RAG status during the quarter.",
        MIX, _rag_movement,
        categories=(("improved", "Improved"), ("worsened", "Worsened"), ("first", "First status")),
        unit="changes", group="RAG",
    ),
    Measure(
        "missed_first_month", "Missed appointments in the first month",
        "People starting an order or licence in the quarter, by appointments missed in its first 30 days.",
        MIX, _missed_first_month,
        categories=(("none", "None missed"), ("one", "One missed"), ("two_or_more", "Two or more missed")),
        group="Engagement",
    ),
    Measure(
        "enforcement_actions", "Enforcement actions", "Enforcement actions taken during the quarter, by type.",
        MIX, _enforcement, categories=_enforcement_categories(), unit="actions", group="Engagement",
    ),
]

COHORT_LABELS = dict(Cohort.choices)


def all_measures():
    """Every measure whose source data exists in this installation, in display order."""
    from . import partner_measures

    return [m for m in [*CASES_MEASURES, *partner_measures.MEASURES] if m.is_available()]


def get_measure(name):
    for measure in all_measures():
        if measure.name == name:
            return measure
    return None
