# ruff: noqa: S608 - SQL is assembled from table names and constants only; values are always parameters.
"""The measures the Reducing Reoffending Board asks for, each as one set-based SQL query.

`dashboard.definition` describes the rows a measure gives and the `Measure` record;
this module holds the measures read from the case record and `all_measures`, the
catalogue every page, export and the API use (partner measures come from
`dashboard.partner_measures`).
"""

from cases.models import Appointment, Cohort, Offence, RagStatus, Supervision

from . import partner_measures
from .definition import COUNT, MIX, NULL_ID, RATE, RATIO, Measure

FOLLOW_UP_MONTHS = 12  # proven reoffending: offences committed within one year of the qualifying event
WAITING_MONTHS = 6  # ... and proven (convicted or cautioned) within a further six months
FIRST_MONTH_DAYS = 30  # missed appointments in the first month of an order

MOJ_SOURCE = (
    "Ministry of Justice, Proven reoffending statistics: definitions and measurement (the national "
    "statistic's cohort, follow-up and waiting period, applied to this partnership's records)."
)

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


COURT_ORDERS = (Supervision.Kind.COMMUNITY_ORDER, Supervision.Kind.SUSPENDED_SENTENCE)


def _reoffending_cohort(t):
    """The MoJ proven reoffending cohort of each quarter, with each person's qualifying date.

    Qualifying events: a release from custody, a court order (community order or suspended
    sentence) starting, or a caution. A person enters a quarter's cohort once, at their first
    qualifying event in the quarter.
    """
    return (
        "qualifying_events AS ("
        f"SELECT offender_id, released_on AS event_on FROM {t.cases_supervision} WHERE released_on IS NOT NULL "
        f"UNION ALL SELECT offender_id, started_on FROM {t.cases_supervision} WHERE kind IN {t.in_list(COURT_ORDERS)} "
        f"UNION ALL SELECT offender_id, outcome_on FROM {t.cases_offence} "
        f"WHERE outcome = '{Offence.Outcome.CAUTION}' AND outcome_on IS NOT NULL), "
        "reoffending_cohort AS (SELECT q.q_start, e.offender_id, MIN(e.event_on) AS start_on FROM quarters q "
        "JOIN qualifying_events e ON e.event_on >= q.q_start AND e.event_on <= q.q_end "
        "GROUP BY q.q_start, e.offender_id), "
        f"reoffences AS (SELECT s.q_start, s.offender_id, {_proven_offence_count(t, 's.start_on')} AS n, "
        f"{_proven_offence_count(t, 's.start_on', DRUG_OR_ALCOHOL)} AS n_drug_alcohol "
        "FROM reoffending_cohort s), "
    )


DRUG_OR_ALCOHOL = "AND (f.drug_related OR f.alcohol_related) "


def _proven_offence_count(t, start, condition=""):
    """Offences committed in the 12 months after `start` and proven within a further six months."""
    return (
        f"(SELECT COUNT(*) FROM {t.cases_offence} f WHERE f.offender_id = s.offender_id {condition}"
        f"AND f.committed_on > {start} AND f.committed_on <= {t.add_months(start, FOLLOW_UP_MONTHS)} "
        f"AND f.outcome IN {t.in_list(Offence.PROVEN_OUTCOMES)} "
        f"AND f.outcome_on <= {t.add_months(start, FOLLOW_UP_MONTHS + WAITING_MONTHS)})"
    )


def _reoffending(numerator, denominator):
    """A measure over the reoffending cohort: one row per person, so every one of them has the same rows."""

    def build(t):
        person = (
            f"SELECT q_start, offender_id, {NULL_ID} AS agency_id, '' AS category, {numerator} AS num, "
            f"{denominator} AS den FROM reoffences"
        )
        return _reoffending_cohort(t), person, None

    return build


