"""Each measure's arithmetic on small hand-made partnerships."""

import datetime

import pytest
from django.utils import timezone

from cases.models import (
    Appointment,
    Cohort,
    EnforcementAction,
    Offence,
    Offender,
    RagChange,
    Supervision,
)
from dashboard.models import Dimension, RollupValue
from dashboard.periods import Quarter
from dashboard.rollup import run_rollup
from tests.factories import AgencyFactory, AreaFactory, MembershipFactory, OffenderFactory

Q1 = Quarter.from_key("2024-04-01")  # 2024-25 Q1, April to June 2024
Q2 = Q1.next()
START = datetime.date(2024, 4, 10)


def day(n):
    return START + datetime.timedelta(days=n)


def at(date, hour=12):
    return timezone.make_aware(datetime.datetime.combine(date, datetime.time(hour)))


def figure(measure, quarter=Q1, dimension=Dimension.ALL, slice_key="", category=""):
    value = RollupValue.objects.filter(
        measure=measure, period_start=quarter.start, dimension=dimension, slice_key=slice_key, category=category
    ).first()
    return (value.numerator, value.denominator) if value else (0, None)


def rag(person, from_status, to_status, when):
    return RagChange.objects.create(
        offender=person, from_status=from_status, to_status=to_status, reason="Reviewed", changed_at=when
    )


def offence(person, committed, outcome=Offence.Outcome.CONVICTION, outcome_on=None):
    if outcome != Offence.Outcome.PENDING:
        outcome_on = outcome_on or committed + datetime.timedelta(days=30)
    return Offence.objects.create(
        offender=person, committed_on=committed, offence_group=Offence.Group.THEFT, outcome=outcome,
        outcome_on=outcome_on,
    )


def starter(**kwargs):
    person = OffenderFactory(**kwargs)
    MembershipFactory(offender=person, cohort=Cohort.IOM, started_on=START)
    return person


@pytest.fixture
def rollup(db):
    def run(quarters=(Q1, Q2)):
        return run_rollup(quarters=list(quarters))

    return run


class TestProvenReoffending:
    def test_window_edges_of_the_published_measure(self, rollup):
        on_day_365 = starter()
        offence(on_day_365, day(365), outcome_on=day(400))
        offence(on_day_365, day(20), outcome=Offence.Outcome.CAUTION, outcome_on=day(40))
        on_day_366 = starter()
        offence(on_day_366, day(366), outcome_on=day(380))
        proven_at_18_months = starter()
        offence(proven_at_18_months, day(100), outcome_on=day(365 + 183))
        proven_too_late = starter()
        offence(proven_too_late, day(100), outcome_on=day(365 + 184))
        no_further_action = starter()
        offence(no_further_action, day(50), outcome=Offence.Outcome.NO_FURTHER_ACTION)
        out_of_court = starter()
        offence(out_of_court, day(50), outcome=Offence.Outcome.OUT_OF_COURT)
        still_pending = starter()
        offence(still_pending, day(50), outcome=Offence.Outcome.PENDING)
        index_offence_on_start_day = starter()
        offence(index_offence_on_start_day, START)
        offended_before_start = starter()
        offence(offended_before_start, day(-30), outcome_on=day(10))

        rollup()

        assert figure("proven_reoffending") == (2, 9)
        assert figure("reoffences_per_reoffender") == (3, 2)
        assert figure("proven_reoffending", dimension=Dimension.COHORT, slice_key=Cohort.IOM) == (2, 9)

    def test_prison_release_starts_the_follow_up(self, rollup):
        released = OffenderFactory()
        Supervision.objects.create(
            offender=released, kind=Supervision.Kind.LICENCE, started_on=day(-300), released_on=day(5),
            responsible_agency=released.lead_agency,
        )
        offence(released, day(200))

        rollup()

        assert figure("proven_reoffending") == (1, 1)
        # A release is not a cohort start: the cohort slices do not count it.
        assert not RollupValue.objects.filter(measure="proven_reoffending", dimension=Dimension.COHORT).exists()

    def test_person_starting_two_cohorts_counts_once_from_the_earlier_start(self, rollup):
        person = starter()
        MembershipFactory(offender=person, cohort=Cohort.DIP, started_on=day(30))
        offence(person, day(370))  # within a year of the DIP start, not of the IOM start

        rollup()

        assert figure("proven_reoffending") == (0, 1)
        assert figure("proven_reoffending", dimension=Dimension.COHORT, slice_key=Cohort.DIP) == (1, 1)
        assert figure("proven_reoffending", dimension=Dimension.COHORT, slice_key=Cohort.IOM) == (0, 1)


