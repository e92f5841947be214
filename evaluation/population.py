"""The people an evaluation compares, described as the matching needs them, from the case record.

The treatment group is everyone who started or completed the chosen cohort, or was first referred
to or first seen by the chosen service, in the period; each counts once, from their first such date. The pool of
possible comparisons is everyone with a qualifying event of the national reoffending measure in
the same period (a release from custody, a court order starting, a caution) who was never in
the treatment: never on that cohort, never referred to that service. Each is followed from their
first qualifying event in the period.

Every person is followed as the national statistic follows them (`dashboard.measures`):
offences committed in the 12 months after the date, proven by a conviction or caution within
those 12 months and a further 6 months. History is what was known the day before: offences
committed and proven before the date.
"""

import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.utils import timezone

from cases.models import CohortMembership, Offence, Offender, Supervision
from dashboard.measures import COURT_ORDERS, FOLLOW_UP_MONTHS, WAITING_MONTHS
from dashboard.periods import Quarter, add_months

from .matching import Feature
from .menu import CATEGORY, SERVICE_TREATMENTS, VARIABLE_KINDS, VARIABLE_LABELS, YEARS_SINCE_CAP, Treatment

CHUNK = 5000
NO_PREVIOUS = "No previous proven offence"


def follow_up_ends(day):
    """The last day on which an offence committed after `day` can still be proven and counted."""
    return add_months(day, FOLLOW_UP_MONTHS + WAITING_MONTHS)


@dataclass
class Population:
    offender_ids: np.ndarray  # the treatment group first, then the pool
    index_dates: list
    treated_count: int
    raw: dict = field(default_factory=dict)  # variable -> list of values (None where not recorded)
    reoffences: np.ndarray = None

    @property
    def pool_count(self):
        return len(self.offender_ids) - self.treated_count

    def fingerprint(self, variables):
        """A digest of everyone compared and everything known about them: a re-run on the same record matches it."""
        digest = hashlib.sha256()
        for position, offender_id in enumerate(self.offender_ids):
            values = [str(self.raw[name][position]) for name in variables]
            digest.update(
                f"{int(offender_id)}|{self.index_dates[position]}|{int(self.reoffences[position])}|"
                f"{'|'.join(values)}\n".encode()
            )
        return digest.hexdigest()


def _first_dates(pairs):
    first = {}
    for offender_id, day in pairs:
        if day is not None and (offender_id not in first or day < first[offender_id]):
            first[offender_id] = day
    return first


def treatment_group(evaluation):
    """{person id: date of treatment} for the evaluation's treatment, and the ids never to use as comparisons."""
    start, end = evaluation.period_start, evaluation.period_end
    if evaluation.treatment in SERVICE_TREATMENTS:
        from pathways.models import Referral

        referrals = Referral.objects.filter(service_id=evaluation.service_id)
        moment = "referred_at" if evaluation.treatment == Treatment.REFERRED else "first_contact_at"
        in_period = (
            (offender_id, timezone.localdate(at))
            for offender_id, at in referrals.filter(**{f"{moment}__isnull": False}).values_list("offender_id", moment)
        )
        treated = {pid: day for pid, day in _first_dates(in_period).items() if start <= day <= end}
        ever = set(referrals.values_list("offender_id", flat=True))
        return treated, ever
    memberships = CohortMembership.objects.filter(cohort=evaluation.cohort)
    if evaluation.treatment == Treatment.COHORT_STARTED:
        dated = memberships.filter(started_on__range=(start, end)).values_list("offender_id", "started_on")
    else:
        dated = memberships.filter(
            ended_on__range=(start, end), exit_reason=CohortMembership.ExitReason.COMPLETED
        ).values_list("offender_id", "ended_on")
    return _first_dates(dated), set(memberships.values_list("offender_id", flat=True))


def qualifying_events(start, end):
    """{person id: first qualifying event of the national reoffending cohort in the period}."""
    released = Supervision.objects.filter(released_on__range=(start, end)).values_list("offender_id", "released_on")
    ordered = Supervision.objects.filter(kind__in=COURT_ORDERS, started_on__range=(start, end)).values_list(
        "offender_id", "started_on"
    )
    cautioned = Offence.objects.filter(outcome=Offence.Outcome.CAUTION, outcome_on__range=(start, end)).values_list(
        "offender_id", "outcome_on"
    )
    return _first_dates([*released, *ordered, *cautioned])


def _chunks(ids):
    ids = list(ids)
    for position in range(0, len(ids), CHUNK):
        yield ids[position:position + CHUNK]


