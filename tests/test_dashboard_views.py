"""The dashboard pages: what analysts, the board and case workers see, and what they may not."""

import csv
import datetime
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from cases.models import AccessLogEntry, Cohort, CohortMembership, Role, Supervision
from dashboard.figures import default_quarter
from dashboard.models import Dimension, RollupRun, RollupValue
from dashboard.rollup import run_rollup
from tests.factories import AgencyFactory, MembershipFactory, OffenderFactory, UserFactory

QUARTER = default_quarter()
JOIN_DAY = QUARTER.start + datetime.timedelta(days=10)


def join(people, cohort=Cohort.IOM):
    for person in people:
        MembershipFactory(offender=person, cohort=cohort, started_on=JOIN_DAY)


@pytest.fixture(autouse=True)
def settled_partnership(partnership):
    """The shared partnership's IOM case joined long ago, so each test's joiners are the quarter's only ones."""
    CohortMembership.objects.filter(offender=partnership.iom_person).update(
        started_on=QUARTER.start - datetime.timedelta(days=400)
    )
    return partnership


@pytest.fixture
def small_cohort(partnership):
    """Three police-led IOM joiners starting community orders (a disclosive small number)."""
    people = [OffenderFactory(area=partnership.area, lead_agency=partnership.police) for _ in range(3)]
    join(people)
    for person in people:
        Supervision.objects.create(offender=person, kind=Supervision.Kind.COMMUNITY_ORDER, started_on=JOIN_DAY,
                                   responsible_agency=partnership.probation)
    run_rollup(quarters=[QUARTER.previous(), QUARTER])
    return people


@pytest.fixture
def large_cohort(partnership):
    people = [OffenderFactory(area=partnership.area, lead_agency=partnership.police) for _ in range(12)]
    join(people)
    run_rollup(quarters=[QUARTER.previous(), QUARTER])
    return people


def page_text(response):
    return response.content.decode()


class TestSignIn:
    def test_analyst_starts_at_the_dashboard_and_case_worker_at_the_case_list(self, partnership, client_for):
        assert client_for(partnership.analyst).get("/").url == reverse("dashboard:index")
        assert client_for(partnership.police_om).get("/").url == reverse("cases:list")


class TestDisclosureControl:
    def test_analyst_sees_small_counts_as_not_shown(self, partnership, small_cohort, client_for):
        response = client_for(partnership.analyst).get(reverse("dashboard:index"))
        assert response.status_code == 200
        assert "Not shown" in page_text(response)
        entries = RollupValue.objects.get(
            measure="cohort_entries", period_start=QUARTER.start, dimension=Dimension.ALL
        )
        assert entries.numerator == 3 and entries.numerator_hidden

    def test_analyst_export_hides_small_counts(self, partnership, small_cohort, client_for):
        response = client_for(partnership.analyst).get(
            reverse("dashboard:export", args=["cohort_entries", "csv"]), {"quarter": QUARTER.key}
        )
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[-1][1] == "Not shown"
        assert "3" not in [row[1] for row in rows[1:]]

    def test_percentages_built_on_small_numbers_are_not_shown(self, partnership, small_cohort, client_for):
        response = client_for(partnership.analyst).get(
            reverse("dashboard:export", args=["proven_reoffending", "csv"]), {"quarter": QUARTER.key}
        )
        last = list(csv.reader(io.StringIO(response.content.decode())))[-1]
        assert last[1:] == ["Not shown", "Not shown", "Not shown"]  # rate, none of them reoffended (0), the 3

    def test_case_workers_get_the_same_protected_figures(self, partnership, small_cohort, client_for):
        response = client_for(partnership.police_om).get(
            reverse("dashboard:export", args=["cohort_entries", "csv"]), {"quarter": QUARTER.key}
        )
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        assert rows[-1][1] == "Not shown"

    def test_large_counts_are_shown_to_analysts(self, partnership, large_cohort, client_for):
        response = client_for(partnership.analyst).get(
            reverse("dashboard:export", args=["cohort_entries", "xlsx"]), {"quarter": QUARTER.key}
        )
        sheet = load_workbook(io.BytesIO(response.content)).active
        assert list(sheet.iter_rows(values_only=True))[-1][1] == 12

    def test_the_version_for_publication_rounds_counts_to_the_nearest_five(self, partnership, large_cohort,
                                                                          client_for):
        client = client_for(partnership.analyst)
        response = client.get(reverse("dashboard:export", args=["cohort_entries", "csv"]),
                              {"quarter": QUARTER.key, "public": "1"})
        assert list(csv.reader(io.StringIO(response.content.decode())))[-1][1] == "10"
        report = client.get(reverse("dashboard:report"), {"public": "1"})
        assert "rounded to the nearest 5" in page_text(report)
        api = client.get("/api/v1/measures/cohort_entries/", {"quarter": QUARTER.key, "public": "true"}).json()
        assert api["figures"][-1]["headline"]["value"] == 10.0


