"""The people feed (and export of case lists): matching by identifiers, updates, enrolments, refusals."""

import csv
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from cases.models import AccessLogEntry, Cohort, CohortMembership, Offender, RagChange
from feeds.catalogue import FEEDS
from feeds.importing import import_file
from feeds.models import ImportRun, ImportUpload, PossibleMatch
from feeds.reading import FeedFile, FileRejected

from .factories import OffenderFactory

SAMPLE = Path(__file__).parent / "data" / "people-import-sample.csv"
PEOPLE = FEEDS["people"]
COLUMN_NAMES = PEOPLE.column_names


def run_people(user, content, *, dry_run=False, name="people.csv"):
    content = content if isinstance(content, bytes) else content.encode()
    run = ImportRun.objects.create(kind="people", filename=name, channel="command", user=user, agency=user.agency)
    return import_file(PEOPLE, user, FeedFile(name, content=content), dry_run=dry_run, run=run)


def sample():
    return SAMPLE.read_text()


def outcomes(report):
    rows = report.rejected_rows + report.changed_rows + report.possible_rows
    return {row["row"]: row["outcome"] for row in rows}


def record_counts():
    return (Offender.objects.count(), CohortMembership.objects.count(), RagChange.objects.count(),
            AccessLogEntry.objects.count(), list(Offender.objects.order_by("pk").values_list("version", flat=True)))


def test_the_sample_file_has_every_documented_column():
    header = SAMPLE.read_text().splitlines()[0].split(",")
    assert header == COLUMN_NAMES


def test_dry_run_reports_each_row_and_writes_nothing(partnership):
    before = record_counts()
    report = run_people(partnership.police_om, sample(), dry_run=True)
    assert record_counts() == before
    assert outcomes(report) == {2: "updated", 3: "created", 4: "created", 5: "created"}
    update = report.changed_rows[0]
    assert update["person"] == "Jordan Ashworth"
    assert "joins DIP" in update["changes"] and "RAG none to red" in update["changes"]


def test_import_applies_everything_in_one_go_and_logs_each_person(partnership):
    report = run_people(partnership.police_om, sample())
    assert report.applied and report.line() == "created 3, updated 1, unchanged 0, rejected 0, possible matches 0"
    morgan = Offender.objects.get(pnc_number="2018/0000001A")
    assert morgan.lead_agency == partnership.police and morgan.care_leaver and morgan.rag_status == "amber"
    assert morgan.cohort_memberships.get().description == "IOM (fixed)"
    taylor = Offender.objects.get(crn="B000003")
    assert taylor.cohort_memberships.get().description == "MAPPA category 2, level 2"
    jordan = partnership.iom_person
    jordan.refresh_from_db()
    assert jordan.rag_status == "red" and jordan.version == 1  # a RAG change alone is not a new version
    assert jordan.rag_changes.get().source == RagChange.Source.IMPORT
    assert set(jordan.cohort_memberships.values_list("cohort", flat=True)) == {Cohort.IOM, Cohort.DIP}
    logged = AccessLogEntry.objects.filter(action=AccessLogEntry.Action.IMPORT)
    assert logged.count() == 4 and logged.first().detail == "Imported from people.csv"


def test_reimporting_the_same_file_changes_nothing(partnership):
    run_people(partnership.police_om, sample())
    before = record_counts()
    report = run_people(partnership.police_om, sample())
    assert report.line() == "created 0, updated 0, unchanged 4, rejected 0, possible matches 0"
    assert record_counts() == before


def test_one_bad_row_writes_nothing_and_is_reported_with_its_reason(partnership):
    text = sample() + "2018/0000009Z,,,Pat,Wrong,31/02/1990,male,,,,nowhere,,,,,,,,,,,\n"
    before = record_counts()
    report = run_people(partnership.police_om, text)
    assert not report.applied and report.counts["rejected"] == 1
    bad = report.rejected_rows[0]
    assert bad["row"] == 6
    assert any(reason.startswith("date_of_birth:") for reason in bad["reasons"])
    assert any(reason.startswith("area:") for reason in bad["reasons"])
    assert record_counts() == before


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (",,,Pat,Nobody,1990-01-01,male,,,,northtown", "Give a PNC number or CRN"),
        ("not-a-pnc,,,Pat,Nobody,1990-01-01,male,,,,northtown", "PNC number in the format"),
        ("2018/0000007G,,,Pat,,,,,,,", "To add them, give last_name, date_of_birth, gender, area"),
        ("2018/0000007G,X123456,,Pat,Nobody,1990-01-01,male,,,,northtown", "is not Jordan Ashworth's"),
        ("2015/0123456X,,,,,,,,,,,,,,,,,iom,,,", "already"),  # already on IOM: unchanged, not rejected
        ("2018/0000007G,,,Pat,Nobody,1990-01-01,male,,,,northtown,,,,,,,mappa,,,", "MAPPA category and level"),
        ("2018/0000007G,,,Pat,Nobody,1990-01-01,alien,,,,northtown", "gender: Use one of"),
    ],
)
def test_rows_are_rejected_with_a_reason(partnership, row, reason):
    header = ",".join(COLUMN_NAMES)
    report = run_people(partnership.police_om, f"{header}\n{row}\n", dry_run=True)
    if reason == "already":
        assert report.counts["unchanged"] == 1
        return
    assert report.counts["rejected"] == 1
    assert any(reason in text for text in report.rejected_rows[0]["reasons"]), report.rejected_rows