class TestCohortFlow:
    def test_size_entries_and_exits(self, rollup):
        staying = OffenderFactory()
        MembershipFactory(offender=staying, cohort=Cohort.IOM, started_on=datetime.date(2024, 1, 5))
        MembershipFactory(offender=staying, cohort=Cohort.DIP, started_on=datetime.date(2024, 5, 1))
        leaving = OffenderFactory()
        MembershipFactory(
            offender=leaving, cohort=Cohort.IOM, started_on=datetime.date(2024, 2, 1),
            ended_on=datetime.date(2024, 6, 30), exit_reason="completed",
        )
        joining_later = OffenderFactory()
        MembershipFactory(offender=joining_later, cohort=Cohort.SGV, started_on=datetime.date(2024, 7, 1))

        rollup()

        assert figure("cohort_size") == (1, None)  # left on the last day of the quarter: not on at its end
        assert figure("cohort_size", dimension=Dimension.COHORT, slice_key=Cohort.DIP) == (1, None)
        assert figure("cohort_entries") == (1, None)
        assert figure("cohort_exits") == (1, None)
        assert figure("cohort_size", Q2) == (2, None)
        assert figure("cohort_entries", Q2) == (1, None)


class TestRag:
    def test_status_at_quarter_end_and_movement(self, rollup):
        first = OffenderFactory()
        rag(first, "", "red", at(day(-20)))
        rag(first, "red", "amber", at(day(1)))
        rag(first, "amber", "green", at(Q2.start, 10))
        second = OffenderFactory()
        rag(second, "", "green", at(day(2)))
        rag(second, "green", "red", at(day(3)))

        rollup()

        assert figure("rag_mix", category="amber") == (1, None)
        assert figure("rag_mix", category="red") == (1, None)
        assert figure("rag_mix", category="green") == (0, None)
        assert figure("rag_mix", Q2, category="green") == (1, None)
        assert figure("rag_movement", category="improved") == (1, None)
        assert figure("rag_movement", category="worsened") == (1, None)
        assert figure("rag_movement", category="first") == (1, None)
        assert figure("rag_movement", Q2, category="improved") == (1, None)


class TestEngagement:
    def test_missed_appointments_in_the_first_month(self, rollup):
        people = []
        for missed in (0, 1, 2):
            person = OffenderFactory()
            Supervision.objects.create(
                offender=person, kind=Supervision.Kind.COMMUNITY_ORDER, started_on=START,
                responsible_agency=person.lead_agency,
            )
            for n in range(missed):
                Appointment.objects.create(
                    offender=person, agency=person.lead_agency, kind=Appointment.Kind.SUPERVISION,
                    scheduled_at=at(day(3 + n)), outcome=Appointment.Outcome.MISSED,
                )
            # Missed after the first month: not counted.
            Appointment.objects.create(
                offender=person, agency=person.lead_agency, kind=Appointment.Kind.SUPERVISION,
                scheduled_at=at(day(45)), outcome=Appointment.Outcome.MISSED,
            )
            people.append(person)

        rollup()

        assert figure("missed_first_month", category="none") == (1, None)
        assert figure("missed_first_month", category="one") == (1, None)
        assert figure("missed_first_month", category="two_or_more") == (1, None)

    def test_enforcement_actions_by_kind_and_acting_agency(self, rollup):
        person = OffenderFactory()
        probation = AgencyFactory()
        for kind in (EnforcementAction.Kind.WARNING_LETTER, EnforcementAction.Kind.WARNING_LETTER,
                     EnforcementAction.Kind.RECALL):
            EnforcementAction.objects.create(offender=person, kind=kind, taken_on=day(5), agency=probation)
        EnforcementAction.objects.create(offender=person, kind="breach", taken_on=day(-30), agency=probation)

        rollup()

        assert figure("enforcement_actions", category="warning_letter") == (2, None)
        assert figure("enforcement_actions", category="recall") == (1, None)
        assert figure("enforcement_actions", category="breach") == (0, None)
        assert figure(
            "enforcement_actions", dimension=Dimension.AGENCY, slice_key=str(probation.pk), category="recall"
        ) == (1, None)


