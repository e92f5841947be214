from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from cases.access import person_for_casework, person_or_404, require_people_access
from cases.audit import log_access, log_many
from cases.models import AccessLogEntry, Supervision
from web.exports import csv_response, xlsx_response
from web.pagination import CappedPaginator
from web.shortcuts import form_page

from . import services
from .board import Release, ReleaseFilter, releases
from .forms import AgreementForm, ChecklistItemForm, GoalForm, ReviewForm, StepForm
from .models import ACCOMMODATION_KEY, ChecklistItem, ChecklistSettings, Goal, PlanVersion, ReleaseChecklist

Log = AccessLogEntry.Action
RELEASES_PER_PAGE = 50
EXPORT_HEADER = [
    "released_on", "release_type", "first_names", "last_name", "pnc_number", "crn", "prison_number", "area",
    "prison", "checklist_settled", "checklist_items", "accommodation_on_release", "accommodation_owner",
    "accommodation_now", "friday", "before_bank_holiday", "no_accommodation",
]


def _board(request):
    require_people_access(request.user)
    first, last = services.release_window()
    release_filter = ReleaseFilter(request.GET or None, queryset=releases(request.user, first, last))
    valid = not release_filter.is_bound or release_filter.is_valid()
    return release_filter, (release_filter.qs if valid else None), first, last


@login_required
def board(request):
    """Everyone the user's agency may see with a release in the window, and what is still missing."""
    release_filter, rows, first, last = _board(request)
    rows = rows if rows is not None else release_filter.queryset.none()
    page = CappedPaginator(rows, RELEASES_PER_PAGE).get_page(request.GET.get("page"))
    page.object_list = [Release(s) for s in page.object_list]
    log_many(request.user, Log.VIEW, [r.offender for r in page.object_list], detail="Releases board")
    return render(request, "resettlement/board.html", {
        "filter": release_filter, "page": page, "first": first, "last": last, "weeks": ChecklistSettings.weeks(),
    })


def _yes(value):
    return "yes" if value else "no"


@login_required
def board_export(request):
    """The releases board, with the same filters, as CSV or XLSX; every person in it is logged."""
    _filter, rows, _first, _last = _board(request)
    kind = request.GET.get("download")
    if kind not in ("csv", "xlsx") or rows is None:
        return redirect(reverse("resettlement:board") + (f"?{request.GET.urlencode()}" if request.GET else ""))
    rows_out = [Release(s) for s in rows]
    rows = [
        [r.released_on.isoformat(), r.release_type, r.offender.first_names, r.offender.last_name,
         r.offender.pnc_number, r.offender.crn, r.offender.prison_number, r.offender.area.name,
         str(r.prison or ""), r.items_settled, r.items_total, r.accommodation_item or "", r.accommodation_owner or "",
         r.accommodation_now or "", _yes(r.is_friday), _yes(r.is_before_bank_holiday), _yes(r.no_accommodation)]
        for r in rows_out
    ]
    log_many(request.user, Log.EXPORT, [r.offender for r in rows_out], detail=f"Exported releases as {kind.upper()}")
    if kind == "xlsx":
        return xlsx_response("releases", EXPORT_HEADER, rows, sheet_title="Releases")
    return csv_response("releases", EXPORT_HEADER, rows)


def _person_page(request, offender, current, template, context, *, title):
    log_access(request.user, Log.VIEW, offender, detail=title)
    return render(request, template, {"offender": offender, "current": current, "section_title": title,
                                      "can_work": request.user.works_on_visible_cases, **context})


@login_required
def person_release(request, pk):
    """The person's releases: each custody episode's checklist, or a button to open it early."""
    offender = person_or_404(request.user, pk)
    episodes = list(
        Supervision.objects.filter(offender=offender, released_on__isnull=False)
        .select_related("responsible_agency", "release_checklist__prison").order_by("-released_on", "-pk")
    )
    checklists = {c.supervision_id: c for c in ReleaseChecklist.objects.filter(offender=offender)}
    items = ChecklistItem.objects.filter(checklist__offender=offender).select_related("item_type", "owner_agency",
                                                                                     "updated_by")
    by_checklist = {}
    for item in items:
        by_checklist.setdefault(item.checklist_id, []).append(item)
    rows = []
    for episode in episodes:
        checklist = checklists.get(episode.pk)
        episode_items = by_checklist.get(checklist.pk, []) if checklist else []
        episode.accommodation_item = next(
            (i.status for i in episode_items if i.item_type.key == ACCOMMODATION_KEY), None)
        rows.append({"episode": episode, "release": Release(episode), "checklist": checklist,
                     "items": episode_items})
    return _person_page(request, offender, "release", "resettlement/person_release.html",
                        {"rows": rows, "today": timezone.localdate()}, title="Release")


def _button(request, perform, *, success_message, url):
    """A button that calls a service: its refusal comes back as an error message on the page."""
    try:
        perform()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success_message)
    return redirect(url)


