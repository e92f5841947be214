# ruff: noqa: S608 - SQL is assembled from table names and constants only; values are always parameters.
"""Measures drawn from the pathways app (accommodation, ETE, treatment, referrals), the resettlement app
(releases from prison: the pre-release checklist, the day of release, the first appointment after it) and
the panels app (Checkpoint contracts, panel actions).

Pathway facts are dated records (a new status is a new row), so "the status at the end
of the quarter" is the latest record effective on or before that day. The row shape is
the one `dashboard.definition` describes.
"""

from .definition import MIX, NULL_ID, RATE, RATIO, Measure

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


def _releases(t):
    """People released from prison in each quarter, at their first release in it: every release measure's people."""
    return (
        "releases AS (SELECT q.q_start, s.offender_id, MIN(s.released_on) AS released_on FROM quarters q "
        f"JOIN {t.cases_supervision} s ON s.released_on >= q.q_start AND s.released_on <= q.q_end "
        "GROUP BY q.q_start, s.offender_id), "
    )


def _accommodation_on_release(t):
    releases = _releases(t)
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


def _benefits_in_place(t):
    ctes = _on_cohort_at_end(t) + _status_spans("benefits", t.pathways_benefitstatus)
    person = (
        f"SELECT q_start, offender_id, {NULL_ID} AS agency_id, '' AS category, "
        "CASE WHEN value = 'in_place' THEN 1 ELSE 0 END AS num, 1 AS den "
        f"FROM ({_status_at_end('benefits')}) x WHERE value <> 'not_needed'"
    )
    return ctes, person, None


def _need_on_pathway(pathway_key):
    """People on a cohort at the end of the quarter, and those whose standing assessment on a pathway finds a need."""

    def build(t):
        ctes = _on_cohort_at_end(t) + (
            f"assessments AS (SELECT n.offender_id, n.level AS value, n.assessed_on AS effective_on, "
            f"LEAD(n.assessed_on) OVER (PARTITION BY n.offender_id ORDER BY n.assessed_on, n.id) AS next_on "
            f"FROM {t.pathways_needassessment} n JOIN {t.pathways_pathway} p ON p.id = n.pathway_id "
            f"WHERE p.key = '{pathway_key}'), "
        )
        person = (
            f"SELECT c.q_start, c.offender_id, {NULL_ID} AS agency_id, '' AS category, "
            "CASE WHEN s.value IN ('some', 'significant') THEN 1 ELSE 0 END AS num, 1 AS den "
            "FROM on_cohort c LEFT JOIN assessments s ON s.offender_id = c.offender_id "
            "AND s.effective_on <= c.q_end AND (s.next_on IS NULL OR s.next_on > c.q_end)"
        )
        return ctes, person, None

    return build


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


def _contact_target_hours():
    """The hours a referral's service has for first contact: as `pathways.models.Referral.first_contact_target_hours`,
    the service's own target, and at most a day for an emergency."""
    from pathways.models import EMERGENCY_FIRST_CONTACT_HOURS as DAY

    return (
        f"(CASE WHEN r.urgency = 'emergency' THEN (CASE WHEN s.target_first_contact_hours < {int(DAY)} "
        f"THEN s.target_first_contact_hours ELSE {int(DAY)} END) ELSE s.target_first_contact_hours END)"
    )


def _contact_target_met(t):
    target = _contact_target_hours()
    within = f"{t.hours_between('r.referred_at', 'r.first_contact_at')} <= {target}"
    person = (
        "SELECT q.q_start, r.offender_id, r.referring_agency_id AS agency_id, '' AS category, "
        f"CASE WHEN r.first_contact_at IS NOT NULL AND {within} THEN 1 ELSE 0 END AS num, 1 AS den "
        f"{_referrals_in_quarter(t)} JOIN {t.pathways_service} s ON s.id = r.service_id "
        f"WHERE {target} IS NOT NULL"
    )
    return "", person, None


