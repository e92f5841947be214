"""Disclosure control worked by hand on small tables: primary, linked and secondary suppression."""

from dashboard import disclosure
from dashboard.disclosure import Family, Quantity, Table

AREAS = ("1", "2", "3")


def count_family():
    family = Family("people")
    family.add(Quantity("people"))
    return family


def cells(quantity, whole, by_area):
    table = {("all", "", quantity): whole}
    table.update({("area", key, quantity): value for key, value in zip(AREAS, by_area, strict=True)})
    return table


def test_a_small_count_gets_a_partner_so_it_cannot_be_subtracted_from_the_whole():
    table = Table(count_family(), cells("people", 20, (3, 7, 10)))
    assert table.protect() == {("area", "1", "people"), ("area", "2", "people")}


def test_the_partner_is_never_a_zero_and_the_whole_is_hidden_last():
    # Areas 3 and 0: hiding the empty area would leave 3 = 3 - 0; the whole is the only company left.
    table = Table(count_family(), cells("people", 3, (3, 0, 0)))
    hidden = table.protect()
    assert ("area", "1", "people") in hidden and ("all", "", "people") in hidden
    assert not table.unsafe({table.index[cell] for cell in hidden})


def test_nothing_is_hidden_when_nothing_is_small():
    assert Table(count_family(), cells("people", 30, (5, 10, 15))).protect() == set()


def test_two_small_counts_protect_each_other():
    assert Table(count_family(), cells("people", 24, (2, 2, 20))).protect() == {
        ("area", "1", "people"), ("area", "2", "people")
    }


def rate_family():
    family = Family("rate")
    family.add(Quantity("den"))
    family.add(Quantity("num", follows=("den",), at_most=("den",)))
    return family


def test_a_zero_beside_a_hidden_denominator_is_hidden_with_a_non_zero_partner():
    # Area 1: none of 3 reoffended. The 0 is hidden with the 3, and area 2's non-zero numerator goes with it,
    # so the hidden numerators add up to 4, not to 0.
    values = {**cells("den", 30, (3, 12, 15)), **cells("num", 10, (0, 4, 6))}
    hidden = Table(rate_family(), values).protect()
    assert {("area", "1", "den"), ("area", "1", "num")} <= hidden
    hidden_numerators = [cell for cell in hidden if cell[2] == "num"]
    assert sum(values[cell] for cell in hidden_numerators) > 0
    assert len([cell for cell in hidden if cell[2] == "den"]) >= 2


def mix_family():
    family = Family("rag")
    family.add(Quantity("total"))
    members = []
    for colour in ("red", "amber", "green"):
        family.add(Quantity(colour, follows=("total",), at_most=("total",)))
        members.append(colour)
    family.mixes.append((tuple(members), "total"))
    return family


def test_a_zero_bounded_by_a_published_zero_is_shown_not_hidden():
    # Three quantities, each at most the one before: people, reoffenders, drug-related reoffenders.
    # Area 1 has 2 people (hidden) and nobody reoffended anywhere, so area 1's hidden zero
    # reoffenders can only be covered by hiding every area's. Area 2's are zero for anyone who
    # reads "0 people" there, so they are shown; area 3's (of 18 people) are hidden.
    family = Family("reoffending")
    family.add(Quantity("cohort"))
    family.add(Quantity("reoffenders", follows=("cohort",), at_most=("cohort",)))
    family.add(Quantity("drug", follows=("reoffenders",), at_most=("reoffenders",)))
    values = {**cells("cohort", 20, (2, 0, 18)), **cells("reoffenders", 0, (0, 0, 0)), **cells("drug", 0, (0, 0, 0))}
    table = Table(family, values)
    hidden = table.protect()
    assert {("area", "1", "cohort"), ("area", "1", "reoffenders"), ("area", "3", "reoffenders")} <= hidden
    assert not {cell for cell in hidden if cell[1] == "2"}, hidden


def test_a_mix_protects_along_both_its_sums():
    values = {}
    for colour, whole, by_area in (("red", 8, (3, 2, 3)), ("amber", 30, (10, 10, 10)), ("green", 30, (10, 10, 10))):
        values.update(cells(colour, whole, by_area))
    values.update(cells("total", 68, (23, 22, 23)))
    table = Table(mix_family(), values)
    hidden = table.protect()
    assert {("area", key, "red") for key in AREAS} <= hidden  # each 1 to 4
    for key in AREAS:  # each area's red needs company in its own row too
        assert len([cell for cell in hidden if cell[:2] == ("area", key)]) >= 2
    assert not table.unsafe({table.index[cell] for cell in hidden})


def test_every_category_of_a_hidden_total_is_hidden():
    values = {**cells("total", 20, (3, 7, 10)), **cells("red", 1, (1, 0, 0)), **cells("amber", 2, (2, 0, 0)),
              **cells("green", 17, (0, 7, 10))}
    hidden = Table(mix_family(), values).protect()
    assert {("area", "1", colour) for colour in ("red", "amber", "green", "total")} <= hidden


def test_rounding_for_public_outputs():
    assert [disclosure.round_count(n) for n in (0, 2, 3, 7, 8, 12, 13)] == [0, 0, 5, 5, 10, 10, 15]
