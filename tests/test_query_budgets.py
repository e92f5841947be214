"""Query budgets: the busiest pages run the same number of SQL queries whatever the page size or history length.

Each test measures a page on a small data set, grows the data well past a page or a
long history, and measures again: the count must not change, and must stay within
the page's budget.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cases.models import Alias, Cohort, EnforcementAction, Offence, RagChange, Supervision

from .factories import (
    AppointmentFactory,
    CaseNoteFactory,
    MembershipFactory,
    OffenderFactory,
    UserFactory,
)

# The highest number of queries each page may run (sign-in, session and two-factor checks included).
CASE_LIST_BUDGET = 14
# Apps built on cases add sections to the case page, each with its own few queries.
CASE_PAGE_BUDGET = 28


def count_queries(client, url, data=None):
    with CaptureQueriesContext(connection) as context:
        response = client.get(url, data or {})
    assert response.status_code == 200, url
    return len(context.captured_queries)


def list_queries(client, url, data):
    with CaptureQueriesContext(connection) as context:
        assert client.get(url, data).status_code == 200, url
    return [query["sql"] for query in context.captured_queries]


def not_counting(queries):
    """The queries other than the paginator's count, as (first word, table) so sizes do not matter."""
    return [tuple(sql.split('"')[:2]) for sql in queries if not sql.startswith("SELECT COUNT(*) FROM (")]


def url_or_skip(name, *args):
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        pytest.skip(f"{name} is not built yet")


def add_people(partnership, count):
    """People the police see, each on two cohorts, with an alias and a lead offender manager."""
    managers = [partnership.police_om] + [
        UserFactory(agency=partnership.police) for _ in range(3)
    ]
    for index in range(count):
        person = OffenderFactory(
            area=partnership.area, lead_agency=partnership.police, lead_offender_manager=managers[index % 4],
            rag_status=["red", "amber", "green"][index % 3],
        )
        MembershipFactory(offender=person, cohort=Cohort.IOM)
        MembershipFactory(offender=person, cohort=Cohort.DIP if index % 2 else Cohort.SGV)
        Alias.objects.create(offender=person, name=f"Alias {index}")


def add_history(person, agency, user, length):
    """A long case history: RAG changes, appointments, notes, sentences, offences and enforcement."""
    status = ""
    for step in range(length):
        new = ["red", "amber", "green"][step % 3]
        RagChange.objects.create(
            offender=person, from_status=status, to_status=new, reason="Reviewed", changed_by=user, agency=agency,
            changed_at=timezone.now() - datetime.timedelta(days=length - step),
        )
        status = new
        AppointmentFactory(offender=person, staff=user,
                           scheduled_at=timezone.now() - datetime.timedelta(days=step))
        CaseNoteFactory(offender=person, author=user)
        Offence.objects.create(
            offender=person, committed_on=datetime.date(2025, 1, 1) + datetime.timedelta(days=step),
            offence_group=Offence.Group.THEFT, outcome=Offence.Outcome.CONVICTION,
            outcome_on=datetime.date(2025, 6, 1) + datetime.timedelta(days=step), recorded_by_agency=agency,
        )
        EnforcementAction.objects.create(offender=person, kind=EnforcementAction.Kind.WARNING_LETTER,
                                         agency=agency, recorded_by=user)
        Supervision.objects.create(offender=person, kind=Supervision.Kind.LICENCE,
                                   started_on=datetime.date(2020, 1, 1), responsible_agency=agency)
        Alias.objects.create(offender=person, name=f"Alias {step}")
    person.rag_status = status
    person.save(update_fields=["rag_status"])


CASE_LIST_QUERIES = [
    {},
    {"cohort": "iom"},
    {"rag_status": "red"},
    {"mine": "on"},
    {"sort": "-updated"},
    {"q": "Person"},
    {"q": "2015/0123456X"},
    {"page": "2"},
]


@pytest.mark.parametrize("query", CASE_LIST_QUERIES, ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "all")
def test_case_list_queries_do_not_grow_with_the_page(partnership, client_for, query, django_assert_max_num_queries):
    client = client_for(partnership.police_om)
    url = reverse("cases:list")
    add_people(partnership, 3)
    small = list_queries(client, url, query | {"page": "1"})
    add_people(partnership, 60)  # more than two full pages of 25
    large = list_queries(client, url, query)
    # A first page shorter than a page is not counted; the count is one query, whatever the size.
    assert sorted(not_counting(large)) == sorted(not_counting(small))
    assert len(large) - len(not_counting(large)) <= 1
    with django_assert_max_num_queries(CASE_LIST_BUDGET):
        client.get(url, query)


def test_case_page_queries_do_not_grow_with_history(partnership, client_for, django_assert_max_num_queries):
    client = client_for(partnership.police_om)
    person = partnership.iom_person
    url = reverse("cases:detail", args=[person.pk])
    add_history(person, partnership.police, partnership.police_om, 1)
    small = count_queries(client, url)
    add_history(person, partnership.police, partnership.police_om, 40)
    MembershipFactory(offender=person, cohort=Cohort.DIP)
    large = count_queries(client, url)
    assert large == small
    with django_assert_max_num_queries(CASE_PAGE_BUDGET):
        client.get(url)


