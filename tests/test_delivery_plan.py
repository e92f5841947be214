"""The board's delivery plan: who keeps it, who reports progress, quarterly updates and the board pack."""

import csv
import datetime
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases.models import Role
from dashboard.models import Dimension, RollupValue
from dashboard.periods import Quarter
from delivery import services
from delivery.models import Objective, PlanAction, ProgressUpdate

from .factories import UserFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
THIS_QUARTER = Quarter.containing(TODAY)
LAST_QUARTER = THIS_QUARTER.previous()


@pytest.fixture
def plan(partnership):
    p = partnership
    p.board_admin = UserFactory(username="opcc.admin", agency=p.opcc, role=Role.AGENCY_ADMIN)
    p.objective = services.add_objective(p.analyst, number=1, title="Reduce reoffending by prolific offenders")
    p.housing_action = services.add_action(
        p.analyst, p.objective, description="Open a supported housing pathway for IOM releases",
        intended_outcome="Nobody on IOM released to no fixed abode", lead_agency=p.housing,
        lead_person="Sam Patel, housing options manager", due_on=TODAY + datetime.timedelta(days=180),
    )
    p.police_action = services.add_action(
        p.analyst, p.objective, description="Refresh the IOM cohort selection matrix",
        intended_outcome="Cohort matches the local priorities", lead_agency=p.police,
        lead_person="DI Ann Lowe", due_on=TODAY + datetime.timedelta(days=90),
    )
    return p


def test_the_boards_staff_keep_the_plan_and_nobody_else(plan, client_for):
    p = plan
    for user in (p.police_om, p.probation_om, p.housing_om, p.police_admin):
        with pytest.raises(PermissionDenied):
            services.add_objective(user, number=2, title="Something")
        assert client_for(user).post(reverse("delivery:objective_create"), {
            "number": "2", "title": "Something"}).status_code == 403
    response = client_for(p.board_admin).post(reverse("delivery:objective_create"), {
        "number": "2", "title": "Get people into work"})
    assert response.status_code == 302 and Objective.objects.filter(number=2).exists()
    duplicate = client_for(p.board_admin).post(reverse("delivery:objective_create"), {"number": "2", "title": "Again"})
    assert duplicate.status_code == 200 and "Objective 2 already exists." in duplicate.content.decode()
    url = reverse("delivery:action_create", args=[p.objective.pk])
    missing = client_for(p.analyst).post(url, {"description": "Jobcentre drop-in at the probation office"})
    assert missing.status_code == 200 and PlanAction.objects.count() == 2


def test_everyone_reads_the_plan_it_holds_no_personal_data(plan, client_for):
    p = plan
    for user in (p.analyst, p.police_reader, p.housing_om, p.probation_om):
        page = client_for(user).get(reverse("delivery:plan"))
        assert page.status_code == 200
        assert "Open a supported housing pathway" in page.content.decode()
        assert client_for(user).get(reverse("delivery:action", args=[p.housing_action.pk])).status_code == 200
    nobody = UserFactory(agency=None, role=Role.READ_ONLY)
    assert client_for(nobody).get(reverse("delivery:plan")).status_code == 403


