"""An attacker with an analyst's sign-in tries to work out every hidden figure from everything published.

It fetches every measure for every slice (whole partnership, each area, agency, cohort, gender,
age band, ethnicity and priority group) through the API (eight quarters a call), and every
breakdown and trend table as CSV, then, quarter by quarter, writes down everything it knows
between the figures:

- each published count, and each numerator implied by a published rate or ratio and its
  denominator, or by a published share and its total;
- the areas, agencies, genders, age bands and ethnicities of a figure add up to the whole;
- the categories of a mix add up to its total;
- the reoffending measures count the same cohort: the cohort, its reoffenders, their reoffences;
- no count is negative, a numerator is at most its denominator, a cohort or priority group at
  most the whole.

For every hidden figure it then solves the linear programme twice (least and greatest value
consistent with all of that, with scipy's HiGHS). The test fails if any hidden figure is pinned
to one whole number, or if any published figure differs from the roll-up.
"""

import csv
import io
import math
from collections import defaultdict

import numpy as np
import pytest
from django.urls import reverse
from django.utils import timezone
from scipy.optimize import linprog

from dashboard.definition import COUNT, MIX, RATE, RATIO
from dashboard.figures import default_quarter, slice_options, trend_quarters
from dashboard.measures import all_measures
from dashboard.models import Dimension, RollupValue
from dashboard.rollup import run_rollup
from synthetic import Plan
from synthetic.management.commands.generate_partnership import generate

PARTITIONS = ["area", "agency", "gender", "age_band", "ethnicity"]
OVERLAPPING = ["cohort", "group"]
QUARTERS_ATTACKED = 4
RANDOM = np.random.default_rng(2026)

# What the attacker reads in the published definitions: these parts count the same people.
SHARED = {
    ("proven_reoffending", "num"): "reoffenders", ("proven_reoffending", "den"): "cohort",
    ("reoffences_per_offender", "num"): "reoffences", ("reoffences_per_offender", "den"): "cohort",
    ("reoffences_per_reoffender", "num"): "reoffences", ("reoffences_per_reoffender", "den"): "reoffenders",
    ("drug_alcohol_reoffending", "num"): "drug_alcohol_reoffenders", ("drug_alcohol_reoffending", "den"): "cohort",
}
AT_MOST = [("reoffenders", "cohort"), ("drug_alcohol_reoffenders", "reoffenders"), ("reoffenders", "reoffences")]


def quantity(measure, part):
    return SHARED.get((measure, part), f"{measure}.{part}")


def family(measure):
    return "reoffending" if (measure, "den") in SHARED else measure


class Knowledge:
    """Everything the attacker has learnt about one quarter of one family of measures."""

    def __init__(self):
        self.known = {}  # cell -> value
        self.hidden = set()
        self.ranges = []  # (cells, low, high): the sum of the cells lies between low and high
        self.at_most = set()  # (smaller cell, larger cell)
        self.mixes = set()  # (slice, category quantities, total quantity)

    def learn(self, cell, value, where):
        if value is None:
            self.hidden.add(cell)
            return
        previous = self.known.setdefault(cell, value)
        assert abs(previous - value) < 1e-9, f"{cell} published as {previous} and as {value} ({where})"


def cell_value(cell):
    return None if cell["hidden"] else cell["value"]


@pytest.fixture
def published(db, partnership, client_for, api_for):
    """Generate a small partnership with five years of history, roll it up, and fetch everything published."""
    generate(Plan.build(seed=11, scale=0.001, as_of=timezone.localdate()))
    run_rollup(quarters=trend_quarters(default_quarter(), 6))
    api = api_for(partnership.analyst)
    options = slice_options()
    slices = [("all", "")] + [(d.value, key) for d, keys in options.items() for key, _ in keys]
    responses = {}
    for measure in all_measures():
        for dimension, key in slices:
            query = {"dimension": dimension} | ({"slice": key} if key else {})
            response = api.get(f"/api/v1/measures/{measure.name}/", query)
            assert response.status_code == 200, response.content
            responses[(measure.name, dimension, key)] = response.json()
    csvs = {}
    web = client_for(partnership.analyst)
    for measure in all_measures():
        for dimension in (d.value for d in options):
            response = web.get(reverse("dashboard:export", args=[measure.name, "csv"]),
                               {"table": "breakdown", "by": dimension, "quarter": default_quarter().key})
            csvs[(measure.name, dimension)] = list(csv.reader(io.StringIO(response.content.decode())))
    return responses, csvs, options


