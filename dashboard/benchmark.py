"""The partnership beside England and Wales and comparator areas, from the national proven reoffending table.

The Ministry of Justice publishes proven reoffending by area and cohort quarter; an analyst
uploads that table as a CSV (the columns are in `COLUMNS`, and a sample of invented figures
is in `dashboard/benchmark_sample.csv`). A file is read whole and saved only when every row
is right; the page then shows the latest upload. The partnership's own figure comes from the
roll-up, with its disclosure control, and only for quarters that are final, as the national
figures are.
"""

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from .figures import Cell, rate_cell
from .measures import get_measure
from .models import BenchmarkFigure, BenchmarkTable, Dimension, RollupValue
from .periods import Quarter

ENGLAND_AND_WALES = "K04000001"
SAMPLE = Path(__file__).with_name("benchmark_sample.csv")
MAX_BYTES = 5 * 1024 * 1024
COLUMNS = (
    ("area_code", "The area's ONS code (K04000001 for England and Wales, E23000001 for a police force area...)."),
    ("area_name", "The area's name, as the table gives it."),
    ("cohort_quarter", "The first day of the cohort's quarter, as YYYY-MM-DD: 2023-01-01 is January to March 2023."),
    ("offenders", "Offenders in the cohort (a whole number above 0)."),
    ("reoffenders", "Of them, those who committed a proven reoffence (no more than the offenders)."),
    ("reoffences", "Proven reoffences they committed (no fewer than the reoffenders)."),
)
COLUMN_NAMES = [name for name, _ in COLUMNS]
NUMBERS = ("offenders", "reoffenders", "reoffences")


class TableRejected(Exception):
    """The file cannot be imported; `errors` says why, row by row."""

    def __init__(self, errors):
        super().__init__("; ".join(errors))
        self.errors = errors


def read_table(data):
    """The rows of an uploaded table (bytes), checked: [{column: value}], or TableRejected with every problem."""
    if len(data) > MAX_BYTES:
        raise TableRejected([f"The file must be smaller than {MAX_BYTES // (1024 * 1024)} MB."])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as error:
            raise TableRejected(["The file is not a CSV file saved as UTF-8 or Windows text."]) from error
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip().lower() for name in reader.fieldnames or []]
    missing = [name for name in COLUMN_NAMES if name not in header]
    if missing:
        raise TableRejected([f"The first row must name the columns; missing: {', '.join(missing)}."])
    reader.fieldnames = header
    rows, errors, seen = [], [], {}
    for number, raw in enumerate(reader, start=2):
        row = {name: (raw.get(name) or "").strip() for name in COLUMN_NAMES}
        problems = []
        if not row["area_code"]:
            problems.append("no area code")
        if not row["area_name"]:
            problems.append("no area name")
        try:
            row["period_start"] = Quarter.from_key(row["cohort_quarter"]).start
        except ValueError:
            problems.append(f"cohort_quarter '{row['cohort_quarter']}' is not the first day of a quarter (YYYY-MM-DD)")
        for name in NUMBERS:
            value = row[name].replace(",", "")
            if not value.isdigit():
                problems.append(f"{name} '{row[name]}' is not a whole number")
            else:
                row[name] = int(value)
        if not problems:
            if row["offenders"] == 0:
                problems.append("offenders must be above 0")
            if row["reoffenders"] > row["offenders"]:
                problems.append("more reoffenders than offenders")
            if row["reoffences"] < row["reoffenders"]:
                problems.append("fewer reoffences than reoffenders")
            key = (row["area_code"], row["period_start"])
            if key in seen:
                problems.append(f"the same area and quarter as row {seen[key]}")
            seen[key] = number
        if problems:
            errors.append(f"Row {number}: {'; '.join(problems)}.")
        rows.append(row)
    if not rows and not errors:
        errors.append("The file has no rows under its column names.")
    if errors:
        raise TableRejected(errors)
    return rows


def can_upload(user):
    from .publication import can_publish

    return can_publish(user)


def import_table(user, *, filename, data):
    """Save an uploaded table whole, or nothing: TableRejected lists every row that is wrong."""
    if not can_upload(user):
        raise PermissionDenied("Only analysts and agency administrators can upload the benchmark table.")
    rows = read_table(data)
    with transaction.atomic():
        table = BenchmarkTable.objects.create(uploaded_at=timezone.now(), uploaded_by=user,
                                              filename=filename[:255], row_count=len(rows))
        BenchmarkFigure.objects.bulk_create([
            BenchmarkFigure(table=table, area_code=row["area_code"], area_name=row["area_name"][:120],
                            period_start=row["period_start"], offenders=row["offenders"],
                            reoffenders=row["reoffenders"], reoffences=row["reoffences"])
            for row in rows
        ])
    return table


@dataclass
class Comparison:
    table: BenchmarkTable | None
    areas: list  # [(code, name)] every area in the table, England and Wales first
    chosen: list  # [(code, name)] the columns shown after the partnership
    rows: list  # [(quarter, partnership cell, [cell per chosen area])]


def comparison(chosen_codes=None, today=None, quarters_shown=8):
    """The partnership's proven reoffending rate beside England and Wales and the chosen areas, by quarter."""
    table = BenchmarkTable.objects.order_by("-uploaded_at", "-pk").first()
    if table is None:
        return Comparison(None, [], [], [])
    figures = list(table.figures.all())
    names = {}
    for figure in figures:
        names.setdefault(figure.area_code, figure.area_name)
    areas = sorted(names.items(), key=lambda item: (item[0] != ENGLAND_AND_WALES, item[1]))
    chosen_codes = [code for code in (chosen_codes or []) if code in names]
    if not chosen_codes:
        chosen_codes = [code for code, _ in areas[:1]] if ENGLAND_AND_WALES not in names else [ENGLAND_AND_WALES]
    elif ENGLAND_AND_WALES in names and ENGLAND_AND_WALES not in chosen_codes:
        chosen_codes = [ENGLAND_AND_WALES, *chosen_codes]
    chosen = [(code, names[code]) for code in chosen_codes]
    by_key = {(figure.area_code, figure.period_start): figure for figure in figures}
    starts = sorted({figure.period_start for figure in figures}, reverse=True)[:quarters_shown]
    measure = get_measure("proven_reoffending")
    today = today or timezone.localdate()
    own = {
        value.period_start: value
        for value in RollupValue.objects.filter(measure=measure.name, dimension=Dimension.ALL, category="",
                                                period_start__in=starts)
    }
    rows = []
    for start in starts:
        quarter = Quarter(start)
        if today < measure.final_on(quarter):
            mine = Cell("Provisional: not compared", None)
        elif start in own:
            value = own[start]
            mine = rate_cell(value.numerator, value.denominator or 0,
                             value.numerator_hidden or value.denominator_hidden)
        else:
            mine = Cell("Not calculated", None)
        cells = []
        for code, _ in chosen:
            figure = by_key.get((code, start))
            cells.append(rate_cell(figure.reoffenders, figure.offenders) if figure else Cell("No figure", None))
        rows.append((quarter, mine, cells))
    return Comparison(table, areas, chosen, rows)


def sample_bytes():
    return SAMPLE.read_bytes()
