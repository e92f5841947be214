"""Invented partnerships with a planted truth, for the demo, the tests and the benchmark.

People are chosen for the treatment the way panels choose them: the younger and the more
prolific are more likely to be put on it, and they are also more likely to reoffend. Every
treated person's chance of reoffending is then moved by `effect` (-0.10: ten percentage points
lower). A raw comparison of the groups is biased by the selection; a matched one on age and
history should find the planted effect.
"""

import datetime
import math

import numpy as np

from cases.models import Cohort, CohortMembership, Offence, Offender

FIRST_NAMES = ["Alex", "Sam", "Jamie", "Chris", "Jordan", "Taylor", "Morgan", "Casey", "Riley", "Drew"]
LAST_NAMES = ["Ashby", "Brook", "Carter", "Dale", "Ellis", "Fenwick", "Garner", "Hale", "Irving", "Jolley"]
PRIOR_GROUPS = [Offence.Group.THEFT, Offence.Group.VIOLENCE, Offence.Group.DRUGS, Offence.Group.PUBLIC_ORDER,
                Offence.Group.CRIMINAL_DAMAGE]


def _sigmoid(x):
    return 1 / (1 + math.exp(-x))


def baseline_risk(age, prior):
    """Chance of proven reoffending within a year without the treatment: from 15% to 75%."""
    return 0.15 + 0.6 * _sigmoid(-0.04 * (age - 35) + 0.45 * (prior - 2))


def selection_chance(age, prior, selective=True):
    if not selective:
        return 0.12
    return _sigmoid(-2.4 - 0.05 * (age - 35) + 0.35 * (prior - 2))


def plant(*, people, start, end, effect, areas, agency, seed, cohort=Cohort.CHECKPOINT, selective=True):
    """Create `people` invented people with index dates in [start, end]; returns the ids of the treated ones.

    The treated start `cohort` on their date (and complete it four months later); everyone else
    is cautioned on theirs, which puts them in the national reoffending cohort and so in the pool
    of possible comparisons.
    """
    rng = np.random.default_rng(seed)
    # Drawn apart from `rng`, so the planted people and their history stay as they were for a seed.
    flags = np.random.default_rng(seed + 1)
    days = (end - start).days
    plan = []
    for _ in range(people):
        index_on = start + datetime.timedelta(days=int(rng.integers(0, days + 1)))
        age = float(rng.uniform(18, 60))
        prior = int(rng.poisson(rng.uniform(0.3, 4)))
        treated = bool(rng.random() < selection_chance(age, prior, selective))
        chance = baseline_risk(age, prior) + (effect if treated else 0.0)
        reoffends = bool(rng.random() < min(max(chance, 0.0), 1.0))
        plan.append((index_on, age, prior, treated, reoffends))

    offenders = Offender.objects.bulk_create([
        Offender(
            first_names=FIRST_NAMES[i % len(FIRST_NAMES)], last_name=LAST_NAMES[(i * 7 + seed) % len(LAST_NAMES)],
            date_of_birth=index_on - datetime.timedelta(days=int(age * 365.25)),
            gender=Offender.Gender.MALE if rng.random() < 0.8 else Offender.Gender.FEMALE,
            ethnicity=rng.choice(Offender.Ethnicity.values), area=areas[i % len(areas)], lead_agency=agency,
        )
        for i, (index_on, age, _, _, _) in enumerate(plan)
    ])
    offences, memberships, treated_ids = [], [], []
    for person, (index_on, _, prior, treated, reoffends) in zip(offenders, plan, strict=True):
        for _ in range(prior):
            committed = index_on - datetime.timedelta(days=int(rng.integers(90, 1800)))
            offences.append(Offence(
                offender=person, committed_on=committed, offence_group=rng.choice(PRIOR_GROUPS),
                outcome=Offence.Outcome.CONVICTION if rng.random() < 0.6 else Offence.Outcome.CAUTION,
                outcome_on=committed + datetime.timedelta(days=int(rng.integers(10, 60))),
            ))
        if treated:
            treated_ids.append(person.pk)
            memberships.append(CohortMembership(
                offender=person, cohort=cohort, started_on=index_on,
                ended_on=index_on + datetime.timedelta(days=120), exit_reason=CohortMembership.ExitReason.COMPLETED,
            ))
        else:
            committed = index_on - datetime.timedelta(days=int(rng.integers(3, 30)))
            offences.append(Offence(
                offender=person, committed_on=committed, offence_group=rng.choice(PRIOR_GROUPS),
                outcome=Offence.Outcome.CAUTION, outcome_on=index_on,
            ))
        if reoffends:
            for _ in range(1 + int(rng.poisson(0.6))):
                committed = index_on + datetime.timedelta(days=int(rng.integers(1, 330)))
                group = rng.choice(PRIOR_GROUPS)
                # About half of reoffending is drug- or alcohol-related, as partnerships report.
                offences.append(Offence(
                    offender=person, committed_on=committed, offence_group=group,
                    outcome=Offence.Outcome.CONVICTION,
                    outcome_on=committed + datetime.timedelta(days=int(rng.integers(5, 150))),
                    drug_related=bool(group == Offence.Group.DRUGS or flags.random() < 0.25),
                    alcohol_related=bool(flags.random() < 0.3),
                ))
        # Offences that never count: one still unproven, one after the follow-up year.
        if rng.random() < 0.2:
            committed = index_on + datetime.timedelta(days=int(rng.integers(1, 300)))
            offences.append(Offence(offender=person, committed_on=committed, offence_group=rng.choice(PRIOR_GROUPS),
                                    outcome=Offence.Outcome.NO_FURTHER_ACTION, outcome_on=committed))
        if rng.random() < 0.2:
            committed = index_on + datetime.timedelta(days=int(rng.integers(380, 500)))
            offences.append(Offence(offender=person, committed_on=committed, offence_group=rng.choice(PRIOR_GROUPS),
                                    outcome=Offence.Outcome.CONVICTION, outcome_on=committed))
    Offence.objects.bulk_create(offences, batch_size=2000)
    CohortMembership.objects.bulk_create(memberships, batch_size=2000)
    return treated_ids
