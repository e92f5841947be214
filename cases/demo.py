"""Demonstration data for the case record: a small partnership with a few hundred people.

Everything here is invented. Called by `manage.py seed_demo`, which lets the
apps built on `cases` add their own demo data afterwards.
"""

import datetime
import random

from django.utils import timezone

from .models import (
    AbsenceReason,
    Agency,
    Alias,
    Appointment,
    Area,
    CaseNote,
    Cohort,
    CohortMembership,
    EnforcementAction,
    Offence,
    Offender,
    RagChange,
    RagStatus,
    Requirement,
    Role,
    SharingAgreement,
    Supervision,
    User,
)

DEMO_PASSWORD = "demo-partnership-2026"  # noqa: S105 - published in the README for the local demo only

FIRST_NAMES = [
    "Aaron", "Abdul", "Aisha", "Callum", "Chloe", "Connor", "Daniel", "Darren", "Dean", "Ellie", "Grace",
    "Hassan", "Jade", "Jamal", "Jason", "Kayleigh", "Kieran", "Leanne", "Liam", "Marcus", "Mohammed", "Nathan",
    "Priya", "Reece", "Ryan", "Sasha", "Shannon", "Tariq", "Tyler", "Wayne", "Zainab", "Zoe",
]
LAST_NAMES = [
    "Ahmed", "Atkinson", "Bennett", "Brown", "Campbell", "Clarke", "Davies", "Edwards", "Evans", "Fletcher",
    "Green", "Hall", "Hughes", "Hussain", "Jackson", "Jones", "Khan", "Lewis", "Morgan", "Murphy", "Nowak",
    "Patel", "Price", "Roberts", "Robinson", "Shaw", "Smith", "Taylor", "Thomas", "Walker", "Williams", "Wright",
]
AREAS = [("Northtown", "northtown"), ("Southbridge", "southbridge"), ("Eastfield", "eastfield")]
RAG_REASONS = {
    RagStatus.RED: ["Arrested on suspicion of burglary", "Missed three appointments", "Intelligence of drug supply"],
    RagStatus.AMBER: ["Engaging with treatment but housing unstable", "Partial engagement since release"],
    RagStatus.GREEN: ["Settled accommodation and attending every appointment", "Started work and engaging well"],
}


def _agencies(areas):
    northtown = areas["northtown"]
    specs = [
        ("Northshire Police", Agency.Kind.POLICE, None, [Cohort.IOM, Cohort.MAPPA, Cohort.SGV, Cohort.DIP]),
        ("Probation Service Northshire", Agency.Kind.PROBATION, None,
         [Cohort.IOM, Cohort.MAPPA, Cohort.WOMENS_JUSTICE]),
        ("HMP Northshire", Agency.Kind.PRISON, None, [Cohort.MAPPA]),
        ("Northtown Council", Agency.Kind.LOCAL_AUTHORITY, northtown, [Cohort.IOM]),
        ("Northshire Recovery Service", Agency.Kind.TREATMENT, None, [Cohort.DIP]),
        ("Jobcentre Plus Northtown", Agency.Kind.DWP, northtown, []),
        ("Office of the Northshire PCC", Agency.Kind.OPCC, None, []),
    ]
    agencies = {}
    for name, kind, area, cohorts in specs:
        agency, _ = Agency.objects.get_or_create(name=name, defaults={"kind": kind, "area": area})
        for cohort in cohorts:
            SharingAgreement.objects.get_or_create(agency=agency, cohort=cohort)
        agencies[kind] = agency
    return agencies


