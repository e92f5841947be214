"""Pages for feeds: choose a feed and upload a file, check it, import it; the runs; the possible-match queue."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from cases.audit import log_access
from cases.models import AccessLogEntry, Offender
from web.exports import csv_response
from web.widgets import GovukFormMixin

from . import matches, runs
from .catalogue import FEEDS, get_feed
from .models import FeedKind, ImportRun, PossibleMatch
from .reading import MAX_FILE_BYTES, FeedFile, FileRejected

ROWS_SHOWN = 500


class UploadForm(GovukFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label="What the file holds", choices=FeedKind.choices, widget=forms.RadioSelect,
        error_messages={"required": "Select what the file holds"},
    )
    file = forms.FileField(
        label="Upload a file", help_text="A CSV or Excel (.xlsx) file, smaller than 25 MB.",
        error_messages={"required": "Select a CSV or Excel file"},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs.update({"class": "govuk-file-upload", "accept": ".csv,.xlsx"})

    def add_error(self, field, error):
        super().add_error(field, error)
        if field == "file":
            self.fields["file"].widget.attrs["class"] = "govuk-file-upload govuk-file-upload--error"


def require_import_rights(user):
    if not (user.is_superuser or user.does_casework) or not user.agency_id:
        raise PermissionDenied("Your role cannot import files.")


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    require_import_rights(request.user)
    initial = {"kind": request.GET.get("kind")} if request.GET.get("kind") in FEEDS else {}
    form = UploadForm(request.POST or None, request.FILES or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            if uploaded.size > MAX_FILE_BYTES:
                raise FileRejected(f"The file must be smaller than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
            run = runs.start_run(request.user, form.cleaned_data["kind"], FeedFile(uploaded.name, fileobj=uploaded),
                                 channel=ImportRun.Channel.BROWSER)
        except FileRejected as error:
            form.add_error("file", str(error))
        else:
            try:
                runs.check_or_queue(run)
            except runs.RunRefused as refusal:
                messages.error(request, str(refusal))
            return redirect("feeds:run", pk=run.pk)
    return render(request, "feeds/upload.html", {"form": form, "feeds": FEEDS.values()})


@login_required
def template_file(request, kind):
    """An empty file of the feed's columns with one example row."""
    require_import_rights(request.user)
    feed = get_feed(kind)
    if feed is None:
        raise Http404("No such feed")
    return csv_response(f"{feed.kind}-template", feed.column_names, [feed.example_row()])


@login_required
def run_list(request):
    user = request.user
    if not user.sees_people:
        raise PermissionDenied("Your role gives access to aggregate figures only.")
    shown = ImportRun.objects.visible_to(user).select_related("user", "source")[:100]
    return render(request, "feeds/run_list.html", {"runs": shown})


def _run_for(user, pk):
    if not user.sees_people:
        raise Http404("No such import")
    return get_object_or_404(ImportRun.objects.visible_to(user).select_related("user", "source"), pk=pk)


def held_rows_with_decisions(user, run, rows):
    """The run's held rows, each saying what became of it: waiting, confirmed (and for whom) or rejected.

    Only an applied run's rows are waiting anywhere: a check is rolled back. The
    person a row was applied to is named only when the viewer may see them.
    """
    if run.status != ImportRun.Status.APPLIED or not rows:
        return rows, False
    ids = [row["match"] for row in rows if row.get("match")]
    held = {match.pk: match for match in PossibleMatch.objects.filter(pk__in=ids).select_related("applied_to")}
    if len(held) < len(rows):  # reports from before rows named their match
        for match in PossibleMatch.objects.filter(run=run).select_related("applied_to"):
            held.setdefault(match.pk, match)
    by_row = {match.row_number: match for match in held.values() if match.run_id == run.pk}
    visible = set(Offender.objects.visible_to(user).filter(
        pk__in=[match.applied_to_id for match in held.values() if match.applied_to_id]).values_list("pk", flat=True))
    shown, waiting = [], False
    for row in rows:
        match = held.get(row.get("match")) or by_row.get(row["row"])
        row = dict(row)
        if match is None or match.status == PossibleMatch.Status.WAITING:
            waiting = waiting or match is not None
        elif match.status == PossibleMatch.Status.CONFIRMED:
            person = match.applied_to if match.applied_to_id in visible else None
            row["reasons"] = [f"Confirmed and applied to {person.full_name}." if person else "Confirmed and applied."]
            row["person"] = person.full_name if person else row.get("person", "")
            row["decided"] = True
        else:
            row["reasons"] = ["Turned down: the row is not about the person it was held for."
                              + (" Added as a new person." if run.kind == FeedKind.PEOPLE
                                 and match.basis != PossibleMatch.Basis.IDENTIFIER_IN_USE else "")]
            row["decided"] = True
        shown.append(row)
    return shown, waiting


