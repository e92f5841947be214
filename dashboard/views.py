"""Dashboard pages. Figures come from the roll-up tables only; people only through the drill-down."""

from itertools import groupby
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from reoffending.exports import csv_response, xlsx_response
from reoffending.pagination import CappedPaginator

from . import services
from .charts import chart_for
from .figures import (
    breakdown,
    default_quarter,
    freshness,
    load_figures,
    quarter_choices,
    slice_options,
    suppresses_small_numbers,
)
from .forms import SLICE_FIELDS, DashboardFilterForm
from .measures import all_measures, get_measure
from .models import Dimension
from .periods import Quarter

PEOPLE_PER_PAGE = 25


def _selection(request):
    options = slice_options()
    form = DashboardFilterForm(
        request.GET or None, quarters=quarter_choices(), options=options, default_quarter=default_quarter()
    )
    quarter, dimension, slice_key = form.selection()
    slice_label = "the whole partnership"
    if dimension != Dimension.ALL:
        slice_label = f"{Dimension(dimension).label.lower()}: {dict(options[dimension]).get(slice_key, slice_key)}"
    query = {"quarter": quarter.key}
    if dimension != Dimension.ALL:
        query[dimension.value] = slice_key
    return form, quarter, dimension, slice_key, slice_label, urlencode(query)


def _drill_link(request, measure, dimension, slice_key):
    if not services.can_drill_down(request.user):
        return None
    base = reverse("dashboard:people", args=[measure.name])

    def link(quarter, category, part):
        query = {"quarter": quarter.key, "dimension": dimension.value if hasattr(dimension, "value") else dimension}
        if dimension != Dimension.ALL:
            query["key"] = slice_key
        if category:
            query["category"] = category
        if part != "numerator":
            query["part"] = part
        return f"{base}?{urlencode(query)}"

    return link


def _items(request, figures_list, dimension, slice_key):
    items = []
    for figures in figures_list:
        header, rows = figures.table(link=_drill_link(request, figures.measure, dimension, slice_key))
        items.append({"figures": figures, "chart": chart_for(figures), "header": header, "rows": rows})
    return items


def _page_context(request):
    form, quarter, dimension, slice_key, slice_label, query = _selection(request)
    suppress = suppresses_small_numbers(request.user)
    measures = all_measures()
    figures_list = load_figures(measures, quarter, dimension, slice_key, suppress)
    items = _items(request, figures_list, dimension, slice_key)
    groups = [(group, list(members)) for group, members in groupby(items, key=lambda i: i["figures"].measure.group)]
    return {
        "form": form,
        "quarter": quarter,
        "dimension": dimension,
        "slice_key": slice_key,
        "slice_label": slice_label,
        "query": query,
        "groups": groups,
        "suppress": suppress,
        "freshness": freshness(),
        "can_recalculate": services.can_recalculate(request.user),
    }


@login_required
@require_GET
def index(request):
    return render(request, "dashboard/index.html", _page_context(request))


@login_required
@require_GET
def report(request):
    """The quarterly board report: every measure with its table, laid out to print."""
    return render(request, "dashboard/report.html", _page_context(request))


def _measure_or_404(name):
    measure = get_measure(name)
    if measure is None:
        raise Http404("No such measure.")
    return measure


def _breakdown_dimension(request):
    by = request.GET.get("by") or Dimension.AREA.value
    if by not in {d.value for d in SLICE_FIELDS}:
        by = Dimension.AREA.value
    return Dimension(by)


@login_required
@require_GET
def measure_detail(request, name):
    measure = _measure_or_404(name)
    form, quarter, dimension, slice_key, slice_label, query = _selection(request)
    suppress = suppresses_small_numbers(request.user)
    figures = load_figures([measure], quarter, dimension, slice_key, suppress)[0]
    by = _breakdown_dimension(request)
    rows = breakdown(measure, quarter, by, suppress, form.options)
    return render(request, "dashboard/measure.html", {
        "form": form, "quarter": quarter, "slice_label": slice_label, "query": query, "suppress": suppress,
        "item": _items(request, [figures], dimension, slice_key)[0],
        "measure": measure, "by": by, "by_choices": [(d.value, Dimension(d).label) for d in SLICE_FIELDS],
        "breakdown": [
            (label, item.cell(quarter), item.change, item.denominator_cell(quarter))
            for _, label, item in rows
        ],
        "freshness": freshness(),
    })


