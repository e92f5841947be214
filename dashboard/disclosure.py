"""Statistical disclosure control for every figure the dashboard publishes.

Every figure leaves the system through the dashboard, the board report, CSV and Excel
exports and the API, and a person may fetch all of them one after another, so which
figures are hidden is decided once, in the roll-up, over every table that can be
added up against every other, and stored beside the figures (`RollupValue.*_hidden`).
Every output reads those flags; none decides for itself.

How a quarter's figures are protected, for each family of measures that count the same
people (a measure on its own, or the reoffending measures together, which share the
reoffending cohort, its reoffenders and their reoffences):

1. Primary suppression: a count from 1 to `limit() - 1` (1 to 4 by default) is hidden.
2. Linked cells go with it: a rate's numerator is hidden with its denominator, reoffences
   with reoffenders, and every category of a mix with the mix's total, so "0 of a hidden
   few" is hidden too.
3. Secondary suppression: the published cells obey known sums (the areas, agencies,
   genders, age bands and ethnicities of a slice each add up to the whole partnership,
   and a mix's categories to its total). A hidden cell is safe when it can move, with
   other hidden cells that are not zero, without changing any published figure: its
   column of the sums matrix lies in the span of the columns of the other non-zero
   hidden cells. Then neither adding and subtracting (the linear system) nor bounds from
   non-negative counts (a linear programme) pins it. Until every hidden cell is safe, the
   smallest non-zero published cell sharing a sum with an unsafe one is hidden as well.

Cohort and priority-group slices overlap (a person can be on IOM and DIP, a veteran and a
care leaver), so they add up to nothing; they are bounded by the whole, and their small
cells are hidden like any other.

Tau-Argus (with its Python front end) and Statistics Norway's GaussSuppression solve the
same problem for hierarchical and linked tables. Tau-Argus models each table as nested
classifications and cannot express overlapping cohort slices or one quantity appearing
as the numerator of one measure and the denominator of another; the method here is the
null-space form of the same linear criterion GaussSuppression uses, on the sums that are
actually published. `tests/test_disclosure_attack.py` checks it with an attacker that
fetches everything and solves the linear programme.

Optional rounding (`round_count`) is for public outputs: counts to the nearest
`rounding_base()` (5 by default), rates worked out from the rounded counts.
"""

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from django.conf import settings

from .models import Dimension

# Slices that partition the people counted: their figures add up to the whole partnership's.
PARTITIONS = (Dimension.AREA, Dimension.AGENCY, Dimension.GENDER, Dimension.AGE_BAND, Dimension.ETHNICITY)
WHOLE = (Dimension.ALL.value, "")
# Below this a singular value (of a matrix of small integers) is zero, and a null vector's entry is zero.
TOLERANCE = 1e-9


def limit():
    """Counts below this (and above zero) are hidden: 5 hides 1 to 4."""
    return int(getattr(settings, "DASHBOARD_SMALL_NUMBER_LIMIT", 5))


def rounding_base():
    return int(getattr(settings, "DASHBOARD_ROUNDING_BASE", 5))


