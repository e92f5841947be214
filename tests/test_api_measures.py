"""The REST API for performance measures: the dashboard's figures with its disclosure control."""

import datetime

import pytest
from rest_framework.test import APIClient

from cases.models import Cohort
from dashboard.figures import default_quarter
from dashboard.rollup import run_rollup

from .factories import MembershipFactory, OffenderFactory

API = "/api/v1"
QUARTER = default_quarter()


@pytest.fixture
def three_joiners(partnership):
    """Three people joined IOM in the quarter: a small, disclosive number."""
    from cases.models import CohortMembership

    CohortMembership.objects.filter(offender=partnership.iom_person).update(
        started_on=QUARTER.start - datetime.timedelta(days=400)
    )
    for _ in range(3):
        MembershipFactory(offender=OffenderFactory(area=partnership.area, lead_agency=partnership.police),
                          cohort=Cohort.IOM, started_on=QUARTER.start + datetime.timedelta(days=10))
    run_rollup(quarters=[QUARTER.previous(), QUARTER])


def test_every_signed_in_user_lists_the_measures(partnership, api_for):
    measures = api_for(partnership.analyst).get(f"{API}/measures/").json()
    names = {m["name"] for m in measures}
    assert {"cohort_size", "cohort_entries", "rag_mix"} <= names
    assert APIClient().get(f"{API}/measures/").status_code == 401


def test_small_numbers_are_hidden_from_every_role(three_joiners, partnership, api_for):
    url = f"{API}/measures/cohort_entries/"
    for user in (partnership.analyst, partnership.police_om):
        figures = api_for(user).get(url, {"quarter": QUARTER.start.isoformat()}).json()["figures"]
        assert figures[-1]["quarter"] == QUARTER.start.isoformat()
        assert figures[-1]["headline"] == {"value": None, "text": "Not shown", "hidden": True}


def test_a_slice_and_a_mix(three_joiners, partnership, api_for):
    client = api_for(partnership.police_om)
    by_area = client.get(f"{API}/measures/cohort_entries/", {"dimension": "area", "slice": str(partnership.area.pk),
                                                            "quarter": QUARTER.start.isoformat()})
    assert by_area.status_code == 200 and by_area.json()["slice"] == str(partnership.area.pk)
    mix = client.get(f"{API}/measures/rag_mix/").json()
    assert [c["key"] for c in mix["figures"][-1]["categories"]] == ["red", "amber", "green"]


def test_bad_queries_are_400_and_unknown_measures_404(partnership, api_for):
    client = api_for(partnership.analyst)
    assert client.get(f"{API}/measures/cohort_size/", {"quarter": "2026-02-01"}).status_code == 400
    assert client.get(f"{API}/measures/cohort_size/", {"dimension": "planet"}).status_code == 400
    assert client.get(f"{API}/measures/cohort_size/", {"dimension": "area", "slice": "999999"}).status_code == 400
    assert client.get(f"{API}/measures/no_such_measure/").status_code == 404


@pytest.mark.parametrize("query", [{"quarter": ""}, {"dimension": ""}, {"public": ""}, {"public": "perhaps"},
                                   {"public": "on"}, {"dimension": ["area", "cohort"]}])
def test_an_empty_or_repeated_parameter_is_refused_not_read_as_not_given(partnership, api_for, query):
    refused = api_for(partnership.analyst).get(f"{API}/measures/cohort_size/", query)
    assert refused.status_code == 400 and set(query) <= set(refused.json())