MY_ACTIONS_BUDGET = 14


def add_actions(partnership, count):
    """Open actions owned by the police offender manager, on different people, some overdue."""
    pathways = pytest.importorskip("pathways.models")
    pathway = pathways.Pathway.objects.order_by("order").first()
    today = timezone.localdate()
    for index in range(count):
        person = OffenderFactory(area=partnership.area, lead_agency=partnership.police,
                                 lead_offender_manager=partnership.police_om)
        pathways.Action.objects.create(
            offender=person, pathway=pathway, description=f"Action {index}", owner_agency=partnership.police,
            owner=partnership.police_om, raised_on=today - datetime.timedelta(days=60),
            due_on=today + datetime.timedelta(days=index - count // 2),
            status="in_progress" if index % 3 else "open",
        )


@pytest.mark.parametrize("query", [{}, {"whose": "agency"}, {"due": "overdue"}, {"due": "soon"}],
                         ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "mine")
def test_my_actions_queries_do_not_grow_with_the_list(partnership, client_for, query,
                                                      django_assert_max_num_queries):
    url = url_or_skip("pathways:my_actions")
    client = client_for(partnership.police_om)
    add_actions(partnership, 2)
    small = count_queries(client, url, query)
    add_actions(partnership, 70)
    large = count_queries(client, url, query)
    assert large == small
    with django_assert_max_num_queries(MY_ACTIONS_BUDGET):
        client.get(url, query)


def test_name_search_matches_names_and_aliases_word_by_word(partnership, client_for):
    """The search's query shape changed for the indexes; what it finds must not."""
    person = partnership.iom_person  # Jordan Ashworth
    Alias.objects.create(offender=person, name="JJ Smithers")
    client = client_for(partnership.police_om)

    def found(q):
        return [p.pk for p in client.get(reverse("cases:list"), {"q": q}).context["page"].object_list]

    assert found("ash") == [person.pk]
    assert found("jord") == [person.pk]
    assert found("mither") == [person.pk]  # anywhere in an alias
    assert found("jordan ashworth") == [person.pk]
    assert found("jordan blackwood") == []
    assert partnership.police_only_person.pk in found("casey")


PANEL_AGENDA_BUDGET = 24
DASHBOARD_BUDGET = 15


def agenda_meeting(partnership):
    panels = pytest.importorskip("panels.models")
    chair = UserFactory(agency=partnership.police, role="panel_chair")
    panel = panels.Panel.objects.create(name="Northtown IOM", kind="iom_main", area=partnership.area, chair=chair)
    for agency in (partnership.police, partnership.probation):
        panels.PanelMembership.objects.create(panel=panel, agency=agency)
    meeting = panels.Meeting.objects.create(panel=panel, held_on=timezone.localdate())
    return chair, meeting


def put_on_agenda(partnership, chair, meeting, count):
    from panels import services

    for index in range(count):
        person = OffenderFactory(area=partnership.area, lead_agency=partnership.police, rag_status="red")
        MembershipFactory(offender=person, cohort=Cohort.IOM)
        AppointmentFactory(offender=person, outcome="missed")
        item = services.add_to_agenda(chair, meeting, person, reason=f"Red {index}")
        services.record_discussion(chair, item, discussion="Discussed")


def test_panel_agenda_queries_do_not_grow_with_the_agenda(partnership, client_for, django_assert_max_num_queries):
    url_or_skip("panels:list")
    chair, meeting = agenda_meeting(partnership)
    url = reverse("panels:meeting", args=[meeting.pk])
    client = client_for(chair)
    put_on_agenda(partnership, chair, meeting, 2)
    small = count_queries(client, url)
    put_on_agenda(partnership, chair, meeting, 30)
    large = count_queries(client, url)
    assert large == small
    with django_assert_max_num_queries(PANEL_AGENDA_BUDGET):
        client.get(url)


def test_dashboard_queries_do_not_grow_with_history(partnership, client_for, django_assert_max_num_queries):
    url = url_or_skip("dashboard:index")
    from dashboard.figures import default_quarter
    from dashboard.rollup import run_rollup

    quarter = default_quarter()
    client = client_for(partnership.analyst)
    run_rollup(quarters=[quarter])
    small = count_queries(client, url)
    for index in range(20):
        person = OffenderFactory(area=partnership.area, lead_agency=partnership.police)
        MembershipFactory(offender=person, cohort=Cohort.DIP if index % 2 else Cohort.IOM)
    earlier = [quarter]
    for _ in range(7):
        earlier.insert(0, earlier[0].previous())
    run_rollup(quarters=earlier)  # two years of quarters instead of one
    large = count_queries(client, url)
    assert large == small
    with django_assert_max_num_queries(DASHBOARD_BUDGET):
        client.get(url)