def round_count(count, base=None):
    """A count rounded to the nearest `base` (halves up), for public outputs."""
    base = base or rounding_base()
    return int((count + base / 2) // base * base)


def is_small(count):
    return 0 < count < limit()


@dataclass(frozen=True)
class Quantity:
    """Something counted in a family's slices: the measure parts that show it, and how it is protected."""

    name: str
    counts_units: bool = True  # False for sums such as hours: never primary, hidden with `follows`
    follows: tuple = ()  # hidden wherever any of these quantities is hidden (in the same slice)
    at_most: tuple = ()  # never more than these (a numerator and its denominator): for the attacker's bounds


@dataclass
class Family:
    """The quantities a family of measures publishes, and which measure part shows which."""

    name: str
    quantities: dict = field(default_factory=dict)  # name -> Quantity
    parts: dict = field(default_factory=dict)  # (measure, category, "numerator" | "denominator") -> quantity
    mixes: list = field(default_factory=list)  # (category quantities, total quantity)

    def add(self, quantity):
        self.quantities.setdefault(quantity.name, quantity)


def family_of(measures):
    """The disclosure family of measures that share one (see `Measure.family`)."""
    from .definition import COUNT, MIX, RATE, RATIO

    family = Family(measures[0].disclosure_family)
    for measure in measures:
        if measure.quantities:
            numerator, denominator = measure.quantities
            family.parts[(measure.name, "", "numerator")] = numerator
            family.parts[(measure.name, "", "denominator")] = denominator
            continue
        name = measure.name
        if measure.kind == COUNT:
            family.add(Quantity(name))
            family.parts[(name, "", "numerator")] = name
        elif measure.kind == MIX:
            total = f"{name}:total"
            family.add(Quantity(total))
            members = []
            for key, _ in measure.categories:
                family.add(Quantity(f"{name}:{key}", follows=(total,), at_most=(total,)))
                family.parts[(name, key, "numerator")] = f"{name}:{key}"
                members.append(f"{name}:{key}")
            family.parts[(name, "", "numerator")] = total
            family.mixes.append((tuple(members), total))
        elif measure.kind in {RATE, RATIO}:
            denominator = f"{name}:den"
            family.add(Quantity(denominator))
            family.add(Quantity(
                f"{name}:num", counts_units=measure.kind == RATE, follows=(denominator,),
                at_most=(denominator,) if measure.kind == RATE else (),
            ))
            family.parts[(name, "", "numerator")] = f"{name}:num"
            family.parts[(name, "", "denominator")] = denominator
    for quantity in FAMILY_QUANTITIES.get(family.name, ()):
        family.add(quantity)
    return family


# Quantities of the families whose measures name them (`Measure.quantities`).
FAMILY_QUANTITIES = {
    "reoffending": (
        Quantity("cohort"),
        Quantity("reoffenders", follows=("cohort",), at_most=("cohort",)),
        Quantity("reoffences", counts_units=False, follows=("reoffenders",)),
        Quantity("drug_alcohol_reoffenders", follows=("reoffenders",), at_most=("reoffenders",)),
    ),
}


class Table:
    """One family's cells for one quarter: {(dimension, slice key, quantity): value}, and the sums between them."""

    def __init__(self, family, cells, slice_keys=None):
        self.family = family
        self.cells = dict(cells)
        # Every slice a user can ask for is published, even when nobody is in it (a published zero).
        for dimension, keys in (slice_keys or {}).items():
            for key in keys:
                for quantity in family.quantities:
                    self.cells.setdefault((dimension, key, quantity), 0)
        for quantity in family.quantities:
            self.cells.setdefault((*WHOLE, quantity), 0)
        self.index = {cell: i for i, cell in enumerate(sorted(self.cells))}
        self.names = sorted(self.cells)
        self.values = np.array([self.cells[name] for name in self.names], dtype=float)
        self.sums = self._sums()
        self.column_rows = [np.nonzero(self.sums[:, i])[0].tolist() for i in range(len(self.names))]

    def _sums(self):
        """Rows of a matrix A with A @ values == 0: every additive relation a person can see between figures."""
        rows = []
        by_dimension = defaultdict(lambda: defaultdict(list))
        for dimension, key, quantity in self.names:
            by_dimension[quantity][dimension].append(key)
        for quantity, dimensions in by_dimension.items():
            for dimension in PARTITIONS:
                keys = dimensions.get(dimension.value)
                if not keys:
                    continue
                row = {self.index[(dimension.value, key, quantity)]: 1.0 for key in keys}
                row[self.index[(*WHOLE, quantity)]] = -1.0
                rows.append(row)
        slices = {(dimension, key) for dimension, key, _ in self.names}
        for members, total in self.family.mixes:
            for dimension, key in slices:
                if (dimension, key, total) not in self.index:
                    continue
                row = {self.index[(dimension, key, member)]: 1.0 for member in members}
                row[self.index[(dimension, key, total)]] = -1.0
                rows.append(row)
        matrix = np.zeros((len(rows), len(self.names)))
        for i, row in enumerate(rows):
            for j, coefficient in row.items():
                matrix[i, j] = coefficient
        return matrix

    def bounds(self):
        """Inequalities a <= b between cells (a numerator and its denominator, a cohort slice and the whole)."""
        pairs = []
        for (dimension, key, quantity), i in self.index.items():
            for larger in self.family.quantities[quantity].at_most:
                pairs.append((i, self.index[(dimension, key, larger)]))
            if dimension in {Dimension.COHORT.value, Dimension.GROUP.value}:
                pairs.append((i, self.index[(*WHOLE, quantity)]))
        return pairs

    def protect(self):
        """The hidden cells: primary, linked, then secondary until each hidden cell is safe."""
        hidden = set()
        for (_, _, quantity), i in self.index.items():
            if self.family.quantities[quantity].counts_units and is_small(self.values[i]):
                hidden.add(i)
        hidden = self._with_followers(hidden)
        # A zero beside a hidden denominator whose whole is a published zero ("none of the 30 reoffended")
        # says nothing the whole does not: nothing more can hide it, and nothing needs to.
        settled = set()
        while True:
            unsafe = [cell for cell in self.unsafe(hidden) if cell not in settled]
            if not unsafe:
                return {self.names[i] for i in hidden - self._bound_to_zero(hidden)}
            # One partner for each unsafe cell whose sums have not been given one in this pass.
            partners, touched = set(), set()
            for cell in unsafe:
                rows = set(self.column_rows[cell])
                if rows & touched:
                    continue
                partner = self._partner(cell, hidden | partners) - hidden - partners
                if partner:
                    partners |= partner
                    touched |= rows | {row for j in partner for row in self.column_rows[j]}
                else:
                    settled.add(cell)
            hidden = self._with_followers(hidden | partners)

    def _bound_to_zero(self, hidden):
        """Hidden zeros that a published zero bounds ("0 drug-related reoffenders" beside "0 reoffenders").

        A count is bounded by what it is at most or a part of (its denominator, its mix's total,
        the reoffenders whose reoffences it sums), and a cohort slice by the whole partnership.

        Anyone can tell they are zero, so hiding them protects nothing and only looks like
        something is there; being zero, they gave no other hidden cell its cover either.
        """
        bound = set()
        while True:  # a zero bound by one that is itself bound ("0 of 0 reoffenders of 0 people")
            added = set()
            for (dimension, key, quantity), i in self.index.items():
                if i not in hidden or i in bound or self.values[i] > 0:
                    continue
                rule = self.family.quantities[quantity]
                larger = [self.index[(dimension, key, name)] for name in {*rule.at_most, *rule.follows}]
                if dimension in {Dimension.COHORT.value, Dimension.GROUP.value}:
                    larger.append(self.index[(*WHOLE, quantity)])
                if any((j not in hidden or j in bound) and self.values[j] == 0 for j in larger):
                    added.add(i)
            if not added:
                return bound
            bound |= added

    def _with_followers(self, hidden):
        """Add every cell that is hidden because a cell it follows is (repeated until nothing changes)."""
        while True:
            added = set()
            for (dimension, key, quantity), i in self.index.items():
                if i in hidden:
                    continue
                follows = self.family.quantities[quantity].follows
                if any(self.index[(dimension, key, leader)] in hidden for leader in follows):
                    added.add(i)
            if not added:
                return hidden
            hidden = hidden | added

    def unsafe(self, hidden):
        """Hidden cells that could be worked out, largest first.

        A hidden cell is safe when some change of the hidden cells that are not zero, and of
        it, leaves every published sum as it is: for a non-zero cell, it is in the support of
        a null vector of the sums restricted to the non-zero hidden cells; for a zero, its
        column is in the span of theirs. (A cell in no sum is safe on its own.) The sums
        split into independent groups of hidden cells linked by a shared sum, each solved
        on its own small matrix.
        """
        positive = sorted(i for i in hidden if self.values[i] > 0)
        unsafe, ranges = [], {}
        for cells in self._linked_groups(positive):
            rows = sorted({row for cell in cells for row in self.column_rows[cell]})
            matrix = self.sums[np.ix_(rows, cells)]
            u, singular, vt = np.linalg.svd(matrix, full_matrices=True)
            rank = int((singular > TOLERANCE * max(1.0, singular[0] if len(singular) else 1.0)).sum())
            null = vt[rank:]
            for k, cell in enumerate(cells):
                if not (null.shape[0] and np.abs(null[:, k]).max() > TOLERANCE):
                    unsafe.append(cell)
            basis = u[:, :rank]
            for row in rows:
                ranges[row] = (rows, basis)
        for cell in sorted(i for i in hidden if self.values[i] <= 0):
            column_rows = self.column_rows[cell]
            if not column_rows:
                continue
            if any(row not in ranges for row in column_rows):
                unsafe.append(cell)  # in a sum with no non-zero hidden cell: the sum gives it away
                continue
            for rows, basis in {id(ranges[row][1]): ranges[row] for row in column_rows}.values():
                column = self.sums[rows, cell]
                if np.abs(column - basis @ (basis.T @ column)).max() > TOLERANCE:
                    unsafe.append(cell)
                    break
        return sorted(set(unsafe), key=lambda i: (-self.values[i], i))

    def _linked_groups(self, cells):
        """The cells in groups joined by shared sums (cells in no sum are left out: nothing gives them away)."""
        parent = {cell: cell for cell in cells if self.column_rows[cell]}

        def root(cell):
            while parent[cell] != cell:
                parent[cell] = parent[parent[cell]]
                cell = parent[cell]
            return cell

        first_in_row = {}
        for cell in parent:
            for row in self.column_rows[cell]:
                if row in first_in_row:
                    parent[root(cell)] = root(first_in_row[row])
                else:
                    first_in_row[row] = cell
        groups = defaultdict(list)
        for cell in parent:
            groups[root(cell)].append(cell)
        return [sorted(group) for group in groups.values()]

    def _partner(self, cell, hidden):
        """The published cells to hide so that `cell` gets company: the smallest non-zero one in its sums."""
        rows = np.nonzero(self.sums[:, cell])[0]
        candidates = set()
        for row in rows:
            candidates |= {int(j) for j in np.nonzero(self.sums[row])[0]}
        candidates = [j for j in candidates - hidden if self.values[j] > 0]
        if candidates:
            # Prefer a slice to the whole partnership, then the smallest figure.
            return {min(candidates, key=lambda j: (self.names[j][:2] == WHOLE, self.values[j], j))}
        # Nothing non-zero left to hide beside it: hide everything it is summed with.
        return {int(j) for row in rows for j in np.nonzero(self.sums[row])[0]}