def test_the_same_person_twice_in_a_file_is_rejected(partnership):
    text = "pnc_number,crn,rag_status\n2015/0123456X,,red\n,X123456,green\n2015/0123456X,,amber\n"
    report = run_people(partnership.police_om, text, dry_run=True)
    assert outcomes(report) == {2: "updated", 3: "rejected", 4: "rejected"}
    assert "row 2" in report.rejected_rows[0]["reasons"][0]


def test_people_are_matched_by_pnc_then_crn(partnership):
    crn_only = OffenderFactory(crn="C111111", lead_agency=partnership.police, area=partnership.area)
    report = run_people(partnership.police_om, "pnc,crn,surname\n2017/0000001C,C111111,Renamed\n")
    assert report.counts["updated"] == 1
    crn_only.refresh_from_db()
    assert crn_only.pnc_number == "2017/0000001C" and crn_only.last_name == "Renamed"
    assert crn_only.version == 2


def test_a_person_the_agency_may_not_see_is_neither_changed_nor_duplicated_nor_disclosed(partnership):
    hidden = partnership.police_only_person
    text = "pnc_number,first_names,last_name,date_of_birth,gender,area\n2019/0000042Z,A,B,1990-01-01,male,northtown\n"
    before = record_counts()
    report = run_people(partnership.probation_om, text)
    assert report.line() == "created 0, updated 0, unchanged 0, rejected 0, possible matches 1"
    assert "Blackwood" not in str(report.as_json()) and "Casey" not in str(report.as_json())
    assert record_counts()[0] == before[0] and Offender.objects.filter(pnc_number="2019/0000042Z").count() == 1
    # The row waits for the person's lead agency, not for the agency that sent it.
    held = PossibleMatch.objects.get()
    assert held.review_agency == partnership.police and list(held.candidates.all()) == [hidden]
    assert not PossibleMatch.objects.for_review_by(partnership.probation_om).exists()
    assert PossibleMatch.objects.for_review_by(partnership.police_om).get() == held


def test_a_possible_match_on_someone_unseen_reads_exactly_like_one_on_someone_seen(partnership):
    header = "pnc_number,first_names,last_name,date_of_birth,gender,area\n"
    unseen = run_people(partnership.probation_om, header + "2019/0000042Z,A,B,1990-01-01,male,northtown\n",
                        dry_run=True)
    seen = run_people(partnership.probation_om, header + "2018/0000077K,Jordan,Ashworth,1990-05-17,male,northtown\n",
                      dry_run=True)
    assert unseen.possible_rows[0]["reasons"] == seen.possible_rows[0]["reasons"]
    assert unseen.possible_rows[0]["person"] == ""


def test_a_partner_may_enrol_a_person_they_see_but_not_change_their_details(partnership):
    enrol = run_people(partnership.probation_om, "pnc_number,cohort\n2015/0123456X,dip\n", dry_run=True)
    assert enrol.counts["updated"] == 1
    rename = run_people(partnership.probation_om, "pnc_number,last_name\n2015/0123456X,Other\n", dry_run=True)
    assert rename.counts["rejected"] == 1
    assert "Only the lead agency" in rename.rejected_rows[0]["reasons"][0]


def test_unreadable_files_are_refused_with_a_reason(partnership):
    for name, content, message in [
        ("people.pdf", b"%PDF", "must be a CSV"),
        ("people.csv", b"", "empty"),
        ("people.csv", b"name,age\nA,1\n", "must name"),
        ("people.xlsx", b"not a zip", "could not be read"),
    ]:
        with pytest.raises(FileRejected, match=message):
            run_people(partnership.police_om, content, name=name)


def xlsx_bytes(rows):
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_excel_file_reads_like_a_csv(partnership):
    import datetime

    content = xlsx_bytes([
        ["PNC number", "CRN", "First names", "Last name", "Date of birth", "Gender", "Area", "Notes"],
        ["2018/0000005E", None, "Sam", "Sheet", datetime.datetime(1991, 4, 1), "Male", "Northtown", "x"],
    ])
    report = run_people(partnership.police_om, content, name="people.xlsx")
    assert report.ignored_columns == ["notes"]
    assert report.counts["created"] == 1
    assert Offender.objects.get(pnc_number="2018/0000005E").date_of_birth == datetime.date(1991, 4, 1)


# --- browser pages ---------------------------------------------------------------------------


def upload(client, name, content, kind="people"):
    return client.post("/feeds/", {"kind": kind, "file": SimpleUploadedFile(name, content)})