@login_required
@require_POST
def checklist_open(request, pk, supervision_pk):
    offender = person_for_casework(request.user, pk)
    supervision = get_object_or_404(Supervision.objects.select_related("offender", "responsible_agency"),
                                    pk=supervision_pk, offender=offender)
    return _button(request, lambda: services.open_checklist(request.user, supervision),
                   success_message="Pre-release checklist opened.",
                   url=reverse("resettlement:person_release", args=[offender.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def item_update(request, pk, item_pk):
    offender = person_for_casework(request.user, pk)
    item = get_object_or_404(ChecklistItem.objects.select_related("item_type", "checklist__supervision"),
                             pk=item_pk, checklist__offender=offender)
    form = ChecklistItemForm(request.POST or None, initial={
        "expected_version": item.version, "status": item.status, "owner_agency": item.owner_agency_id,
        "due_on": item.due_on, "notes": item.notes,
    })
    return form_page(
        request, form, lambda data: services.update_checklist_item(request.user, item, **data),
        template="cases/case_form.html",
        context={"title": f"Update the checklist: {item.item_type.name.lower()}", "offender": offender},
        success_message=f"{item.item_type.name} updated.",
        success_url=reverse("resettlement:person_release", args=[offender.pk]),
    )


# The person's own plan.


def _plan_context(offender, version):
    goals = list(version.goals.select_related("pathway").prefetch_related("steps__owner_agency")) if version else []
    return {"version": version, "goals": goals}


@login_required
def person_plan(request, pk):
    offender = person_or_404(request.user, pk)
    versions = list(PlanVersion.objects.filter(plan__offender=offender)
                    .select_related("started_by", "agency", "agreement_recorded_by").order_by("-number"))
    version = versions[0] if versions else None
    can_change = request.user.works_on_visible_cases and version is not None and not version.is_settled
    return _person_page(request, offender, "own_plan", "resettlement/person_plan.html",
                        {**_plan_context(offender, version), "versions": versions, "can_change": can_change},
                        title="Own plan")


@login_required
def plan_version(request, pk, number):
    """An earlier version of the plan, as it stood."""
    offender = person_or_404(request.user, pk)
    version = get_object_or_404(PlanVersion.objects.select_related("started_by", "agency", "agreement_recorded_by"),
                                plan__offender=offender, number=number)
    return _person_page(request, offender, "own_plan", "resettlement/plan_version.html",
                        _plan_context(offender, version), title=f"Own plan, version {number}")


@login_required
def plan_print(request, pk):
    """The person's own copy, in plain words, to print and give them."""
    offender = person_or_404(request.user, pk)
    version = services.current_version(offender)
    if version is None:
        raise Http404("The person has no plan yet.")
    log_access(request.user, Log.VIEW, offender, detail="Printed the person's own plan")
    return render(request, "resettlement/plan_print.html", {"offender": offender, **_plan_context(offender, version)})


@login_required
@require_POST
def plan_start(request, pk):
    offender = person_for_casework(request.user, pk)
    return _button(request, lambda: services.start_plan(request.user, offender),
                   success_message="Plan started: add the person's goals.",
                   url=reverse("resettlement:person_plan", args=[offender.pk]))


def _plan_form(request, offender, form, perform, *, title, success_message):
    return form_page(request, form, perform, template="cases/case_form.html",
                     context={"title": title, "offender": offender}, success_message=success_message,
                     success_url=reverse("resettlement:person_plan", args=[offender.pk]))


@login_required
@require_http_methods(["GET", "POST"])
def goal_create(request, pk):
    offender = person_for_casework(request.user, pk)
    return _plan_form(request, offender, GoalForm(request.POST or None),
                      lambda data: services.add_goal(request.user, offender, **data),
                      title="Add a goal", success_message="Goal added.")


@login_required
@require_http_methods(["GET", "POST"])
def step_create(request, pk, goal_pk):
    offender = person_for_casework(request.user, pk)
    goal = get_object_or_404(Goal.objects.select_related("version__plan__offender"), pk=goal_pk,
                             version__plan__offender=offender)
    return _plan_form(request, offender, StepForm(request.POST or None),
                      lambda data: services.add_step(request.user, goal, **data),
                      title="Add a step", success_message="Step added.")


@login_required
@require_http_methods(["GET", "POST"])
def agreement(request, pk):
    offender = person_for_casework(request.user, pk)
    return _plan_form(request, offender, AgreementForm(request.POST or None,
                                                       initial={"agreement_on": timezone.localdate()}),
                      lambda data: services.record_agreement(request.user, offender, **data),
                      title="Record the person's agreement", success_message="The person's answer is recorded.")


@login_required
@require_http_methods(["GET", "POST"])
def review(request, pk):
    offender = person_for_casework(request.user, pk)
    return _plan_form(request, offender, ReviewForm(request.POST or None),
                      lambda data: services.review_plan(request.user, offender, **data),
                      title="Review the plan", success_message="Review started: the earlier version is kept.")