def gather(responses, measures):
    """The attacker's knowledge: {(quarter, family): Knowledge}."""
    knowledge = defaultdict(Knowledge)
    for (name, dimension, key), body in responses.items():
        measure = measures[name]
        for row in body["figures"]:
            k = knowledge[(row["quarter"], family(name))]
            where = f"{name} {dimension}={key} {row['quarter']}"
            slice_ = (dimension, key)
            if measure.kind == COUNT:
                k.learn((quantity(name, "num"), *slice_), cell_value(row["headline"]), where)
            elif measure.kind in {RATE, RATIO}:
                numerator, denominator = (quantity(name, "num"), *slice_), (quantity(name, "den"), *slice_)
                k.learn(numerator, cell_value(row["numerator"]), where)
                k.learn(denominator, cell_value(row["denominator"]), where)
                if measure.kind == RATE:
                    k.at_most.add((numerator, denominator))
                shown, base = cell_value(row["headline"]), cell_value(row["denominator"])
                if shown is not None and base:
                    step = 0.05 if measure.kind == RATE else 0.005
                    scale = 100 if measure.kind == RATE else 1
                    k.ranges.append(([numerator], (shown - step) * base / scale, (shown + step) * base / scale))
            elif measure.kind == MIX:
                total = (quantity(name, "total"), *slice_)
                members = [(quantity(name, c["key"]), *slice_) for c in row["categories"]]
                for member, c in zip(members, row["categories"], strict=True):
                    k.learn(member, cell_value(c), where)
                    k.at_most.add((member, total))
                k.learn(total, cell_value(row["denominator"]), where)
                k.mixes.add((slice_, tuple(m[0] for m in members), total[0]))
                shown, base = cell_value(row["headline"]), cell_value(row["denominator"])
                if measure.headline and shown is not None and base:
                    chosen = [(quantity(name, c), *slice_) for c in measure.headline]
                    k.ranges.append((chosen, (shown - 0.05) * base / 100, (shown + 0.05) * base / 100))
    return knowledge


def pinned(k):
    """Hidden cells whose least and greatest possible values round to the same whole number."""
    cells = sorted(set(k.known) | k.hidden | {c for c, _ in k.at_most} | {c for _, c in k.at_most})
    quantities = {cell[0] for cell in cells}
    keys = defaultdict(set)
    for q, dimension, key in cells:
        keys[(q, dimension)].add(key)
    equalities, inequalities = [], []  # {cell: coefficient}, rhs; inequalities are <=
    for q in quantities:
        whole = (q, "all", "")
        for dimension in PARTITIONS:
            members = [(q, dimension, key) for key in keys.get((q, dimension), ())]
            if members:
                equalities.append(({**dict.fromkeys(members, 1), whole: -1}, 0))
        for dimension in OVERLAPPING:
            for key in keys.get((q, dimension), ()):
                inequalities.append(({(q, dimension, key): 1, whole: -1}, 0))
    for (dimension, key), members, total in k.mixes:
        equalities.append(({**{(m, dimension, key): 1 for m in members}, (total, dimension, key): -1}, 0))
    for smaller, larger in k.at_most:
        inequalities.append(({smaller: 1, larger: -1}, 0))
    for smaller, larger in AT_MOST:
        for _, dimension, key in cells:
            if (smaller, dimension, key) in k.hidden | set(k.known) and (larger, dimension, key) in k.hidden | set(
                    k.known):
                inequalities.append(({(smaller, dimension, key): 1, (larger, dimension, key): -1}, 0))
    for members, low, high in k.ranges:
        inequalities.append((dict.fromkeys(members, 1), high))
        inequalities.append((dict.fromkeys(members, -1), -low))
    unknown = sorted(k.hidden - set(k.known))
    index = {cell: i for i, cell in enumerate(unknown)}

    def reduce(constraints):
        rows = []
        for coefficients, rhs in constraints:
            row, constant = {}, 0.0
            for cell, coefficient in coefficients.items():
                if cell in index:
                    row[index[cell]] = coefficient
                else:
                    constant += coefficient * k.known.get(cell, 0)
            if row:
                rows.append((row, rhs - constant))
        return rows

    eq, ub = reduce(equalities), reduce(inequalities)
    found = []
    for group in _linked(len(unknown), eq + ub):
        local = {cell: i for i, cell in enumerate(group)}

        def matrix(rows, local=local):
            picked = [(r, b) for r, b in rows if set(r) & set(local)]
            a = np.zeros((len(picked), len(local)))
            for i, (row, _) in enumerate(picked):
                for j, coefficient in row.items():
                    a[i, local[j]] = coefficient
            return (a, np.array([b for _, b in picked])) if picked else (None, None)

        a_eq, b_eq = matrix(eq)
        a_ub, b_ub = matrix(ub)

        def solve(objective, a_eq=a_eq, b_eq=b_eq, a_ub=a_ub, b_ub=b_ub):
            result = linprog(objective, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=(0, None),
                             method="highs")
            assert result.status in (0, 3), f"what was published is inconsistent: {result.message}"
            return result

        # A few corners in random directions first: a figure seen to take values more than 1 apart there
        # has at least two whole numbers open to it, and needs no linear programme of its own.
        corners = [result.x for result in (solve(direction) for direction in RANDOM.normal(size=(6, len(group))))
                   if result.status == 0]
        spread = np.ptp(np.array(corners), axis=0) if len(corners) > 1 else np.zeros(len(group))
        for position, variable in enumerate(group):
            if spread[position] > 1 + 1e-6:
                continue
            bounds = []
            for sign in (1, -1):
                objective = np.zeros(len(group))
                objective[position] = sign
                result = solve(objective)
                bounds.append(sign * result.fun if result.status == 0 else math.inf)  # 3: no upper bound
            low, high = bounds
            if not math.isinf(high) and math.ceil(low - 1e-6) == math.floor(high + 1e-6):
                found.append((unknown[variable], low, high))
    return found


