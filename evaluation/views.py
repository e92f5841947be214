"""Evaluation pages: set one up, watch it run, read the result and its balance table, print it for the board."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET, require_http_methods

from web.exports import csv_response
from web.shortcuts import form_page

from . import services
from .forms import EvaluationForm
from .matching import BALANCE_BAR
from .menu import VARIABLE_LABELS
from .population import latest_complete_period_end


def _allowed(request):
    if not services.can_run(request.user):
        raise PermissionDenied("Only analysts and agency administrators can set up and read evaluations.")


def _evaluation(request, pk):
    _allowed(request)
    return get_object_or_404(services.visible_evaluations(request.user), pk=pk)


@login_required
@require_GET
def evaluation_list(request):
    _allowed(request)
    return render(request, "evaluation/list.html", {"evaluations": services.visible_evaluations(request.user)[:100]})


@login_required
@require_http_methods(["GET", "POST"])
def new(request):
    _allowed(request)
    initial = {}
    again = request.GET.get("again", "")
    if request.method == "GET" and again.isdigit():
        earlier = services.visible_evaluations(request.user).filter(pk=int(again)).first()
        if earlier is not None:
            initial = EvaluationForm.initial_from(earlier)
    form = EvaluationForm(request.POST or None, initial=initial)

    def perform(data):
        return services.create_evaluation(
            user=request.user, name=data["name"], treatment=data["treatment"], cohort=data.get("cohort") or "",
            service=data.get("service"), period_start=data["period_start"], period_end=data["period_end"],
            variables=data["variables"], with_replacement=data["with_replacement"], seed=data.get("seed"),
        )

    return form_page(
        request, form, perform, template="evaluation/new.html",
        context={"latest_end": latest_complete_period_end(), "minimum": services.min_group_size()},
        success_message="The evaluation has started", success_url=lambda evaluation: evaluation.get_absolute_url(),
    )


def _percent(value):
    return "" if value is None else f"{value * 100:.1f}%"


def _number(value, places=2):
    return "" if value is None else f"{value:.{places}f}"


def _signed(value, scale=100, places=1, unit=""):
    if value is None:
        return ""
    scaled = value * scale
    return f"{'-' if scaled < 0 else '+'}{abs(scaled):.{places}f}{unit}"


def _balance_rows(result):
    rows = []
    for row in result.get("balance", []):
        if row["hidden"]:
            rows.append({"label": row["label"], "hidden": True, "balanced": row["balanced"]})
            continue
        show = _percent if row["binary"] else _number

        def smd(value):
            return "Not comparable" if value is None else f"{value:.2f}"

        rows.append({
            "label": row["label"], "hidden": False, "balanced": row["balanced"],
            "treated_before": show(row["treated_before"]), "pool_before": show(row["pool_before"]),
            "smd_before": smd(row["smd_before"]),
            "treated_after": show(row["treated_after"]), "comparison_after": show(row["comparison_after"]),
            "smd_after": smd(row["smd_after"]),
        })
    return rows


def _outcome_rows(result):
    rows = []
    for key, label, scale, places, unit, show in (
        ("rate", "Proven reoffending rate", 100, 1, " points", _percent),
        ("frequency", "Proven reoffences per person", 1, 2, "", lambda v: _number(v)),
    ):
        figures = result.get(key)
        if not figures:
            continue
        rows.append({
            "label": label, "treated": show(figures["treated"]), "comparison": show(figures["comparison"]),
            "difference": _signed(figures["difference"], scale, places, unit),
            "interval": f"{_signed(figures['low'], scale, places)} to {_signed(figures['high'], scale, places)}{unit}",
            "significant": figures["significant"],
        })
    return rows


def _context(request, evaluation):
    result = evaluation.result or {}
    raw = result.get("raw_rate")
    return {
        "evaluation": evaluation,
        "result": result,
        "variables": [VARIABLE_LABELS.get(name, name) for name in evaluation.variables or []],
        "balance_rows": _balance_rows(result),
        "outcome_rows": _outcome_rows(result),
        "raw": raw and {"treated": _percent(raw["treated"]), "comparison": _percent(raw["comparison"]),
                        "difference": _signed(raw["difference"], unit=" points")},
        "balance_bar": BALANCE_BAR,
        "can_list_people": services.can_list_people(request.user),
        "versions": (evaluation.provenance or {}).get("versions", {}),
    }


@login_required
@require_GET
def detail(request, pk):
    evaluation = _evaluation(request, pk)
    return render(request, "evaluation/detail.html", _context(request, evaluation))


@login_required
@require_GET
def report(request, pk):
    """The result laid out to print for the board: no navigation, every figure and caveat."""
    evaluation = _evaluation(request, pk)
    return render(request, "evaluation/report.html", _context(request, evaluation))


@login_required
@require_GET
def people_csv(request, pk):
    """The people in the matched groups whom the user's agency may see: never for roles that see numbers only."""
    if not services.can_list_people(request.user):
        raise PermissionDenied("Your role gives access to figures only, not to the people behind them.")
    evaluation = _evaluation(request, pk)
    members = services.people_in(user=request.user, evaluation=evaluation)
    if not members:
        # As for an evaluation that does not exist: whether it holds people the agency may not see is not said.
        raise Http404("None of the people in this evaluation is someone your agency may see.")
    header = ["Group", "Name", "PNC number", "Date of the event", "Matched", "Times used as a match",
              "Proven reoffences in the follow-up"]
    rows = [
        [member.get_group_display(), member.offender.full_name, member.offender.pnc_number,
         member.index_on.isoformat(), "Yes" if member.matched else "No", member.times_matched, member.reoffences]
        for member in members
    ]
    return csv_response(f"evaluation-{evaluation.pk}-people", header, rows)