def _export_rows(request, measure):
    form, quarter, dimension, slice_key, slice_label, query = _selection(request)
    suppress = suppresses_small_numbers(request.user)
    if request.GET.get("table") == "breakdown":
        by = _breakdown_dimension(request)
        header = [Dimension(by).label, measure.label, "Change on previous quarter"]
        if measure.kind in {"rate", "ratio"}:
            header.append("Denominator")
        rows = []
        for _, label, item in breakdown(measure, quarter, by, suppress, form.options):
            row = [label, item.cell(quarter).text, item.change]
            if measure.kind in {"rate", "ratio"}:
                row.append(item.denominator_cell(quarter).text)
            rows.append(row)
        return f"{measure.name}-{quarter.key}-by-{by.value}", header, rows
    figures = load_figures([measure], quarter, dimension, slice_key, suppress)[0]
    header, rows = figures.table()
    flat = [[row[0], *(_export_value(cell) for cell in row[1:])] for row in rows]
    suffix = f"-{dimension.value}-{slice_key}" if dimension != Dimension.ALL else ""
    return f"{measure.name}-to-{quarter.key}{suffix}", header, flat


def _export_value(cell):
    """Numbers stay numbers in the spreadsheet; hidden figures are exported as shown ("<5")."""
    if cell.hidden or cell.value is None:
        return cell.text
    if "%" in cell.text or "." in cell.text:
        return cell.text
    return int(cell.value)


@login_required
@require_GET
def export(request, name, file_format):
    measure = _measure_or_404(name)
    filename, header, rows = _export_rows(request, measure)
    if file_format == "xlsx":
        return xlsx_response(filename, header, rows, sheet_title=measure.label)
    return csv_response(filename, header, rows)


@login_required
@require_POST
def recalculate(request):
    run, queued = services.request_recalculation(request.user)
    if queued:
        messages.success(request, "Recalculation queued. The figures update when it finishes.")
    else:
        messages.info(request, "A recalculation is already queued or running.")
    next_url = request.POST.get("next") or ""
    if not next_url.startswith("/dashboard/") or next_url.startswith("//"):
        next_url = reverse("dashboard:index")
    return redirect(next_url)


@login_required
@require_GET
def status(request):
    """Progress of the latest run, for the progress bar (read by static/js/dashboard.js)."""
    current = freshness()
    latest, last = current.latest, current.last_success
    return JsonResponse({
        "status": latest.status if latest else "",
        "status_label": latest.get_status_display() if latest else "",
        "progress": latest.progress if latest else 0,
        "step": latest.step if latest else "",
        "active": bool(latest and latest.is_active),
        "last_success": last.finished_at.isoformat() if last else None,
        "stale": current.stale,
    })


@login_required
@require_GET
def people(request, name):
    """The people behind a figure, for roles that may see them: 403 for analysts and the board."""
    measure = _measure_or_404(name)
    if not services.can_drill_down(request.user):
        raise PermissionDenied("Your role gives access to aggregate figures only.")
    params = request.GET
    try:
        quarter = Quarter.from_key(params.get("quarter", ""))
        dimension = Dimension(params.get("dimension") or Dimension.ALL)
    except ValueError:
        return HttpResponseBadRequest("Give a quarter (its first day, for example 2026-04-01) and a breakdown.")
    slice_key = params.get("key", "") if dimension != Dimension.ALL else ""
    if dimension != Dimension.ALL and slice_key not in dict(slice_options()[dimension]):
        return HttpResponseBadRequest("That breakdown has no such group.")
    category = params.get("category") or None
    if category is not None and category not in measure.category_labels:
        return HttpResponseBadRequest("That measure has no such category.")
    part = "denominator" if params.get("part") == "denominator" else "numerator"
    visible, counted = services.people_behind(request.user, measure, quarter, dimension, slice_key, category, part)
    visible = visible.select_related("area", "lead_agency", "lead_offender_manager")
    page = CappedPaginator(visible, PEOPLE_PER_PAGE).get_page(params.get("page"))
    return render(request, "dashboard/people.html", {
        "measure": measure, "quarter": quarter, "page": page, "counted": counted,
        "category_label": measure.category_labels.get(category, ""), "part": part,
        "slice_label": (
            "the whole partnership" if dimension == Dimension.ALL
            else f"{dimension.label.lower()}: {dict(slice_options()[dimension]).get(slice_key, slice_key)}"
        ),
        "page_query": urlencode({k: v for k, v in params.items() if k != "page"}),
    })
