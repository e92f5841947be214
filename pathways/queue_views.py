"""The incoming referrals queue: referrals to the services an agency runs, with the time left to first contact."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from cases.access import require_people_access
from cases.audit import log_access, log_many
from cases.models import AccessLogEntry
from web.pagination import CappedPaginator
from web.shortcuts import form_page, posted_version

from . import services
from .forms import FirstContactForm, ReferralDecisionForm
from .models import Referral, ReferralStatus, Service

Log = AccessLogEntry.Action
REFERRALS_PER_PAGE = 50
OPEN_STATUSES = [ReferralStatus.REFERRED, ReferralStatus.ACCEPTED, ReferralStatus.STARTED]


def describe_span(delta):
    """A span of time as a practitioner reads it: '5 hours 12 minutes', '3 days 4 hours'."""
    minutes = int(abs(delta.total_seconds()) // 60)
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60

    def unit(number, name):
        return f"{number} {name}{'' if number == 1 else 's'}"

    if days:
        return unit(days, "day") + (f" {unit(hours, 'hour')}" if hours else "")
    if hours:
        return unit(hours, "hour") + (f" {unit(minutes, 'minute')}" if minutes else "")
    return unit(minutes, "minute")


def first_contact_deadline(referral, now):
    """What the queue says of the first contact: time left, how late, or how it went once made."""
    due = referral.first_contact_due_at
    if referral.first_contact_at is not None:
        met = referral.met_contact_target
        text = f"Made {describe_span(referral.first_contact_at - referral.referred_at)} after referral"
        return {"state": "made", "met": met, "text": text}
    if due is None:
        return {"state": "no_target", "text": "No target"}
    if not referral.awaits_first_contact:
        return {"state": "closed", "text": "Not needed"}
    if due >= now:
        return {"state": "time_left", "text": f"{describe_span(due - now)} left", "due": due}
    return {"state": "overdue", "text": f"{describe_span(now - due)} past the target", "due": due}


@login_required
def incoming(request):
    """Referrals to the user's agency's services: open ones (emergencies first, then the longest waiting) or closed."""
    user = request.user
    require_people_access(user)
    closed = request.GET.get("show") == "closed"
    own_services = list(Service.objects.filter(provider_id=user.agency_id).order_by("name")) if user.agency_id else []
    referrals = services.incoming_referrals(user).select_related("offender", "service", "referring_agency")
    chosen = request.GET.get("service", "")
    chosen = int(chosen) if chosen.isdigit() and int(chosen) in {s.pk for s in own_services} else None
    if chosen:
        referrals = referrals.filter(service_id=chosen)
    if closed:
        referrals = referrals.exclude(status__in=OPEN_STATUSES).order_by("-referred_at", "-pk")
    else:
        emergencies_first = Case(When(urgency=Referral.Urgency.EMERGENCY, then=Value(0)), default=Value(1),
                                 output_field=IntegerField())
        referrals = referrals.filter(status__in=OPEN_STATUSES).order_by(emergencies_first, "referred_at", "pk")
    page = CappedPaginator(referrals, REFERRALS_PER_PAGE).get_page(request.GET.get("page"))
    now = timezone.now()
    for referral in page.object_list:
        referral.deadline = first_contact_deadline(referral, now)
    log_many(user, Log.VIEW, {r.offender_id: r.offender for r in page.object_list}.values(),
             detail="Incoming referrals")
    return render(request, "pathways/incoming.html", {
        "page": page, "closed": closed, "own_services": own_services, "chosen": chosen,
    })


def incoming_referral_or_404(user, pk):
    require_people_access(user)
    return get_object_or_404(
        services.incoming_referrals(user).select_related(
            "offender", "service__pathway", "referring_agency", "referred_by", "decided_by"
        ),
        pk=pk,
    )


@login_required
def incoming_detail(request, pk):
    referral = incoming_referral_or_404(request.user, pk)
    log_access(request.user, Log.VIEW, referral, offender=referral.offender_id, detail="Incoming referral")
    return render(request, "pathways/incoming_detail.html", {
        "referral": referral, "offender": referral.offender,
        "deadline": first_contact_deadline(referral, timezone.now()),
        "answers": services.answers_referral(request.user, referral),
    })


def _answer_page(request, referral, form, perform, *, title, success_message):
    if not services.answers_referral(request.user, referral):
        raise PermissionDenied("Only case workers of the agency that runs the service can answer it.")
    version = posted_version(request, referral.version)
    return form_page(
        request, form, lambda data: perform(data, version), template="pathways/incoming_form.html",
        context={"referral": referral, "offender": referral.offender, "title": title, "version": version,
                 "deadline": first_contact_deadline(referral, timezone.now())},
        success_message=success_message, success_url=reverse("referrals:incoming_detail", args=[referral.pk]),
    )


@login_required
@require_http_methods(["GET", "POST"])
def decide(request, pk):
    referral = incoming_referral_or_404(request.user, pk)

    def perform(data, version):
        return services.decide_referral(request.user, referral, expected_version=version,
                                        accept=data["decision"] == "accept", reason=data["reason"])

    return _answer_page(
        request, referral, ReferralDecisionForm(request.POST or None), perform, title="Accept or decline the referral",
        success_message=lambda saved: f"Referral {saved.get_status_display().lower()}.",
    )


@login_required
@require_http_methods(["GET", "POST"])
def first_contact(request, pk):
    referral = incoming_referral_or_404(request.user, pk)
    now = timezone.localtime()
    form = FirstContactForm(request.POST or None, initial={"contacted_at": now.date(), "contact_time": f"{now:%H:%M}"})

    def perform(data, version):
        return services.record_first_contact(request.user, referral, expected_version=version,
                                             contacted_at=data["contacted_at"])

    return _answer_page(
        request, referral, form, perform, title="Record the first contact",
        success_message=lambda saved: "First contact recorded" + (
            "." if saved.met_contact_target is None else
            (", within the target." if saved.met_contact_target else ", after the target.")
        ),
    )