def _staff(agencies):
    specs = [
        ("om.police", "Priya", "Shah", Agency.Kind.POLICE, Role.OFFENDER_MANAGER, "IOM police officer"),
        ("om.police2", "Tom", "Reid", Agency.Kind.POLICE, Role.OFFENDER_MANAGER, "IOM police officer"),
        ("chair.police", "Helen", "Marsh", Agency.Kind.POLICE, Role.PANEL_CHAIR, "IOM inspector"),
        ("admin.police", "Gareth", "Lloyd", Agency.Kind.POLICE, Role.AGENCY_ADMIN, "Information manager"),
        ("om.probation", "Femi", "Adeyemi", Agency.Kind.PROBATION, Role.OFFENDER_MANAGER, "Probation officer"),
        ("chair.probation", "Ruth", "Owens", Agency.Kind.PROBATION, Role.PANEL_CHAIR, "Senior probation officer"),
        ("om.prison", "Mark", "Doyle", Agency.Kind.PRISON, Role.OFFENDER_MANAGER, "Prison offender manager"),
        ("om.council", "Lucy", "Bennett", Agency.Kind.LOCAL_AUTHORITY, Role.OFFENDER_MANAGER, "Housing officer"),
        ("om.treatment", "Sanjay", "Gill", Agency.Kind.TREATMENT, Role.OFFENDER_MANAGER, "Recovery worker"),
        ("om.dwp", "Karen", "Hughes", Agency.Kind.DWP, Role.OFFENDER_MANAGER, "Work coach"),
        ("reader.probation", "Paul", "King", Agency.Kind.PROBATION, Role.READ_ONLY, "Case administrator"),
        ("analyst.opcc", "Amira", "Haddad", Agency.Kind.OPCC, Role.ANALYST, "Performance analyst"),
    ]
    staff = {}
    for username, first, last, kind, role, title in specs:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "agency": agencies[kind], "role": role,
                      "job_title": title, "email": f"{username}@example.org"},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        staff[username] = user
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.org", DEMO_PASSWORD, first_name="System",
                                      last_name="Administrator")
    return staff


def _identifiers(rng, index):
    year = rng.choice([2008, 2011, 2014, 2017, 2020, 2023])
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    return {
        "pnc_number": f"{year}/{index:07d}{rng.choice(letters)}",
        "crn": f"{rng.choice(letters)}{100000 + index:06d}" if rng.random() < 0.8 else "",
        "prison_number": f"A{1000 + index:04d}{rng.choice(letters)}{rng.choice(letters)}" if rng.random() < 0.4 else "",
    }


def _membership_for(rng, cohort, started_on):
    fields = {"cohort": cohort, "started_on": started_on}
    if cohort == Cohort.IOM:
        fields["iom_category"] = rng.choice(["fixed", "fixed", "flex", "free"])
    if cohort == Cohort.MAPPA:
        fields["mappa_category"] = rng.choice([1, 2, 2, 3])
        fields["mappa_level"] = rng.choice([1, 2, 2, 3])
    return fields


