"""Demonstration data for the pathways: a service directory, needs, action plans, statuses and referrals.

Everything here is invented. Called by `manage.py seed_demo` after cases/demo.py,
with its context (areas, agencies by kind, staff by user name, people, today).
"""

import datetime

from django.utils import timezone

from cases.models import Agency, Offender, Role, Supervision

from .models import (
    AccommodationStatus,
    Action,
    ActionStatus,
    BenefitStatus,
    EteStatus,
    NeedAssessment,
    NeedLevel,
    Pathway,
    Referral,
    ReferralStatus,
    Service,
    TreatmentEngagement,
)

# (pathway key, service, provider agency kind or None, provider name, hours to first contact for emergencies)
SERVICES = [
    ("accommodation", "Rent deposit scheme", Agency.Kind.LOCAL_AUTHORITY, "", None),
    ("accommodation", "Homeless Persons Unit", Agency.Kind.LOCAL_AUTHORITY, "", 24),
    ("accommodation", "Supported housing panel", None, "Northshire Housing Association", None),
    ("ete", "Jobcentre drop-in", Agency.Kind.DWP, "", None),
    ("ete", "CV workshop", None, "Northshire Employment Trust", None),
    ("finance", "Debt advice", None, "Citizens Advice Northshire", None),
    ("health", "GP registration support", Agency.Kind.HEALTH, "", None),
    ("drugs", "Treatment referral (drugs)", Agency.Kind.TREATMENT, "", 24),
    ("alcohol", "Treatment referral (alcohol)", Agency.Kind.TREATMENT, "", 24),
    ("families", "Family support service", None, "Northshire Families Together", None),
    ("attitudes", "Mentoring scheme", None, "Second Chance Mentors", None),
    ("abuse", "Women's centre", None, "Northshire Women's Centre", 48),
]

# Which partner usually takes actions on each pathway; the lead agency takes the rest.
ACTION_OWNER_KIND = {
    "accommodation": Agency.Kind.LOCAL_AUTHORITY,
    "ete": Agency.Kind.DWP,
    "finance": Agency.Kind.DWP,
    "drugs": Agency.Kind.TREATMENT,
    "alcohol": Agency.Kind.TREATMENT,
}
ACTION_TEXTS = {
    "accommodation": ["Apply to the rent deposit scheme", "Present at the Homeless Persons Unit",
                      "Book a viewing of the supported housing place"],
    "ete": ["Attend the Jobcentre drop-in", "Book a CV workshop", "Apply for the forklift licence course"],
    "finance": ["Make a Universal Credit claim", "Book a debt advice appointment", "Open a basic bank account"],
    "health": ["Register with a GP", "Referral to the mental health liaison service"],
    "families": ["Meet the family support worker", "Agree contact arrangements with children's services"],
    "drugs": ["Attend the treatment assessment", "Start the prescribing programme"],
    "alcohol": ["Attend the alcohol treatment assessment", "Join the recovery group"],
    "attitudes": ["Start the thinking skills programme", "Meet the mentor"],
    "abuse": ["Referral to the women's centre"],
    "sex_work": ["Meet the specialist support worker"],
    "aces": ["Discuss trauma-informed support"],
}
RATIONALES = {
    NeedLevel.NONE: "No need identified at this assessment.",
    NeedLevel.SOME: "Some difficulty; manageable with support.",
    NeedLevel.SIGNIFICANT: "Significant need linked to offending; priority for the action plan.",
}
WOMEN_ONLY = {"abuse", "sex_work"}


def _services(context, pathways):
    agencies = context["agencies"]
    services = {}
    for key, name, kind, provider_name, hours in SERVICES:
        if key not in pathways:
            continue
        service, _ = Service.objects.get_or_create(
            name=name, area=None,
            defaults={"pathway": pathways[key], "provider": agencies.get(kind) if kind else None,
                      "provider_name": provider_name, "target_first_contact_hours": hours},
        )
        services.setdefault(key, []).append(service)
    return services


def _staff_by_agency(context):
    by_agency = {}
    for user in context["staff"].values():
        if user.role in (Role.OFFENDER_MANAGER, Role.PANEL_CHAIR):
            by_agency.setdefault(user.agency_id, []).append(user)
    return by_agency