class TestDrillDown:
    def people_url(self, **extra):
        return reverse("dashboard:people", args=["cohort_entries"]) + "?" + "&".join(
            f"{k}={v}" for k, v in {"quarter": QUARTER.key, **extra}.items()
        )

    def test_analyst_is_refused_the_people_behind_a_number(self, partnership, large_cohort, client_for):
        response = client_for(partnership.analyst).get(self.people_url())
        assert response.status_code == 403

    def test_analyst_page_offers_no_drill_down_links(self, partnership, large_cohort, client_for):
        response = client_for(partnership.analyst).get(reverse("dashboard:index"))
        assert reverse("dashboard:people", args=["cohort_entries"]) not in page_text(response)

    def test_case_worker_sees_only_the_people_the_case_list_shows(self, partnership, client_for):
        ours = [OffenderFactory(area=partnership.area, lead_agency=partnership.police) for _ in range(2)]
        theirs = [OffenderFactory(area=partnership.area, lead_agency=partnership.housing) for _ in range(3)]
        join(ours + theirs, Cohort.DIP)  # no sharing agreement covers DIP
        run_rollup(quarters=[QUARTER])
        client = client_for(partnership.police_om)

        index = client.get(reverse("dashboard:index"))
        assert reverse("dashboard:people", args=["cohort_entries"]) in page_text(index)
        response = client.get(self.people_url())

        assert response.status_code == 200
        listed = set(response.context["page"].object_list)
        assert listed == set(ours)
        assert response.context["counted"] == 5
        assert AccessLogEntry.objects.filter(
            user=partnership.police_om, action=AccessLogEntry.Action.SEARCH, detail__contains="drill-down"
        ).exists()

    def test_the_people_behind_a_hidden_figure_do_not_give_its_size_away(self, partnership, client_for):
        ours = [OffenderFactory(area=partnership.area, lead_agency=partnership.police) for _ in range(2)]
        theirs = [OffenderFactory(area=partnership.area, lead_agency=partnership.housing) for _ in range(1)]
        join(ours + theirs, Cohort.DIP)  # 3 joined: a hidden figure
        run_rollup(quarters=[QUARTER])

        response = client_for(partnership.police_om).get(self.people_url())

        assert set(response.context["page"].object_list) == set(ours)
        assert response.context["counted"] is None
        assert "The figure is not shown" in page_text(response)

    def test_probation_sees_people_on_cohorts_shared_with_it(self, partnership, client_for):
        iom = [OffenderFactory(area=partnership.area, lead_agency=partnership.police) for _ in range(2)]
        join(iom, Cohort.IOM)
        dip = OffenderFactory(area=partnership.area, lead_agency=partnership.police)
        join([dip], Cohort.DIP)
        run_rollup(quarters=[QUARTER])

        response = client_for(partnership.probation_om).get(self.people_url())

        assert set(response.context["page"].object_list) == set(iom)

    @pytest.mark.parametrize("query", [
        {"quarter": "2026-02-30"}, {"quarter": "2026-02-01"}, {"quarter": ""},
        {"quarter": "2025-04-01", "dimension": "shoe_size"},
        {"quarter": "2025-04-01", "dimension": "area", "key": "999999"},
        {"quarter": "2025-04-01", "category": "purple"},
    ])
    def test_bad_drill_down_requests_are_a_clear_400(self, partnership, client_for, query):
        response = client_for(partnership.police_om).get(
            reverse("dashboard:people", args=["cohort_entries"]), query
        )
        assert response.status_code == 400

    def test_unknown_measure_is_404(self, partnership, client_for):
        response = client_for(partnership.police_om).get(reverse("dashboard:people", args=["nothing"]))
        assert response.status_code == 404