class TestSlices:
    def test_area_gender_ethnicity_and_age_band(self, rollup):
        north, south = AreaFactory(code="north"), AreaFactory(code="south")
        young = OffenderFactory(area=north, gender=Offender.Gender.FEMALE, ethnicity=Offender.Ethnicity.ASIAN,
                                date_of_birth=datetime.date(2006, 6, 30))  # 18 on the last day of Q1
        older = OffenderFactory(area=south, gender=Offender.Gender.MALE, ethnicity=Offender.Ethnicity.WHITE,
                                date_of_birth=datetime.date(1974, 7, 1))  # 49 at the end of Q1
        for person in (young, older):
            MembershipFactory(offender=person, cohort=Cohort.IOM, started_on=START)

        rollup()

        assert figure("cohort_size", dimension=Dimension.AREA, slice_key=str(north.pk)) == (1, None)
        assert figure("cohort_size", dimension=Dimension.GENDER, slice_key="female") == (1, None)
        assert figure("cohort_size", dimension=Dimension.ETHNICITY, slice_key="white") == (1, None)
        assert figure("cohort_size", dimension=Dimension.AGE_BAND, slice_key="18_24") == (1, None)
        assert figure("cohort_size", dimension=Dimension.AGE_BAND, slice_key="35_49") == (1, None)
        assert figure("cohort_size", dimension=Dimension.AGENCY, slice_key=str(young.lead_agency_id)) == (1, None)


class TestPathways:
    def test_accommodation_on_release(self, rollup):
        from pathways.models import AccommodationStatus

        outcomes = ["settled", "no_fixed_abode", "approved_premises", None]
        for status in outcomes:
            person = OffenderFactory()
            Supervision.objects.create(
                offender=person, kind=Supervision.Kind.LICENCE, started_on=day(-200), released_on=day(10),
                responsible_agency=person.lead_agency,
            )
            AccommodationStatus.objects.create(offender=person, status="custody", effective_on=day(-200))
            if status:
                AccommodationStatus.objects.create(
                    offender=person, status=status, effective_on=day(10), on_release_day=True
                )
            # What happened later does not change the release-day figure.
            AccommodationStatus.objects.create(offender=person, status="settled", effective_on=day(40))

        rollup()

        assert figure("accommodation_on_release") == (2, 4)

    def test_settled_accommodation_and_ete_at_quarter_end(self, rollup):
        from pathways.models import AccommodationStatus, EteStatus

        settled, temporary, unknown, in_custody = (starter() for _ in range(4))
        AccommodationStatus.objects.create(offender=settled, status="temporary", effective_on=day(1))
        AccommodationStatus.objects.create(offender=settled, status="settled", effective_on=day(20))
        AccommodationStatus.objects.create(offender=temporary, status="temporary", effective_on=day(20))
        AccommodationStatus.objects.create(offender=temporary, status="settled", effective_on=Q2.start)
        AccommodationStatus.objects.create(offender=in_custody, status="custody", effective_on=day(20))
        EteStatus.objects.create(offender=settled, status="employed", effective_on=day(5))
        EteStatus.objects.create(offender=temporary, status="unemployed", effective_on=day(5))
        EteStatus.objects.create(offender=temporary, status="training", effective_on=day(50))

        rollup()

        assert figure("settled_accommodation") == (1, 2)
        assert figure("settled_accommodation", Q2) == (2, 2)
        assert figure("ete_status", category="employed") == (1, None)
        assert figure("ete_status", category="training") == (1, None)
        assert figure("ete_status", category="unemployed") == (0, None)

    def test_treatment_referrals_and_time_to_first_contact(self, rollup):
        from pathways.models import Pathway, Referral, Service, TreatmentEngagement

        person = starter()
        TreatmentEngagement.objects.create(offender=person, substance="drugs", stage="referred", effective_on=day(2))
        TreatmentEngagement.objects.create(
            offender=person, substance="drugs", stage="in_treatment", effective_on=day(9)
        )
        TreatmentEngagement.objects.create(offender=person, substance="alcohol", stage="assessed", effective_on=day(3))
        pathway = Pathway.objects.get(key="drugs")
        emergency = Service.objects.create(name="Recovery hub", pathway=pathway, target_first_contact_hours=24)
        routine = Service.objects.create(name="Counselling", pathway=pathway)
        referred = at(day(5), 9)
        for service, hours, urgency in [(emergency, 20, "emergency"), (emergency, 30, "emergency"),
                                        (routine, 100, "routine"), (emergency, None, "emergency")]:
            Referral.objects.create(
                offender=person, service=service, urgency=urgency, referred_at=referred,
                referring_agency=person.lead_agency,
                first_contact_at=referred + datetime.timedelta(hours=hours) if hours else None,
            )

        rollup()

        assert figure("treatment_engagement", category="in_treatment") == (1, None)
        assert figure("treatment_engagement", category="assessed") == (1, None)
        assert figure("referrals", category="emergency") == (3, None)
        assert figure("referrals", category="routine") == (1, None)
        assert figure("time_to_first_contact") == (150, 3)
        assert figure("contact_target_met") == (1, 3)