@login_required
def run_detail(request, pk):
    run = _run_for(request.user, pk)
    report = run.report or {}
    possible, waiting = held_rows_with_decisions(request.user, run, report.get("possible_rows", []))
    decided = sum(1 for row in possible if row.get("decided"))
    return render(request, "feeds/run.html", {
        "run": run, "report": report, "feed": get_feed(run.kind), "decided": decided,
        "still_held": run.possible_matches - decided,
        "rejected": report.get("rejected_rows", [])[:ROWS_SHOWN],
        "more_rejected": max(0, run.rejected - ROWS_SHOWN),
        "changing": report.get("changed_rows", []), "possible": possible, "matches_waiting": waiting,
        "can_apply": run.user_id == request.user.pk and (run.created or run.updated or run.possible_matches)
        and runs.can_be_applied(run),
    })


@login_required
@require_POST
def run_apply(request, pk):
    run = _run_for(request.user, pk)
    if run.user_id != request.user.pk:
        raise PermissionDenied("Only the person who checked the file can import it.")
    require_import_rights(request.user)
    try:
        runs.apply_or_queue(run)
    except runs.RunRefused as refusal:
        messages.error(request, str(refusal))
    return redirect("feeds:run", pk=run.pk)


@login_required
def match_list(request):
    user = request.user
    if not (user.is_superuser or user.does_casework):
        raise PermissionDenied("Your role cannot review matches.")
    waiting = (PossibleMatch.objects.for_review_by(user).filter(status=PossibleMatch.Status.WAITING)
               .select_related("run", "importing_agency").prefetch_related("candidates")[:200])
    return render(request, "feeds/match_list.html", {"matches": waiting})


@login_required
@require_http_methods(["GET", "POST"])
def match_detail(request, pk):
    user = request.user
    if not (user.is_superuser or user.does_casework):
        raise PermissionDenied("Your role cannot review matches.")
    held = get_object_or_404(PossibleMatch.objects.for_review_by(user).select_related("run", "importing_agency"),
                             pk=pk)
    candidates = list(held.candidates.select_related("area", "lead_agency"))
    decision_error = ""
    if request.method == "POST" and held.status == PossibleMatch.Status.WAITING:
        decision = request.POST.get("decision", "")
        try:
            if decision == "reject":
                matches.reject(user, held)
                messages.success(request, "Recorded: the row is not about this person.")
            elif decision.startswith("confirm-"):
                person = next((c for c in candidates if str(c.pk) == decision.removeprefix("confirm-")), None)
                if person is None:
                    raise matches.MatchError("Select the person the row is about.")
                matches.confirm(user, held, person)
                messages.success(request, f"Confirmed: the row was applied to {person.full_name}.")
            else:
                raise matches.MatchError("Select the person the row is about, or that it is nobody here.")
        except matches.MatchError as error:
            # Shown as the form's error (error summary and field), as any GOV.UK form shows one.
            decision_error = str(error)
        else:
            return redirect("feeds:matches")
    for person in candidates:
        log_access(user, AccessLogEntry.Action.VIEW, person, detail="Reviewed a possible match from a feed")
    return render(request, "feeds/match.html", {
        "held": held, "candidates": candidates, "feed": get_feed(held.kind), "decision_error": decision_error,
        "cells": [(column, held.record.get(column, "")) for column in get_feed(held.kind).column_names
                  if held.record.get(column)],
    })
