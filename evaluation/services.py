"""Setting up, running and reading evaluations.

Who may do what: analysts and agency administrators (and system administrators) set up and
read evaluations, which are figures about groups; the person-level list behind them is only for
roles that see people, and shows only the people the user's agency may see.
"""

import platform
import random
from importlib import metadata

import numpy as np
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cases.audit import log_many
from cases.models import AccessLogEntry, Offender, Role
from dashboard import disclosure

from . import matching, population
from .menu import SERVICE_TREATMENTS, VARIABLE_LABELS
from .models import Evaluation, EvaluationMember

RUNNING_ROLES = frozenset({Role.ANALYST, Role.AGENCY_ADMIN})
LIBRARIES = ("numpy", "scipy", "scikit-learn")


def min_group_size():
    """The national Justice Data Lab asks for at least 60 people in the treatment group."""
    return int(getattr(settings, "EVALUATION_MIN_GROUP_SIZE", 60))


def can_run(user):
    return bool(user.is_active and (user.is_superuser or user.role in RUNNING_ROLES))


def can_list_people(user):
    return can_run(user) and user.sees_people


def _check_can_run(user):
    if not can_run(user):
        raise PermissionDenied("Only analysts and agency administrators can set up and read evaluations.")


def create_evaluation(*, user, name, treatment, period_start, period_end, variables, with_replacement,
                      cohort="", service=None, seed=None):
    """Store an evaluation's inputs and queue it; refuses other roles, unknown variables and unfinished follow-up.

    The run happens in a Celery worker after the commit (at once in the demo and the tests).
    """
    from .tasks import run_evaluation

    _check_can_run(user)
    unknown = [name for name in variables if name not in VARIABLE_LABELS]
    if unknown or not variables:
        raise ValidationError({"variables": "Choose at least one matching variable from the list."})
    latest = population.latest_complete_period_end()
    if period_end > latest:
        raise ValidationError({"period_end": (
            f"The period must end by {latest:%-d %B %Y}: people treated after that are still within the "
            "12-month follow-up or the 6 months allowed for their offences to be proven."
        )})
    if treatment in SERVICE_TREATMENTS:
        cohort = ""
    else:
        service = None
    evaluation = Evaluation(
        name=name, treatment=treatment, cohort=cohort, service=service, period_start=period_start,
        period_end=period_end, variables=list(variables), with_replacement=with_replacement,
        seed=seed if seed is not None else random.SystemRandom().randrange(1, 2**31), created_by=user,
    )
    evaluation.full_clean()
    evaluation.save()
    transaction.on_commit(lambda: run_evaluation.delay(evaluation.pk))
    return evaluation


def visible_evaluations(user):
    if not can_run(user):
        return Evaluation.objects.none()
    return Evaluation.objects.select_related("service", "created_by")


def _progress(evaluation, percent, stage):
    Evaluation.objects.filter(pk=evaluation.pk).update(progress=percent, stage=stage)


def _versions():
    return {"python": platform.python_version(), **{name: metadata.version(name) for name in LIBRARIES}}


def _people(count):
    """A count for a sentence, hidden when small enough to point at someone."""
    return "fewer than 5" if disclosure.is_small(count) else f"{count:,}"


def perform(evaluation):
    """Run a queued evaluation: find the groups, match, check balance, compare reoffending, store the result.

    All-or-nothing: the result, the refusal or the failure is written with the members in one transaction.
    """
    Evaluation.objects.filter(pk=evaluation.pk).update(
        status=Evaluation.Status.RUNNING, started_at=timezone.now(), progress=5, stage="Finding the groups"
    )
    variables = list(evaluation.variables)
    people = population.build(evaluation, variables)
    provenance = {
        "versions": _versions(), "seed": evaluation.seed, "caliper_sd": matching.CALIPER_SD,
        "with_replacement": evaluation.with_replacement, "variables": variables,
        "population": people.fingerprint(variables), "treated": people.treated_count, "pool": people.pool_count,
    }
    minimum = min_group_size()
    if people.treated_count < minimum:
        return _finish(evaluation, provenance, refusal=(
            f"The treatment group has {_people(people.treated_count)} people. An evaluation needs at least "
            f"{minimum}: with fewer, chance alone could explain any difference, and the people in it could be "
            "identified."
        ))
    if people.pool_count < minimum:
        return _finish(evaluation, provenance, refusal=(
            f"Only {_people(people.pool_count)} people had a release, court order or caution in the period without "
            f"the treatment. At least {minimum} are needed to find a comparison group."
        ))
    _progress(evaluation, 40, "Matching people")
    columns = population.features(people, variables)
    matched = matching.match(columns, people.treated_count, with_replacement=evaluation.with_replacement,
                             seed=evaluation.seed)
    provenance["caliper"] = matched.caliper
    _progress(evaluation, 70, "Checking balance and comparing reoffending")
    if len(matched.treated) < minimum:
        return _finish(evaluation, provenance, refusal=(
            f"Only {_people(len(matched.treated))} of the {people.treated_count:,} people in the treatment group "
            f"found a similar person who was not treated. At least {minimum} matched people are needed to report."
        ))
    result = summarise(evaluation, people, columns, matched)
    return _finish(evaluation, provenance, result=result, members=_members(evaluation, people, matched))