def _contact_target_breaches(t):
    """Referrals first seen after the target, or still unseen with the target passed when the roll-up ran."""
    target = _contact_target_hours()
    late = f"r.first_contact_at IS NOT NULL AND {t.hours_between('r.referred_at', 'r.first_contact_at')} > {target}"
    waiting = (
        "r.first_contact_at IS NULL AND r.status NOT IN ('declined', 'withdrawn', 'completed') "
        f"AND {t.hours_between('r.referred_at', 'CURRENT_TIMESTAMP')} > {target}"
    )
    person = (
        "SELECT q.q_start, r.offender_id, COALESCE(s.provider_id, r.referring_agency_id) AS agency_id, "
        "CASE WHEN r.first_contact_at IS NULL THEN 'not_seen' ELSE 'seen_late' END AS category, 1 AS num, 0 AS den "
        f"{_referrals_in_quarter(t)} JOIN {t.pathways_service} s ON s.id = r.service_id "
        f"WHERE {target} IS NOT NULL AND (({late}) OR ({waiting}))"
    )
    return "", person, None


def _pathway_choices(model_label, attribute):
    from django.apps import apps

    try:
        model = apps.get_model(model_label)
    except LookupError:
        return ()
    return tuple(getattr(model, attribute).choices)


PATHWAY_SOURCE = "Dated pathway records (accommodation, ETE, treatment) kept by the partner agencies in this system."

