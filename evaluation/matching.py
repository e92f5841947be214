"""Propensity score matching, balance and the comparison of outcomes: arrays in, figures out.

The method is the Justice Data Lab's: a logistic model gives each person the probability of
being in the treatment group given the matching variables (the propensity score); each treated
person is matched to the comparison person whose score is nearest, on the logit scale, within a
caliper of 0.2 standard deviations of the logit (Austin 2011), with or without replacement;
balance is checked with standardised mean differences before and after matching; and the
outcome is compared between the treated people who found a match and their matches.

Nothing here touches the database: `evaluation.population` turns the case record into the
arrays, and `evaluation.services` stores what comes out.
"""

import math
from dataclasses import dataclass, field

import numpy as np
from scipy import stats
from sklearn.linear_model import LogisticRegression

CALIPER_SD = 0.2  # caliper, in standard deviations of the logit of the propensity score
BALANCE_BAR = 0.1  # an absolute standardised mean difference under this counts as balanced
CONFIDENCE = 0.95
# Propensity scores are kept off 0 and 1 so that their logits stay finite.
SCORE_FLOOR = 1e-6


@dataclass
class Feature:
    """One column of the model: a number, a category's indicator, or whether a number was recorded."""

    variable: str  # the menu key (evaluation.menu)
    label: str  # as shown in the balance table: "Age", "Gender: female", "Risk score not recorded"
    values: np.ndarray  # float, one per person
    binary: bool


@dataclass
class Matching:
    scores: np.ndarray  # propensity score of every person (treated then pool, as given)
    treated: np.ndarray  # indices (into the treated rows) of treated people who found a match
    controls: np.ndarray  # for each of them, the index (into the pool rows) of their match
    caliper: float  # on the logit scale

    @property
    def weights(self):
        """How many times each pool person is used as a match (0 for most)."""
        return np.bincount(self.controls, minlength=self.pool_size).astype(float)

    pool_size: int = 0


@dataclass
class Comparison:
    """One outcome for the matched groups: means, difference (treated minus comparison) and its interval."""

    treated_mean: float
    comparison_mean: float
    difference: float
    low: float
    high: float
    standard_error: float

    @property
    def significant(self):
        return self.low > 0 or self.high < 0


@dataclass
class BalanceRow:
    variable: str
    label: str
    binary: bool
    treated_before: float
    pool_before: float
    smd_before: float | None
    treated_after: float | None
    comparison_after: float | None
    smd_after: float | None
    # People with the characteristic (binary rows), for disclosure control: treated, pool, matched comparison.
    counts: dict = field(default_factory=dict)

    @property
    def balanced(self):
        return self.smd_after is not None and abs(self.smd_after) < BALANCE_BAR


def propensity_scores(features, treated_count, *, seed):
    """Scores from a logistic regression of being treated on the features (treated rows first).

    The columns are standardised so that the (very light) ridge penalty treats them alike; the
    penalty only keeps the fit finite when a category perfectly predicts treatment.
    """
    matrix = np.column_stack([feature.values for feature in features]) if features else np.zeros((0, 0))
    rows = matrix.shape[0]
    target = np.zeros(rows, dtype=int)
    target[:treated_count] = 1
    if matrix.shape[1] == 0:
        return np.full(rows, treated_count / rows)
    spread = matrix.std(axis=0)
    spread[spread == 0] = 1.0
    standardised = (matrix - matrix.mean(axis=0)) / spread
    model = LogisticRegression(C=1e4, max_iter=2000, random_state=seed)
    model.fit(standardised, target)
    return np.clip(model.predict_proba(standardised)[:, 1], SCORE_FLOOR, 1 - SCORE_FLOOR)


def logit(scores):
    return np.log(scores / (1 - scores))


def nearest_neighbours(treated_logits, pool_logits, *, caliper, with_replacement, seed):
    """Match each treated person to the pool person with the nearest logit within the caliper.

    Returns (treated indices, pool indices) of the pairs. With replacement, a pool person may be
    everyone's match; without, treated people take their nearest free match in a random order
    (seeded), as greedy matching does. A tie goes to the lower score, so a run is repeatable.
    """
    order_of_pool = np.argsort(pool_logits, kind="stable")
    sorted_pool = pool_logits[order_of_pool]
    size = len(sorted_pool)
    if size == 0 or len(treated_logits) == 0:
        return np.array([], dtype=int), np.array([], dtype=int)
    if with_replacement:
        position = np.searchsorted(sorted_pool, treated_logits)
        right = np.minimum(position, size - 1)
        left = np.maximum(position - 1, 0)
        take_left = np.abs(treated_logits - sorted_pool[left]) <= np.abs(sorted_pool[right] - treated_logits)
        chosen = np.where(take_left, left, right)
        within = np.abs(sorted_pool[chosen] - treated_logits) <= caliper
        treated = np.flatnonzero(within)
        return treated, order_of_pool[chosen[within]]

    # Without replacement: the nearest free place on each side, found through "next free" pointers
    # that skip taken places (union-find with path compression), so each match costs about log n.
    # Left pointers are shifted by one: place i is entry i + 1, and entry 0 means "none to the left".
    next_right = list(range(size + 1))  # entry `size` means "none to the right"
    next_left = list(range(size + 1))

    def find(parent, i):
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    rng = np.random.default_rng(seed)
    order = rng.permutation(len(treated_logits))
    positions = np.searchsorted(sorted_pool, treated_logits)
    treated, controls = [], []
    for t in order:
        value = treated_logits[t]
        right = find(next_right, int(positions[t]))
        left = find(next_left, int(positions[t])) - 1
        best = None
        if left >= 0:
            best = left
        if right < size and (best is None or sorted_pool[right] - value < value - sorted_pool[best]):
            best = right
        if best is None or abs(sorted_pool[best] - value) > caliper:
            continue
        treated.append(t)
        controls.append(order_of_pool[best])
        next_right[best] = best + 1
        next_left[best + 1] = best
    treated = np.array(treated, dtype=int)
    controls = np.array(controls, dtype=int)
    by_treated = np.argsort(treated, kind="stable")
    return treated[by_treated], controls[by_treated]


