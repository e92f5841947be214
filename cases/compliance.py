"""Compliance with an order, as probation practitioners read it: failures to comply within 12 months.

Attending but failing to comply and an unacceptable absence are each a failure to comply. At the
second failure within 12 months the practitioner is prompted to consider breach action (recall,
for someone on licence); the system never starts enforcement itself. A breach or recall already
under way is shown instead of the prompt, and failures before the latest breach or recall do not
prompt again.
"""

import datetime
from dataclasses import dataclass

from django.db.models import Count, Max, Q
from django.utils import timezone

from .models import Appointment, EnforcementAction, Supervision

WINDOW = datetime.timedelta(days=365)
# The failure that prompts the practitioner to consider enforcement.
PROMPT_AT = 2


@dataclass(frozen=True)
class Compliance:
    failures: int  # failures to comply within the last 12 months
    acceptable_absences: int
    failures_since_enforcement: int  # those since the latest breach or recall (all of them if none)
    enforcement_in_progress: EnforcementAction | None
    on_licence: bool

    @property
    def enforcement_kind(self):
        return EnforcementAction.Kind.RECALL if self.on_licence else EnforcementAction.Kind.BREACH

    @property
    def enforcement_label(self):
        return "recall" if self.on_licence else "breach action"

    @property
    def should_consider_enforcement(self):
        return self.enforcement_in_progress is None and self.failures_since_enforcement >= PROMPT_AT

    @property
    def summary(self):
        noun = "failure" if self.failures == 1 else "failures"
        return f"{self.failures} {noun} to comply within 12 months"


def compliance_for(offender, *, now=None):
    """The person's compliance now, in four queries whatever the length of their history."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    enforcement = EnforcementAction.objects.filter(
        offender=offender, kind__in=EnforcementAction.ENFORCEMENT_OF_ORDER_KINDS
    )
    in_progress = enforcement.filter(concluded_on__isnull=True).order_by("-taken_on", "-pk").first()
    latest_enforcement_on = enforcement.aggregate(latest=Max("taken_on"))["latest"]
    since = now - WINDOW
    counted = Q(scheduled_at__gte=since, scheduled_at__lte=now)
    failures = Q(outcome__in=Appointment.FAILURE_OUTCOMES) & counted
    after_enforcement = Q()
    if latest_enforcement_on is not None:
        after_enforcement = Q(scheduled_at__date__gt=latest_enforcement_on)
    counts = Appointment.objects.filter(offender=offender).aggregate(
        failures=Count("pk", filter=failures),
        acceptable=Count("pk", filter=counted & Q(outcome=Appointment.Outcome.ACCEPTABLE_ABSENCE)),
        since_enforcement=Count("pk", filter=failures & after_enforcement),
    )
    on_licence = Supervision.objects.filter(
        offender=offender, kind=Supervision.Kind.LICENCE, started_on__lte=today
    ).filter(Q(ends_on__isnull=True) | Q(ends_on__gte=today)).exists()
    return Compliance(
        failures=counts["failures"],
        acceptable_absences=counts["acceptable"],
        failures_since_enforcement=counts["since_enforcement"],
        enforcement_in_progress=in_progress,
        on_licence=on_licence,
    )
