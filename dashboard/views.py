"""Dashboard pages. Figures come from the roll-up tables only; people only through the drill-down."""

from itertools import groupby
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from web.exports import csv_response, xlsx_response
from web.pagination import CappedPaginator
from web.widgets import GovukFormMixin

from . import benchmark, disclosure, services
from .charts import chart_for
from .figures import (
    breakdown,
    default_quarter,
    freshness,
    load_figures,
    quarter_choices,
    slice_options,
)
from .forms import SLICE_FIELDS, DashboardFilterForm
from .measures import all_measures, get_measure
from .models import Dimension
from .periods import Quarter
from .publication import can_publish, publication_for, publish_quarter, verify

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
    if _rounding(request):
        query["public"] = "1"
    return form, quarter, dimension, slice_key, slice_label, urlencode(query)


def _rounding(request):
    """The base counts are rounded to in the version for publication (`?public=1`), else 0."""
    return disclosure.rounding_base() if request.GET.get("public") == "1" else 0


def _public_query(query, public):
    """The same page's query string, in the version for publication (rounded counts) or the exact one."""
    from urllib.parse import parse_qsl

    params = dict(parse_qsl(query))
    params.pop("public", None)
    if public:
        params["public"] = "1"
    return urlencode(params)


def _drill_link(request, measure, dimension, slice_key):
    if not services.can_drill_down(request.user) or _rounding(request):
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


def _page_context(request, publication=None):
    form, quarter, dimension, slice_key, slice_label, query = _selection(request)
    rounding = _rounding(request)
    measures = all_measures()
    if publication is not None:
        # Measures added since publication were not in the report the board saw.
        published = set(publication.figures.values_list("measure", flat=True).distinct())
        measures = [measure for measure in measures if measure.name in published]
    figures_list = load_figures(measures, quarter, dimension, slice_key, rounding, publication=publication)
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
        "rounding": rounding,
        "limit": disclosure.limit(),
        "public_query": _public_query(query, not rounding),
        "freshness": freshness(figures_list),
        "can_recalculate": services.can_recalculate(request.user),
    }


@login_required
@require_GET
def index(request):
    return render(request, "dashboard/index.html", _page_context(request))


@login_required
@require_GET
def report(request):
    """The quarterly board report: every measure with its table, laid out to print.

    A published quarter shows its figures as published, with any later revision beside
    them; `?live=1` shows the current calculation instead.
    """
    quarter = _selection(request)[1]
    publication = publication_for(quarter)
    live = request.GET.get("live") == "1" or publication is None
    context = _page_context(request, None if live else publication)
    context.update({
        "publication": publication, "live": live,
        "verified": publication is not None and not live and verify(publication),
        "can_publish": publication is None and can_publish(request.user),
        "quarter_over": quarter.end < timezone.localdate(),
    })
    return render(request, "dashboard/report.html", context)


@login_required
@require_POST
def publish(request):
    """Publish the board report of a quarter: its figures are frozen from now on."""
    try:
        quarter = Quarter.from_key(request.POST.get("quarter", ""))
    except ValueError:
        return HttpResponseBadRequest("Give the quarter to publish (its first day, for example 2026-04-01).")
    try:
        publish_quarter(request.user, quarter)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"The board report for {quarter.short_label} is published. Its figures are "
                                  "frozen; later changes are shown as revisions beside them.")
    return redirect(f"{reverse('dashboard:report')}?{urlencode({'quarter': quarter.key})}")


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
    rounding = _rounding(request)
    figures = load_figures([measure], quarter, dimension, slice_key, rounding)[0]
    by = _breakdown_dimension(request)
    rows = breakdown(measure, quarter, by, rounding, form.options)
    return render(request, "dashboard/measure.html", {
        "form": form, "quarter": quarter, "slice_label": slice_label, "query": query, "rounding": rounding,
        "item": _items(request, [figures], dimension, slice_key)[0],
        "measure": measure, "by": by, "by_choices": [(d.value, Dimension(d).label) for d in SLICE_FIELDS],
        "breakdown": [(label, item.headline, item.change, item.base_cell(quarter)) for _, label, item in rows],
        "shows_base": measure.kind in {"rate", "ratio"} or bool(measure.headline),
        "freshness": freshness([figures]),
    })


def _export_rows(request, measure):
    form, quarter, dimension, slice_key, slice_label, query = _selection(request)
    rounding = _rounding(request)
    if request.GET.get("table") == "breakdown":
        by = _breakdown_dimension(request)
        shows_base = measure.kind in {"rate", "ratio"} or bool(measure.headline)
        header = [Dimension(by).label, measure.label, "Change on previous quarter"]
        if shows_base:
            header.append("Out of")
        rows = []
        for _, label, item in breakdown(measure, quarter, by, rounding, form.options):
            row = [label, item.headline.text, item.change]
            if shows_base:
                row.append(item.base_cell(quarter).text)
            rows.append(row)
        return f"{measure.name}-{quarter.key}-by-{by.value}", header, rows
    figures = load_figures([measure], quarter, dimension, slice_key, rounding)[0]
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
    try:
        run, queued = services.request_recalculation(request.user)
    except services.RecalculationRefused as refusal:
        messages.error(request, str(refusal))
    else:
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
        "measure": measure, "quarter": quarter, "page": page,
        # The number counted only when the figure itself is published: a hidden figure stays hidden here too.
        "counted": None if services.figure_hidden(measure, quarter, dimension, slice_key, category, part) else counted,
        "category_label": measure.category_labels.get(category, ""), "part": part,
        "slice_label": (
            "the whole partnership" if dimension == Dimension.ALL
            else f"{dimension.label.lower()}: {dict(slice_options()[dimension]).get(slice_key, slice_key)}"
        ),
        "page_query": urlencode({k: v for k, v in params.items() if k != "page"}),
    })


class BenchmarkUploadForm(GovukFormMixin, forms.Form):
    file = forms.FileField(
        label="Upload the national table", help_text="A CSV file with the columns below, smaller than 5 MB.",
        error_messages={"required": "Select a CSV file"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"class": "govuk-file-upload", "accept": ".csv"})


@login_required
@require_http_methods(["GET", "POST"])
def benchmark_page(request):
    """The partnership's proven reoffending beside England and Wales and the comparators the user picks."""
    form = BenchmarkUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not benchmark.can_upload(request.user):
            raise PermissionDenied("Only analysts and agency administrators can upload the benchmark table.")
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            try:
                table = benchmark.import_table(request.user, filename=uploaded.name, data=uploaded.read(
                    benchmark.MAX_BYTES + 1))
            except benchmark.TableRejected as rejected:
                for error in rejected.errors[:20]:
                    form.add_error("file", error)
            else:
                messages.success(request, f"Benchmark table uploaded: {table.row_count} rows.")
                return redirect("dashboard:benchmark")
    result = benchmark.comparison(request.GET.getlist("area"))
    return render(request, "dashboard/benchmark.html", {
        "form": form, "result": result, "columns": benchmark.COLUMNS,
        "chosen_codes": [code for code, _ in result.chosen],
        "can_upload": benchmark.can_upload(request.user), "freshness": freshness(),
    })


@login_required
@require_GET
def benchmark_sample(request):
    """The sample table of invented figures, to try the upload with."""
    response = HttpResponse(benchmark.sample_bytes(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="invented-proven-reoffending-benchmark-sample.csv"'
    return response