def _linked(count, rows):
    """Groups of unknowns joined by a constraint, so each linear programme stays small."""
    parent = list(range(count))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for row, _ in rows:
        members = list(row)
        for other in members[1:]:
            parent[root(other)] = root(members[0])
    groups = defaultdict(list)
    for i in range(count):
        groups[root(i)].append(i)
    return list(groups.values())


def test_no_hidden_figure_can_be_worked_out_from_everything_an_analyst_can_fetch(published):
    responses, csvs, options = published
    every_published_figure_is_the_rolled_up_one(responses)
    measures = {measure.name: measure for measure in all_measures()}
    knowledge = gather(responses, measures)
    attacked = {q.start.isoformat() for q in trend_quarters(default_quarter(), QUARTERS_ATTACKED)}
    hidden_total, recovered = 0, []
    for (quarter, name), k in sorted(knowledge.items()):
        if quarter not in attacked:
            continue
        hidden_total += len(k.hidden)
        recovered += [(quarter, name, *found) for found in pinned(k)]
    assert hidden_total > 50, "the generated partnership should have plenty of hidden figures to attack"
    assert not recovered, "hidden figures worked out by adding and subtracting:\n" + "\n".join(map(str, recovered[:20]))

    # The files show what the API shows: the same figures hidden, the same numbers published.
    quarter = default_quarter().start.isoformat()
    for (name, dimension), rows in csvs.items():
        labels = dict(options[Dimension(dimension)])
        for row in rows[1:]:
            key = next(k for k, label in labels.items() if label == row[0])
            body = responses[(name, dimension, key)]
            figure = next(f for f in body["figures"] if f["quarter"] == quarter)
            assert row[1] == figure["headline"]["text"], (name, dimension, key)


def every_published_figure_is_the_rolled_up_one(responses):
    stored = {
        (v.measure, v.dimension, v.slice_key, v.category, v.period_start.isoformat()): v
        for v in RollupValue.objects.all()
    }
    measures = {measure.name: measure for measure in all_measures()}
    checked = 0
    for (name, dimension, key), body in responses.items():
        measure = measures[name]
        for row in body["figures"]:
            value = stored.get((name, dimension, key, "", row["quarter"]))
            if measure.kind == COUNT and not row["headline"]["hidden"]:
                assert row["headline"]["value"] == (value.numerator if value else 0)
                checked += 1
            if measure.kind == RATE and value:
                for part in ("numerator", "denominator"):
                    assert row[part]["hidden"] or row[part]["value"] == getattr(value, part)
                checked += 1
    assert checked > 100
