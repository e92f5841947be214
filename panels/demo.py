"""Demonstration panels: IOM (main and mid-month), MAPPA, Checkpoint, DIP and SGV for Northtown.

Three past IOM main panel meetings are run and closed through the services, so their
actions carry forward; this month's meeting is scheduled with its agenda not yet generated.
Everything here is invented.
"""

import datetime

from cases.models import Agency, Cohort, CohortMembership
from pathways.models import Pathway

from . import services
from .models import CheckpointContract, Meeting, Panel, PanelKind, PanelMembership, add_months

DISCUSSIONS = [
    "Engaging with probation; housing still temporary. Keep on current plan.",
    "Missed two appointments since release; police home visit planned this week.",
    "Positive drug test last week; treatment key worker to increase contact.",
    "Started a CV workshop through the Jobcentre; good progress reported by all agencies.",
    "Intelligence suggests renewed links with an organised group; keep under close review.",
]
ACTIONS = [
    ("accommodation", "Refer to the rent deposit scheme", Agency.Kind.LOCAL_AUTHORITY),
    ("ete", "Book onto the Jobcentre CV workshop", Agency.Kind.DWP),
    ("drugs", "Arrange a treatment assessment within 5 working days", Agency.Kind.TREATMENT),
    ("attitudes", "Start a thinking skills programme", Agency.Kind.PROBATION),
    ("finance", "Refer to Citizens Advice for debt advice", Agency.Kind.PROBATION),
]


def _panel(name, kind, area, chair, agencies, kinds):
    panel = Panel.objects.create(name=name, kind=kind, area=area, chair=chair)
    for agency_kind in kinds:
        if agency_kind in agencies:
            PanelMembership.objects.create(panel=panel, agency=agencies[agency_kind])
    return panel


def _run_meeting(meeting, chair, agencies, rng, today):
    services.generate_agenda(chair, meeting)
    for agency in {m.agency for m in meeting.panel.memberships.select_related("agency")}:
        services.record_attendance(chair, meeting, agency=agency, name=f"{agency.name} representative")
    pathways = {p.key: p for p in Pathway.objects.in_use()}
    items = list(meeting.items.select_related("offender")[:8])
    for index, item in enumerate(items):
        services.record_discussion(
            chair, item, discussion=rng.choice(DISCUSSIONS),
            next_review_on=meeting.held_on + datetime.timedelta(days=rng.choice([28, 56])),
        )
        if index % 2 == 0:
            key, description, kind = rng.choice(ACTIONS)
            owner = agencies.get(kind)
            if key in pathways and owner is not None and meeting.panel.memberships.filter(agency=owner).exists():
                services.add_meeting_action(chair, item, pathway=pathways[key], description=description,
                                            owner_agency=owner, due_on=today + datetime.timedelta(days=21))
    services.close_meeting(chair, meeting)


def seed(context, rng):
    if Panel.objects.exists():
        return
    today = context["today"]
    agencies, staff = context["agencies"], context["staff"]
    area = context["areas"]["northtown"]
    police_chair, probation_chair = staff["chair.police"], staff["chair.probation"]
    K = Agency.Kind
    iom = _panel("Northtown IOM panel", PanelKind.IOM_MAIN, area, police_chair, agencies,
                 [K.POLICE, K.PROBATION, K.LOCAL_AUTHORITY, K.TREATMENT, K.DWP])
    _panel("Northtown IOM mid-month panel", PanelKind.IOM_MID_MONTH, area, police_chair, agencies,
           [K.POLICE, K.PROBATION, K.LOCAL_AUTHORITY])
    mappa = _panel("Northshire MAPPA level 2 and 3 meeting", PanelKind.MAPPA, area, probation_chair, agencies,
                   [K.POLICE, K.PROBATION, K.PRISON, K.LOCAL_AUTHORITY, K.DWP, K.TREATMENT])
    checkpoint = _panel("Northtown Checkpoint panel", PanelKind.CHECKPOINT, area, police_chair, agencies,
                        [K.POLICE, K.TREATMENT, K.LOCAL_AUTHORITY])
    _panel("Northtown DIP panel", PanelKind.DIP, area, police_chair, agencies, [K.POLICE, K.PROBATION, K.TREATMENT])
    _panel("Northtown serious group violence panel", PanelKind.SGV, area, police_chair, agencies,
           [K.POLICE, K.PROBATION, K.LOCAL_AUTHORITY])

    # This month's meetings: on the 10th, or later in the month when the 10th has passed.
    this_meeting = today if today.day > 10 else today.replace(day=10)
    for months_ago in (3, 2, 1):
        meeting = Meeting.objects.create(panel=iom, held_on=add_months(this_meeting, -months_ago),
                                         location="Northtown police station, room 2")
        _run_meeting(meeting, police_chair, agencies, rng, today)
    Meeting.objects.create(panel=iom, held_on=this_meeting, location="Northtown police station, room 2")

    mappa_meeting = Meeting.objects.create(panel=mappa, held_on=add_months(this_meeting, -1),
                                           location="Probation office")
    services.generate_agenda(probation_chair, mappa_meeting)
    on_mappa = CohortMembership.objects.filter(
        cohort=Cohort.MAPPA, ended_on__isnull=True, offender__area=area,
    ).select_related("offender")[:3]
    for membership in on_mappa:
        item = mappa_meeting.items.filter(offender=membership.offender).first()
        if item is None:
            item = services.add_to_agenda(probation_chair, mappa_meeting, membership.offender,
                                          reason="Level review")
        services.record_mappa_level(
            probation_chair, item, category=membership.mappa_category, level=2,
            review_on=add_months(mappa_meeting.held_on, 2), reason="Active multi-agency management needed",
        )
    services.close_meeting(probation_chair, mappa_meeting)
    Meeting.objects.create(panel=mappa, held_on=add_months(this_meeting, 1), location="Probation office")

    on_checkpoint = CohortMembership.objects.filter(
        cohort=Cohort.CHECKPOINT, ended_on__isnull=True, offender__lead_agency=agencies[K.POLICE],
    ).select_related("offender")[:6]
    for index, membership in enumerate(on_checkpoint):
        started_on = today - datetime.timedelta(days=30 * (index + 1) - 10)
        contract = services.create_checkpoint_contract(
            police_chair, membership.offender, eligible=True,
            conditions="Attend a needs assessment, keep weekly contact and complete the agreed interventions.",
            started_on=started_on, victim_consulted=True, victim_consulted_on=started_on - datetime.timedelta(days=2),
            victim_view=rng.choice(["Wants an apology", "Happy with a deferred prosecution", "No view given"]),
            restorative_justice_offered=index % 2 == 0,
        )
        if contract.ends_on <= today:
            services.update_checkpoint_contract(
                police_chair, contract, expected_version=contract.version,
                outcome=rng.choice(CheckpointContract.Outcome.values), outcome_on=contract.ends_on,
            )
    Meeting.objects.create(panel=checkpoint, held_on=this_meeting)