def test_the_responsible_service_reports_quarterly_progress_with_evidence(plan, client_for):
    p = plan
    url = reverse("delivery:action", args=[p.housing_action.pk])
    client = client_for(p.housing_om)
    response = client.post(url, {
        "quarter": THIS_QUARTER.key, "rag": "amber",
        "narrative": "Twelve units agreed; two landlords still to sign.",
        "evidence": "https://sharepoint.example.org/housing/q3-report\nhttps://example.org/minutes",
    })
    assert response.status_code == 302
    update = ProgressUpdate.objects.get(action=p.housing_action)
    assert (update.quarter_start, update.rag, update.recorded_by) == (THIS_QUARTER.start, "amber", p.housing_om)
    assert update.evidence_links == ["https://sharepoint.example.org/housing/q3-report", "https://example.org/minutes"]

    # A second update for the same quarter corrects the first.
    client.post(url, {"quarter": THIS_QUARTER.key, "rag": "green", "narrative": "All fourteen units signed."})
    update = ProgressUpdate.objects.get(action=p.housing_action)
    assert (update.rag, update.narrative, update.evidence) == ("green", "All fourteen units signed.", "")

    bad_link = client.post(url, {"quarter": THIS_QUARTER.key, "rag": "green", "narrative": "x",
                                 "evidence": "javascript:alert(1)"})
    assert bad_link.status_code == 200 and "is not a web address" in bad_link.content.decode()
    no_narrative = client.post(url, {"quarter": THIS_QUARTER.key, "rag": "green", "narrative": " "})
    assert no_narrative.status_code == 200
    assert ProgressUpdate.objects.get(action=p.housing_action).narrative == "All fourteen units signed."

    # Other services read the action but cannot report on it; read-only staff of the service cannot either.
    for user in (p.police_om, p.probation_om, UserFactory(agency=p.housing, role=Role.READ_ONLY)):
        assert client_for(user).post(url, {"quarter": THIS_QUARTER.key, "rag": "red",
                                           "narrative": "Not theirs"}).status_code == 403
    with pytest.raises(ValidationError):
        services.record_progress(p.analyst, p.housing_action, quarter=THIS_QUARTER.next(), rag="green",
                                 narrative="Too early")
    assert "Report progress" not in client_for(p.police_om).get(url).content.decode()


def test_the_board_pack_puts_plan_progress_beside_the_measures(plan, client_for):
    p = plan
    services.record_progress(p.housing_om, p.housing_action, quarter=LAST_QUARTER, rag="red",
                             narrative="No landlords yet.")
    services.record_progress(p.housing_om, p.housing_action, quarter=THIS_QUARTER, rag="amber",
                             narrative="Twelve units agreed.", evidence="https://example.org/report")
    RollupValue.objects.create(
        measure="cohort_size", period_start=THIS_QUARTER.start, period_end=THIS_QUARTER.end,
        dimension=Dimension.ALL, slice_key="", numerator=1234, computed_at=timezone.now(),
    )
    client = client_for(p.analyst)
    page = client.get(reverse("delivery:pack"), {"quarter": THIS_QUARTER.key}).content.decode()
    assert f"Board pack: {THIS_QUARTER.label}" in page
    assert "Twelve units agreed." in page and "No landlords yet." not in page
    assert "People on a cohort" in page and "1,234" in page
    assert "Last update" not in page  # the police action has no update at all
    earlier = client.get(reverse("delivery:pack"), {"quarter": LAST_QUARTER.key}).content.decode()
    assert "No landlords yet." in earlier and "Twelve units agreed." not in earlier

    download = client.get(reverse("delivery:pack_csv"), {"quarter": THIS_QUARTER.key})
    assert download["Content-Disposition"] == f'attachment; filename="board-pack-{THIS_QUARTER.key}.csv"'
    header, *rows = list(csv.reader(io.StringIO(download.content.decode())))
    by_action = {row[2]: row for row in rows}
    housing = by_action["Open a supported housing pathway for IOM releases"]
    assert housing[4:] == ["Northtown Council Housing", "Sam Patel, housing options manager",
                           p.housing_action.due_on.isoformat(), "Amber: at risk", "Twelve units agreed.",
                           "https://example.org/report"]
    assert by_action["Refresh the IOM cohort selection matrix"][7] == "No update this quarter"
    measure = by_action["People on a cohort"]
    assert (measure[0], measure[7]) == ("Performance measure", "1,234")


def test_the_board_pack_reads_the_plan_in_a_fixed_number_of_queries(plan, client_for):
    p = plan
    client = client_for(p.analyst)

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("delivery:pack")).status_code == 200
        return len(captured)

    small = queries()
    for number in range(2, 6):
        objective = services.add_objective(p.analyst, number=number, title=f"Objective {number}")
        for _ in range(3):
            action = services.add_action(p.analyst, objective, description="Action", intended_outcome="Outcome",
                                         lead_agency=p.probation, lead_person="Lead", due_on=TODAY)
            services.record_progress(p.analyst, action, quarter=THIS_QUARTER, rag="green", narrative="Done")
    assert queries() == small