def seed(context, rng):
    """Fill needs, action plans, statuses and referrals for the demo people (once; safe to run twice)."""
    pathways = {p.key: p for p in Pathway.objects.in_use()}
    services = _services(context, pathways)
    if NeedAssessment.objects.exists():
        return
    today = context.get("today") or timezone.localdate()
    agencies = context["agencies"]
    staff_by_agency = _staff_by_agency(context)
    om_police = context["staff"].get("om.police")
    releases = {
        s.offender_id: s.released_on
        for s in Supervision.objects.filter(released_on__isnull=False, released_on__lte=today)
    }
    people = list(Offender.objects.filter(pk__in=[p.pk for p in context["people"]]).select_related("lead_agency"))

    needs, actions, accommodation, ete, benefits, treatment, referrals = [], [], [], [], [], [], []
    for index, person in enumerate(people):
        lead = person.lead_agency
        lead_staff = staff_by_agency.get(lead.pk, [])
        first_assessed = today - datetime.timedelta(days=rng.randint(90, 400))
        reassessed = first_assessed + datetime.timedelta(days=rng.randint(30, 80))
        for key, pathway in pathways.items():
            if key in WOMEN_ONLY and person.gender != Offender.Gender.FEMALE:
                continue
            level = rng.choices(NeedLevel.values, [45, 35, 20])[0]
            needs.append(NeedAssessment(offender=person, pathway=pathway, level=level, rationale=RATIONALES[level],
                                        assessed_on=first_assessed, agency=lead,
                                        assessed_by=person.lead_offender_manager))
            if level != NeedLevel.NONE and rng.random() < 0.5:
                # A reassessment: the history the pathways page shows.
                level = rng.choice([NeedLevel.NONE, NeedLevel.SOME, level])
                needs.append(NeedAssessment(offender=person, pathway=pathway, level=level,
                                            rationale=RATIONALES[level], assessed_on=reassessed, agency=lead,
                                            assessed_by=person.lead_offender_manager))
            if level == NeedLevel.NONE:
                continue
            owner_agency = agencies.get(ACTION_OWNER_KIND.get(key)) or lead
            owners = staff_by_agency.get(owner_agency.pk, [])
            owner = rng.choice(owners) if owners and rng.random() < 0.8 else None
            if owner_agency == lead and om_police and lead == om_police.agency and index % 4 == 0:
                owner = om_police  # so the police demo user has a full "my actions" page
            raised = reassessed + datetime.timedelta(days=rng.randint(0, 20))
            raised = min(raised, today)
            due = raised + datetime.timedelta(days=rng.randint(7, 60))
            # Most actions long past their due date were closed; some were not, and show as overdue.
            weights = [15, 10, 65, 10] if due < today - datetime.timedelta(days=30) else [45, 30, 20, 5]
            status = rng.choices(ActionStatus.values, weights)[0]
            if due > today and status in (ActionStatus.DONE, ActionStatus.CANCELLED):
                status = ActionStatus.IN_PROGRESS
            completed = None
            if status in (ActionStatus.DONE, ActionStatus.CANCELLED):
                completed = min(today, due - datetime.timedelta(days=rng.randint(0, 5)))
                completed = max(completed, raised)
            actions.append(Action(
                offender=person, pathway=pathway, description=rng.choice(ACTION_TEXTS.get(key, ["Follow up"])),
                owner_agency=owner_agency, owner=owner, raised_on=raised, due_on=due, status=status,
                completed_on=completed, outcome="Completed as planned." if status == ActionStatus.DONE else "",
                created_by=rng.choice(lead_staff) if lead_staff else None,
            ))
            if key in services and rng.random() < 0.4:
                service = rng.choice(services[key])
                referred_at = timezone.make_aware(datetime.datetime.combine(raised, datetime.time(10, 0)))
                ref_status = rng.choices(ReferralStatus.values, [15, 15, 10, 25, 25, 10])[0]
                urgency = Referral.Urgency.EMERGENCY if rng.random() < 0.25 else Referral.Urgency.ROUTINE
                hours = rng.choice([2, 6, 20, 30, 52, 120])
                contact = referred_at + datetime.timedelta(hours=hours)
                if contact > timezone.now():
                    ref_status, contact = ReferralStatus.REFERRED, None
                decided = started = ended = None
                if ref_status != ReferralStatus.REFERRED and contact is not None:
                    decided = min(today, timezone.localtime(contact).date())
                    if ref_status in (ReferralStatus.STARTED, ReferralStatus.COMPLETED):
                        started = decided
                    if ref_status in (ReferralStatus.COMPLETED, ReferralStatus.WITHDRAWN):
                        ended = min(today, decided + datetime.timedelta(days=rng.randint(7, 60)))
                    if ref_status == ReferralStatus.WITHDRAWN:
                        decided = None
                referrals.append(Referral(
                    offender=person, service=service, urgency=urgency, status=ref_status, referred_at=referred_at,
                    referring_agency=lead, referred_by=person.lead_offender_manager,
                    first_contact_at=contact if ref_status != ReferralStatus.REFERRED else None,
                    decided_on=decided, started_on=started, ended_on=ended,
                    reason="Identified at the needs assessment.",
                ))
        released_on = releases.get(person.pk)
        if released_on:
            accommodation.append(AccommodationStatus(
                offender=person, effective_on=released_on, on_release_day=True, agency=lead,
                status=rng.choices(["settled", "temporary", "approved_premises", "no_fixed_abode"],
                                   [30, 30, 20, 20])[0],
            ))
        accommodation.append(AccommodationStatus(
            offender=person, effective_on=today - datetime.timedelta(days=rng.randint(0, 60)), agency=lead,
            status=rng.choices(AccommodationStatus.Status.values, [45, 25, 8, 12, 10])[0],
        ))
        ete.append(EteStatus(offender=person, effective_on=first_assessed, agency=lead,
                             status=rng.choices(EteStatus.Status.values, [20, 10, 5, 50, 15])[0]))
        benefits.append(BenefitStatus(offender=person, effective_on=first_assessed, agency=lead,
                                      status=rng.choices(BenefitStatus.Status.values, [50, 20, 15, 15])[0]))
        if rng.random() < 0.35:
            substance = rng.choice(TreatmentEngagement.Substance.values)
            requirement = "none"
            if rng.random() < 0.3:
                requirement = "drr" if substance == "drugs" else "atr"
            for stage, offset in (("referred", 120), ("assessed", 100),
                                  (rng.choice(["in_treatment", "completed", "dropped_out"]), 60)):
                treatment.append(TreatmentEngagement(
                    offender=person, substance=substance, stage=stage, requirement=requirement,
                    provider=agencies.get(Agency.Kind.TREATMENT), agency=lead,
                    effective_on=today - datetime.timedelta(days=offset),
                ))
    NeedAssessment.objects.bulk_create(needs)
    Action.objects.bulk_create(actions)
    Referral.objects.bulk_create(referrals)
    AccommodationStatus.objects.bulk_create(accommodation)
    EteStatus.objects.bulk_create(ete)
    BenefitStatus.objects.bulk_create(benefits)
    TreatmentEngagement.objects.bulk_create(treatment)
