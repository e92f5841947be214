"""Demo data: a Checkpoint cohort of a year whose follow-up is over, chosen as panels choose, with a planted effect.

Checkpoint participants in the demo are younger and more prolific than other cautioned adults, and
Checkpoint lowers their chance of reoffending by ten points, so an evaluation set up in the demo
shows a raw comparison that misleads and a matched one that finds the effect.
"""

import datetime

from cases.models import Agency, Cohort, CohortMembership

from .planted import plant
from .population import latest_complete_period_end

PLANTED_EFFECT = -0.10


def demo_period(today=None):
    """The last financial year whose follow-up and waiting period are over."""
    latest = latest_complete_period_end(today)
    year = latest.year if latest >= datetime.date(latest.year, 3, 31) else latest.year - 1
    end = datetime.date(year, 3, 31)
    return datetime.date(year - 1, 4, 1), end


def seed(context, rng):
    start, end = demo_period(context.get("today"))
    if CohortMembership.objects.filter(cohort=Cohort.CHECKPOINT, started_on__range=(start, end)).count() >= 60:
        return
    people = max(6 * len(context.get("people") or []), 200)
    plant(
        people=people, start=start, end=end, effect=PLANTED_EFFECT, areas=list(context["areas"].values()),
        agency=context["agencies"][Agency.Kind.POLICE], seed=rng.randrange(1, 2**31),
    )
