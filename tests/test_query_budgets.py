"""Query budgets: the busiest pages run the same number of SQL queries whatever the page size or history length.

Each test measures a page on a small data set, grows the data well past a page or a
long history, and measures again: the count must not change, and must stay within
the page's budget.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import services
from cases.models import Alias, Cohort, EnforcementAction, Offence, RagChange, Supervision
from pathways.models import Action, Pathway
from risk import services as risk

from .factories import (
    AppointmentFactory,
    CaseNoteFactory,
    MembershipFactory,
    OffenderFactory,
    UserFactory,
)
from .panels_factories import MeetingFactory, PanelFactory

# The highest number of queries each page may run (sign-in, session and two-factor checks included).
CASE_LIST_BUDGET = 14
# Apps built on cases add sections to the case page, each with its own few queries.
CASE_PAGE_BUDGET = 28
ACCESS_LOG_BUDGET = 12


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


def add_people(partnership, count):
    """People the police see, each on two cohorts, with an alias and a lead offender manager."""
    managers = [partnership.police_om] + [
        UserFactory(agency=partnership.police) for _ in range(3)
    ]
    for index in range(count):
        # Short names, so the misspelt search below finds them however many people earlier tests made.
        person = OffenderFactory(
            last_name=f"Person{index}",
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
    {"q": "15/123456x"},
    {"q": "x123456"},
    {"q": "Persno"},
    {"q": "Person 17/05/1990"},
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


# The API's people list: token, page, aliases and open memberships, whatever the page size.
API_PEOPLE_BUDGET = 8


@pytest.mark.parametrize("pagination", ["cursor", "page"])
def test_api_people_list_queries_do_not_grow_with_the_page_size(partnership, api_for, pagination,
                                                               django_assert_max_num_queries):
    client = api_for(partnership.police_om)
    url = "/api/v1/people/"
    add_people(partnership, 3)
    client.get(url)  # records when the token was first used, which later requests do not write again
    small = list_queries(client, url, {"pagination": pagination, "page_size": 2})
    add_people(partnership, 60)
    large = list_queries(client, url, {"pagination": pagination, "page_size": 50})
    assert sorted(not_counting(large)) == sorted(not_counting(small))
    if pagination == "cursor":  # no count at all, so the number of queries is the same
        assert len(large) == len(small)
        following = client.get(url, {"pagination": pagination, "page_size": 50}).json()["next"]
        assert len(list_queries(client, following, {})) == len(large)
    with django_assert_max_num_queries(API_PEOPLE_BUDGET):
        client.get(url, {"pagination": pagination, "page_size": 200})


def add_risk_and_shares(person, partnership, length):
    user = partnership.police_om
    day = timezone.localdate()
    for step in range(length):
        when = day - datetime.timedelta(days=length - step)
        risk.record_risk_assessment(user, person, rosh_level="high", tier="B2", assessed_on=when, notes="Reviewed")
        risk.record_risk_score(user, person, kind="ogrs_2", score=40 + step % 50, assessed_on=when)
    if length > 1:
        for kind in ("officer_safety", "domestic_abuse", "child_concerns"):
            flag = risk.raise_risk_flag(user, person, kind=kind, level="high", registered_on=day,
                                        review_on=day + datetime.timedelta(days=7))
            risk.review_risk_flag(user, flag, reviewed_on=day, level="medium",
                                  next_review_on=day + datetime.timedelta(days=90))
        for agency in (partnership.housing, partnership.probation):
            services.share_with_agency(user, person, agency, reason="Support")
    else:
        risk.raise_risk_flag(user, person, kind="weapons", level="low", registered_on=day,
                             review_on=day + datetime.timedelta(days=7))
        services.share_with_agency(user, person, partnership.opcc, reason="Support")
    AppointmentFactory(offender=person, staff=user, outcome="scheduled",
                       scheduled_at=timezone.now() + datetime.timedelta(days=length))
    for _ in range(length if length > 1 else 1):
        AppointmentFactory(offender=person, staff=user, outcome="scheduled",
                           scheduled_at=timezone.now() - datetime.timedelta(days=2))
        AppointmentFactory(offender=person, staff=user, outcome="unacceptable_absence",
                           scheduled_at=timezone.now() - datetime.timedelta(days=3))


CASE_PAGES = [
    ("cases:detail", {}), ("cases:personal", {}), ("cases:sentence", {}), ("cases:notes", {}),
    ("cases:activity", {}), ("cases:activity", {"q": "Reviewed", "category": ["rag", "notes", "risk"]}),
    ("cases:activity", {"compliance": "failures", "date_from_day": "1", "date_from_month": "1",
                        "date_from_year": "2020"}),
    ("cases:activity", {"page": "2"}),
    ("cases:section_risk", {}), ("cases:section_panels", {}), ("pathways:person", {}),
    ("cases:person_access_log", {}),
]


def case_page_queries(client, url, query):
    """The page's queries but the count of a paged list (a short first page is not counted), and how many
    of the activity log's per-category descriptions ran (one per kind of record on the page)."""
    queries = list_queries(client, url, query)
    response = client.get(url, query)
    categories = len({row["category"] for row in response.context.get("entries", [])})
    assert len(queries) - len(not_counting(queries)) <= 1
    return len(not_counting(queries)) - categories