class TestPanels:
    def test_checkpoint_outcomes_victim_consultation_and_restorative_justice(self, rollup):
        from panels.models import CheckpointContract

        for outcome, consulted, offered in [("completed", True, True), ("failed", True, False),
                                            ("reoffended", False, False), ("", True, True)]:
            person = OffenderFactory()
            CheckpointContract.objects.create(
                offender=person, eligible=True, conditions="Attend the women's centre.", started_on=day(1),
                victim_consulted=consulted, victim_consulted_on=day(2) if consulted else None,
                restorative_justice_offered=offered, outcome=outcome,
                outcome_on=Q2.start + datetime.timedelta(days=20) if outcome else None, agency=person.lead_agency,
            )

        rollup()

        assert figure("checkpoint_victim_consulted") == (3, 4)
        assert figure("checkpoint_restorative_justice") == (2, 4)
        assert figure("checkpoint_outcomes", category="completed") == (0, None)
        assert figure("checkpoint_outcomes", Q2, category="completed") == (1, None)
        assert figure("checkpoint_outcomes", Q2, category="reoffended") == (1, None)

    def test_open_and_overdue_panel_actions_by_owning_agency(self, rollup):
        from panels.models import AgendaItem, Meeting, MeetingAction, Panel
        from pathways.models import Action
        from tests.pathways_factories import ActionFactory

        person = OffenderFactory()
        council = AgencyFactory()
        panel = Panel.objects.create(name="Northtown IOM", kind="iom_main", area=person.area)
        meeting = Meeting.objects.create(panel=panel, held_on=day(1))
        item = AgendaItem.objects.create(meeting=meeting, offender=person)
        overdue = ActionFactory(offender=person, owner_agency=council, raised_on=day(1), due_on=day(30))
        not_yet_due = ActionFactory(offender=person, owner_agency=council, raised_on=day(1), due_on=Q2.end)
        done_in_time = ActionFactory(offender=person, owner_agency=council, raised_on=day(1), due_on=day(30),
                                     status=Action.Status.DONE, completed_on=day(20))
        done_late = ActionFactory(offender=person, owner_agency=council, raised_on=day(1), due_on=day(30),
                                  status=Action.Status.DONE, completed_on=Q2.start + datetime.timedelta(days=5))
        for action in (overdue, not_yet_due, done_in_time, done_late):
            MeetingAction.objects.create(meeting=meeting, agenda_item=item, action=action)
        ActionFactory(offender=person, owner_agency=council, raised_on=day(1), due_on=day(30))  # not from a panel

        rollup()

        assert figure("panel_actions", category="overdue") == (2, None)
        assert figure("panel_actions", category="not_yet_due") == (1, None)
        assert figure("panel_actions", dimension=Dimension.AGENCY, slice_key=str(council.pk), category="overdue") == (
            2, None
        )
        assert figure("panel_actions", Q2, category="overdue") == (1, None)