def seed(rng: random.Random, people: int = 300):
    """Create the partnership and `people` invented people; returns what later seeders build on."""
    today = timezone.localdate()
    areas = {code: Area.objects.get_or_create(code=code, defaults={"name": name})[0] for name, code in AREAS}
    agencies = _agencies(areas)
    staff = _staff(agencies)
    context = {"areas": areas, "agencies": agencies, "staff": staff, "today": today}
    if Offender.objects.exists():
        context["people"] = list(Offender.objects.all())
        return context

    managers = {
        Agency.Kind.POLICE: [staff["om.police"], staff["om.police2"]],
        Agency.Kind.PROBATION: [staff["om.probation"]],
        Agency.Kind.PRISON: [staff["om.prison"]],
    }
    lead_kinds = [Agency.Kind.POLICE] * 5 + [Agency.Kind.PROBATION] * 4 + [Agency.Kind.PRISON]
    cohort_weights = [(Cohort.IOM, 50), (Cohort.MAPPA, 12), (Cohort.CHECKPOINT, 10), (Cohort.DIP, 10),
                      (Cohort.SGV, 8), (Cohort.WOMENS_JUSTICE, 5), (Cohort.YOUTH, 5)]
    offenders = []
    for index in range(1, people + 1):
        lead_kind = rng.choice(lead_kinds)
        gender = rng.choices([Offender.Gender.MALE, Offender.Gender.FEMALE, Offender.Gender.OTHER], [80, 18, 2])[0]
        offenders.append(Offender(
            first_names=rng.choice(FIRST_NAMES), last_name=rng.choice(LAST_NAMES),
            date_of_birth=today - datetime.timedelta(days=rng.randint(18 * 365, 55 * 365)),
            gender=gender, ethnicity=rng.choice(Offender.Ethnicity.values),
            address=f"{rng.randint(1, 200)} {rng.choice(['Mill', 'Station', 'Church', 'Park'])} Road",
            postcode=f"NT{rng.randint(1, 9)} {rng.randint(1, 9)}{rng.choice('ABDEFG')}{rng.choice('HJLNPQ')}",
            area=rng.choice(list(areas.values())), lead_agency=agencies[lead_kind],
            lead_offender_manager=rng.choice(managers[lead_kind]),
            veteran=rng.random() < 0.05, care_leaver=rng.random() < 0.15, disability=rng.random() < 0.1,
            womens_cohort=gender == Offender.Gender.FEMALE and rng.random() < 0.5,
            review_date=today + datetime.timedelta(days=rng.randint(-20, 120)),
            **_identifiers(rng, index),
        ))
    offenders = Offender.objects.bulk_create(offenders)

    memberships, rag_changes, appointments, notes, aliases, supervisions = [], [], [], [], [], []
    offences, enforcement, requirements = [], [], []
    cohorts, weights = zip(*cohort_weights, strict=True)
    for person in offenders:
        chosen = set(rng.choices(cohorts, weights, k=rng.choice([1, 1, 1, 2])))
        for cohort in chosen:
            started = today - datetime.timedelta(days=rng.randint(10, 900))
            memberships.append(CohortMembership(offender=person, **_membership_for(rng, cohort, started)))
            if rng.random() < 0.15:
                ended = min(today, started + datetime.timedelta(days=rng.randint(30, 400)))
                memberships.append(CohortMembership(
                    offender=person, ended_on=ended, exit_reason=rng.choice(["completed", "custody", "deselected"]),
                    **_membership_for(rng, cohort, started - datetime.timedelta(days=900)),
                ))
        status, when = "", timezone.now() - datetime.timedelta(days=rng.randint(200, 700))
        for _ in range(rng.randint(1, 5)):
            new = rng.choice([s for s in RagStatus.values if s != status])
            author = rng.choice(managers[Agency.Kind.POLICE] + managers[Agency.Kind.PROBATION])
            rag_changes.append(RagChange(
                offender=person, from_status=status, to_status=new, reason=rng.choice(RAG_REASONS[new]),
                changed_by=author, agency_id=author.agency_id, changed_at=when,
            ))
            status, when = new, when + datetime.timedelta(days=rng.randint(20, 120))
        person.rag_status = status
        if rng.random() < 0.2:
            aliases.append(Alias(offender=person, name=f"{rng.choice(FIRST_NAMES)} {person.last_name}"))
        released = today - datetime.timedelta(days=rng.randint(5, 400)) if rng.random() < 0.4 else None
        supervision = Supervision(
            offender=person, kind=Supervision.Kind.LICENCE if released else rng.choice(
                [Supervision.Kind.COMMUNITY_ORDER, Supervision.Kind.SUSPENDED_SENTENCE]),
            started_on=(released or today) - datetime.timedelta(days=rng.randint(0, 200)),
            ends_on=today + datetime.timedelta(days=rng.randint(30, 500)), released_on=released,
            release_type=(rng.choices(Supervision.ReleaseType.values, [85, 15])[0] if released else ""),
            responsible_agency=agencies[Agency.Kind.PROBATION],
        )
        supervisions.append(supervision)
        for kind, chance in ((Requirement.Kind.DRR, 0.2), (Requirement.Kind.ATR, 0.1), (Requirement.Kind.RAR, 0.4),
                             (Requirement.Kind.UNPAID_WORK, 0.3), (Requirement.Kind.MHTR, 0.05)):
            if rng.random() < chance:
                requirements.append(Requirement(supervision=supervision, kind=kind))
        for _ in range(rng.randint(2, 8)):
            at = timezone.now() + datetime.timedelta(days=rng.randint(-120, 21), hours=rng.randint(9, 16))
            outcome, reason = Appointment.Outcome.SCHEDULED, ""
            if at <= timezone.now():
                outcome = rng.choices(
                    [Appointment.Outcome.ATTENDED_COMPLIED, Appointment.Outcome.FAILED_TO_COMPLY,
                     Appointment.Outcome.ACCEPTABLE_ABSENCE, Appointment.Outcome.UNACCEPTABLE_ABSENCE,
                     Appointment.Outcome.RESCHEDULED], [70, 5, 6, 14, 5])[0]
                if outcome == Appointment.Outcome.ACCEPTABLE_ABSENCE:
                    reason = rng.choice(AbsenceReason.values)
            appointments.append(Appointment(
                offender=person, agency=person.lead_agency, staff=person.lead_offender_manager,
                kind=rng.choice(Appointment.Kind.values), scheduled_at=at, outcome=outcome, absence_reason=reason,
                recorded_at=min(at + datetime.timedelta(hours=1), timezone.now()),
            ))
        for _ in range(rng.choices([0, 1, 2, 3], [40, 35, 15, 10])[0]):
            committed = today - datetime.timedelta(days=rng.randint(1, 720))
            outcome = rng.choices(Offence.Outcome.values, [15, 5, 35, 15, 10, 15, 5])[0]
            outcome_on = None
            if outcome != Offence.Outcome.PENDING:
                outcome_on = min(today, committed + datetime.timedelta(days=rng.randint(1, 200)))
            offences.append(Offence(
                offender=person, committed_on=committed, offence_group=rng.choice(Offence.Group.values),
                drug_related=rng.random() < 0.25, alcohol_related=rng.random() < 0.2,
                outcome=outcome, outcome_on=outcome_on, recorded_by_agency=agencies[Agency.Kind.POLICE],
            ))
        if status == RagStatus.RED and rng.random() < 0.5:
            enforcement.append(EnforcementAction(
                offender=person, kind=rng.choice(EnforcementAction.Kind.values), agency=person.lead_agency,
                taken_on=today - datetime.timedelta(days=rng.randint(1, 180)),
                recorded_by=person.lead_offender_manager,
            ))
        notes.append(CaseNote(offender=person, author=person.lead_offender_manager, agency=person.lead_agency,
                              text="Home visit completed; discussed housing and benefits.",
                              created_at=timezone.now() - datetime.timedelta(days=rng.randint(1, 60))))
        if person.lead_agency.kind == Agency.Kind.POLICE and rng.random() < 0.3:
            notes.append(CaseNote(offender=person, author=person.lead_offender_manager, agency=person.lead_agency,
                                  sharing=CaseNote.Sharing.AGENCY,
                                  text="Intelligence report: seen with known associates (police only)."))
    CohortMembership.objects.bulk_create(memberships)
    RagChange.objects.bulk_create(rag_changes)
    Offender.objects.bulk_update(offenders, ["rag_status"])
    Appointment.objects.bulk_create(appointments)
    CaseNote.objects.bulk_create(notes)
    Alias.objects.bulk_create(aliases)
    Supervision.objects.bulk_create(supervisions)
    Requirement.objects.bulk_create(requirements)
    Offence.objects.bulk_create(offences)
    EnforcementAction.objects.bulk_create(enforcement)
    context["people"] = offenders
    return context
