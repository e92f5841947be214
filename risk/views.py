from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cases.access import person_for_casework
from web.shortcuts import form_page

from . import services
from .forms import RaiseFlagForm, RemoveFlagForm, ReviewFlagForm, RiskAssessmentForm, RiskScoreForm
from .models import RiskFlag


def risk_form_view(form_class, change, *, title, success_message, flag=False):
    """A form that records risk, back to the case's risk page once recorded.

    `change(user, target, **cleaned_data)` is the service; the target is the person or, with `flag`,
    one of their open risk flags (404 when it is not theirs or has been removed).
    """

    @login_required
    @require_http_methods(["GET", "POST"])
    def view(request, pk, flag_pk=None):
        offender = person_for_casework(request.user, pk)
        target = get_object_or_404(RiskFlag.objects.open(), pk=flag_pk, offender=offender) if flag else offender
        initial = {"expected_version": target.version, "level": target.level} if flag else {}
        form = form_class(request.POST or None, initial=initial)
        return form_page(
            request, form, lambda data: change(request.user, target, **data), template="cases/case_form.html",
            context={"title": title(target) if callable(title) else title, "offender": offender},
            success_message=success_message, success_url=reverse("cases:section_risk", args=[offender.pk]),
        )

    return view


assessment_create = risk_form_view(
    RiskAssessmentForm, services.record_risk_assessment, title="Record a risk of serious harm assessment",
    success_message="Risk assessment recorded.",
)
score_create = risk_form_view(
    RiskScoreForm, services.record_risk_score, title="Record a risk score", success_message="Risk score recorded.",
)
flag_create = risk_form_view(
    RaiseFlagForm, services.raise_risk_flag, title="Raise a risk flag", success_message="Risk flag raised.",
)
flag_review = risk_form_view(
    ReviewFlagForm, services.review_risk_flag, flag=True,
    title=lambda flag: f"Review the {flag.get_kind_display().lower()} flag", success_message="Review recorded.",
)
flag_remove = risk_form_view(
    RemoveFlagForm, services.remove_risk_flag, flag=True,
    title=lambda flag: f"Remove the {flag.get_kind_display().lower()} flag", success_message="Risk flag removed.",
)
