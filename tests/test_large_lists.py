"""Lists at partnership scale: counts stop at a cap, and the sharing rule is checked row by row."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases import views as case_views
from cases.models import Offender
from web.api import PagePagination

from .factories import OffenderFactory
from .test_api import API

pytestmark = pytest.mark.django_db


# The paginator counts a sliced list (web.pagination); the header's alert count is a plain COUNT.
PAGINATOR_COUNT = "SELECT COUNT(*) FROM ("


@pytest.fixture
def five_more_police_cases(partnership):
    for number in range(5):
        OffenderFactory(last_name=f"Zeal{number}", area=partnership.area, lead_agency=partnership.police)


def listed_rows(response):
    return len(re.findall(r'<tr class="govuk-table__row">\s*<td', response.content.decode()))


def test_case_list_stops_counting_at_the_cap_and_asks_to_narrow_the_search(
    partnership, client_for, five_more_police_cases, monkeypatch
):
    monkeypatch.setattr(case_views, "CASE_LIST_CAP", 3)
    monkeypatch.setattr(case_views, "CASES_PER_PAGE", 2)
    client = client_for(partnership.police_om)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/cases/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "More than 3 people" in page
    assert "only the first 3 are listed" in page
    assert listed_rows(response) == 2
    count_sql = next(q["sql"] for q in queries.captured_queries if q["sql"].startswith(PAGINATOR_COUNT))
    assert "LIMIT 4" in count_sql
    second_page = client.get("/cases/", {"page": 2})
    assert listed_rows(second_page) == 1 and "Showing 3 to 3 of more than 3 results" in second_page.content.decode()


def test_a_first_page_shorter_than_a_page_is_not_counted_again(partnership, client_for):
    with CaptureQueriesContext(connection) as queries:
        response = client_for(partnership.police_om).get("/cases/", {"q": "2015/0123456X"})
    assert "1 person" in response.content.decode() and listed_rows(response) == 1
    assert not [q for q in queries.captured_queries if q["sql"].startswith(PAGINATOR_COUNT)]


def test_case_list_under_the_cap_gives_the_exact_count(partnership, client_for, five_more_police_cases, monkeypatch):
    monkeypatch.setattr(case_views, "CASE_LIST_CAP", 7)
    response = client_for(partnership.police_om).get("/cases/")
    page = response.content.decode()
    assert "7 people" in page and "More than" not in page
    assert listed_rows(response) == 7

    response = client_for(partnership.probation_om).get("/cases/")
    assert "1 person" in response.content.decode() and listed_rows(response) == 1


def test_a_capped_count_still_never_counts_people_the_agency_may_not_see(
    partnership, client_for, five_more_police_cases, monkeypatch
):
    monkeypatch.setattr(case_views, "CASE_LIST_CAP", 3)
    response = client_for(partnership.probation_om).get("/cases/")
    page = response.content.decode()
    assert "1 person" in page and "More than" not in page
    assert "Zeal" not in page and "Blackwood" not in page


def test_shared_cohort_visibility_is_probed_per_person_not_hashed(partnership):
    sql = str(Offender.objects.visible_to(partnership.probation_om).query)
    assert "OFFSET 0" in sql  # keeps PostgreSQL from reading every open membership first


def test_api_says_when_its_count_was_capped(partnership, api_for, five_more_police_cases, monkeypatch):
    monkeypatch.setattr(PagePagination, "count_cap", 3)
    body = api_for(partnership.police_om).get(f"{API}/people/").json()
    assert body["count"] == 3 and body["count_is_capped"] is True
    assert len(body["results"]) == 3

    body = api_for(partnership.probation_om).get(f"{API}/people/").json()
    assert body["count"] == 1 and body["count_is_capped"] is False
    assert [person["last_name"] for person in body["results"]] == ["Ashworth"]
