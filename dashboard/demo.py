"""Demonstration figures: invented offences and enforcement for the demo people, then a roll-up.

Called by `manage.py seed_demo` after the case record (and the apps between) are seeded.
Offences and enforcement actions are only invented when the demo has none, so that
the reoffending and enforcement measures have something to show.
"""

import datetime

from cases.models import Agency, EnforcementAction, Offence

from .models import RollupRun
from .rollup import run_rollup


def _offences(context, rng):
    today = context["today"]
    offences = []
    groups = Offence.Group.values
    for person in context["people"]:
        if rng.random() > 0.45:
            continue
        for _ in range(rng.choice([1, 1, 2, 3])):
            committed = today - datetime.timedelta(days=rng.randint(20, 1000))
            outcome = rng.choices(
                [Offence.Outcome.CONVICTION, Offence.Outcome.CAUTION, Offence.Outcome.NO_FURTHER_ACTION,
                 Offence.Outcome.OUT_OF_COURT, Offence.Outcome.PENDING],
                [45, 15, 20, 10, 10],
            )[0]
            outcome_on = None
            if outcome != Offence.Outcome.PENDING:
                outcome_on = min(today, committed + datetime.timedelta(days=rng.randint(1, 300)))
            offences.append(Offence(
                offender=person, committed_on=committed, offence_group=rng.choice(groups), outcome=outcome,
                outcome_on=outcome_on, recorded_by_agency=context["agencies"][Agency.Kind.POLICE],
            ))
    Offence.objects.bulk_create(offences)


def _enforcement(context, rng):
    today = context["today"]
    agencies = [context["agencies"][Agency.Kind.PROBATION], context["agencies"][Agency.Kind.POLICE]]
    actions = []
    for person in context["people"]:
        if rng.random() > 0.3:
            continue
        for _ in range(rng.randint(1, 3)):
            actions.append(EnforcementAction(
                offender=person, kind=rng.choice(EnforcementAction.Kind.values), agency=rng.choice(agencies),
                taken_on=today - datetime.timedelta(days=rng.randint(1, 900)),
            ))
    EnforcementAction.objects.bulk_create(actions)


def seed(context, rng):
    """Invent offences and enforcement if there are none, and calculate every measure now."""
    if context.get("people") and not Offence.objects.exists():
        _offences(context, rng)
    if context.get("people") and not EnforcementAction.objects.exists():
        _enforcement(context, rng)
    run_rollup(RollupRun.objects.create())
