"""Pages for bulk import (upload, dry-run preview, confirm, progress) and export of case lists."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from reoffending.exports import csv_response, xlsx_response
from reoffending.widgets import GovukFormMixin

from . import imports
from .audit import log_many
from .filters import CaseFilter
from .models import AccessLogEntry, CohortMembership, Offender
from .tasks import run_import

EXPORT_HEADER = [
    "pnc_number", "crn", "prison_number", "first_names", "last_name", "date_of_birth", "gender", "ethnicity",
    "address", "postcode", "area", "rag_status", "cohorts", "lead_agency", "lead_offender_manager", "review_date",
]
EXAMPLE_ROW = {
    "pnc_number": "2015/0123456X", "crn": "X123456", "first_names": "Jordan", "last_name": "Example",
    "date_of_birth": "1990-05-17", "gender": "male", "ethnicity": "white", "area": "northtown", "veteran": "no",
    "rag_status": "amber", "cohort": "iom", "iom_category": "fixed", "cohort_started_on": "2026-01-05",
}


class UploadForm(GovukFormMixin, forms.Form):
    file = forms.FileField(
        label="Upload a file", help_text="A CSV or Excel (.xlsx) file, smaller than 25 MB, with one person a row.",
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
    if not (user.is_superuser or user.does_casework):
        raise PermissionDenied("Your role cannot import people.")


def run_or_queue(job_id, user, total):
    """Small files are checked on the spot; large ones by a worker while the progress page is shown."""
    if total > imports.BACKGROUND_ROWS:
        run_import.delay(job_id, user.pk)
    else:
        imports.run_job(job_id, user)


@login_required
@require_http_methods(["GET", "POST"])
def upload(request):
    require_import_rights(request.user)
    form = UploadForm(request.POST, request.FILES) if request.method == "POST" else UploadForm()
    if request.method == "POST" and form.is_valid():
        uploaded = form.cleaned_data["file"]
        try:
            if uploaded.size > imports.MAX_FILE_BYTES:
                raise imports.ImportFileError("The file must be smaller than 25 MB.")
            rows, ignored = imports.read_rows(uploaded.name, uploaded.read())
        except imports.ImportFileError as error:
            form.add_error("file", str(error))
        else:
            job_id = imports.start_job(request.user, uploaded.name[:200], rows, ignored)
            run_or_queue(job_id, request.user, len(rows))
            return redirect("transfer:import_job", job_id=job_id)
    return render(request, "imports/upload.html", {"form": form, "columns": imports.COLUMNS})


@login_required
def template_file(request):
    """An empty import file with every column and one example row."""
    require_import_rights(request.user)
    return csv_response("people-import-template", imports.COLUMN_NAMES,
                        [[EXAMPLE_ROW.get(name, "") for name in imports.COLUMN_NAMES]])


ROWS_SHOWN = 500


@login_required
def job(request, job_id):
    require_import_rights(request.user)
    found = imports.get_job(job_id, request.user)
    if found is None:
        raise Http404("No such import")
    report = found["report"] or {}
    rows = report.get("rows", [])
    rejected = [row for row in rows if row["outcome"] == "rejected"]
    changing = [row for row in rows if row["outcome"] in ("created", "updated")]
    percent = int(100 * found["done"] / found["total"]) if found["total"] else 0
    return render(request, "imports/job.html", {
        "job": found, "counts": report.get("counts"), "applied": report.get("applied", False),
        "rejected": rejected[:ROWS_SHOWN], "more_rejected": max(0, len(rejected) - ROWS_SHOWN),
        "changing": changing[:ROWS_SHOWN], "more_changing": max(0, len(changing) - ROWS_SHOWN),
        "percent": percent,
        "can_confirm": found["stage"] == "check" and found["status"] == "done" and report
        and not report["counts"]["rejected"] and (report["counts"]["created"] or report["counts"]["updated"]),
    })


@login_required
@require_POST
def confirm(request, job_id):
    require_import_rights(request.user)
    found = imports.get_job(job_id, request.user)
    if found is None:
        raise Http404("No such import")
    report = found["report"]
    if found["stage"] == "check" and found["status"] == "done" and report and not report["counts"]["rejected"]:
        if imports.job_rows(found["id"]) is None:
            raise Http404("This import has expired: upload the file again")
        found.update(stage="apply", status="queued", done=0, report=None)
        imports.save_job(found["id"], found)
        run_or_queue(found["id"], request.user, found["total"])
    return redirect("transfer:import_job", job_id=found["id"])


@login_required
def export(request):
    """The case list (with the same search and filters) as CSV or XLSX; every person in it is logged."""
    user = request.user
    if not user.sees_people:
        raise PermissionDenied("Your role gives access to aggregate figures only.")
    case_filter = CaseFilter(request.GET or None, queryset=Offender.objects.visible_to(user), user=user)
    kind = request.GET.get("download")
    if kind not in ("csv", "xlsx") or not case_filter.is_valid():
        return render(request, "imports/export.html", {"filter": case_filter})
    people = list(
        case_filter.qs.select_related("area", "lead_agency", "lead_offender_manager").prefetch_related(
            Prefetch(
                "cohort_memberships", queryset=CohortMembership.objects.filter(ended_on__isnull=True),
                to_attr="open_memberships",
            )
        )
    )
    rows = [
        [
            p.pnc_number, p.crn, p.prison_number, p.first_names, p.last_name, p.date_of_birth.isoformat(), p.gender,
            p.ethnicity, p.address, p.postcode, p.area.code, p.rag_status,
            "; ".join(m.description for m in p.open_memberships), p.lead_agency.name,
            str(p.lead_offender_manager or ""), p.review_date.isoformat() if p.review_date else "",
        ]
        for p in people
    ]
    log_many(user, AccessLogEntry.Action.EXPORT, people, detail=f"Exported case list as {kind.upper()}")
    if kind == "xlsx":
        return xlsx_response("case-list", EXPORT_HEADER, rows, sheet_title="People")
    return csv_response("case-list", EXPORT_HEADER, rows)