def match(features, treated_count, *, with_replacement, seed, caliper_sd=CALIPER_SD):
    """Propensity scores and nearest-neighbour matching on their logit; rows are the treated, then the pool."""
    scores = propensity_scores(features, treated_count, seed=seed)
    logits = logit(scores)
    caliper = caliper_sd * float(logits.std(ddof=1)) if len(logits) > 1 else 0.0
    treated, controls = nearest_neighbours(
        logits[:treated_count], logits[treated_count:], caliper=caliper, with_replacement=with_replacement, seed=seed
    )
    return Matching(scores=scores, treated=treated, controls=controls, caliper=caliper,
                    pool_size=len(scores) - treated_count)


def _variance(values, weights, binary):
    if binary:
        p = np.average(values, weights=weights)
        return p * (1 - p)
    if weights.sum() <= 1:
        return 0.0
    mean = np.average(values, weights=weights)
    # Frequency weights: a pool person used twice counts twice.
    return float(np.sum(weights * (values - mean) ** 2) / (weights.sum() - 1))


def standardised_difference(treated_mean, comparison_mean, spread):
    """(treated mean - comparison mean) / spread; None where the spread is zero and the means differ."""
    if spread == 0:
        return 0.0 if treated_mean == comparison_mean else None
    return (treated_mean - comparison_mean) / spread


def balance(features, treated_count, matching):
    """Standardised mean differences of every feature before and after matching.

    Both are divided by the same spread, the square root of the mean of the treated group's and
    the pool's variances before matching (a binary feature's variance is p(1 - p)), so a change
    from before to after is a change in the means alone, as MatchIt and cobalt report it.
    """
    weights = matching.weights
    rows = []
    for feature in features:
        treated_values = feature.values[:treated_count]
        pool_values = feature.values[treated_count:]
        ones_t = np.ones(len(treated_values))
        ones_p = np.ones(len(pool_values))
        treated_before = float(treated_values.mean())
        pool_before = float(pool_values.mean())
        spread = math.sqrt(
            (_variance(treated_values, ones_t, feature.binary) + _variance(pool_values, ones_p, feature.binary)) / 2
        )
        row = BalanceRow(
            variable=feature.variable, label=feature.label, binary=feature.binary,
            treated_before=treated_before, pool_before=pool_before,
            smd_before=standardised_difference(treated_before, pool_before, spread),
            treated_after=None, comparison_after=None, smd_after=None,
        )
        if len(matching.treated):
            treated_after = float(treated_values[matching.treated].mean())
            comparison_after = float(np.average(pool_values, weights=weights))
            row.treated_after, row.comparison_after = treated_after, comparison_after
            row.smd_after = standardised_difference(treated_after, comparison_after, spread)
        if feature.binary:
            row.counts = {
                "treated_before": int(treated_values.sum()),
                "pool_before": int(pool_values.sum()),
                "treated_after": int(treated_values[matching.treated].sum()),
                "comparison_after": int(pool_values[matching.controls].sum()),
            }
        rows.append(row)
    return rows


def compare(treated_outcomes, comparison_outcomes, comparison_weights=None, *, confidence=CONFIDENCE):
    """Mean outcome of each group, the difference and its confidence interval.

    The comparison group's people carry their weights (the number of treated people each one is
    the match of). The interval is the two-sample t interval with the weighted group's effective
    size (sum of weights squared over the sum of squared weights); it ignores the pairing, which
    makes it a little wider than a paired interval, never narrower.
    """
    treated = np.asarray(treated_outcomes, dtype=float)
    comparison = np.asarray(comparison_outcomes, dtype=float)
    weights = np.ones(len(comparison)) if comparison_weights is None else np.asarray(comparison_weights, dtype=float)
    n_t = len(treated)
    mean_t = float(treated.mean())
    mean_c = float(np.average(comparison, weights=weights))
    var_t = float(treated.var(ddof=1)) if n_t > 1 else 0.0
    var_c = _variance(comparison, weights, binary=False)
    effective = weights.sum() ** 2 / np.sum(weights**2)
    error = math.sqrt(var_t / n_t + var_c / effective)
    freedom = max(n_t + effective - 2, 1)
    critical = float(stats.t.ppf(0.5 + confidence / 2, freedom))
    difference = mean_t - mean_c
    return Comparison(
        treated_mean=mean_t, comparison_mean=mean_c, difference=difference,
        low=difference - critical * error, high=difference + critical * error, standard_error=error,
    )