def summarise(evaluation, people, columns, matched):
    """The figures shown for an evaluation, with disclosure control applied (see `protect`)."""
    treated_count = people.treated_count
    outcomes_t = people.reoffences[:treated_count]
    outcomes_p = people.reoffences[treated_count:]
    weights = matched.weights
    in_comparison = weights > 0
    reoffended_t = (outcomes_t[matched.treated] > 0).astype(float)
    reoffended_c = (outcomes_p[in_comparison] > 0).astype(float)
    rate = matching.compare(reoffended_t, reoffended_c, weights[in_comparison])
    frequency = matching.compare(outcomes_t[matched.treated], outcomes_p[in_comparison], weights[in_comparison])
    raw_rate = matching.compare((outcomes_t > 0).astype(float), (outcomes_p > 0).astype(float))
    rows = matching.balance(columns, treated_count, matched)
    matched_count = len(matched.treated)
    result = {
        "treated": treated_count,
        "pool": people.pool_count,
        "matched": matched_count,
        "unmatched": treated_count - matched_count,
        "comparison_people": int(in_comparison.sum()),
        "reoffenders": {"treated": int(reoffended_t.sum()), "comparison": int(reoffended_c.sum())},
        "rate": _comparison(rate),
        "frequency": _comparison(frequency),
        "raw_rate": _comparison(raw_rate),
        "balance": [_balance_row(row) for row in rows],
    }
    protect(result)
    result["verdict"] = verdict(evaluation, result)
    result["caveats"] = caveats(evaluation, result)
    return result


def _comparison(comparison):
    return {
        "treated": comparison.treated_mean, "comparison": comparison.comparison_mean,
        "difference": comparison.difference, "low": comparison.low, "high": comparison.high,
        "significant": comparison.significant,
    }


def _balance_row(row):
    return {
        "variable": row.variable, "label": row.label, "binary": row.binary,
        "treated_before": row.treated_before, "pool_before": row.pool_before, "smd_before": row.smd_before,
        "treated_after": row.treated_after, "comparison_after": row.comparison_after, "smd_after": row.smd_after,
        "balanced": row.balanced, "counts": row.counts, "hidden": False,
    }


def protect(result):
    """The dashboard's disclosure rules, applied to an evaluation's figures.

    A group's outcome is hidden when fewer than 5 people (and more than none) in it reoffended or
    did not reoffend: a rate of "2 of 64" points at two people. A balance row of a characteristic
    held by a few people (or by all but a few) in any group is hidden, and when only one level of
    a variable is hidden the next smallest is hidden with it, so it cannot be found by subtracting
    the others from the whole. People counts are stored so that a hidden row's SMD is not shown either.
    """
    groups = {
        "treated": (result["reoffenders"]["treated"], result["matched"]),
        "comparison": (result["reoffenders"]["comparison"], result["comparison_people"]),
    }
    result["outcome_hidden"] = any(
        disclosure.is_small(reoffenders) or disclosure.is_small(size - reoffenders)
        for reoffenders, size in groups.values()
    )
    sizes = {
        "treated_before": result["treated"], "pool_before": result["pool"],
        "treated_after": result["matched"], "comparison_after": result["matched"],
    }

    def small(row):
        return any(
            disclosure.is_small(count) or disclosure.is_small(sizes[column] - count)
            for column, count in row["counts"].items()
        )

    by_variable = {}
    for row in result["balance"]:
        row["hidden"] = row["binary"] and small(row)
        if row["binary"]:
            by_variable.setdefault(row["variable"], []).append(row)
    for rows in by_variable.values():
        hidden = [row for row in rows if row["hidden"]]
        shown = [row for row in rows if not row["hidden"]]
        if len(hidden) == 1 and shown and len(rows) > 2:
            min(shown, key=lambda row: row["counts"]["treated_after"])["hidden"] = True
        elif len(hidden) == 1 and len(rows) == 2:
            shown[0]["hidden"] = True
    for row in result["balance"]:
        row.pop("counts")
        if row["hidden"]:
            for key in ("treated_before", "pool_before", "smd_before", "treated_after", "comparison_after",
                        "smd_after"):
                row[key] = None
    if result["outcome_hidden"]:
        for key in ("rate", "frequency"):
            result[key] = None
        result["reoffenders"] = None


def _points(value):
    return f"{abs(value) * 100:.1f}"


