"""Delivery plan pages: the plan, its actions with their quarterly progress, and the board pack.

Plan data is not personal data, so every signed-in member of staff may read it, analysts and
board members included; only the board's staff change the plan, and the responsible service
(or the board's staff) reports progress on an action.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from dashboard.figures import freshness
from dashboard.periods import Quarter, reporting_quarters
from web.exports import csv_response
from web.shortcuts import form_page, submit

from . import services
from .forms import ObjectiveForm, PlanActionForm, ProgressForm
from .models import Objective, PlanAction, Progress
from .pack import measure_groups, plan_progress

UPDATE_QUARTERS = 4


def _require_reader(user):
    if not services.can_read_plan(user):
        raise PermissionDenied("Your account is not linked to a partner agency.")


def _quarter(request):
    """The quarter asked for in ?quarter=, or the current one; a quarter the roll-up does not cover is the current."""
    quarters = reporting_quarters()
    try:
        wanted = Quarter.from_key(request.GET.get("quarter", ""))
    except ValueError:
        wanted = None
    return (wanted if wanted in quarters else quarters[-1]), quarters


@login_required
@require_GET
def plan(request):
    _require_reader(request.user)
    quarter, _ = _quarter(request)
    return render(request, "delivery/plan.html", {
        "pack": plan_progress(quarter), "quarter": quarter, "can_keep": services.can_keep_plan(request.user),
    })


@login_required
@require_http_methods(["GET", "POST"])
def objective_create(request):
    services.ensure_plan_keeper(request.user)
    next_number = (Objective.objects.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    form = ObjectiveForm(request.POST or None, initial={"number": next_number})
    return form_page(
        request, form, lambda data: services.add_objective(request.user, **data), template="delivery/form.html",
        context={"title": "Add an objective", "back_url": reverse("delivery:plan")},
        success_message=lambda objective: f"Objective {objective.number} added.",
        success_url=reverse("delivery:plan"),
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_create(request, pk):
    services.ensure_plan_keeper(request.user)
    objective = get_object_or_404(Objective, pk=pk)
    form = PlanActionForm(request.POST or None)
    return form_page(
        request, form, lambda data: services.add_action(request.user, objective, **data),
        template="delivery/form.html",
        context={"title": "Add an action", "caption": str(objective), "back_url": reverse("delivery:plan")},
        success_message="Action added to the plan.", success_url=lambda action: action,
    )


@login_required
@require_http_methods(["GET", "POST"])
def action_detail(request, pk):
    _require_reader(request.user)
    action = get_object_or_404(PlanAction.objects.select_related("objective", "lead_agency"), pk=pk)
    can_report = services.can_report_on(request.user, action)
    if request.method == "POST" and not can_report:
        raise PermissionDenied("Only the responsible service or the board's staff can report on this action.")
    quarters = [q for q in reversed(reporting_quarters()) if q.start <= timezone.localdate()][:UPDATE_QUARTERS]
    form = ProgressForm(request.POST or None, quarters=quarters, initial={"quarter": quarters[0].key})
    response = submit(
        request, form, lambda data: services.record_progress(request.user, action, **data),
        success_message=lambda update: f"Progress for {Quarter(update.quarter_start).short_label} recorded.",
        success_url=reverse("delivery:action", args=[action.pk]),
    )
    if response is not None:
        return response
    updates = action.updates.select_related("recorded_by")
    return render(request, "delivery/action.html", {
        "action": action, "updates": [(Quarter(u.quarter_start), u) for u in updates],
        "form": form if can_report else None,
    })


@login_required
@require_GET
def pack(request):
    """The quarter's board pack, laid out to print."""
    _require_reader(request.user)
    quarter, quarters = _quarter(request)
    progress = plan_progress(quarter)
    labels = dict(Progress.choices)
    return render(request, "delivery/pack.html", {
        "pack": progress, "quarter": quarter, "quarters": list(reversed(quarters)),
        "counts": [(labels.get(key, "No update this quarter"), key, count) for key, count in progress.counts.items()],
        "groups": measure_groups(quarter), "freshness": freshness(),
    })


@login_required
@require_GET
def pack_download(request):
    """The board pack's plan progress and headline measures as a spreadsheet."""
    _require_reader(request.user)
    quarter, _ = _quarter(request)
    labels = dict(Progress.choices)
    rows = []
    for objective, actions in plan_progress(quarter).objectives:
        for row in actions:
            update = row.update
            rows.append([
                "Delivery plan", str(objective), row.action.description, row.action.intended_outcome,
                row.action.lead_agency.name, row.action.lead_person, row.action.due_on.isoformat(),
                labels.get(row.rag, "No update this quarter"), update.narrative if update else "",
                " ".join(update.evidence_links) if update else "",
            ])
    for group, items in measure_groups(quarter):
        for item in items:
            figures = item["figures"]
            rows.append(["Performance measure", group, figures.measure.label, "", "", "", "",
                         figures.headline.text, "Provisional" if figures.selected_provisional else "", ""])
    header = ["Part", "Objective or group", "Action or measure", "Intended outcome", "Responsible service",
              "Lead person", "Timescale", f"Progress or figure, {quarter.short_label}", "Progress to date",
              "Evidence"]
    return csv_response(f"board-pack-{quarter.key}", header, rows)


