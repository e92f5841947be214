"""Demonstration figures: history for the demo people, so every dashboard measure has believable trends.

Called by `manage.py seed_demo` after the case record (and the apps between) are seeded.
The earlier steps make a partnership as it stands today; this one gives it a past:
earlier orders and releases with reoffending at a plausible rate, first-month
appointments, two years of IOM panel meetings and their actions, Checkpoint contracts
for the people on Checkpoint, and treatment journeys spread over time. Offences and
enforcement actions are only invented when the demo has none. Then every measure is
calculated. Everything here is invented.
"""

import datetime

from django.utils import timezone

from cases.models import Agency, Appointment, Cohort, CohortMembership, EnforcementAction, Offence, Supervision

from .models import RollupRun
from .rollup import run_rollup


def _offences(context, rng):
    today = context["today"]
    offences = []
    groups = Offence.Group.values
    for person in context["people"]:
        if rng.random() > 0.45:
            continue
        for _ in range(rng.choice([1, 1, 2, 3])):
            committed = today - datetime.timedelta(days=rng.randint(20, 1000))
            outcome = rng.choices(
                [Offence.Outcome.CONVICTION, Offence.Outcome.CAUTION, Offence.Outcome.NO_FURTHER_ACTION,
                 Offence.Outcome.OUT_OF_COURT, Offence.Outcome.PENDING],
                [45, 15, 20, 10, 10],
            )[0]
            outcome_on = None
            if outcome != Offence.Outcome.PENDING:
                outcome_on = min(today, committed + datetime.timedelta(days=rng.randint(1, 300)))
            offences.append(Offence(
                offender=person, committed_on=committed, offence_group=rng.choice(groups), outcome=outcome,
                drug_related=rng.random() < 0.25, alcohol_related=rng.random() < 0.2,
                outcome_on=outcome_on, recorded_by_agency=context["agencies"][Agency.Kind.POLICE],
            ))
    Offence.objects.bulk_create(offences)


def _enforcement(context, rng):
    today = context["today"]
    agencies = [context["agencies"][Agency.Kind.PROBATION], context["agencies"][Agency.Kind.POLICE]]
    actions = []
    for person in context["people"]:
        if rng.random() > 0.3:
            continue
        for _ in range(rng.randint(1, 3)):
            actions.append(EnforcementAction(
                offender=person, kind=rng.choice(EnforcementAction.Kind.values), agency=rng.choice(agencies),
                taken_on=today - datetime.timedelta(days=rng.randint(1, 900)),
            ))
    EnforcementAction.objects.bulk_create(actions)


REOFFENDING_SHARE = 0.3  # about the national adult rate; IOM cohorts run higher


def _past_orders(context, rng):
    """Earlier orders and releases, one to three years ago, and the proven reoffending that followed some."""
    today = context["today"]
    probation, police = context["agencies"][Agency.Kind.PROBATION], context["agencies"][Agency.Kind.POLICE]
    supervisions, offences, enforcement = [], [], []
    kinds = EnforcementAction.Kind.values  # warning letters most often
    for person in context["people"]:
        if rng.random() > 0.6:
            continue
        event_on = today - datetime.timedelta(days=rng.randint(400, 1150))
        kind = rng.choices([Supervision.Kind.LICENCE, Supervision.Kind.COMMUNITY_ORDER,
                            Supervision.Kind.SUSPENDED_SENTENCE], [40, 40, 20])[0]
        released = kind == Supervision.Kind.LICENCE
        supervisions.append(Supervision(
            offender=person, kind=kind, responsible_agency=probation,
            started_on=event_on - datetime.timedelta(days=rng.randint(90, 400)) if released else event_on,
            released_on=event_on if released else None,
            release_type=Supervision.ReleaseType.PLANNED if released else "",
            ends_on=event_on + datetime.timedelta(days=rng.randint(180, 360)),
        ))
        if rng.random() < 0.35:  # warned or breached on the earlier order
            enforcement.append(EnforcementAction(
                offender=person, agency=probation, taken_on=event_on + datetime.timedelta(days=rng.randint(20, 250)),
                kind=rng.choices(kinds, [50] + [10] * (len(kinds) - 1))[0],
            ))
        if rng.random() < REOFFENDING_SHARE:
            committed = event_on + datetime.timedelta(days=rng.randint(15, 330))
            for _ in range(rng.choice([1, 1, 1, 2, 3])):
                outcome_on = min(today, committed + datetime.timedelta(days=rng.randint(20, 150)))
                offences.append(Offence(
                    offender=person, committed_on=committed, offence_group=rng.choice(Offence.Group.values),
                    outcome=rng.choices([Offence.Outcome.CONVICTION, Offence.Outcome.CAUTION], [85, 15])[0],
                    outcome_on=outcome_on, drug_related=rng.random() < 0.3, alcohol_related=rng.random() < 0.2,
                    recorded_by_agency=police,
                ))
                committed = min(today - datetime.timedelta(days=1), committed + datetime.timedelta(
                    days=rng.randint(10, 90)))
    Supervision.objects.bulk_create(supervisions)
    Offence.objects.bulk_create(offences)
    EnforcementAction.objects.bulk_create(enforcement)


