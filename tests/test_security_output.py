"""Output safety: hostile text is shown as text, spreadsheets never run it, hostile searches never break a page."""

import csv
import io

import pytest
from openpyxl import load_workbook

from cases import services
from cases.models import AccessLogEntry, CaseNote
from web.exports import csv_response, safe_cell, xlsx_response

from .factories import MembershipFactory, OffenderFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('x')</script>"
IMAGE = '<img src=x onerror="alert(1)">'


@pytest.fixture
def hostile_person(partnership):
    person = OffenderFactory(
        first_names=SCRIPT, last_name=f"O'Brien {IMAGE}", area=partnership.area, lead_agency=partnership.police,
        address=f"1 {SCRIPT} Road",
    )
    MembershipFactory(offender=person, cohort="iom")
    services.add_case_note(partnership.police_om, person, text=f"Note {SCRIPT} and {IMAGE}")
    services.record_rag_change(partnership.police_om, person, to_status="red", reason=f"Reason {IMAGE}")
    return person


def assert_escaped(html):
    assert SCRIPT not in html
    assert "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_hostile_names_and_notes_are_escaped_on_the_case_pages(partnership, client_for, hostile_person):
    client = client_for(partnership.police_om)
    for url in ["/cases/", f"/cases/{hostile_person.pk}/", f"/cases/{hostile_person.pk}/edit/",
                f"/cases/{hostile_person.pk}/rag/", "/cases/?q=O%27Brien"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert_escaped(response.content.decode())


def test_hostile_search_text_is_escaped_in_the_access_log(partnership, client_for):
    client_for(partnership.police_om).get("/cases/", {"q": SCRIPT})
    html = client_for(partnership.police_admin).get("/cases/access-log/").content.decode()
    assert AccessLogEntry.objects.filter(action="search", detail__contains=SCRIPT).exists()
    assert_escaped(html)


def test_hostile_note_is_escaped_for_a_partner_agency(partnership, client_for, hostile_person):
    assert CaseNote.objects.filter(offender=hostile_person).exists()
    html = client_for(partnership.probation_om).get(f"/cases/{hostile_person.pk}/").content.decode()
    assert_escaped(html)


@pytest.mark.parametrize(
    "value", ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"]
)
def test_spreadsheet_formulas_are_neutralised(value):
    assert safe_cell(value) == "'" + value


def test_numbers_and_plain_text_are_left_alone():
    assert safe_cell(-5) == -5
    assert safe_cell(3.5) == 3.5
    assert safe_cell("Jordan Ashworth") == "Jordan Ashworth"
    assert safe_cell(None) == ""


def test_csv_and_xlsx_downloads_never_contain_a_live_formula():
    rows = [["=cmd|' /C calc'!A0", "+44 7700", "@risk", "Safe"]]
    response = csv_response("people", ["=Name", "Phone", "Note", "Other"], rows)
    cells = [cell for row in csv.reader(io.StringIO(response.content.decode())) for cell in row]
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    workbook = load_workbook(io.BytesIO(xlsx_response("people", ["=Name"], rows).content))
    values = [c.value for row in workbook.active.iter_rows() for c in row]
    assert not any(isinstance(v, str) and v.startswith(("=", "+", "-", "@")) for v in values)
    assert "Safe" in values


HOSTILE_SEARCHES = [
    "' OR 1=1 --",
    '"; DROP TABLE cases_offender; --',
    "%_%\\",
    "Zoë Ångström ŁÓDŹ 王 مرحبا 🙂",
    "\u202e\u200b\ufeff",
    "x" * 10_000,
    "a\x00b",
    "2015/0123456X\x00",
    "   ",
    SCRIPT,
]


@pytest.mark.parametrize("query", HOSTILE_SEARCHES, ids=range(len(HOSTILE_SEARCHES)))
def test_hostile_search_gives_a_page_not_an_error(partnership, client_for, query):
    client = client_for(partnership.police_om)
    response = client.get("/cases/", {"q": query, "sort": query[:50], "area": query[:50], "page": query[:50]})
    assert response.status_code in (200, 400)


def test_search_with_a_nul_byte_is_logged_without_it(partnership, client_for):
    assert client_for(partnership.police_om).get("/cases/", {"q": "Ash\x00worth"}).status_code == 200
    assert AccessLogEntry.objects.filter(action="search", detail="Searched for: Ashworth").exists()


@pytest.mark.parametrize("query", HOSTILE_SEARCHES, ids=range(len(HOSTILE_SEARCHES)))
def test_hostile_access_log_filters_give_a_page_not_an_error(partnership, client_for, query):
    response = client_for(partnership.police_admin).get(
        "/cases/access-log/", {"person": query, "username": query, "date_from": query}
    )
    assert response.status_code in (200, 400)