class TestPages:
    @pytest.mark.parametrize("name", ["dashboard:index", "dashboard:report"])
    def test_query_count_does_not_grow_with_the_data(
        self, partnership, client_for, django_assert_max_num_queries, name
    ):
        client = client_for(partnership.analyst)
        run_rollup(quarters=[QUARTER])
        with django_assert_max_num_queries(15) as small:
            client.get(reverse(name))
        people = [OffenderFactory(area=partnership.area, lead_agency=AgencyFactory(area=partnership.area))
                  for _ in range(30)]
        join(people)
        join(people[:10], Cohort.DIP)
        run_rollup(quarters=[QUARTER.previous(), QUARTER])
        with django_assert_max_num_queries(len(small.captured_queries)):
            response = client.get(reverse(name))
        assert response.status_code == 200

    def test_measure_page_query_count_does_not_grow_with_the_slices(
        self, partnership, client_for, django_assert_max_num_queries
    ):
        client = client_for(partnership.police_om)
        url = reverse("dashboard:measure", args=["cohort_entries"]) + "?by=agency"
        run_rollup(quarters=[QUARTER])
        with django_assert_max_num_queries(15) as small:
            client.get(url)
        for _ in range(15):
            join([OffenderFactory(area=partnership.area, lead_agency=AgencyFactory(area=partnership.area))])
        run_rollup(quarters=[QUARTER.previous(), QUARTER])
        with django_assert_max_num_queries(len(small.captured_queries)):
            response = client.get(url)
        assert len(response.context["breakdown"]) >= 15

    def test_breakdown_shows_the_change_on_the_previous_quarter(self, partnership, client_for):
        join([OffenderFactory(area=partnership.area, lead_agency=partnership.police) for _ in range(9)])
        earlier = [OffenderFactory(area=partnership.area, lead_agency=partnership.police) for _ in range(6)]
        for person in earlier:
            MembershipFactory(offender=person, cohort=Cohort.IOM, started_on=QUARTER.previous().start)
        run_rollup(quarters=[QUARTER.previous(), QUARTER])
        response = client_for(partnership.police_om).get(
            reverse("dashboard:measure", args=["cohort_entries"]), {"quarter": QUARTER.key, "by": "area"}
        )
        northtown = next(row for row in response.context["breakdown"] if row[0] == partnership.area.name)
        assert northtown[1].text == "9"
        assert northtown[2] == "Up 3 (50%)"

    def test_pages_have_no_inline_scripts_or_styles(self, partnership, large_cohort, client_for):
        client = client_for(partnership.police_om)
        for url in [reverse("dashboard:index"), reverse("dashboard:report"),
                    reverse("dashboard:measure", args=["rag_mix"]),
                    reverse("dashboard:measure", args=["proven_reoffending"]) + "?by=age_band"]:
            html = page_text(client.get(url))
            assert "style=" not in html
            assert "<style" not in html
            assert "<script>" not in html and "<script type=\"text/javascript\">" not in html
            assert "<svg" in html

    def test_filter_by_area_and_quarter(self, partnership, large_cohort, client_for):
        response = client_for(partnership.analyst).get(
            reverse("dashboard:index"), {"quarter": QUARTER.key, "area": str(partnership.area.pk)}
        )
        assert response.context["dimension"] == Dimension.AREA
        assert f"area: {partnership.area.name}" in page_text(response)

    def test_two_breakdowns_at_once_is_a_form_error_not_a_crash(self, partnership, client_for):
        response = client_for(partnership.analyst).get(
            reverse("dashboard:index"), {"quarter": QUARTER.key, "area": str(partnership.area.pk), "gender": "male"}
        )
        assert response.status_code == 200
        assert "Choose one of area" in page_text(response)

    def test_stale_figures_are_flagged(self, partnership, large_cohort, client_for):
        three_days_ago = timezone.now() - datetime.timedelta(days=3)
        RollupRun.objects.update(finished_at=three_days_ago)
        RollupValue.objects.update(computed_at=three_days_ago)
        response = client_for(partnership.analyst).get(reverse("dashboard:index"))
        assert "out of date" in page_text(response)