def build(evaluation, variables=None):
    """The evaluation's population: who, from when, what was known about them, and how often they reoffended."""
    variables = list(variables if variables is not None else evaluation.variables)
    treated, ever_treated = treatment_group(evaluation)
    pool = {
        pid: day for pid, day in qualifying_events(evaluation.period_start, evaluation.period_end).items()
        if pid not in ever_treated
    }
    ordered = sorted(treated.items()) + sorted(pool.items())
    ids = [pid for pid, _ in ordered]
    index = dict(ordered)

    people = {}
    offences = defaultdict(list)
    scores = defaultdict(list)
    wants_scores = "risk_score" in variables
    for chunk in _chunks(ids):
        for row in Offender.objects.filter(pk__in=chunk).values_list(
            "pk", "date_of_birth", "gender", "ethnicity", "area__name"
        ):
            people[row[0]] = row
        for row in Offence.objects.filter(offender_id__in=chunk, outcome__in=Offence.PROVEN_OUTCOMES).values_list(
            "offender_id", "committed_on", "outcome", "outcome_on", "offence_group"
        ):
            offences[row[0]].append(row[1:])
        if wants_scores:
            from risk.models import RiskScore

            for offender_id, assessed_on, score in RiskScore.objects.filter(
                offender_id__in=chunk, kind=RiskScore.Kind.OGRS_2, score__isnull=False
            ).values_list("offender_id", "assessed_on", "score"):
                scores[offender_id].append((assessed_on, float(score)))

    genders = dict(Offender.Gender.choices)
    ethnicities = dict(Offender.Ethnicity.choices)
    groups = dict(Offence.Group.choices)
    raw = {name: [] for name in variables}
    reoffences = []
    for pid in ids:
        day = index[pid]
        _, born, gender, ethnicity, area = people[pid]
        follow_up_end = add_months(day, FOLLOW_UP_MONTHS)
        proven_by = follow_up_ends(day)
        previous = []
        count = 0
        for committed_on, outcome, outcome_on, group in offences[pid]:
            # Known before the day: the offence that led to the day's own caution or order is not "previous".
            if committed_on < day and outcome_on is not None and outcome_on < day:
                previous.append((committed_on, outcome, group))
            elif day < committed_on <= follow_up_end and outcome_on is not None and outcome_on <= proven_by:
                count += 1
        reoffences.append(count)
        latest = max(previous, default=None)
        facts = {
            "age": (day - born).days / 365.25,
            "gender": genders.get(gender, gender),
            "ethnicity": ethnicities.get(ethnicity, ethnicity),
            "previous_offences": float(len(previous)),
            "previous_convictions": float(sum(outcome == Offence.Outcome.CONVICTION for _, outcome, _ in previous)),
            "years_since_last": (
                min((day - latest[0]).days / 365.25, YEARS_SINCE_CAP) if latest else YEARS_SINCE_CAP
            ),
            "offence_group": groups.get(latest[2], latest[2]) if latest else NO_PREVIOUS,
            "area": area,
            "quarter": Quarter.containing(day).label,
        }
        if wants_scores:
            known = [score for assessed_on, score in sorted(scores[pid]) if assessed_on <= day]
            facts["risk_score"] = known[-1] if known else None
        for name in variables:
            raw[name].append(facts[name])
    return Population(
        offender_ids=np.array(ids, dtype=np.int64), index_dates=[index[pid] for pid in ids],
        treated_count=len(treated), raw=raw, reoffences=np.array(reoffences, dtype=np.int64),
    )


def features(population, variables):
    """The model's columns: numbers as they are, each category as an indicator, and unrecorded numbers flagged."""
    columns = []
    for name in variables:
        values = population.raw[name]
        label = VARIABLE_LABELS[name]
        if VARIABLE_KINDS[name] == CATEGORY:
            for level in sorted({value for value in values if value is not None}):
                indicator = np.array([value == level for value in values], dtype=float)
                columns.append(Feature(name, f"{label}: {level}", indicator, binary=True))
            continue
        numbers = np.array([np.nan if value is None else float(value) for value in values], dtype=float)
        missing = np.isnan(numbers)
        if missing.all():
            continue
        if missing.any():
            numbers = np.where(missing, np.nanmean(numbers), numbers)
            columns.append(Feature(name, label, numbers, binary=False))
            columns.append(Feature(name, f"{label} not recorded", missing.astype(float), binary=True))
        else:
            columns.append(Feature(name, label, numbers, binary=False))
    return columns


def latest_complete_period_end(today=None):
    """The last day a period may end on for everyone in it to have finished the follow-up and waiting period."""
    today = today or timezone.localdate()
    day = add_months(today, -(FOLLOW_UP_MONTHS + WAITING_MONTHS))
    while follow_up_ends(day) >= today:
        day -= datetime.timedelta(days=1)
    return day
