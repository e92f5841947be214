"""An evaluation's figures pass the dashboard's disclosure control before anyone sees them."""

from evaluation.services import protect, verdict


def _row(variable, label, counts, binary=True):
    return {
        "variable": variable, "label": label, "binary": binary,
        "treated_before": 0.5, "pool_before": 0.5, "smd_before": 0.0,
        "treated_after": 0.5, "comparison_after": 0.5, "smd_after": 0.0, "balanced": True, "counts": counts,
    }


def _result(balance, reoffenders=(30, 35)):
    figures = {"treated": 0.3, "comparison": 0.35, "difference": -0.05, "low": -0.2, "high": 0.1,
               "significant": False}
    return {
        "treated": 100, "pool": 1000, "matched": 100, "unmatched": 0, "comparison_people": 100,
        "reoffenders": {"treated": reoffenders[0], "comparison": reoffenders[1]},
        "rate": dict(figures), "frequency": dict(figures), "raw_rate": dict(figures), "balance": balance,
    }


def counts(treated_before, pool_before, treated_after, comparison_after):
    return {"treated_before": treated_before, "pool_before": pool_before, "treated_after": treated_after,
            "comparison_after": comparison_after}


def test_a_characteristic_of_a_few_people_is_hidden_with_the_next_smallest_of_its_variable():
    result = _result([
        _row("ethnicity", "Ethnicity: Asian", counts(3, 50, 3, 2)),
        _row("ethnicity", "Ethnicity: Black", counts(10, 100, 10, 9)),
        _row("ethnicity", "Ethnicity: Mixed", counts(7, 80, 7, 8)),
        _row("ethnicity", "Ethnicity: White", counts(80, 770, 80, 81)),
        _row("age", "Age", {}, binary=False),
    ])

    protect(result)

    hidden = {row["label"]: row["hidden"] for row in result["balance"]}
    # Asian is a few people; Mixed goes with it, or Asian could be worked out from 100 less the others.
    assert hidden == {"Ethnicity: Asian": True, "Ethnicity: Black": False, "Ethnicity: Mixed": True,
                      "Ethnicity: White": False, "Age": False}
    asian = result["balance"][0]
    assert asian["treated_before"] is None and asian["smd_after"] is None
    assert all("counts" not in row for row in result["balance"])


def test_all_but_a_few_is_as_telling_as_a_few():
    result = _result([
        _row("gender", "Gender: Female", counts(98, 500, 98, 97)),
        _row("gender", "Gender: Male", counts(2, 500, 2, 3)),
    ])
    protect(result)
    assert [row["hidden"] for row in result["balance"]] == [True, True]


def test_an_outcome_resting_on_a_few_reoffenders_is_not_shown_nor_its_verdict():
    result = _result([], reoffenders=(3, 35))

    protect(result)

    assert result["outcome_hidden"]
    assert result["rate"] is None and result["frequency"] is None and result["reoffenders"] is None
    assert verdict(None, result).startswith("The result cannot be shown")


def test_ordinary_figures_are_left_as_they_are():
    result = _result([_row("gender", "Gender: Female", counts(20, 300, 20, 21)),
                      _row("gender", "Gender: Male", counts(80, 700, 80, 79))])
    protect(result)
    assert not result["outcome_hidden"]
    assert result["rate"]["difference"] == -0.05
    assert not any(row["hidden"] for row in result["balance"])
