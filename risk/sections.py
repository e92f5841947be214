"""Risk on the case: its own page (a case section) and the risk card on the overview.

The case pages have already checked the user may see the person. Each function runs a fixed number
of queries whatever the length of the history.
"""

import datetime

from django.db.models import Prefetch
from django.urls import reverse
from django.utils import timezone

from cases.sections import Attention

from .models import RiskAssessment, RiskFlag, RiskFlagReview, RiskScore

# A flag review this close is listed as needing attention.
REVIEW_NOTICE = datetime.timedelta(days=14)
HISTORY_SHOWN = 50


def latest_scores(scores):
    """The latest score of each kind from scores ordered kind by kind, latest first."""
    latest = {}
    for score in scores:
        latest.setdefault(score.kind, score)
    return list(latest.values())


def _current(offender):
    assessment = RiskAssessment.objects.filter(offender=offender).select_related("agency", "recorded_by").first()
    scores = list(RiskScore.objects.filter(offender=offender).select_related("agency", "recorded_by")[:HISTORY_SHOWN])
    flags = list(RiskFlag.objects.open().filter(offender=offender).order_by("kind", "pk"))
    return assessment, scores, flags


def case_section_context(offender, user):
    assessment, scores, open_flags = _current(offender)
    return {
        "offender": offender,
        "assessment": assessment,
        "assessments": list(RiskAssessment.objects.filter(offender=offender)
                            .select_related("agency", "recorded_by")[:HISTORY_SHOWN]),
        "latest_scores": latest_scores(scores),
        "scores": scores,
        "open_flags": open_flags,
        "flag_history": list(
            RiskFlag.objects.filter(offender=offender).select_related("agency", "registered_by", "ended_by")
            .prefetch_related(Prefetch("reviews", RiskFlagReview.objects.select_related("reviewed_by", "agency")))
            .order_by("-registered_on", "-pk")[
                :HISTORY_SHOWN]
        ),
        "today": timezone.localdate(),
        "can_work": user.works_on_visible_cases,
    }


def case_overview_context(offender, user):
    assessment, scores, flags = _current(offender)
    today = timezone.localdate()
    url = reverse("cases:section_risk", args=[offender.pk])
    attention = [
        Attention(f"Review the {flag.get_kind_display().lower()} flag", url, due_on=flag.review_on)
        for flag in flags if flag.review_on <= today + REVIEW_NOTICE
    ]
    return {
        "offender": offender, "assessment": assessment, "latest_scores": latest_scores(scores), "flags": flags,
        "today": today, "attention": attention,
    }
