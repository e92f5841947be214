"""The case overview: a summary card for each part of the case and a short list of what needs attention.

Other apps add their cards and attention items through `cases.sections`. A fixed number of queries,
whatever the length of the person's history.
"""

import datetime

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from .compliance import compliance_for
from .models import Appointment, Cohort
from .sections import Attention, case_sections

# A retention review or a flag review this close is listed as needing attention.
REVIEW_NOTICE = datetime.timedelta(days=28)
# Outcomes not recorded are listed one by one up to this many; the rest are counted.
OUTCOMES_LISTED = 3


def overview_context(offender, user):
    now = timezone.now()
    today = timezone.localdate(now)
    memberships = list(offender.cohort_memberships.filter(ended_on__isnull=True))
    latest_rag = offender.rag_changes.select_related("changed_by", "agency").first()
    appointments = offender.appointments.select_related("agency")
    next_appointment = appointments.filter(
        outcome=Appointment.Outcome.SCHEDULED, scheduled_at__gte=now
    ).order_by("scheduled_at", "pk").first()
    awaiting = Q(outcome=Appointment.Outcome.SCHEDULED, scheduled_at__lt=now)
    awaiting_outcome = list(appointments.filter(awaiting).order_by("scheduled_at", "pk")[:OUTCOMES_LISTED])
    awaiting_count = offender.appointments.aggregate(n=Count("pk", filter=awaiting))["n"]
    attention = []
    for appointment in awaiting_outcome:
        attention.append(Attention(
            f"Record the outcome of the {appointment.get_kind_display().lower()} on "
            f"{timezone.localtime(appointment.scheduled_at):%-d %B %Y}",
            reverse("cases:appointment_detail", args=[offender.pk, appointment.pk]),
            due_on=timezone.localdate(appointment.scheduled_at),
        ))
    if awaiting_count > len(awaiting_outcome):
        attention.append(Attention(
            f"{awaiting_count - len(awaiting_outcome)} more appointments without an outcome",
            reverse("cases:sentence", args=[offender.pk]),
        ))
    if offender.review_date and offender.review_date <= today + REVIEW_NOTICE:
        attention.append(Attention(
            "Review whether to keep this record", reverse("cases:personal", args=[offender.pk]),
            due_on=offender.review_date,
        ))
    compliance = compliance_for(offender, now=now)
    if compliance.should_consider_enforcement:
        attention.append(Attention(
            f"{compliance.summary}: consider {compliance.enforcement_label}",
            reverse("cases:enforcement_create", args=[offender.pk]) + f"?kind={compliance.enforcement_kind}",
        ))
    cards = []
    for section in case_sections():
        if section.overview is None:
            continue
        context = section.overview(offender, user)
        attention.extend(context.get("attention", ()))
        cards.append({"section": section, "context": context})
    attention.sort(key=lambda item: (item.due_on is None, item.due_on or today))
    return {
        "memberships": memberships,
        "mappa": next((m for m in memberships if m.cohort == Cohort.MAPPA), None),
        "latest_rag": latest_rag,
        "next_appointment": next_appointment,
        "compliance": compliance,
        "cards": cards,
        "attention": [{"item": item, "overdue": item.is_overdue(today)} for item in attention],
    }
