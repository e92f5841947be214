"""Demonstration releases: people in prison with a release in the coming weeks, and a past for the measures.

Sixteen invented people are serving a sentence at HMP Northshire with a release date in the checklist's
window: their pre-release checklists open as they would have (the set number of weeks before the day),
further along the nearer the day is, one Friday release with no bed booked, and a few with their own
plan, agreed or under review. Recent releases of the demo's other people get the checklists they would
have had, settled or not by the day, so the through-the-gate measures have figures. Nothing is dated
after today. Called by `manage.py seed_demo` before the dashboard's roll-up. Everything here is invented.
"""

import datetime

from django.utils import timezone

from cases.demo import FIRST_NAMES, LAST_NAMES
from cases.models import Agency, Cohort, CohortMembership, Offence, Offender, Supervision
from pathways.models import AccommodationStatus, Pathway

from . import calendar
from .models import (
    ACCOMMODATION_KEY,
    Agreement,
    ChecklistItem,
    ChecklistItemType,
    ChecklistSettings,
    Goal,
    GoalStep,
    ItemStatus,
    PersonalPlan,
    PlanVersion,
    ReleaseChecklist,
)

UPCOMING = 16
# Recent releases of the demo's people that get the checklist they would have had.
PAST_DAYS = 270

PLANS = [
    # (goals in the person's words with their pathway and steps:
    #  (text, owner agency kind or None for the person, days after release it is due))
    [
        ("Have my own place so my daughter can stay at weekends", "accommodation", [
            ("Go to the housing options appointment the day I get out", None, 0),
            ("Apply to the rent deposit scheme", Agency.Kind.LOCAL_AUTHORITY, 14),
        ]),
        ("Stay off the gear", "drugs", [
            ("Pick up my script from the chemist on release day", None, 0),
            ("Book the first key worker session", Agency.Kind.TREATMENT, 2),
        ]),
    ],
    [
        ("Get a job on the building sites like before", "ete", [
            ("Get my CSCS card renewed", None, 28),
            ("Book me on the Jobcentre CV workshop", Agency.Kind.DWP, 14),
        ]),
        ("Sort my money out so I'm not borrowing off people", "finance", [
            ("Open a bank account with the prison's help", Agency.Kind.PRISON, -14),
        ]),
    ],
    [
        ("Keep my head down and finish my licence", "attitudes", [
            ("Go to every probation appointment", None, 1),
            ("Start the thinking skills course", Agency.Kind.PROBATION, 42),
        ]),
    ],
    [
        ("Not go back to my old area", "accommodation", [
            ("Look at supported housing in Southbridge", Agency.Kind.LOCAL_AUTHORITY, -21),
        ]),
    ],
]


def _working_day_before(day, earliest):
    """The nearest day on or before `day` (not before `earliest`) that a prison would release on."""
    while not calendar.is_working_day(day) and day > earliest:
        day -= datetime.timedelta(days=1)
    return day


def _release_days(today, weeks, rng):
    """Release days in the window: the next Friday but one, a day before a bank holiday when the window
    has one, and the rest spread over the weeks (working days, as prisons release)."""
    first, last = today + datetime.timedelta(days=3), today + datetime.timedelta(weeks=weeks)
    friday = today + datetime.timedelta(days=7)
    while friday.weekday() != calendar.FRIDAY:
        friday += datetime.timedelta(days=1)
    days = [friday]
    day = first
    while day <= last:
        if calendar.is_working_day(day) and not calendar.is_friday(day) and calendar.is_before_bank_holiday(day):
            days.append(day)
            break
        day += datetime.timedelta(days=1)
    span = (last - first).days
    while len(days) < UPCOMING:
        days.append(_working_day_before(first + datetime.timedelta(days=rng.randint(0, span)), first))
    return sorted(days)