def verdict(evaluation, result):
    """What the figures say, in plain English, never more than the interval allows."""
    if result["outcome_hidden"]:
        return (
            "The result cannot be shown: in one of the groups fewer than 5 people reoffended, or fewer than 5 did "
            "not, and showing it could identify them."
        )
    rate = result["rate"]
    treated, comparison = rate["treated"] * 100, rate["comparison"] * 100
    figures = (
        f"Of the matched people in the treatment group, {treated:.1f}% reoffended within a year, against "
        f"{comparison:.1f}% of similar people who were not treated."
    )
    interval = (
        f"Allowing for chance, the true difference is likely to lie between {_signed(rate['low'])} and "
        f"{_signed(rate['high'])} percentage points."
    )
    if not rate["significant"]:
        return (
            f"No significant difference found. {figures} {interval} Because that range includes no difference at "
            "all, this evaluation cannot say whether the treatment changed reoffending: that is not the same as "
            "showing that it had no effect."
        )
    direction = "lower" if rate["difference"] < 0 else "higher"
    return (
        f"Reoffending was significantly {direction} in the treatment group. {figures} {interval} This suggests "
        f"the treatment {'reduced' if direction == 'lower' else 'did not reduce, and may have increased,'} "
        "reoffending for people like those matched, as far as the matching variables can tell."
    )


def _signed(value):
    points = value * 100
    return f"{'-' if points < 0 else '+'}{abs(points):.1f}"


def caveats(evaluation, result):
    notes = [
        "People were matched only on the variables chosen. They may still differ in ways the record does not show "
        "(motivation, support from family, why they were chosen for the treatment), and such differences can "
        "explain some or all of the result."
    ]
    unbalanced = [row["label"] for row in result["balance"]
                  if not row["hidden"] and row["smd_after"] is not None and abs(row["smd_after"]) >= 0.1]
    if unbalanced:
        notes.append(
            "After matching the groups still differ on " + ", ".join(unbalanced) + " (a standardised difference "
            "of 0.1 or more), so the comparison is less reliable."
        )
    if result["unmatched"]:
        notes.append(
            f"{_people(result['unmatched']).capitalize()} people in the treatment group found no similar person "
            "and are left out: the result describes the people who were matched, not everyone treated."
        )
    if result["matched"] < 2 * min_group_size():
        notes.append("The groups are small, so the range of likely differences is wide.")
    if evaluation.with_replacement:
        notes.append("Some people in the comparison group are the match of more than one treated person, and count "
                     "once for each.")
    notes.append(
        "The raw comparison, before matching, is shown only to show how different the groups were to start with; "
        "it is not a measure of the treatment's effect."
    )
    return notes


def _members(evaluation, people, matched):
    treated_count = people.treated_count
    is_matched = np.zeros(treated_count, dtype=bool)
    is_matched[matched.treated] = True
    weights = matched.weights
    members = [
        EvaluationMember(
            evaluation=evaluation, offender_id=int(people.offender_ids[i]), group=EvaluationMember.Group.TREATED,
            index_on=people.index_dates[i], matched=bool(is_matched[i]), times_matched=int(is_matched[i]),
            reoffences=int(people.reoffences[i]),
        )
        for i in range(treated_count)
    ]
    for j in np.flatnonzero(weights > 0):
        position = treated_count + int(j)
        members.append(EvaluationMember(
            evaluation=evaluation, offender_id=int(people.offender_ids[position]),
            group=EvaluationMember.Group.COMPARISON, index_on=people.index_dates[position], matched=True,
            times_matched=int(weights[j]), reoffences=int(people.reoffences[position]),
        ))
    return members


def _finish(evaluation, provenance, *, result=None, refusal="", members=()):
    with transaction.atomic():
        EvaluationMember.objects.filter(evaluation=evaluation).delete()
        EvaluationMember.objects.bulk_create(members, batch_size=2000)
        Evaluation.objects.filter(pk=evaluation.pk).update(
            status=Evaluation.Status.REFUSED if refusal else Evaluation.Status.DONE,
            refusal=refusal, result=result or {}, provenance=provenance, progress=100, stage="",
            finished_at=timezone.now(),
        )
    evaluation.refresh_from_db()
    return evaluation


def fail(evaluation_id, message):
    Evaluation.objects.filter(pk=evaluation_id).update(
        status=Evaluation.Status.FAILED, refusal=message[:500], finished_at=timezone.now(), stage=""
    )


def people_in(*, user, evaluation):
    """The members of an evaluation whose case the user's agency may see; refuses roles that see numbers only.

    The download is logged as a disclosure of each person in it.
    """
    if not can_list_people(user):
        raise PermissionDenied("Your role gives access to figures only, not to the people behind them.")
    visible = Offender.objects.visible_to(user).values("pk")
    members = list(
        EvaluationMember.objects.filter(evaluation=evaluation, offender__in=visible)
        .select_related("offender").order_by("group", "offender__last_name", "offender__first_names", "pk")
    )
    if members:
        log_many(user, AccessLogEntry.Action.EXPORT, [member.offender for member in members],
                 detail=f"Evaluation people list: {evaluation.name}")
    return members
