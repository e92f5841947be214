"""Bulk import of people and cohort lists, and export of case lists."""

import csv
import io
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from cases import imports
from cases.models import AccessLogEntry, Cohort, CohortMembership, Offender, RagChange

from .factories import OffenderFactory

SAMPLE = Path(__file__).parent / "data" / "people-import-sample.csv"


def rows_of(text):
    return imports.read_rows("people.csv", text.encode())[0]


def sample_rows():
    return imports.read_rows(SAMPLE.name, SAMPLE.read_bytes())[0]


def record_counts():
    return (Offender.objects.count(), CohortMembership.objects.count(), RagChange.objects.count(),
            AccessLogEntry.objects.count(), list(Offender.objects.order_by("pk").values_list("version", flat=True)))


def test_the_sample_file_has_every_documented_column():
    header = SAMPLE.read_text().splitlines()[0].split(",")
    assert header == imports.COLUMN_NAMES


def test_dry_run_reports_each_row_and_writes_nothing(partnership):
    before = record_counts()
    plan = imports.check_rows(partnership.police_om, sample_rows())
    assert record_counts() == before
    outcomes = {r.row: r.outcome for r in plan.results}
    assert outcomes == {2: "updated", 3: "created", 4: "created", 5: "created"}
    update = plan.results[0]
    assert update.name == "Jordan Ashworth"
    assert "joins DIP" in update.changes and "RAG none to red" in update.changes


def test_import_applies_everything_in_one_go_and_logs_each_person(partnership):
    report = imports.apply_rows(partnership.police_om, sample_rows(), filename="people.csv")
    assert report["applied"] and report["counts"] == {"created": 3, "updated": 1, "unchanged": 0, "rejected": 0}
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
    imports.apply_rows(partnership.police_om, sample_rows(), filename="people.csv")
    before = record_counts()
    report = imports.apply_rows(partnership.police_om, sample_rows(), filename="people.csv")
    assert report["counts"] == {"created": 0, "updated": 0, "unchanged": 4, "rejected": 0}
    assert record_counts() == before


def test_one_bad_row_writes_nothing_and_is_reported_with_its_reason(partnership):
    text = SAMPLE.read_text() + "2018/0000009Z,,,Pat,Wrong,31/02/1990,male,,,,nowhere,,,,,,,,,,,\n"
    before = record_counts()
    report = imports.apply_rows(partnership.police_om, rows_of(text), filename="people.csv")
    assert not report["applied"] and report["counts"]["rejected"] == 1
    bad = next(r for r in report["rows"] if r["outcome"] == "rejected")
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
        ("2018/0000007G,X123456,,Pat,Nobody,1990-01-01,male,,,,northtown", "another PNC number"),
        ("2015/0123456X,,,,,,,,,,,,,,,,,iom,,,", "already"),  # already on IOM: unchanged, not rejected
        ("2018/0000007G,,,Pat,Nobody,1990-01-01,male,,,,northtown,,,,,,,mappa,,,", "MAPPA category and level"),
        ("2018/0000007G,,,Pat,Nobody,1990-01-01,alien,,,,northtown", "gender: Use one of"),
    ],
)
def test_rows_are_rejected_with_a_reason(partnership, row, reason):
    header = ",".join(imports.COLUMN_NAMES)
    plan = imports.check_rows(partnership.police_om, rows_of(f"{header}\n{row}\n"))
    result = plan.results[0]
    if reason == "already":
        assert result.outcome == "unchanged"
        return
    assert result.outcome == "rejected"
    assert any(reason in text for text in result.reasons), result.reasons


def test_the_same_person_twice_in_a_file_is_rejected(partnership):
    text = "pnc_number,crn,rag_status\n2015/0123456X,,red\n,X123456,green\n2015/0123456X,,amber\n"
    plan = imports.check_rows(partnership.police_om, rows_of(text))
    assert [r.outcome for r in plan.results] == ["updated", "rejected", "rejected"]
    assert "row 2" in plan.results[1].reasons[0]


def test_people_are_matched_by_pnc_then_crn(partnership):
    crn_only = OffenderFactory(crn="C111111", lead_agency=partnership.police, area=partnership.area)
    text = "pnc,crn,surname\n2017/0000001C,C111111,Renamed\n"
    report = imports.apply_rows(partnership.police_om, rows_of(text), filename="f.csv")
    assert report["counts"]["updated"] == 1
    crn_only.refresh_from_db()
    assert crn_only.pnc_number == "2017/0000001C" and crn_only.last_name == "Renamed"
    assert crn_only.version == 2


def test_a_person_the_agency_may_not_see_is_neither_changed_nor_duplicated(partnership):
    text = "pnc_number,first_names,last_name,date_of_birth,gender,area\n2019/0000042Z,A,B,1990-01-01,male,northtown\n"
    plan = imports.check_rows(partnership.probation_om, rows_of(text))
    assert plan.results[0].outcome == "rejected"
    assert "cannot see" in plan.results[0].reasons[0]
    assert "Blackwood" not in str(plan.report())


def test_a_partner_may_enrol_a_person_they_see_but_not_change_their_details(partnership):
    enrol = imports.check_rows(partnership.probation_om, rows_of("pnc_number,cohort\n2015/0123456X,dip\n"))
    assert enrol.results[0].outcome == "updated"
    rename = imports.check_rows(partnership.probation_om, rows_of("pnc_number,last_name\n2015/0123456X,Other\n"))
    assert rename.results[0].outcome == "rejected"
    assert "Only the lead agency" in rename.results[0].reasons[0]


