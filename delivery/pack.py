"""The board pack for a quarter: the delivery plan's progress beside the performance measures.

Two queries for the plan (objectives with actions, and the updates up to the quarter) and
one for the measures, which are read from the dashboard's roll-ups like the board report.
"""

from dataclasses import dataclass, field

from django.db.models import Prefetch

from dashboard.figures import load_figures
from dashboard.measures import all_measures
from dashboard.models import Dimension

from .models import Objective, PlanAction, Progress, ProgressUpdate

NO_UPDATE = "none"


@dataclass
class ActionProgress:
    action: PlanAction
    update: ProgressUpdate | None  # this quarter's
    previous: ProgressUpdate | None  # the latest before it, for the "was" column

    @property
    def rag(self):
        return self.update.rag if self.update else NO_UPDATE


@dataclass
class BoardPack:
    quarter: object
    objectives: list = field(default_factory=list)  # (objective, [ActionProgress])
    counts: dict = field(default_factory=dict)

    @property
    def rows(self):
        return [row for _, rows in self.objectives for row in rows]


def plan_progress(quarter):
    """Every action of the plan with its update for `quarter` and the one before."""
    updates = ProgressUpdate.objects.filter(quarter_start__lte=quarter.start).select_related("recorded_by")
    objectives = Objective.objects.prefetch_related(
        Prefetch("actions", queryset=PlanAction.objects.select_related("lead_agency").prefetch_related(
            Prefetch("updates", queryset=updates.order_by("-quarter_start"), to_attr="known_updates"))),
    )
    pack = BoardPack(quarter=quarter)
    for objective in objectives:
        rows = []
        for action in objective.actions.all():
            current = next((u for u in action.known_updates if u.quarter_start == quarter.start), None)
            earlier = next((u for u in action.known_updates if u.quarter_start < quarter.start), None)
            rows.append(ActionProgress(action=action, update=current, previous=earlier))
        pack.objectives.append((objective, rows))
    pack.counts = dict.fromkeys([*Progress.values, NO_UPDATE], 0)
    for row in pack.rows:
        pack.counts[row.rag] += 1
    return pack


def measure_groups(quarter):
    """The dashboard's headline figures for the quarter, grouped as the board report shows them."""
    groups = []
    for figures in load_figures(all_measures(), quarter, Dimension.ALL, ""):
        group = figures.measure.group
        if not groups or groups[-1][0] != group:
            groups.append((group, []))
        groups[-1][1].append({"figures": figures})
    return groups