@pytest.mark.parametrize("name, query", CASE_PAGES, ids=lambda v: v if isinstance(v, str) else None)
def test_case_page_queries_do_not_grow_with_history(partnership, client_for, name, query,
                                                    django_assert_max_num_queries):
    client = client_for(partnership.police_om)
    person = partnership.iom_person
    url = reverse(name, args=[person.pk])
    add_history(person, partnership.police, partnership.police_om, 1)
    add_risk_and_shares(person, partnership, 1)
    add_overdue_actions(person, partnership, 1)
    small = case_page_queries(client, url, query)
    add_history(person, partnership.police, partnership.police_om, 30)
    add_risk_and_shares(person, partnership, 15)
    add_overdue_actions(person, partnership, 15)
    MembershipFactory(offender=person, cohort=Cohort.DIP)
    MembershipFactory(offender=person, cohort=Cohort.MAPPA)
    if name == "cases:person_access_log":
        for _ in range(60):
            client.get(url, query)  # a long access log, for the page that shows it
    large = case_page_queries(client, url, query)
    assert large == small
    with django_assert_max_num_queries(CASE_PAGE_BUDGET):
        client.get(url, query)


def add_overdue_actions(person, partnership, count):
    pathway = Pathway.objects.order_by("order").first()
    today = timezone.localdate()
    for index in range(count):
        Action.objects.create(
            offender=person, pathway=pathway, description=f"Action {index}", owner_agency=partnership.police,
            raised_on=today - datetime.timedelta(days=30), due_on=today - datetime.timedelta(days=1 + index % 5),
        )


def test_agency_access_log_queries_do_not_grow_with_the_log(partnership, client_for, django_assert_max_num_queries):
    viewers = [client_for(user) for user in (partnership.police_om, partnership.probation_om)]
    for viewer in viewers:
        viewer.get(partnership.iom_person.get_absolute_url())
    admin = client_for(partnership.police_admin)
    url = reverse("cases:access_log")
    queries = [{}, {"person": "Ashworth"}, {"user": "probation"}, {"person": "2015/0123456X"}]
    small = [not_counting(list_queries(admin, url, query)) for query in queries]
    for person in [partnership.iom_person, partnership.police_only_person] * 30:
        for viewer in viewers:
            viewer.get(person.get_absolute_url())
    admin = client_for(partnership.police_admin)
    for query, before in zip(queries, small, strict=True):
        large = list_queries(admin, url, query)
        assert not_counting(large) == before, query
        assert len(large) - len(not_counting(large)) <= 1
        with django_assert_max_num_queries(ACCESS_LOG_BUDGET):
            admin.get(url, query)