def test_unreadable_files_are_refused_with_a_reason():
    for name, content, message in [
        ("people.pdf", b"%PDF", "must be a CSV or an Excel"),
        ("people.csv", b"", "empty"),
        ("people.csv", b"name,age\nA,1\n", "pnc_number or crn"),
        ("people.csv", b"pnc_number\n\n", "no rows"),
        ("people.xlsx", b"not a zip", "could not be read"),
    ]:
        with pytest.raises(imports.ImportFileError, match=message):
            imports.read_rows(name, content)


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
    rows, ignored = imports.read_rows("people.xlsx", content)
    assert ignored == ["Notes"]
    assert rows[0][1]["date_of_birth"] == "1991-04-01"
    assert imports.check_rows(partnership.police_om, rows).results[0].outcome == "created"


# --- browser pages ---------------------------------------------------------------------------


def upload(client, name, content):
    return client.post("/cases/import/", {"file": SimpleUploadedFile(name, content)})


def test_upload_preview_and_confirm_in_the_browser(partnership, client_for):
    client = client_for(partnership.police_om)
    assert client.get("/cases/import/").status_code == 200
    response = upload(client, "people.csv", SAMPLE.read_bytes())
    assert response.status_code == 302
    preview = client.get(response["Location"])
    page = preview.content.decode()
    assert "Check the import" in page and "Import 4 people" in page
    assert Offender.objects.count() == 2  # nothing written by the check
    done = client.post(response["Location"] + "confirm/", follow=True)
    assert "Import complete" in done.content.decode()
    assert Offender.objects.count() == 5
    again = client.get(upload(client, "people.csv", SAMPLE.read_bytes())["Location"]).content.decode()
    assert "Import 4 people" not in again and "confirm/" not in again


def test_upload_with_a_bad_row_shows_the_row_and_offers_no_confirm(partnership, client_for):
    client = client_for(partnership.police_om)
    text = SAMPLE.read_text() + "2018/0000009Z,,,Pat,Wrong,1990-01-01,male,,,,nowhere,,,,,,,,,,,\n"
    location = upload(client, "people.csv", text.encode())["Location"]
    page = client.get(location).content.decode()
    assert "1 row cannot be imported" in page and "No area with this code or name" in page
    assert client.post(location + "confirm/").status_code == 302
    assert Offender.objects.count() == 2


def test_upload_errors_are_shown_on_the_form(partnership, client_for):
    client = client_for(partnership.police_om)
    missing = client.post("/cases/import/", {})
    assert "Select a CSV or Excel file" in missing.content.decode()
    wrong = upload(client, "people.txt", b"pnc_number\n2015/0123456X\n")
    assert wrong.status_code == 200 and "must be a CSV or an Excel" in wrong.content.decode()
    assert "govuk-file-upload--error" in wrong.content.decode()
    template = client.get("/cases/import/template.csv")
    assert next(csv.reader(io.StringIO(template.content.decode()))) == imports.COLUMN_NAMES


def test_only_case_workers_may_import_and_only_their_own_jobs_are_shown(partnership, client_for):
    for user in (partnership.analyst, partnership.police_reader):
        client = client_for(user)
        assert client.get("/cases/import/").status_code == 403
        assert upload(client, "people.csv", SAMPLE.read_bytes()).status_code == 403
    location = upload(client_for(partnership.police_om), "people.csv", SAMPLE.read_bytes())["Location"]
    other = client_for(partnership.police_admin)
    assert other.get(location).status_code == 404
    assert other.post(location + "confirm/").status_code == 404
    assert other.get("/cases/import/0123456789abcdef/").status_code == 404
    assert Offender.objects.count() == 2


def big_file(count, start=0):
    lines = [",".join(imports.COLUMN_NAMES[:11] + ["rag_status", "cohort"])]
    for n in range(start, start + count):
        lines.append(f"2020/{n:07d}A,P{n:06d},,Person,Number{n},1980-01-01,male,white,,NT1 1AA,northtown,amber,dip")
    return "\n".join(lines).encode()


def test_a_large_file_is_checked_and_imported_by_the_worker_with_progress(partnership, client_for):
    client = client_for(partnership.police_om)
    location = upload(client, "big.csv", big_file(imports.BACKGROUND_ROWS + 500))["Location"]
    job = imports.get_job(location.rstrip("/").rsplit("/", 1)[-1], partnership.police_om)
    assert job["status"] == "done" and job["done"] == job["total"] == imports.BACKGROUND_ROWS + 500
    client.post(location + "confirm/")
    assert Offender.objects.count() == 2 + imports.BACKGROUND_ROWS + 500


def test_ten_thousand_rows_import_in_seconds(partnership, capsys):
    rows = imports.read_rows("big.csv", big_file(10_000))[0]
    started = time.perf_counter()
    plan = imports.check_rows(partnership.police_om, rows)
    checked = time.perf_counter()
    report = imports.apply_rows(partnership.police_om, rows, filename="big.csv")
    applied = time.perf_counter()
    reimport = imports.apply_rows(partnership.police_om, rows, filename="big.csv")
    again = time.perf_counter()
    assert plan.counts()["created"] == 10_000 and report["applied"]
    assert reimport["counts"]["unchanged"] == 10_000
    assert CohortMembership.objects.filter(cohort=Cohort.DIP).count() == 10_000
    with capsys.disabled():
        print(f"\n[import benchmark] 10,000 rows: dry run {checked - started:.2f}s, import {applied - checked:.2f}s, "
              f"re-import (no changes) {again - applied:.2f}s")


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