def test_upload_preview_and_confirm_in_the_browser(partnership, client_for):
    client = client_for(partnership.police_om)
    assert client.get("/feeds/").status_code == 200
    response = upload(client, "people.csv", SAMPLE.read_bytes())
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Check the import" in page and "Import the file" in page
    assert Offender.objects.count() == 2  # nothing written by the check
    done = client.post(response["Location"] + "apply/", follow=True)
    assert "Import complete" in done.content.decode()
    assert Offender.objects.count() == 5
    again = client.get(upload(client, "people.csv", SAMPLE.read_bytes())["Location"]).content.decode()
    assert "Import the file" not in again and "apply/" not in again


def test_upload_with_a_bad_row_shows_the_row_and_offers_no_import(partnership, client_for):
    client = client_for(partnership.police_om)
    text = sample() + "2018/0000009Z,,,Pat,Wrong,1990-01-01,male,,,,nowhere,,,,,,,,,,,\n"
    location = upload(client, "people.csv", text.encode())["Location"]
    page = client.get(location).content.decode()
    assert "1 row cannot be imported" in page and "No area with this code or name" in page
    assert client.post(location + "apply/").status_code == 302
    assert Offender.objects.count() == 2


def test_upload_errors_are_shown_on_the_form(partnership, client_for):
    client = client_for(partnership.police_om)
    missing = client.post("/feeds/", {"kind": "people"})
    assert "Select a CSV or Excel file" in missing.content.decode()
    wrong = upload(client, "people.txt", b"pnc_number\n2015/0123456X\n")
    assert wrong.status_code == 302
    assert "must be a CSV" in client.get(wrong["Location"]).content.decode()
    template = client.get("/feeds/people/template.csv")
    assert next(csv.reader(io.StringIO(template.content.decode()))) == COLUMN_NAMES


def test_only_case_workers_may_import_and_runs_are_shown_to_their_importer_and_agency_admins(partnership, client_for):
    for user in (partnership.analyst, partnership.police_reader):
        client = client_for(user)
        assert client.get("/feeds/").status_code == 403
        assert upload(client, "people.csv", SAMPLE.read_bytes()).status_code == 403
    location = upload(client_for(partnership.police_om), "people.csv", SAMPLE.read_bytes())["Location"]
    admin = client_for(partnership.police_admin)
    assert admin.get(location).status_code == 200
    assert "people.csv" in admin.get("/feeds/runs/").content.decode()
    assert admin.post(location + "apply/").status_code == 403  # only the importer applies their own check
    for outsider in (partnership.probation_om, partnership.housing_om, partnership.police_reader):
        client = client_for(outsider)
        assert client.get(location).status_code == 404
        assert "people.csv" not in client.get("/feeds/runs/").content.decode()
    assert client_for(partnership.analyst).get(location).status_code == 404
    assert Offender.objects.count() == 2


def big_file(count, start=0):
    lines = [",".join(COLUMN_NAMES[:11] + ["rag_status", "cohort"])]
    for n in range(start, start + count):
        lines.append(f"2020/{n:07d}A,P{n:06d},,Person,Number{n},1980-01-01,male,white,,NT1 1AA,northtown,amber,dip")
    return "\n".join(lines).encode()


def test_a_large_file_is_checked_and_imported_by_the_worker(partnership, client_for, settings):
    from feeds import runs

    client = client_for(partnership.police_om)
    location = upload(client, "big.csv", big_file(runs.BACKGROUND_ROWS + 500))["Location"]
    run = ImportRun.objects.get()
    assert run.status == "checked" and run.rows_total == runs.BACKGROUND_ROWS + 500
    client.post(location + "apply/")
    assert Offender.objects.count() == 2 + runs.BACKGROUND_ROWS + 500
    run.refresh_from_db()
    assert run.status == "applied" and not ImportUpload.objects.filter(run=run).exists()


# --- export ----------------------------------------------------------------------------------


def test_export_csv_respects_visibility_is_formula_safe_and_logged(partnership, client_for):
    OffenderFactory(first_names="=HYPERLINK(\"http://x\")", lead_agency=partnership.probation, area=partnership.area)
    client = client_for(partnership.probation_om)
    assert client.get("/cases/export/").status_code == 200
    response = client.get("/cases/export/", {"download": "csv"})
    assert response.status_code == 200
    table = list(csv.reader(io.StringIO(response.content.decode())))
    assert table[0][:2] == ["pnc_number", "crn"]
    names = {row[4] for row in table[1:]}
    assert "Ashworth" in names and "Blackwood" not in names
    assert any(row[3].startswith("'=HYPERLINK") for row in table[1:])
    assert AccessLogEntry.objects.filter(action="export", username="probation.om").count() == len(table) - 1


def test_export_a_cohort_list_as_xlsx(partnership, client_for):
    client = client_for(partnership.police_om)
    response = client.get("/cases/export/", {"download": "xlsx", "cohort": "iom"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2 and rows[1][4] == "Ashworth" and rows[1][12] == "IOM (fixed)"


def test_analysts_cannot_export_people(partnership, client_for):
    assert client_for(partnership.analyst).get("/cases/export/", {"download": "csv"}).status_code == 403
