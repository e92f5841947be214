# ruff: noqa: S608 - SQL is assembled from table names and constants only; values are always parameters.
"""Measures drawn from the pathways app (accommodation, ETE, treatment, referrals) and the panels app
(Checkpoint contracts, panel actions).

Pathway facts are dated records (a new status is a new row), so "the status at the end
of the quarter" is the latest record effective on or before that day. The row shape is
the one `dashboard.measures` describes.
"""

from .measures import MIX, NULL_ID, RATE, RATIO, Measure

ACCOMMODATED = ("settled", "temporary", "approved_premises")


def _latest_status_at(table, *, person, day, column="status", extra=""):
    """The `column` of the latest dated record of `person` effective on or before `day` (a correlated subquery)."""
    return (
        f"(SELECT a.{column} FROM {table} a WHERE a.offender_id = {person} AND a.effective_on <= {day}{extra} "
        "ORDER BY a.effective_on DESC, a.id DESC LIMIT 1)"
    )


def _on_cohort_at_end(t):
    return (
        "on_cohort AS (SELECT DISTINCT q.q_start, q.q_end, m.offender_id FROM quarters q "
        "JOIN memberships m ON m.started_on <= q.q_end "
        "AND (m.ended_on IS NULL OR m.ended_on > q.q_end)), "
    )


def _accommodation_on_release(t):
    releases = (
        "releases AS (SELECT q.q_start, s.offender_id, MIN(s.released_on) AS released_on FROM quarters q "
        f"JOIN {t.cases_supervision} s ON s.released_on >= q.q_start AND s.released_on <= q.q_end "
        "GROUP BY q.q_start, s.offender_id), "
    )
    status = _latest_status_at(t.pathways_accommodationstatus, person="r.offender_id", day="r.released_on")
    accommodated = "(" + ", ".join(f"'{value}'" for value in ACCOMMODATED) + ")"
    person = (
        f"SELECT q_start, offender_id, {NULL_ID} AS agency_id, '' AS category, "
        f"CASE WHEN status IN {accommodated} THEN 1 ELSE 0 END AS num, 1 AS den "
        f"FROM (SELECT r.q_start, r.offender_id, {status} AS status FROM releases r) x"
    )
    return releases, person, None


def _status_spans(name, table, column="status", partition="offender_id", where=""):
    """Each dated record with the date the next one (for the same person) took over, in one window pass."""
    return (
        f"{name} AS (SELECT offender_id, {column} AS value, effective_on, LEAD(effective_on) OVER ("
        f"PARTITION BY {partition} ORDER BY effective_on, id) AS next_on FROM {table}{where}), "
    )


def _status_at_end(spans):
    """(quarter, person, value) of the record standing on the last day of each quarter, for people on a cohort."""
    return (
        f"SELECT c.q_start, c.offender_id, s.value FROM on_cohort c JOIN {spans} s ON s.offender_id = c.offender_id "
        "AND s.effective_on <= c.q_end AND (s.next_on IS NULL OR s.next_on > c.q_end)"
    )


def _settled_accommodation(t):
    ctes = _on_cohort_at_end(t) + _status_spans("accommodation", t.pathways_accommodationstatus)
    person = (
        f"SELECT q_start, offender_id, {NULL_ID} AS agency_id, '' AS category, "
        "CASE WHEN value = 'settled' THEN 1 ELSE 0 END AS num, 1 AS den "
        f"FROM ({_status_at_end('accommodation')}) x WHERE value <> 'custody'"
    )
    return ctes, person, None


def _ete(t):
    ctes = _on_cohort_at_end(t) + _status_spans("ete", t.pathways_etestatus)
    person = (
        f"SELECT q_start, offender_id, {NULL_ID} AS agency_id, value AS category, 1 AS num, 0 AS den "
        f"FROM ({_status_at_end('ete')}) x"
    )
    return ctes, person, None


