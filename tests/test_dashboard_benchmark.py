"""Benchmark: the national proven reoffending table uploaded by an analyst, the partnership beside it."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from dashboard import benchmark
from dashboard.models import BenchmarkFigure, BenchmarkTable, Dimension, RollupValue
from dashboard.periods import Quarter

pytestmark = pytest.mark.django_db

HEADER = "area_code,area_name,cohort_quarter,offenders,reoffenders,reoffences\n"


def final_quarter():
    """A quarter whose proven reoffending is final today: more than 18 months over."""
    return Quarter.containing(timezone.localdate() - datetime.timedelta(days=800))


def upload(client, text, name="table.csv"):
    return client.post(reverse("dashboard:benchmark"), {"file": SimpleUploadedFile(name, text.encode())},
                       follow=True)


def test_the_partnership_beside_england_and_wales_and_chosen_comparators(partnership, client_for):
    final, provisional = final_quarter(), Quarter.containing(timezone.localdate()).previous()
    RollupValue.objects.create(measure="proven_reoffending", period_start=final.start, period_end=final.end,
                               dimension=Dimension.ALL, numerator=30, denominator=100, computed_at=timezone.now())
    client = client_for(partnership.analyst)
    rows = "".join(
        f"{code},{name},{quarter.key},{offenders},{reoffenders},{reoffences}\n"
        for code, name, offenders, reoffenders, reoffences in (
            ("K04000001", "England and Wales", 1000, 250, 900),
            ("E23000001", "Northshire", 400, 120, 410),
            ("E23000002", "Southshire", 200, 40, 120),
        )
        for quarter in (final, provisional)
    )
    page = upload(client, HEADER + rows).content.decode()
    assert "Benchmark table uploaded: 6 rows." in page
    # England and Wales is always shown; comparators when chosen.
    assert "England and Wales" in page and "25.0%" in page and "30.0%" in page
    assert "Provisional: not compared" in page
    assert "30.0%" not in page.split(provisional.short_label)[1].split("</tr>")[0]

    chosen = client.get(reverse("dashboard:benchmark"), {"area": ["E23000002"]}).content.decode()
    table = chosen.split("<table")[1]
    assert "Southshire" in table and "20.0%" in table and "25.0%" in table
    assert "Northshire</th>" not in table and "30.0%" in table


def test_a_hidden_partnership_figure_stays_hidden_beside_the_national_one(partnership, client_for):
    final = final_quarter()
    RollupValue.objects.create(measure="proven_reoffending", period_start=final.start, period_end=final.end,
                               dimension=Dimension.ALL, numerator=3, denominator=12, numerator_hidden=True,
                               denominator_hidden=True, computed_at=timezone.now())
    client = client_for(partnership.analyst)
    upload(client, HEADER + f"K04000001,England and Wales,{final.key},1000,250,900\n")
    page = client.get(reverse("dashboard:benchmark")).content.decode()
    assert "Not shown" in page and "25.0%" in page


def test_a_table_with_any_wrong_row_is_refused_whole_with_every_reason(partnership, client_for):
    client = client_for(partnership.analyst)
    quarter = final_quarter()
    text = HEADER + (
        f"K04000001,England and Wales,{quarter.key},1000,250,900\n"
        f"E23000001,Northshire,2024-02-01,400,120,410\n"
        f"E23000002,Southshire,{quarter.key},200,240,300\n"
        f"E23000003,Westshire,{quarter.key},two hundred,40,120\n"
        f"K04000001,England and Wales,{quarter.key},1000,250,900\n"
    )
    page = upload(client, text).content.decode()
    assert "Row 3: cohort_quarter &#x27;2024-02-01&#x27; is not the first day of a quarter" in page
    assert "Row 4: more reoffenders than offenders" in page
    assert "Row 5: offenders &#x27;two hundred&#x27; is not a whole number" in page
    assert "Row 6: the same area and quarter as row 2" in page
    assert not BenchmarkTable.objects.exists() and not BenchmarkFigure.objects.exists()

    page = upload(client, "area,rate\nNorthshire,20\n").content.decode()
    assert "missing: area_code, area_name, cohort_quarter, offenders, reoffenders, reoffences" in page
    assert not BenchmarkTable.objects.exists()


def test_only_analysts_and_administrators_upload_and_everyone_reads(partnership, client_for):
    quarter = final_quarter()
    text = HEADER + f"K04000001,England and Wales,{quarter.key},1000,250,900\n"
    response = client_for(partnership.police_om).post(
        reverse("dashboard:benchmark"), {"file": SimpleUploadedFile("t.csv", text.encode())})
    assert response.status_code == 403
    assert not BenchmarkTable.objects.exists()
    page = client_for(partnership.police_om).get(reverse("dashboard:benchmark")).content.decode()
    assert "No national table has been uploaded yet." in page and 'enctype="multipart/form-data"' not in page


def test_the_invented_sample_is_labelled_and_imports(partnership, client_for):
    client = client_for(partnership.analyst)
    sample = client.get(reverse("dashboard:benchmark_sample"))
    assert sample.status_code == 200
    text = sample.content.decode()
    rows = text.strip().splitlines()[1:]
    assert rows and all("invented" in row.lower() for row in rows)
    table = benchmark.import_table(partnership.analyst, filename="sample.csv", data=sample.content)
    assert table.row_count == len(rows)
    assert table.figures.filter(area_code=benchmark.ENGLAND_AND_WALES).exists()
