"""Demonstration alerts, raised the way the service raises them: through the services, on commit.

Called by `manage.py seed_demo` after the other apps' demo data. The police offender manager
(om.police) finds another agency's changes to their cases, an action assigned to them and an
outcome still to record; the treatment service's worker (om.treatment) an emergency referral
arriving in its queue. Safe to run twice: nothing is added once the demo has alerts.
"""

import datetime

from django.db import transaction
from django.utils import timezone

from cases import services as case_services
from cases.models import Appointment, Cohort, Offender
from pathways import services as pathway_services
from pathways.models import Pathway, Service

from .models import Alert
from .tasks import raise_overdue_outcome_alerts


def seed(context, rng):
    staff = context["staff"]
    police, probation, treatment = (staff.get(name) for name in ("om.police", "om.probation", "om.treatment"))
    if not (police and probation and treatment) or Alert.objects.exists():
        return
    # Someone on om.police's caseload whom probation and the treatment service both see (IOM and DIP).
    shared = Offender.objects.filter(
        lead_offender_manager=police, cohort_memberships__cohort=Cohort.IOM,
        cohort_memberships__ended_on__isnull=True,
    ).filter(cohort_memberships__cohort=Cohort.DIP, cohort_memberships__ended_on__isnull=True).order_by("pk")
    person = shared.first() or Offender.objects.filter(
        lead_offender_manager=police, cohort_memberships__cohort=Cohort.IOM,
        cohort_memberships__ended_on__isnull=True,
    ).order_by("pk").first()
    if person is None:
        return
    statuses = [status for status in ("red", "amber", "green") if status != person.rag_status]
    case_services.record_rag_change(probation, person, to_status=statuses[0],
                                    reason="Missed two probation appointments this month")
    case_services.add_case_note(probation, person, text="Seen at the office; says he has moved in with his sister.")
    pathway_services.create_action(
        probation, person, pathway=Pathway.objects.get(key="accommodation"), owner_agency=police.agency,
        owner=police, description="Check the new address at the sister's flat",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
    )
    hub = Service.objects.filter(provider=treatment.agency).order_by("pk").first()
    if hub is not None:
        pathway_services.record_referral(
            police, person, service=hub, urgency="emergency", share_with_provider=True,
            reason="Overdosed at the weekend; wants help now.",
            referred_at=timezone.now() - datetime.timedelta(hours=3),
        )
    Appointment.objects.create(
        offender=person, agency=police.agency, staff=police, kind=Appointment.Kind.HOME_VISIT,
        scheduled_at=timezone.now() - datetime.timedelta(days=2), recorded_at=timezone.now(),
    )
    transaction.on_commit(raise_overdue_outcome_alerts)