REOFFENDING_DEFINITION = (
    "The reoffending cohort of a quarter is everyone released from custody, starting a court order (a community "
    "order or a suspended sentence) or cautioned during the quarter, as the case record shows it; a person "
    "counts once, from their first such event in the quarter. A proven reoffence is an offence committed in the "
    "12 months after that event (from the next day to its first anniversary) that led to a conviction or a "
    "caution within those 12 months or a further 6 months' waiting period. Offences with no outcome yet, no "
    "further action, acquittals and other out-of-court disposals do not count. A quarter is final 18 months "
    "after it ends; until then it is provisional."
)


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
    # The window is in the partnership's calendar: an appointment at 00:30 on a summer day is on that day.
    day = t.local_date("a.scheduled_at")
    missed = (
        f"(SELECT COUNT(*) FROM {t.cases_appointment} a WHERE a.offender_id = o.offender_id "
        f"AND a.outcome IN {t.in_list(Appointment.MISSED_OUTCOMES)} AND {day} >= o.start_on "
        f"AND {day} < {t.add_days('o.start_on', FIRST_MONTH_DAYS)})"
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
        definition=(
            "Everyone on at least one of the partnership's cohorts (IOM, MAPPA, Checkpoint, DIP, SGV, women's "
            "justice, youth offending) on the last day of the quarter: they joined on or before that day and had "
            "not left by the end of it. A person on two cohorts counts once; under the cohort breakdown they count "
            "under each cohort they were on that day."
        ),
        source="The partnership's cohort memberships, as recorded in this system.",
    ),
    Measure(
        "cohort_entries", "Cohort entries", "People who joined a cohort during the quarter.",
        COUNT, _membership_event("started_on"), group="Cohort",
        definition=(
            "People who joined at least one cohort during the quarter, counted once however many cohorts they "
            "joined; under the cohort breakdown, each cohort counts the people who joined it."
        ),
        source="The partnership's cohort memberships, as recorded in this system.",
    ),
    Measure(
        "cohort_exits", "Cohort exits", "People who left a cohort during the quarter.",
        COUNT, _membership_event("ended_on"), group="Cohort",
        definition=(
            "People who left at least one cohort during the quarter (for any exit reason), counted once; under "
            "the cohort breakdown, each cohort counts the people who left it."
        ),
        source="The partnership's cohort memberships, as recorded in this system.",
    ),
    Measure(
        "proven_reoffending", "Proven reoffending rate",
        "Of the people released from custody, starting a court order or cautioned in the quarter, the share who "
        "committed an offence within a year that was proven by a conviction or caution within a further six "
        "months.",
        RATE, _reoffending("CASE WHEN n > 0 THEN 1 ELSE 0 END", "1"), maturity_months=18,
        higher_is_better=False, group="Reoffending", family="reoffending", quantities=("reoffenders", "cohort"),
        definition=REOFFENDING_DEFINITION + " The binary rate is the number of people with at least one proven "
        "reoffence divided by the number of people in the cohort.",
        source=MOJ_SOURCE,
    ),
    Measure(
        "reoffences_per_offender", "Reoffences per offender",
        "Proven reoffences in the follow-up year for each person in the reoffending cohort.",
        RATIO, _reoffending("n", "1"), maturity_months=18, higher_is_better=False, unit="offences",
        group="Reoffending", family="reoffending", quantities=("reoffences", "cohort"),
        definition=REOFFENDING_DEFINITION + " Frequency per offender is the number of proven reoffences divided "
        "by the number of people in the cohort.",
        source=MOJ_SOURCE,
    ),
    Measure(
        "reoffences_per_reoffender", "Reoffences per reoffender",
        "Proven reoffences in the follow-up year for each person who reoffended.",
        RATIO, _reoffending("n", "CASE WHEN n > 0 THEN 1 ELSE 0 END"), maturity_months=18,
        higher_is_better=False, unit="offences", group="Reoffending", family="reoffending",
        quantities=("reoffences", "reoffenders"),
        definition=REOFFENDING_DEFINITION + " Frequency per reoffender is the number of proven reoffences divided "
        "by the number of people with at least one.",
        source=MOJ_SOURCE,
    ),
    Measure(
        "drug_alcohol_reoffending", "Drug- and alcohol-related reoffending rate",
        "Of the reoffending cohort, the share with a proven reoffence that the police recorded as drug- or "
        "alcohol-related.",
        RATE, _reoffending("CASE WHEN n_drug_alcohol > 0 THEN 1 ELSE 0 END", "1"), maturity_months=18,
        higher_is_better=False, group="Reoffending", family="reoffending",
        quantities=("drug_alcohol_reoffenders", "cohort"),
        definition=REOFFENDING_DEFINITION + " The drug- and alcohol-related rate counts the people in the cohort "
        "with at least one proven reoffence flagged as drug-related or alcohol-related (a reoffence can be both), "
        "divided by the number of people in the cohort; it is never more than the binary rate.",
        source=MOJ_SOURCE + " Drug and alcohol flags as the police record them on the offence (as in Havering's "
        "reducing reoffending strategy).",
    ),
    Measure(
        "rag_mix", "RAG status at the end of the quarter", "People by their RAG status on the last day of the quarter.",
        MIX, _rag_mix, categories=tuple(RagStatus.choices), group="RAG", headline=("red",),
        headline_label="red",
        definition=(
            "Everyone with a RAG status, by the status that stood at the end of the last day of the quarter (the "
            "latest change made before midnight, UK time). The headline is the share who were red: not engaging "
            "or believed to be offending."
        ),
        source="RAG status history recorded at case reviews and panels (IOM RAG guidance).",
    ),
    Measure(
        "rag_movement", "RAG changes", "Changes of RAG status during the quarter.",
        MIX, _rag_movement,
        categories=(("improved", "Improved"), ("worsened", "Worsened"), ("first", "First status")),
        unit="changes", group="RAG", headline=("improved",), headline_label="improved",
        definition=(
            "Every change of RAG status made during the quarter (UK time): improved is red to amber or green, or "
            "amber to green; worsened is the reverse; first status is a person's first RAG. A person changed twice "
            "counts twice. The headline is the share of changes that were improvements; under the agency "
            "breakdown each change counts for the agency that made it."
        ),
        source="RAG status history recorded at case reviews and panels (IOM RAG guidance).",
    ),
    Measure(
        "missed_first_month", "Missed appointments in the first month",
        "People starting an order or licence in the quarter, by appointments missed (unacceptable absences) in its "
        "first 30 days.",
        MIX, _missed_first_month,
        categories=(("none", "None missed"), ("one", "One missed"), ("two_or_more", "Two or more missed")),
        group="Engagement", headline=("two_or_more",), headline_label="missed two or more",
        definition=(
            "People starting a community order, suspended sentence order, post-sentence supervision or licence "
            "(counted from release) in the quarter, by the number of appointments missed (recorded as unacceptable "
            "absences) in the first 30 days (from the start day, in UK time, so an appointment at half past "
            "midnight in summer falls on its own day). The headline is the share who missed two or more: people "
            "missing two or more in the first month reoffend far more often (42% against 24% for those missing none)."
        ),
        source="Appointments and their outcomes recorded by supervising agencies; the 42% and 24% are from "
        "published local reducing reoffending strategies.",
    ),
    Measure(
        "enforcement_actions", "Enforcement actions", "Enforcement actions taken during the quarter, by type.",
        MIX, _enforcement, categories=_enforcement_categories(), unit="actions", group="Engagement",
        definition=(
            "Enforcement actions taken during the quarter (warning letters, breach, recall, extra licence "
            "conditions, curfews, civil orders), by type. A person with two actions counts twice; under the agency "
            "breakdown each action counts for the agency that took it."
        ),
        source="Enforcement actions recorded by police and probation in this system.",
    ),
]

COHORT_LABELS = dict(Cohort.choices)


def all_measures():
    """Every measure whose source data exists in this installation, in display order."""
    return [m for m in [*CASES_MEASURES, *partner_measures.MEASURES] if m.is_available()]


def get_measure(name):
    for measure in all_measures():
        if measure.name == name:
            return measure
    return None