PATHWAY_MEASURES = [
    Measure(
        "accommodation_on_release", "Accommodation on release",
        "Of the people released from prison in the quarter, the share with somewhere to stay recorded for the day "
        "of release (settled, temporary or approved premises; no record counts as not accommodated).",
        RATE, _accommodation_on_release, higher_is_better=True, source_app="pathways",
        requires=("pathways.AccommodationStatus",), group="Accommodation",
        definition=(
            "Everyone released from prison during the quarter (their first release in it), and of them the share "
            "whose accommodation status on the day of release was settled, temporary or approved premises. Rough "
            "sleeping, no fixed abode, and no record at all count as not accommodated, so missing records lower "
            "the figure rather than flatter it."
        ),
        source=PATHWAY_SOURCE,
    ),
    Measure(
        "settled_accommodation", "Settled accommodation",
        "Of the people on a cohort at the end of the quarter with a known accommodation status (not in custody), "
        "the share in settled accommodation.",
        RATE, _settled_accommodation, higher_is_better=True, source_app="pathways",
        requires=("pathways.AccommodationStatus",), group="Accommodation",
        definition=(
            "People on at least one cohort on the last day of the quarter whose accommodation status that day is "
            "known and is not custody; of them, the share in settled accommodation."
        ),
        source=PATHWAY_SOURCE,
    ),
    Measure(
        "ete_status", "Education, training and employment",
        "People on a cohort at the end of the quarter by their education, training or employment status.",
        MIX, _ete, categories=_pathway_choices("pathways.EteStatus", "Status"), source_app="pathways",
        requires=("pathways.EteStatus",), group="Education, training and employment",
        headline=("employed", "training", "education"), headline_label="in education, training or employment",
        definition=(
            "People on at least one cohort on the last day of the quarter with an ETE status recorded, by the "
            "status standing that day. The headline is the share employed, in training or in education."
        ),
        source=PATHWAY_SOURCE,
    ),
    Measure(
        "treatment_engagement", "Drug and alcohol treatment",
        "Treatment journeys (drugs and alcohol counted separately) of people on a cohort at the end of the quarter, "
        "by stage.",
        MIX, _treatment, categories=_pathway_choices("pathways.TreatmentEngagement", "Stage"), unit="journeys",
        source_app="pathways", requires=("pathways.TreatmentEngagement",), group="Treatment",
        headline=("in_treatment", "completed"), headline_label="in treatment or completed",
        definition=(
            "Drug and alcohol treatment journeys of people on at least one cohort on the last day of the quarter, "
            "by the stage standing that day (a person in drug and alcohol treatment has two journeys). The "
            "headline is the share of journeys in treatment or completed, rather than referred, assessed or "
            "dropped out."
        ),
        source=PATHWAY_SOURCE,
    ),
    Measure(
        "benefits_in_place", "Benefits in place",
        "Of the people on a cohort at the end of the quarter who need benefits, the share with benefits in "
        "payment.",
        RATE, _benefits_in_place, higher_is_better=True, source_app="pathways",
        requires=("pathways.BenefitStatus",), group="Finance, benefit and debt",
        definition=(
            "People on at least one cohort on the last day of the quarter whose benefit status that day is "
            "recorded and is not 'not needed' (working, say); of them, the share with benefits in place. A claim "
            "made but not yet paid counts as not in place."
        ),
        source=PATHWAY_SOURCE,
    ),
    *(
        Measure(
            f"need_{key}", label, f"Of the people on a cohort at the end of the quarter, the share with {what}.",
            RATE, _need_on_pathway(key), source_app="pathways", requires=("pathways.NeedAssessment",),
            group=group, unit="people",
            definition=(
                f"People on at least one cohort on the last day of the quarter; of them, the share whose latest "
                f"assessment on the {pathway} pathway made on or before that day found some or a significant "
                "need. People never assessed on the pathway count as without the need, so gaps in assessment "
                "lower the figure rather than raise it."
            ),
            source="Need assessments by resettlement pathway, recorded by the partner agencies in this system.",
        )
        for key, label, what, pathway, group in (
            ("finance", "Finance, benefit and debt needs", "an assessed finance, benefit or debt need",
             "finance, benefit and debt", "Finance, benefit and debt"),
            ("health", "Mental and physical health needs", "an assessed mental or physical health need",
             "mental and physical health", "Health and abuse"),
            ("abuse", "Domestic and sexual abuse support needs",
             "an assessed need for support after domestic or sexual abuse", "domestic or sexual abuse support",
             "Health and abuse"),
        )
    ),
    Measure(
        "referrals", "Referrals to services", "Referrals made during the quarter, by urgency, and by referring agency.",
        MIX, _referrals, categories=_pathway_choices("pathways.Referral", "Urgency"), unit="referrals",
        source_app="pathways", requires=("pathways.Referral",), group="Referrals",
        definition=(
            "Referrals to services made during the quarter (UK time), by urgency; under the agency breakdown, by "
            "the agency that made the referral."
        ),
        source="Referrals recorded in this system's service directory.",
    ),
    Measure(
        "time_to_first_contact", "Average hours to first contact",
        "For referrals made in the quarter that have had a first contact, the average hours from referral to it.",
        RATIO, _time_to_first_contact, higher_is_better=False, unit="hours", source_app="pathways",
        requires=("pathways.Referral",), group="Referrals",
        definition=(
            "For referrals made during the quarter that have had a first contact, the mean number of whole hours "
            "from the referral to the first contact. Referrals still waiting are left out, so read it beside the "
            "share seen within target."
        ),
        source="Referrals recorded in this system's service directory.",
    ),
    Measure(
        "contact_target_met", "First contact within the service's target",
        "Of the referrals made in the quarter to services with a first-contact target (for example 24 hours for "
        "emergency treatment referrals), the share seen within it.",
        RATE, _contact_target_met, higher_is_better=True, source_app="pathways",
        requires=("pathways.Referral", "pathways.Service"), group="Referrals",
        definition=(
            "Referrals made during the quarter with a first-contact target (24 hours for an emergency referral, or "
            "the service's own target if shorter; otherwise the service's target); of them, the share with a first "
            "contact within the target. A referral not yet seen counts as not within it."
        ),
        source="Referrals recorded in this system's service directory; targets set by each service.",
    ),
    Measure(
        "contact_target_breaches", "First-contact targets missed",
        "Referrals made in the quarter whose first contact came after the target, or has not come and the target "
        "has passed.",
        MIX, _contact_target_breaches, higher_is_better=False, unit="referrals", source_app="pathways",
        categories=(("seen_late", "Seen after the target"), ("not_seen", "Not yet seen, target passed")),
        requires=("pathways.Referral", "pathways.Service"), group="Referrals",
        definition=(
            "Referrals made during the quarter to a service with a first-contact target (24 hours for an "
            "emergency referral, or the service's own target if shorter; otherwise the service's target), whose "
            "first contact came after it, or has not come though the target has passed (declined, withdrawn and "
            "completed referrals aside). Under the agency breakdown, the agency that runs the service."
        ),
        source="Referrals recorded in this system's service directory; targets set by each service.",
    ),
]


# -- Through the gate ---------------------------------------------------------------------------------------------

FRIDAY = 4  # the calendar table's weekday: 0 is Monday
FIRST_APPOINTMENT_WORKING_DAYS = 2


def _working_days_after(t, day, count):
    """The working day `count` working days after `day`, from the calendar of England and Wales (a subquery).

    Working days are numbered in the calendar and a weekend or bank holiday keeps the number of the working
    day before it, so the answer is the working day numbered `count` more than the day itself.
    """
    return (
        f"(SELECT later.day FROM {t.resettlement_workingday} later JOIN {t.resettlement_workingday} d "
        f"ON later.working_day_number = d.working_day_number + {int(count)} "
        f"WHERE d.day = {day} AND later.is_working_day)"
    )