def _first_month_appointments(context, rng):
    """Weekly appointments in the first month of every order and licence; a few people miss several."""
    now = timezone.now()
    tz = timezone.get_current_timezone()
    people = {person.pk: person for person in context["people"]}
    appointments = []
    for supervision in Supervision.objects.exclude(
        kind__in=[Supervision.Kind.CUSTODY, Supervision.Kind.OUT_OF_COURT]
    ).filter(offender__in=people):
        start = supervision.released_on or supervision.started_on
        person = people[supervision.offender_id]
        miss_chance = 0.4 if rng.random() < 0.15 else 0.04
        for week in range(4):
            at = timezone.make_aware(datetime.datetime.combine(
                start + datetime.timedelta(days=1 + 7 * week + rng.randint(0, 2)),
                datetime.time(rng.randint(9, 16), rng.choice([0, 30]))), tz)
            if at > now:
                break
            outcome = Appointment.Outcome.UNACCEPTABLE_ABSENCE if rng.random() < miss_chance else (
                Appointment.Outcome.ATTENDED_COMPLIED)
            appointments.append(Appointment(
                offender=person, agency=person.lead_agency, staff=person.lead_offender_manager,
                kind=Appointment.Kind.SUPERVISION, scheduled_at=at, outcome=outcome,
                recorded_at=min(at + datetime.timedelta(hours=1), now),
            ))
    Appointment.objects.bulk_create(appointments)


def _treatment_over_time(context, rng):
    """Treatment journeys began at different times, not all in the last few months."""
    from pathways.models import TreatmentEngagement

    shift = {}
    journeys = list(TreatmentEngagement.objects.filter(offender__in=context["people"]))
    for journey in journeys:
        days = shift.setdefault((journey.offender_id, journey.substance), rng.randint(0, 600))
        journey.effective_on -= datetime.timedelta(days=days)
    TreatmentEngagement.objects.bulk_update(journeys, ["effective_on"])


