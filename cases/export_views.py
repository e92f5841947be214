"""Export of the case list (with its search and filters) as CSV or Excel, every person in it logged."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch
from django.shortcuts import render

from operations.database import allows_long_queries
from web.exports import csv_response, xlsx_response

from .audit import log_many
from .filters import CaseFilter
from .models import AccessLogEntry, CohortMembership, Offender

EXPORT_HEADER = [
    "pnc_number", "crn", "prison_number", "first_names", "last_name", "date_of_birth", "gender", "ethnicity",
    "address", "postcode", "area", "rag_status", "cohorts", "lead_agency", "lead_offender_manager", "review_date",
]


@login_required
@allows_long_queries
def export(request):
    """The case list (with the same search and filters) as CSV or XLSX; every person in it is logged."""
    user = request.user
    if not user.sees_people:
        raise PermissionDenied("Your role gives access to aggregate figures only.")
    case_filter = CaseFilter(request.GET or None, queryset=Offender.objects.visible_to(user), user=user)
    kind = request.GET.get("download")
    if kind not in ("csv", "xlsx") or not case_filter.is_valid():
        return render(request, "cases/export.html", {"filter": case_filter})
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