def _checklist_complete_at_release(t):
    from resettlement.models import SETTLED_STATUSES

    ctes = _releases(t) + (
        "release_checklists AS (SELECT r.q_start, r.offender_id, r.released_on, c.id AS checklist_id "
        f"FROM releases r JOIN {t.cases_supervision} s ON s.offender_id = r.offender_id "
        f"AND s.released_on = r.released_on JOIN {t.resettlement_releasechecklist} c ON c.supervision_id = s.id), "
    )
    # An item is settled at release when it was done, not needed or declined on or before the day.
    open_at_release = (
        f"EXISTS (SELECT 1 FROM {t.resettlement_checklistitem} i WHERE i.checklist_id = k.checklist_id "
        f"AND NOT (i.status IN {t.in_list(SETTLED_STATUSES)} AND i.settled_on <= k.released_on))"
    )
    person = (
        f"SELECT k.q_start, k.offender_id, {NULL_ID} AS agency_id, '' AS category, "
        f"MIN(CASE WHEN {open_at_release} THEN 0 ELSE 1 END) AS num, 1 AS den "
        "FROM release_checklists k GROUP BY k.q_start, k.offender_id"
    )
    return ctes, person, None


def _before_bank_holiday(t, calendar_day):
    """Whether a bank holiday comes before the next working day after the calendar row `calendar_day`.

    The days up to the next working day keep the working-day number of the day itself.
    """
    return (
        f"EXISTS (SELECT 1 FROM {t.resettlement_workingday} h WHERE h.working_day_number = "
        f"{calendar_day}.working_day_number AND h.day > {calendar_day}.day AND h.is_bank_holiday)"
    )


def _friday_releases(t):
    before_bank_holiday = _before_bank_holiday(t, "d")
    person = (
        f"SELECT r.q_start, r.offender_id, {NULL_ID} AS agency_id, '' AS category, "
        f"CASE WHEN d.weekday = {FRIDAY} OR {before_bank_holiday} THEN 1 ELSE 0 END AS num, 1 AS den "
        f"FROM releases r LEFT JOIN {t.resettlement_workingday} d ON d.day = r.released_on"
    )
    return _releases(t), person, None


def _first_appointment_kept(t):
    from cases.models import Appointment

    # The partnership's calendar: an appointment at half past midnight on a summer day is on that day.
    day = t.local_date("a.scheduled_at")
    never_held = (Appointment.Outcome.CANCELLED, Appointment.Outcome.RESCHEDULED)
    first = (
        f"(SELECT a.id FROM {t.cases_appointment} a WHERE a.offender_id = r.offender_id "
        f"AND a.kind = '{Appointment.Kind.SUPERVISION}' AND a.outcome NOT IN {t.in_list(never_held)} "
        f"AND {day} >= r.released_on ORDER BY a.scheduled_at, a.id LIMIT 1)"
    )
    ctes = _releases(t) + (
        f"first_appointments AS (SELECT r.q_start, r.offender_id, {first} AS appointment_id, "
        f"{_working_days_after(t, 'r.released_on', FIRST_APPOINTMENT_WORKING_DAYS)} AS last_day FROM releases r), "
    )
    kept = f"a.outcome IN {t.in_list(Appointment.ATTENDED_OUTCOMES)} AND {day} <= f.last_day"
    person = (
        f"SELECT f.q_start, f.offender_id, {NULL_ID} AS agency_id, '' AS category, "
        f"CASE WHEN {kept} THEN 1 ELSE 0 END AS num, 1 AS den "
        f"FROM first_appointments f LEFT JOIN {t.cases_appointment} a ON a.id = f.appointment_id"
    )
    return ctes, person, None


RELEASE_SOURCE = (
    "Release dates recorded by prisons and probation (or arriving by feed), and the calendar of England and Wales "
    "with its bank holidays (the holidays package, as GOV.UK publishes them)."
)