def _checkpoint_contracts(context, rng):
    """A Checkpoint contract for each person on Checkpoint, most completed, some failed or reoffended."""
    from panels.models import CheckpointContract, add_months

    today = context["today"]
    police = context["agencies"][Agency.Kind.POLICE]
    has_contract = set(CheckpointContract.objects.values_list("offender_id", flat=True))
    # Checkpoint takes a steady flow of people: earlier participants, their contracts long finished.
    on_checkpoint = set(CohortMembership.objects.filter(cohort=Cohort.CHECKPOINT).values_list("offender_id",
                                                                                              flat=True))
    others = [person for person in context["people"] if person.pk not in on_checkpoint]
    earlier = []
    for person in rng.sample(others, min(len(others), len(context["people"]) // 6)):
        started_on = today - datetime.timedelta(days=rng.randint(140, 800))
        earlier.append(CohortMembership(
            offender=person, cohort=Cohort.CHECKPOINT, started_on=started_on, ended_on=add_months(started_on, 4),
            exit_reason=CohortMembership.ExitReason.COMPLETED,
        ))
    CohortMembership.objects.bulk_create(earlier)
    contracts = []
    for membership in CohortMembership.objects.filter(cohort=Cohort.CHECKPOINT).order_by("pk"):
        if membership.offender_id in has_contract:
            continue
        has_contract.add(membership.offender_id)
        started_on = membership.started_on + datetime.timedelta(days=rng.randint(0, 14))
        if started_on >= today:
            continue
        ends_on = add_months(started_on, 4)
        consulted = rng.random() < 0.95
        offered = rng.random() < 0.6
        outcome, outcome_on, satisfaction = "", None, ""
        if ends_on <= today:
            satisfaction = rng.choices(CheckpointContract.VictimSatisfaction.values, [30, 35, 12, 8, 3, 7, 5])[0]
            outcome = rng.choices(CheckpointContract.Outcome.values, [72, 18, 10])[0]
            outcome_on = ends_on if outcome != "reoffended" else started_on + datetime.timedelta(
                days=rng.randint(20, 100))
        contracts.append(CheckpointContract(
            offender_id=membership.offender_id, eligible=True, agency=police,
            conditions="Attend a needs assessment, keep weekly contact and complete the agreed interventions.",
            started_on=started_on, ends_on=ends_on, victim_consulted=consulted,
            victim_consulted_on=started_on - datetime.timedelta(days=2) if consulted else None,
            restorative_justice_offered=offered, restorative_justice_taken_up=offered and rng.random() < 0.4,
            outcome=outcome, outcome_on=outcome_on, victim_satisfaction=satisfaction,
        ))
    CheckpointContract.objects.bulk_create(contracts)


PANEL_ACTIONS = [
    ("accommodation", "Refer to the rent deposit scheme"),
    ("ete", "Book onto the Jobcentre CV workshop"),
    ("drugs", "Arrange a treatment assessment within 5 working days"),
    ("attitudes", "Start a thinking skills programme"),
    ("finance", "Refer to Citizens Advice for debt advice"),
]


def _panel_history(context, rng):
    """Two years of monthly IOM panel meetings before the demo's own, each setting actions most agencies did."""
    from panels.models import AgendaItem, Meeting, MeetingAction, Panel, PanelKind, add_months
    from pathways.models import Action, ActionStatus, Pathway

    today = context["today"]
    panel = Panel.objects.filter(kind=PanelKind.IOM_MAIN).order_by("pk").first()
    first = Meeting.objects.filter(panel=panel).order_by("held_on").first() if panel else None
    if first is None:
        return
    owners = [membership.agency for membership in panel.memberships.select_related("agency")]
    pathways = {pathway.key: pathway for pathway in Pathway.objects.filter(key__in=[k for k, _ in PANEL_ACTIONS])}
    # The panel is Northtown's: its agendas list people on IOM in its area.
    memberships = list(CohortMembership.objects.filter(cohort=Cohort.IOM, offender__area=panel.area)
                       .select_related("offender"))
    for months_back in range(24, 0, -1):
        held_on = add_months(first.held_on, -months_back)
        meeting = Meeting.objects.create(
            panel=panel, held_on=held_on, location="Northtown police station, room 2", status=Meeting.Status.CLOSED,
            closed_at=timezone.make_aware(datetime.datetime.combine(held_on, datetime.time(15))),
        )
        # A person on IOM twice is one person on the agenda.
        present = list({m.offender_id: m.offender for m in memberships
                        if m.started_on <= held_on and (m.ended_on is None or m.ended_on >= held_on)}.values())
        for position, person in enumerate(rng.sample(present, min(8, len(present))), start=1):
            # Only the last few meetings' reviews are still ahead of the panel: the meetings in between,
            # which the demo does not invent in full, held the earlier ones.
            review_on = held_on + datetime.timedelta(days=28 * rng.choice([1, 2, 3])) if months_back <= 3 else None
            item = AgendaItem.objects.create(meeting=meeting, offender=person, position=position,
                                             discussion="Reviewed by the panel; plan agreed.",
                                             next_review_on=review_on)
            if rng.random() > 0.7:
                continue
            key, description = rng.choice(PANEL_ACTIONS)
            if key not in pathways:
                continue
            due_on = held_on + datetime.timedelta(days=rng.choice([14, 28, 42]))
            recent = (today - held_on).days < 120
            status, completed_on = ActionStatus.OPEN, None
            if rng.random() > (0.5 if recent else 0.04):
                status = ActionStatus.DONE if rng.random() < 0.9 else ActionStatus.CANCELLED
                completed_on = held_on + datetime.timedelta(days=rng.randint(3, (due_on - held_on).days + 30))
                if completed_on >= today:
                    status, completed_on = ActionStatus.OPEN, None
            action = Action.objects.create(
                offender=person, pathway=pathways[key], description=description, owner_agency=rng.choice(owners),
                raised_on=held_on, due_on=due_on, status=status, completed_on=completed_on,
            )
            MeetingAction.objects.create(meeting=meeting, agenda_item=item, action=action)


def seed(context, rng):
    """Give the demo partnership its history, and calculate every measure now."""
    if context.get("people") and not Offence.objects.exists():
        _offences(context, rng)
    if context.get("people") and not EnforcementAction.objects.exists():
        _enforcement(context, rng)
    if context.get("people"):
        _past_orders(context, rng)
        _first_month_appointments(context, rng)
        _treatment_over_time(context, rng)
        _checkpoint_contracts(context, rng)
        _panel_history(context, rng)
    run_rollup(RollupRun.objects.create())
