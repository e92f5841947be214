"""Risk on the case's activity log: assessments, scores, and flags raised, reviewed and removed."""

from django.urls import reverse

from cases.timeline import Entry, TimelineSource

from .models import RiskAssessment, RiskFlag, RiskFlagReview, RiskScore


def _by(user, agency):
    return ", ".join(str(part) for part in (user, agency) if part)


def _assessments(pks, offender):
    url = reverse("cases:section_risk", args=[offender.pk])
    return {
        a.pk: Entry(a.assessed_on, f"Risk of serious harm: {a.get_rosh_level_display().lower()}"
                    + (f", tier {a.tier}" if a.tier else ""), a.notes, _by(a.recorded_by, a.agency), url)
        for a in RiskAssessment.objects.filter(offender=offender, pk__in=pks).select_related("recorded_by", "agency")
    }


def _scores(pks, offender):
    url = reverse("cases:section_risk", args=[offender.pk])
    return {
        s.pk: Entry(s.assessed_on, f"{s.get_kind_display()}: {s.display_value}", "", _by(s.recorded_by, s.agency),
                    url)
        for s in RiskScore.objects.filter(offender=offender, pk__in=pks).select_related("recorded_by", "agency")
    }


def _flags(pks, offender):
    url = reverse("cases:section_risk", args=[offender.pk])
    return {
        f.pk: Entry(f.registered_on, f"Risk flag raised: {f.get_kind_display()} ({f.get_level_display().lower()})",
                    f.notes, _by(f.registered_by, f.agency), url,
                    tag=f"Removed {f.ended_on:%-d %b %Y}" if f.ended_on else "")
        for f in RiskFlag.objects.filter(offender=offender, pk__in=pks).select_related("registered_by", "agency")
    }


def _reviews(pks, offender):
    url = reverse("cases:section_risk", args=[offender.pk])
    return {
        r.pk: Entry(r.reviewed_on, f"Risk flag reviewed: {r.flag.get_kind_display()} "
                    f"({r.get_level_display().lower()})", r.notes, _by(r.reviewed_by, r.agency), url)
        for r in RiskFlagReview.objects.filter(flag__offender=offender, pk__in=pks).select_related(
            "flag", "reviewed_by", "agency")
    }


def timeline_sources():
    return [
        TimelineSource("risk", "Risk assessments", lambda o, u: RiskAssessment.objects.filter(offender=o),
                       "assessed_on", _assessments, ("notes",), order=70),
        TimelineSource("risk_scores", "Risk scores", lambda o, u: RiskScore.objects.filter(offender=o),
                       "assessed_on", _scores, order=71),
        TimelineSource("risk_flags", "Risk flags", lambda o, u: RiskFlag.objects.filter(offender=o),
                       "registered_on", _flags, ("notes", "end_reason"), order=72),
        TimelineSource("risk_flag_reviews", "Risk flag reviews",
                       lambda o, u: RiskFlagReview.objects.filter(flag__offender=o), "reviewed_on", _reviews,
                       ("notes",), order=73),
    ]