def _people_in_custody(context, rng, release_days, prison):
    """New people serving a sentence, each with the custody episode that ends on a release day."""
    today, staff = context["today"], context["staff"]
    areas = list(context["areas"].values())
    probation = context["agencies"][Agency.Kind.PROBATION]
    police = context["agencies"][Agency.Kind.POLICE]
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    supervisions = []
    for index, released_on in enumerate(release_days, start=1):
        led_by_prison = index % 2 == 1 or calendar.is_friday(released_on)  # the prison worker sees Fridays
        person = Offender.objects.create(
            first_names=rng.choice(FIRST_NAMES), last_name=rng.choice(LAST_NAMES),
            date_of_birth=today - datetime.timedelta(days=rng.randint(20 * 365, 50 * 365)),
            gender=rng.choices([Offender.Gender.MALE, Offender.Gender.FEMALE], [85, 15])[0],
            ethnicity=rng.choice(Offender.Ethnicity.values), area=rng.choice(areas),
            address="HMP Northshire", postcode="NT1 1HP",
            lead_agency=prison if led_by_prison else probation,
            lead_offender_manager=staff["om.prison"] if led_by_prison else staff["om.probation"],
            review_date=released_on - datetime.timedelta(days=14),
            pnc_number=f"2019/{900000 + index:07d}{rng.choice(letters)}", crn=f"R{900000 + index:06d}",
            prison_number=f"A9{index:03d}{rng.choice(letters)}{rng.choice(letters)}",
        )
        sentenced = today - datetime.timedelta(days=rng.randint(120, 700))
        # The offence that led to the sentence, and the accommodation the case record shows: custody.
        Offence.objects.create(
            offender=person, committed_on=sentenced - datetime.timedelta(days=rng.randint(40, 120)),
            offence_group=rng.choice([Offence.Group.BURGLARY, Offence.Group.THEFT, Offence.Group.DRUGS,
                                      Offence.Group.ROBBERY]),
            outcome=Offence.Outcome.CONVICTION, outcome_on=sentenced, recorded_by_agency=police,
        )
        AccommodationStatus.objects.create(offender=person, status="custody", effective_on=sentenced,
                                           agency=probation)
        # Picked up by IOM before release, so police, probation and the council see the release coming.
        CohortMembership.objects.create(offender=person, cohort=Cohort.IOM, iom_category="fixed",
                                        started_on=min(today, released_on - datetime.timedelta(weeks=16)))
        supervisions.append(Supervision.objects.create(
            offender=person, kind=Supervision.Kind.LICENCE, started_on=sentenced, released_on=released_on,
            release_type=Supervision.ReleaseType.PLANNED, responsible_agency=prison,
            ends_on=released_on + datetime.timedelta(days=rng.randint(180, 540)),
        ))
    return supervisions


def _checklist(supervision, *, opened_on, prison, owners, item_types):
    checklist = ReleaseChecklist.objects.create(supervision=supervision, offender=supervision.offender,
                                                opened_on=opened_on, prison=prison)
    return checklist, [
        ChecklistItem(checklist=checklist, item_type=item_type, owner_agency=owners.get(item_type.owner_kind))
        for item_type in item_types
    ]


def _settle(item, status, on, staff):
    item.status, item.settled_on, item.updated_by = status, on, staff
    if status == ItemStatus.DONE:
        item.due_on = on


def _upcoming_checklists(context, rng, supervisions, prison, weeks):
    """Checklists for the coming releases: the nearer the day, the more is in place."""
    today = context["today"]
    owners = context["agencies"]  # by kind
    worker = context["staff"]["om.prison"]
    item_types = list(ChecklistItemType.objects.in_use())
    items = []
    friday_without_bed = next(s for s in supervisions if calendar.is_friday(s.released_on))
    for supervision in supervisions:
        opened_on = max(supervision.started_on, supervision.released_on - datetime.timedelta(weeks=weeks))
        _, made = _checklist(supervision, opened_on=opened_on, prison=prison, owners=owners, item_types=item_types)
        days_left = (supervision.released_on - today).days
        progress = max(0.1, 1 - days_left / (weeks * 7))  # share of the items already settled
        for item in made:
            roll = rng.random()
            if item.item_type.key == ACCOMMODATION_KEY and supervision == friday_without_bed:
                item.notes = "No bed found yet: council asked again on Monday."
            elif roll < progress * 0.8:
                _settle(item, ItemStatus.DONE, today - datetime.timedelta(days=rng.randint(0, max(0, (
                    today - opened_on).days))), worker)
            elif roll < progress:
                _settle(item, rng.choice([ItemStatus.NOT_NEEDED, ItemStatus.DECLINED]), today, worker)
            elif roll < progress + 0.3:
                item.status = ItemStatus.IN_PROGRESS
                item.due_on = supervision.released_on - datetime.timedelta(days=rng.randint(1, 7))
                item.updated_by = worker
        items.extend(made)
    ChecklistItem.objects.bulk_create(items)