def _treatment(t):
    ctes = _on_cohort_at_end(t)
    stages = []
    for substance in ("drugs", "alcohol"):
        ctes += _status_spans(
            f"treatment_{substance}", t.pathways_treatmentengagement, column="stage",
            where=f" WHERE substance = '{substance}'",
        )
        stages.append(_status_at_end(f"treatment_{substance}"))
    person = (
        f"SELECT q_start, offender_id, {NULL_ID} AS agency_id, value AS category, 1 AS num, 0 AS den "
        f"FROM ({' UNION ALL '.join(stages)}) x"
    )
    return ctes, person, None


def _referrals_in_quarter(t):
    return (
        f"FROM quarters q JOIN {t.pathways_referral} r ON r.referred_at >= q.q_start_at AND r.referred_at < q.q_next_at"
    )


def _referrals(t):
    person = (
        "SELECT q.q_start, r.offender_id, r.referring_agency_id AS agency_id, r.urgency AS category, 1 AS num, "
        f"0 AS den {_referrals_in_quarter(t)}"
    )
    return "", person, None


def _time_to_first_contact(t):
    person = (
        "SELECT q.q_start, r.offender_id, r.referring_agency_id AS agency_id, '' AS category, "
        f"{t.hours_between('r.referred_at', 'r.first_contact_at')} AS num, 1 AS den {_referrals_in_quarter(t)} "
        "AND r.first_contact_at IS NOT NULL"
    )
    return "", person, None


def _contact_target_met(t):
    within = f"{t.hours_between('r.referred_at', 'r.first_contact_at')} <= s.target_first_contact_hours"
    person = (
        "SELECT q.q_start, r.offender_id, r.referring_agency_id AS agency_id, '' AS category, "
        f"CASE WHEN r.first_contact_at IS NOT NULL AND {within} THEN 1 ELSE 0 END AS num, 1 AS den "
        f"{_referrals_in_quarter(t)} JOIN {t.pathways_service} s ON s.id = r.service_id "
        "WHERE s.target_first_contact_hours IS NOT NULL"
    )
    return "", person, None


def _pathway_choices(model_label, attribute):
    from django.apps import apps

    try:
        model = apps.get_model(model_label)
    except LookupError:
        return ()
    return tuple(getattr(model, attribute).choices)


PATHWAY_MEASURES = [
    Measure(
        "accommodation_on_release", "Accommodation on release",
        "Of the people released from prison in the quarter, the share with somewhere to stay recorded for the day "
        "of release (settled, temporary or approved premises; no record counts as not accommodated).",
        RATE, _accommodation_on_release, higher_is_better=True, source_app="pathways",
        requires=("pathways.AccommodationStatus",), group="Accommodation",
    ),
    Measure(
        "settled_accommodation", "Settled accommodation",
        "Of the people on a cohort at the end of the quarter with a known accommodation status (not in custody), "
        "the share in settled accommodation.",
        RATE, _settled_accommodation, higher_is_better=True, source_app="pathways",
        requires=("pathways.AccommodationStatus",), group="Accommodation",
    ),
    Measure(
        "ete_status", "Education, training and employment",
        "People on a cohort at the end of the quarter by their education, training or employment status.",
        MIX, _ete, categories=_pathway_choices("pathways.EteStatus", "Status"), source_app="pathways",
        requires=("pathways.EteStatus",), group="Education, training and employment",
    ),
    Measure(
        "treatment_engagement", "Drug and alcohol treatment",
        "Treatment journeys (drugs and alcohol counted separately) of people on a cohort at the end of the quarter, "
        "by stage.",
        MIX, _treatment, categories=_pathway_choices("pathways.TreatmentEngagement", "Stage"), unit="journeys",
        source_app="pathways", requires=("pathways.TreatmentEngagement",), group="Treatment",
    ),
    Measure(
        "referrals", "Referrals to services", "Referrals made during the quarter, by urgency, and by referring agency.",
        MIX, _referrals, categories=_pathway_choices("pathways.Referral", "Urgency"), unit="referrals",
        source_app="pathways", requires=("pathways.Referral",), group="Referrals",
    ),
    Measure(
        "time_to_first_contact", "Average hours to first contact",
        "For referrals made in the quarter that have had a first contact, the average hours from referral to it.",
        RATIO, _time_to_first_contact, higher_is_better=False, unit="hours", source_app="pathways",
        requires=("pathways.Referral",), group="Referrals",
    ),
    Measure(
        "contact_target_met", "First contact within the service's target",
        "Of the referrals made in the quarter to services with a first-contact target (for example 24 hours for "
        "emergency treatment referrals), the share seen within it.",
        RATE, _contact_target_met, higher_is_better=True, source_app="pathways",
        requires=("pathways.Referral", "pathways.Service"), group="Referrals",
    ),
]