RELEASE_MEASURES = [
    Measure(
        "checklist_complete_at_release", "Pre-release checklist complete at release",
        "Of the people released from prison in the quarter whose release had a pre-release checklist, the share "
        "with every item done, not needed or declined by the day of release.",
        RATE, _checklist_complete_at_release, higher_is_better=True, source_app="resettlement",
        requires=("resettlement.ReleaseChecklist", "resettlement.ChecklistItem"), group="Through the gate",
        definition=(
            "Everyone released from prison during the quarter (their first release in it) whose release had a "
            "pre-release checklist; of them, the share whose every checklist item (accommodation for the night "
            "of release, ID, bank account, benefit claim, GP, prescriptions and treatment, first probation "
            "appointment, travel, and any item the partnership adds) was recorded as done or not needed, or "
            "declined by the person, on or before the day of release. An item still open on the day, or only "
            "settled afterwards, makes the checklist incomplete. Releases with no checklist are left out: read "
            "the figure beside how many there were (its denominator) and the accommodation on release."
        ),
        source="Pre-release checklists kept by prisons, probation, councils, DWP and treatment services in this "
        "system.",
    ),
    Measure(
        "friday_releases", "Releases on a Friday or before a bank holiday",
        "Of the people released from prison in the quarter, the share released on a Friday or on the last day "
        "before a bank holiday, when housing, benefits and treatment services are about to shut.",
        RATE, _friday_releases, higher_is_better=False, source_app="resettlement",
        requires=("resettlement.WorkingDay",), group="Through the gate",
        definition=(
            "Everyone released from prison during the quarter (their first release in it); of them, the share "
            "released on a Friday, or on a day after which a bank holiday of England and Wales comes before the "
            "next working day (the Thursday before Good Friday, say, Christmas Eve, or the Friday before a bank "
            "holiday Monday, which counts once). Housing, benefits and treatment services are shut for the days "
            "that follow, so these releases need the most in place beforehand. The release date is a day, not "
            "a time: a release late on a Friday evening is a Friday release."
        ),
        source=RELEASE_SOURCE,
    ),
    Measure(
        "first_appointment_kept", "First appointment kept within two working days",
        "Of the people released from prison in the quarter, the share who attended their first probation "
        "appointment by the end of the second working day after release.",
        RATE, _first_appointment_kept, higher_is_better=True, maturity_months=1, source_app="resettlement",
        requires=("resettlement.WorkingDay",), group="Through the gate",
        definition=(
            "Everyone released from prison during the quarter (their first release in it); of them, the share "
            "whose first probation supervision appointment on or after the day of release (leaving aside "
            "appointments cancelled or rescheduled) was attended, and fell on the day of release or within the "
            "two working days after it. Working days leave out weekends and bank holidays of England and "
            "Wales, so a person released on a Friday before a bank holiday Monday has until the end of "
            "Wednesday. Days are UK days: an appointment at half past midnight in summer is on its own day. "
            "Missing the appointment, an acceptable absence and no appointment at all count as not kept. A "
            "release on the last day of a quarter has its working days in the next, so a quarter is final a "
            "month after it ends."
        ),
        source=RELEASE_SOURCE + " Appointments and their outcomes recorded by probation.",
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


SATISFIED = ("very_satisfied", "satisfied")
ANSWERED = ("very_satisfied", "satisfied", "neither", "dissatisfied", "very_dissatisfied")


def _checkpoint_victim_satisfaction(t):
    person = (
        "SELECT q.q_start, c.offender_id, c.agency_id, '' AS category, "
        f"CASE WHEN c.victim_satisfaction IN {t.in_list(SATISFIED)} THEN 1 ELSE 0 END AS num, 1 AS den "
        f"FROM quarters q JOIN {t.panels_checkpointcontract} c ON c.outcome_on >= q.q_start "
        f"AND c.outcome_on <= q.q_end WHERE c.victim_satisfaction IN {t.in_list(ANSWERED)}"
    )
    return "", person, None


def _panel_actions(t):
    # Open on the last day of the quarter (today for the quarter still running), by the agency that owns it.
    # An action is set at its meeting, even when the minutes that record it are typed up days later.
    person = (
        "SELECT q.q_start, a.offender_id, a.owner_agency_id AS agency_id, "
        "CASE WHEN a.due_on < q.q_asof THEN 'overdue' ELSE 'not_yet_due' END AS category, 1 AS num, 0 AS den "
        "FROM quarters q JOIN panel_actions a ON a.set_on <= q.q_asof "
        "AND (a.completed_on IS NULL OR a.completed_on > q.q_asof)"
    )
    actions = (
        "panel_actions AS (SELECT a.id, a.offender_id, a.owner_agency_id, a.due_on, a.completed_on, "
        "CASE WHEN m.held_on < a.raised_on THEN m.held_on ELSE a.raised_on END AS set_on "
        f"FROM {t.pathways_action} a JOIN {t.panels_meetingaction} ma ON ma.action_id = a.id "
        f"JOIN {t.panels_meeting} m ON m.id = ma.meeting_id), "
    )
    return actions, person, None


PANEL_MEASURES = [
    Measure(
        "checkpoint_outcomes", "Checkpoint outcomes",
        "Checkpoint contracts that ended in the quarter: completed (no prosecution), failed or reoffended.",
        MIX, _checkpoint_outcomes, categories=_pathway_choices("panels.CheckpointContract", "Outcome"),
        unit="contracts", source_app="panels", requires=("panels.CheckpointContract",), group="Checkpoint",
        headline=("completed",), headline_label="completed",
        definition=(
            "Checkpoint (deferred prosecution) contracts whose outcome was recorded during the quarter: completed "
            "(no prosecution), failed (prosecuted) or reoffended (prosecuted). The headline is the share "
            "completed. Contracts still running are not counted until they end."
        ),
        source="Checkpoint contracts recorded by the Checkpoint panel (Checkpoint model, deferred prosecution).",
    ),
    Measure(
        "checkpoint_victim_consulted", "Checkpoint victim consultation",
        "Of the Checkpoint contracts started in the quarter, the share where the victim was consulted.",
        RATE, _checkpoint_started_with("victim_consulted"), higher_is_better=True, source_app="panels",
        requires=("panels.CheckpointContract",), group="Checkpoint",
        definition="Checkpoint contracts started during the quarter; of them, the share where the victim was "
        "consulted (Checkpoint consults the victim in every case).",
        source="Checkpoint contracts recorded by the Checkpoint panel.",
    ),
    Measure(
        "checkpoint_restorative_justice", "Checkpoint restorative justice offered",
        "Of the Checkpoint contracts started in the quarter, the share where restorative justice was offered.",
        RATE, _checkpoint_started_with("restorative_justice_offered"), higher_is_better=True,
        source_app="panels", requires=("panels.CheckpointContract",), group="Checkpoint",
        definition="Checkpoint contracts started during the quarter; of them, the share where the victim was "
        "offered restorative justice.",
        source="Checkpoint contracts recorded by the Checkpoint panel.",
    ),
    Measure(
        "checkpoint_victim_satisfaction", "Checkpoint victim satisfaction",
        "Of the Checkpoint contracts that ended in the quarter whose victim gave a view, the share satisfied.",
        RATE, _checkpoint_victim_satisfaction, higher_is_better=True, source_app="panels",
        requires=("panels.CheckpointContract",), group="Checkpoint",
        definition=(
            "Checkpoint contracts whose outcome was recorded during the quarter and whose victim, asked at the end "
            "of the contract, said how satisfied they were; of them, the share satisfied or very satisfied. "
            "Victims who chose not to say or could not be reached are left out (read the figure beside how many "
            "answered: its denominator)."
        ),
        source="Checkpoint contracts recorded by the Checkpoint panel: the victim's satisfaction at the end "
        "(Checkpoint consults the victim in every case).",
    ),
    Measure(
        "panel_actions", "Open panel actions",
        "Actions set at panel meetings and still open at the end of the quarter, by whether they are overdue; "
        "broken down by agency, the agency that owns each action.",
        MIX, _panel_actions, categories=(("not_yet_due", "Not yet due"), ("overdue", "Overdue")),
        unit="actions", source_app="panels", requires=("panels.MeetingAction", "pathways.Action"),
        group="Panels", headline=("overdue",), headline_label="overdue",
        definition=(
            "Actions agreed at a panel meeting (IOM, MAPPA, Checkpoint, DIP, SGV) that were set (at the meeting, "
            "or raised in the plan if earlier) on or before the last day of the quarter and not done or cancelled "
            "by then (today, for the quarter still running), by whether they were past their due date. The "
            "headline is the share overdue; under the agency breakdown each action counts for the agency that "
            "owns it."
        ),
        source="Panel minutes and the action plans they set, recorded in this system.",
    ),
]

MEASURES = [*PATHWAY_MEASURES, *RELEASE_MEASURES, *PANEL_MEASURES]
