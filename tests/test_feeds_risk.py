"""Risk by feed: risk of serious harm, tier and predictor scores arrive from the system that holds them and join
the person's risk history with who and when, under the same rules as risk typed in."""

import datetime

import pytest
from django.utils import timezone

from cases.models import AccessLogEntry
from risk.models import RiskAssessment, RiskScore
from risk.sections import case_overview_context

from .test_feeds import SAMPLES, load_samples, run_feed

pytestmark = pytest.mark.django_db
HEADER = ("source_system,source_reference,pnc_number,crn,prison_number,first_names,last_name,date_of_birth,"
          "measure,assessed_on,level,tier,score,band,notes\n")


def row(reference, measure="rosh", assessed_on="2026-01-12", level="high", tier="b2", score="", band="", notes="",
        pnc="2015/0123456X"):
    return f"ndelius,{reference},{pnc},,,,,,{measure},{assessed_on},{level},{tier},{score},{band},{notes}\n"


def test_the_sample_file_builds_each_persons_risk_history(partnership):
    reports = load_samples(partnership.police_om)
    assert reports["risk"].counts["created"] == 8
    alfie = RiskAssessment.objects.filter(offender__pnc_number="2011/0900001A")
    assert [(a.rosh_level, a.tier) for a in alfie.latest_first()] == [("medium", "B3"), ("high", "B2")]
    latest = alfie.latest_first().first()
    assert (latest.agency, latest.recorded_by, latest.source_system) == (
        partnership.police, partnership.police_om, "ndelius")
    ogrs = RiskScore.objects.get(source_reference="OASYS-102")
    assert (ogrs.kind, str(ogrs.score), ogrs.band) == ("ogrs_2", "78.50", "very_high")
    assert RiskScore.objects.get(source_reference="OASYS-303").score is None  # a band alone is enough
    assert AccessLogEntry.objects.filter(action="import", object_type="risk.riskassessment").count() == 4


def test_the_overview_shows_imported_risk_as_it_shows_risk_typed_in(partnership):
    p = partnership
    report = run_feed("risk", p.police_om, HEADER + row("R-1", level="very_high", tier="a3")
                      + row("R-2", measure="rsr", level="", tier="", score="7.25%", band="high"))
    assert report.counts["created"] == 2, report.rejected_rows
    overview = case_overview_context(p.iom_person, p.police_om)
    assert overview["assessment"].get_rosh_level_display() == "Very high"
    assert overview["assessment"].tier == "A3"
    assert [str(score) for score in overview["latest_scores"]] == ["RSR (serious reoffending) 7.25%, high"]


@pytest.mark.parametrize("line, reason", [
    (row("R-1", level=""), "level: Give the risk of serious harm"),
    (row("R-1", score="50"), "score: Only for predictor scores"),
    (row("R-1", measure="ogp", level="high", tier=""), "level: Only for rosh rows"),
    (row("R-1", measure="ogp", level="", tier="", score="", band=""), "Give the score, its band, or both."),
    (row("R-1", measure="ogp", level="", tier="", score="140"), "A score is a percentage from 0 to 100."),
    (row("R-1", measure="ogp", level="", tier="", score="high"), "score: Enter the score as a percentage"),
    (row("R-1", tier="E5"), "Enter the tier as a letter from A to D and a number from 0 to 3, like A3."),
    (row("R-1", measure="oasys"), "measure: Use one of rosh, ogrs_1"),
    (row("R-1", assessed_on=(timezone.localdate() + datetime.timedelta(days=2)).isoformat()),
     "The date of the assessment cannot be in the future."),
])
def test_bad_risk_rows_are_rejected_with_their_reason_and_nothing_is_written(partnership, line, reason):
    report = run_feed("risk", partnership.police_om, HEADER + row("R-0") + line)
    assert report.counts["rejected"] == 1
    assert any(reason in message for message in report.rejected_rows[0]["reasons"]), report.rejected_rows[0]["reasons"]
    assert not RiskAssessment.objects.exists() and not RiskScore.objects.exists()


def test_a_corrected_row_corrects_the_assessment_it_made_and_a_second_run_changes_nothing(partnership):
    p = partnership
    run_feed("risk", p.police_om, HEADER + row("R-1", tier="B2"))
    again = run_feed("risk", p.police_om, HEADER + row("R-1", tier="B2"))
    assert (again.counts["created"], again.counts["updated"]) == (0, 0)
    corrected = run_feed("risk", p.police_om, HEADER + row("R-1", tier="B1"))
    assert corrected.counts["updated"] == 1
    assert RiskAssessment.objects.get().tier == "B1"
    assert AccessLogEntry.objects.filter(action="change", object_type="risk.riskassessment").exists()


def test_a_row_for_someone_the_importer_may_not_see_changes_nothing(partnership):
    report = run_feed("risk", partnership.housing_om, HEADER + row("R-1"))
    assert report.counts["rejected"] == 1
    assert "No one on the record you can see matches this row" in report.rejected_rows[0]["reasons"][0]
    assert not RiskAssessment.objects.exists()


def test_the_sample_file_has_the_feeds_columns():
    assert (SAMPLES / "risk.csv").read_text().splitlines()[0] + "\n" == HEADER