def _checkpoint_outcomes(t):
    person = (
        "SELECT q.q_start, c.offender_id, c.agency_id, c.outcome AS category, 1 AS num, 0 AS den FROM quarters q "
        f"JOIN {t.panels_checkpointcontract} c ON c.outcome_on >= q.q_start AND c.outcome_on <= q.q_end "
        "WHERE c.outcome <> ''"
    )
    return "", person, None


def _checkpoint_started_with(flag):
    def build(t):
        person = (
            f"SELECT q.q_start, c.offender_id, c.agency_id, '' AS category, CASE WHEN c.{flag} THEN 1 ELSE 0 END "
            f"AS num, 1 AS den FROM quarters q JOIN {t.panels_checkpointcontract} c "
            "ON c.started_on >= q.q_start AND c.started_on <= q.q_end"
        )
        return "", person, None

    return build


def _panel_actions(t):
    # Open on the last day of the quarter (today for the quarter still running), by the agency that owns it.
    person = (
        "SELECT q.q_start, a.offender_id, a.owner_agency_id AS agency_id, "
        "CASE WHEN a.due_on < q.q_asof THEN 'overdue' ELSE 'not_yet_due' END AS category, 1 AS num, 0 AS den "
        f"FROM quarters q JOIN {t.pathways_action} a ON a.raised_on <= q.q_asof "
        "AND (a.completed_on IS NULL OR a.completed_on > q.q_asof) "
        f"JOIN {t.panels_meetingaction} ma ON ma.action_id = a.id"
    )
    return "", person, None


PANEL_MEASURES = [
    Measure(
        "checkpoint_outcomes", "Checkpoint outcomes",
        "Checkpoint contracts that ended in the quarter: completed (no prosecution), failed or reoffended.",
        MIX, _checkpoint_outcomes, categories=_pathway_choices("panels.CheckpointContract", "Outcome"),
        unit="contracts", source_app="panels", requires=("panels.CheckpointContract",), group="Checkpoint",
    ),
    Measure(
        "checkpoint_victim_consulted", "Checkpoint victim consultation",
        "Of the Checkpoint contracts started in the quarter, the share where the victim was consulted.",
        RATE, _checkpoint_started_with("victim_consulted"), higher_is_better=True, source_app="panels",
        requires=("panels.CheckpointContract",), group="Checkpoint",
    ),
    Measure(
        "checkpoint_restorative_justice", "Checkpoint restorative justice offered",
        "Of the Checkpoint contracts started in the quarter, the share where restorative justice was offered.",
        RATE, _checkpoint_started_with("restorative_justice_offered"), higher_is_better=True,
        source_app="panels", requires=("panels.CheckpointContract",), group="Checkpoint",
    ),
    Measure(
        "panel_actions", "Open panel actions",
        "Actions set at panel meetings and still open at the end of the quarter, by whether they are overdue; "
        "broken down by agency, the agency that owns each action.",
        MIX, _panel_actions, categories=(("not_yet_due", "Not yet due"), ("overdue", "Overdue")),
        unit="actions", source_app="panels", requires=("panels.MeetingAction", "pathways.Action"),
        group="Panels",
    ),
]

MEASURES = [*PATHWAY_MEASURES, *PANEL_MEASURES]