class TestRecalculate:
    def test_analyst_queues_a_run_and_sees_when_it_last_succeeded(
        self, partnership, client_for, django_capture_on_commit_callbacks
    ):
        client = client_for(partnership.analyst)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("dashboard:recalculate"))
        assert response.status_code == 302
        run = RollupRun.objects.get()
        assert run.requested_by == partnership.analyst
        assert run.status == RollupRun.Status.SUCCEEDED and run.progress == 100
        page = page_text(client.get(reverse("dashboard:index")))
        assert "Figures calculated at" in page
        status = client.get(reverse("dashboard:status")).json()
        assert status["status"] == "succeeded" and status["stale"] is False

    def test_case_worker_may_not_recalculate(self, partnership, client_for):
        response = client_for(partnership.police_om).post(reverse("dashboard:recalculate"))
        assert response.status_code == 403
        assert not RollupRun.objects.exists()

    def test_a_second_click_while_running_does_not_queue_another(self, partnership, client_for):
        RollupRun.objects.create(status=RollupRun.Status.RUNNING, progress=40)
        client_for(partnership.analyst).post(reverse("dashboard:recalculate"))
        assert RollupRun.objects.count() == 1

    def test_progress_is_shown_while_running(self, partnership, client_for):
        RollupRun.objects.create(status=RollupRun.Status.RUNNING, progress=40, step="Calculating cohort exits")
        html = page_text(client_for(partnership.analyst).get(reverse("dashboard:index")))
        assert 'value="40"' in html and "Calculating cohort exits" in html


class TestExports:
    def test_exports_are_formula_safe(self, partnership, client_for):
        # A slice label typed by an administrator becomes a spreadsheet cell in the breakdown export.
        AgencyFactory(name="=HYPERLINK(\"http://example.org\")", area=partnership.area)
        run_rollup(quarters=[QUARTER])
        client = client_for(partnership.analyst)
        for file_format in ("csv", "xlsx"):
            response = client.get(
                reverse("dashboard:export", args=["cohort_size", file_format]),
                {"quarter": QUARTER.key, "table": "breakdown", "by": "agency"},
            )
            assert response.status_code == 200
            if file_format == "csv":
                cells = [row[0] for row in csv.reader(io.StringIO(response.content.decode()))]
            else:
                sheet = load_workbook(io.BytesIO(response.content)).active
                cells = [row[0] for row in sheet.iter_rows(values_only=True)]
            assert "'=HYPERLINK(\"http://example.org\")" in cells
            assert not any(str(cell).startswith("=") for cell in cells)


def test_board_report_prints_every_measure(partnership, large_cohort, client_for):
    response = client_for(UserFactory(agency=partnership.opcc, role=Role.ANALYST)).get(reverse("dashboard:report"))
    html = page_text(response)
    for label in ["Proven reoffending rate", "RAG status at the end of the quarter", "Enforcement actions"]:
        assert label in html


def test_a_hidden_category_cannot_be_worked_out_from_the_total(partnership, client_for):
    from cases.models import RagChange

    at = timezone.make_aware(datetime.datetime.combine(JOIN_DAY, datetime.time(12)))
    for colour, count in (("red", 3), ("amber", 9), ("green", 20)):
        for _ in range(count):
            person = OffenderFactory(area=partnership.area, lead_agency=partnership.police)
            RagChange.objects.create(offender=person, to_status=colour, reason="Reviewed", changed_at=at)
    run_rollup(quarters=[QUARTER])
    response = client_for(partnership.analyst).get(
        reverse("dashboard:export", args=["rag_mix", "csv"]), {"quarter": QUARTER.key}
    )
    header, *rows = list(csv.reader(io.StringIO(response.content.decode())))
    shown = dict(zip(header, rows[-1], strict=True))
    assert shown["Red"] == "Not shown"
    # With the total and two colours shown, red would be the total less the other two.
    assert [shown[column] for column in ("Amber", "Green", "Total")].count("Not shown") >= 1
