"""The matching engine on arrays: balance worked by hand, nearest neighbours, the caliper, and the interval."""

import math

import numpy as np
import pytest

from evaluation.matching import Feature, Matching, balance, compare, match, nearest_neighbours


def test_standardised_differences_match_a_hand_worked_case():
    # Treated ages 20, 30, 40 (mean 30, sample variance 100); pool 20, 20, 30, 50 (mean 30, variance 200).
    # Spread sqrt((100 + 200) / 2) = sqrt(150) = 12.247. Before: (30 - 30) / 12.247 = 0.
    # Matched: treated 0 and 2 with pool 0 (20) and 3 (50): after (30 - 35) / 12.247 = -0.408.
    ages = Feature("age", "Age", np.array([20, 30, 40, 20, 20, 30, 50], dtype=float), binary=False)
    # Women: treated 1 of 3 (p = 1/3, p(1-p) = 2/9); pool 2 of 4 (1/2, 1/4).
    # Spread sqrt((2/9 + 1/4) / 2) = 0.4859. Before: (1/3 - 1/2) / 0.4859 = -0.343.
    # After: treated 0 and 2 -> women 1 of 2 (1/2); pool 0 and 3 -> 0 of 2: (0.5 - 0) / 0.4859 = 1.029.
    women = Feature("gender", "Gender: female", np.array([1, 0, 0, 0, 1, 1, 0], dtype=float), binary=True)
    matching = Matching(scores=np.zeros(7), treated=np.array([0, 2]), controls=np.array([0, 3]), caliper=1.0,
                        pool_size=4)

    age_row, women_row = balance([ages, women], 3, matching)

    assert age_row.smd_before == pytest.approx(0.0)
    assert age_row.treated_after == pytest.approx(30.0)
    assert age_row.comparison_after == pytest.approx(35.0)
    assert age_row.smd_after == pytest.approx(-5 / math.sqrt(150))
    assert women_row.smd_before == pytest.approx((1 / 3 - 1 / 2) / math.sqrt((2 / 9 + 1 / 4) / 2))
    assert women_row.smd_after == pytest.approx(0.5 / math.sqrt((2 / 9 + 1 / 4) / 2))
    assert not women_row.balanced and not age_row.balanced
    assert women_row.counts == {"treated_before": 1, "pool_before": 2, "treated_after": 1, "comparison_after": 0}


def test_a_pool_person_used_twice_counts_twice_in_the_balance():
    values = Feature("age", "Age", np.array([30, 32, 30, 50], dtype=float), binary=False)
    matching = Matching(scores=np.zeros(4), treated=np.array([0, 1]), controls=np.array([0, 0]), caliper=1.0,
                        pool_size=2)
    (row,) = balance([values], 2, matching)
    assert row.comparison_after == pytest.approx(30.0)


def test_nearest_neighbours_without_replacement_use_each_comparison_once_and_respect_the_caliper():
    treated = np.array([0.0, 0.05, 3.0])
    pool = np.array([0.02, 0.5, 0.06, -2.0])
    t, c = nearest_neighbours(treated, pool, caliper=0.2, with_replacement=False, seed=1)
    # The third treated person (3.0) has nobody within 0.2; the others take 0.02 and 0.06, one each.
    assert list(t) == [0, 1]
    assert sorted(c) == [0, 2]
    assert len(set(c)) == 2


def test_nearest_neighbours_with_replacement_may_reuse_the_closest():
    treated = np.array([0.0, 0.01, 0.03])
    pool = np.array([0.02, 0.9])
    t, c = nearest_neighbours(treated, pool, caliper=0.2, with_replacement=True, seed=1)
    assert list(t) == [0, 1, 2]
    assert list(c) == [0, 0, 0]


def test_matching_is_repeatable_with_the_same_seed():
    rng = np.random.default_rng(5)
    features = [Feature("age", "Age", rng.normal(30, 8, 600), binary=False)]
    first = match(features, 100, with_replacement=False, seed=11)
    second = match(features, 100, with_replacement=False, seed=11)
    assert np.array_equal(first.treated, second.treated) and np.array_equal(first.controls, second.controls)


def test_the_interval_of_a_difference_in_rates():
    treated = np.array([1] * 30 + [0] * 70)
    comparison = np.array([1] * 40 + [0] * 60)
    result = compare(treated, comparison)
    assert result.difference == pytest.approx(-0.10)
    # Two-sample t interval: SE = sqrt(0.3*0.7*100/99/100 + 0.4*0.6*100/99/100), t(198) = 1.972.
    error = math.sqrt(0.21 / 99 + 0.24 / 99)
    assert result.standard_error == pytest.approx(error)
    assert result.low == pytest.approx(-0.10 - 1.9720 * error, abs=1e-4)
    assert not result.significant


def test_matching_recovers_a_planted_effect_that_the_raw_comparison_misses():
    rng = np.random.default_rng(2026)
    n = 4000
    age = rng.uniform(18, 60, n)
    prior = rng.poisson(rng.uniform(0.3, 4, n)).astype(float)
    chosen = rng.random(n) < 1 / (1 + np.exp(-(-2.4 - 0.05 * (age - 35) + 0.35 * (prior - 2))))
    risk = 0.15 + 0.6 / (1 + np.exp(-(-0.04 * (age - 35) + 0.45 * (prior - 2))))
    reoffended = rng.random(n) < risk - 0.10 * chosen
    order = np.concatenate([np.flatnonzero(chosen), np.flatnonzero(~chosen)])
    treated_count = int(chosen.sum())
    features = [Feature("age", "Age", age[order], False), Feature("prior", "Previous", prior[order], False)]
    outcome = reoffended[order].astype(float)

    matched = match(features, treated_count, with_replacement=False, seed=3)
    estimate = compare(outcome[:treated_count][matched.treated], outcome[treated_count:][matched.controls])
    raw = compare(outcome[:treated_count], outcome[treated_count:])

    assert raw.difference > -0.10 + 0.08, "the selection should bias the raw comparison"
    assert estimate.low < -0.10 < estimate.high
    assert abs(estimate.difference + 0.10) < abs(raw.difference + 0.10)
    assert all(abs(row.smd_after) < 0.1 for row in balance(features, treated_count, matched))