MY_ACTIONS_BUDGET = 14


def add_actions(partnership, count):
    """Open actions owned by the police offender manager, on different people, some overdue."""
    pathway = Pathway.objects.order_by("order").first()
    today = timezone.localdate()
    for index in range(count):
        person = OffenderFactory(area=partnership.area, lead_agency=partnership.police,
                                 lead_offender_manager=partnership.police_om)
        Action.objects.create(
            offender=person, pathway=pathway, description=f"Action {index}", owner_agency=partnership.police,
            owner=partnership.police_om, raised_on=today - datetime.timedelta(days=60),
            due_on=today + datetime.timedelta(days=index - count // 2),
            status="in_progress" if index % 3 else "open",
        )


@pytest.mark.parametrize("query", [{}, {"whose": "agency"}, {"due": "overdue"}, {"due": "soon"}],
                         ids=lambda q: "&".join(f"{k}={v}" for k, v in q.items()) or "mine")
def test_my_actions_queries_do_not_grow_with_the_list(partnership, client_for, query,
                                                      django_assert_max_num_queries):
    url = reverse("pathways:my_actions")
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
    chair = UserFactory(agency=partnership.police, role="panel_chair")
    panel = PanelFactory(name="Northtown IOM", area=partnership.area, chair=chair,
                         members=[partnership.police, partnership.probation])
    return chair, MeetingFactory(panel=panel)


def put_on_agenda(partnership, chair, meeting, count):
    from panels import services

    for index in range(count):
        person = OffenderFactory(area=partnership.area, lead_agency=partnership.police, rag_status="red")
        MembershipFactory(offender=person, cohort=Cohort.IOM)
        AppointmentFactory(offender=person, outcome="unacceptable_absence")
        item = services.add_to_agenda(chair, meeting, person, reason=f"Red {index}")
        services.record_discussion(chair, item, discussion="Discussed")


def test_panel_agenda_queries_do_not_grow_with_the_agenda(partnership, client_for, django_assert_max_num_queries):
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


AGENDA_GENERATION_BUDGET = 16


def red_on_the_cohort(partnership, count):
    for _ in range(count):
        person = OffenderFactory(area=partnership.area, lead_agency=partnership.police, rag_status="red")
        MembershipFactory(offender=person, cohort=Cohort.IOM)


def generation_queries(chair, meeting):
    from panels import services

    with CaptureQueriesContext(connection) as context:
        added = services.generate_agenda(chair, meeting)
    return len(added), len(context.captured_queries)


def test_agenda_generation_queries_do_not_grow_with_the_people_selected(partnership):
    from cases.models import AccessLogEntry

    chair, meeting = agenda_meeting(partnership)
    red_on_the_cohort(partnership, 2)
    few, small = generation_queries(chair, meeting)
    _, small_refresh = generation_queries(chair, meeting)  # the two already listed are refreshed
    red_on_the_cohort(partnership, 40)
    later = MeetingFactory(panel=meeting.panel, held_on=meeting.held_on + datetime.timedelta(days=28))
    many, large = generation_queries(chair, later)
    _, large_refresh = generation_queries(chair, later)
    assert (few, many) == (2, 42)
    assert large == small <= AGENDA_GENERATION_BUDGET
    assert large_refresh == small_refresh <= AGENDA_GENERATION_BUDGET
    # Every person put on the agenda is in the access log, by the chair, once.
    logged = AccessLogEntry.objects.filter(object_type="panels.agendaitem", action="create",
                                           detail=f"Put on the agenda of {later.reference}")
    assert sorted(logged.values_list("offender_id", flat=True)) == sorted(later.items.values_list("offender_id",
                                                                                                   flat=True))
    assert {(entry.username, entry.agency_id, entry.object_id) for entry in logged[:1]} == {
        (chair.username, partnership.police.pk, str(logged[0].offender_id))}


def test_dashboard_queries_do_not_grow_with_history(partnership, client_for, django_assert_max_num_queries):
    url = reverse("dashboard:index")
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