def _past_checklists(context, rng, prison):
    """The checklists recent releases had: most settled by the day, some with an item left to afterwards."""
    today = context["today"]
    owners = context["agencies"]  # by kind
    worker = context["staff"]["om.prison"]
    weeks = ChecklistSettings.weeks()
    item_types = list(ChecklistItemType.objects.in_use())
    people = [person.pk for person in context.get("people") or []]
    recent = Supervision.objects.filter(
        offender__in=people, released_on__gte=today - datetime.timedelta(days=PAST_DAYS), released_on__lt=today,
    ).exclude(release_checklist__isnull=False).order_by("released_on", "pk")
    items = []
    for supervision in recent:
        released_on = supervision.released_on
        opened_on = max(supervision.started_on, released_on - datetime.timedelta(weeks=weeks))
        _, made = _checklist(supervision, opened_on=opened_on, prison=prison, owners=owners, item_types=item_types)
        complete = rng.random() < 0.7
        late = set() if complete else set(rng.sample([t.key for t in item_types], rng.choice([1, 1, 2])))
        for item in made:
            window = max(0, (released_on - opened_on).days)
            if item.item_type.key in late:
                if rng.random() < 0.5:
                    # Sorted out after release, or never.
                    _settle(item, ItemStatus.DONE, min(today, released_on + datetime.timedelta(
                        days=rng.randint(1, 10))), worker)
                else:
                    item.status = ItemStatus.IN_PROGRESS
                continue
            status = rng.choices([ItemStatus.DONE, ItemStatus.NOT_NEEDED, ItemStatus.DECLINED], [85, 10, 5])[0]
            _settle(item, status, opened_on + datetime.timedelta(days=rng.randint(0, window)), worker)
        items.extend(made)
    ChecklistItem.objects.bulk_create(items)


def _plans(context, rng, supervisions):
    """The person's own plan for a few of the people about to be released."""
    today, now = context["today"], timezone.now()
    agencies = context["agencies"]
    worker = context["staff"]["om.prison"]
    pathways = {pathway.key: pathway for pathway in Pathway.objects.in_use()}
    for index, (supervision, goals) in enumerate(zip(supervisions[::4], PLANS, strict=False)):
        person = supervision.offender
        plan = PersonalPlan.objects.create(offender=person)
        started_at = now - datetime.timedelta(days=rng.randint(20, 40))
        version = PlanVersion.objects.create(plan=plan, number=1, started_at=started_at, started_by=worker,
                                             agency=worker.agency)
        for order, (text, pathway_key, steps) in enumerate(goals, start=1):
            goal = Goal.objects.create(version=version, text=text, pathway=pathways.get(pathway_key), order=order)
            for step_order, (step, owner_kind, days) in enumerate(steps, start=1):
                GoalStep.objects.create(goal=goal, text=step, owner_agency=agencies.get(owner_kind),
                                        due_on=supervision.released_on + datetime.timedelta(days=days),
                                        order=step_order)
        if index == 3:
            continue  # still being drafted with the person
        answered_on = timezone.localtime(started_at).date() + datetime.timedelta(days=rng.randint(1, 5))
        answer, note = Agreement.AGREED, "Read it through together; happy with it in their own words."
        if index == 2:
            answer, note = Agreement.COULD_NOT_ANSWER, "Unwell on the wing that week; to go through it again."
        version.agreement, version.agreement_on, version.agreement_note = answer, min(today, answered_on), note
        version.agreement_recorded_by = worker
        version.save()
        if index == 0:
            # Reviewed when the housing plan changed: the agreed version is kept, the next one is being drafted.
            review = PlanVersion.objects.create(
                plan=plan, number=2, started_at=now - datetime.timedelta(days=3), started_by=worker,
                agency=worker.agency, review_reason="Council offered supported housing instead of a flat.",
            )
            for goal in version.goals.prefetch_related("steps"):
                copy = Goal.objects.create(version=review, text=goal.text, pathway=goal.pathway, order=goal.order)
                GoalStep.objects.bulk_create([
                    GoalStep(goal=copy, text=step.text, owner_agency=step.owner_agency, due_on=step.due_on,
                             order=step.order)
                    for step in goal.steps.all()
                ])


def seed(context, rng):
    """Seed the coming releases and the checklists of recent ones (once; safe to run twice)."""
    if ReleaseChecklist.objects.exists():
        return
    today = context["today"]
    prison = context["agencies"][Agency.Kind.PRISON]
    weeks = ChecklistSettings.weeks()
    _past_checklists(context, rng, prison)
    supervisions = _people_in_custody(context, rng, _release_days(today, weeks, rng), prison)
    _upcoming_checklists(context, rng, supervisions, prison, weeks)
    _plans(context, rng, supervisions)
