"""Each measure's arithmetic on small hand-made partnerships."""

import datetime
import zoneinfo

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


def community_order(person, on, kind=Supervision.Kind.COMMUNITY_ORDER):
    return Supervision.objects.create(offender=person, kind=kind, started_on=on, responsible_agency=person.lead_agency)


def release(person, on, kind=Supervision.Kind.LICENCE):
    return Supervision.objects.create(
        offender=person, kind=kind, started_on=on - datetime.timedelta(days=200), released_on=on,
        responsible_agency=person.lead_agency,
    )


def caution(person, on, committed=None):
    committed = committed or on - datetime.timedelta(days=10)
    return offence(person, committed, outcome=Offence.Outcome.CAUTION, outcome_on=on)


class TestProvenReoffending:
    """The MoJ proven reoffending measure on hand-made cohorts (START is 10 April 2024)."""

    def test_window_edges_of_the_published_measure(self, rollup):
        people = [OffenderFactory() for _ in range(9)]
        for person in people:
            community_order(person, START)
        on_day_365, on_day_366, proven_at_18_months, proven_too_late, nfa, out_of_court, pending, index, before = people
        # 10 April 2025 is the first anniversary (day 365: no 29 February in between): inside the follow-up.
        offence(on_day_365, day(365), outcome_on=day(400))
        offence(on_day_365, day(20), outcome=Offence.Outcome.CAUTION, outcome_on=day(40))
        offence(on_day_366, day(366), outcome_on=day(380))
        # Proven by 10 October 2025, the anniversary plus the six-month waiting period, and not a day later.
        offence(proven_at_18_months, day(100), outcome_on=datetime.date(2025, 10, 10))
        offence(proven_too_late, day(100), outcome_on=datetime.date(2025, 10, 11))
        offence(nfa, day(50), outcome=Offence.Outcome.NO_FURTHER_ACTION)
        offence(out_of_court, day(50), outcome=Offence.Outcome.OUT_OF_COURT)
        offence(pending, day(50), outcome=Offence.Outcome.PENDING)
        offence(index, START)  # the offence the order was for is not a reoffence
        offence(before, day(-30), outcome_on=day(10))

        rollup()

        assert figure("proven_reoffending") == (2, 9)
        assert figure("reoffences_per_offender") == (3, 9)
        assert figure("reoffences_per_reoffender") == (3, 2)

    def test_the_follow_up_runs_to_the_anniversary_so_a_leap_year_gives_366_days(self, rollup):
        start = datetime.date(2024, 2, 1)  # 2023-24 Q4; 29 February 2024 falls in the follow-up
        on_day_366, on_day_367 = OffenderFactory(), OffenderFactory()
        for person in (on_day_366, on_day_367):
            community_order(person, start)
        offence(on_day_366, start + datetime.timedelta(days=366))  # 1 February 2025, the anniversary
        offence(on_day_367, start + datetime.timedelta(days=367))

        rollup([Quarter.containing(start)])

        assert figure("proven_reoffending", Quarter.containing(start)) == (1, 2)

    def test_releases_court_orders_and_cautions_qualify_and_other_starts_do_not(self, rollup):
        released = OffenderFactory()
        release(released, day(5))
        released_from_custody = OffenderFactory()
        release(released_from_custody, day(6), kind=Supervision.Kind.CUSTODY)
        suspended = OffenderFactory()
        community_order(suspended, day(7), kind=Supervision.Kind.SUSPENDED_SENTENCE)
        cautioned = OffenderFactory()
        caution(cautioned, day(8))
        joined_iom_only = starter()  # joining a cohort is not a qualifying event
        on_licence_not_released_yet = OffenderFactory()
        community_order(on_licence_not_released_yet, day(9), kind=Supervision.Kind.POST_SENTENCE)
        for person in (released, cautioned):
            offence(person, day(200))
        offence(joined_iom_only, day(200))

        rollup()

        assert figure("proven_reoffending") == (2, 4)

    def test_a_person_enters_once_at_their_first_qualifying_event_in_the_quarter(self, rollup):
        person = OffenderFactory()
        community_order(person, START)
        # A caution for an earlier offence, later in the quarter, does not restart the clock.
        caution(person, day(30), committed=day(-40))
        offence(person, day(370))  # a year after the caution, but more than a year after the order

        rollup()

        assert figure("proven_reoffending") == (0, 1)

    def test_a_caution_in_the_follow_up_is_a_reoffence_and_starts_the_next_quarters_cohort(self, rollup):
        person = OffenderFactory()
        community_order(person, START)
        caution(person, Q2.start + datetime.timedelta(days=3))

        rollup()

        assert figure("proven_reoffending") == (1, 1)
        assert figure("proven_reoffending", Q2) == (0, 1)

    def test_frequency_per_offender_and_per_reoffender(self, rollup):
        three_times, once, never, also_never = (OffenderFactory() for _ in range(4))
        for person in (three_times, once, never, also_never):
            release(person, START)
        for n in range(3):
            offence(three_times, day(40 + n * 30))
        offence(once, day(90))

        rollup()

        assert figure("proven_reoffending") == (2, 4)
        assert figure("reoffences_per_offender") == (4, 4)  # 1.00 per offender
        assert figure("reoffences_per_reoffender") == (4, 2)  # 2.00 per reoffender

    def test_drug_and_alcohol_related_reoffending(self, rollup):
        drugs, plain, alcohol_too_late, never, both = (OffenderFactory() for _ in range(5))
        for person in (drugs, plain, alcohol_too_late, never, both):
            community_order(person, START)
        Offence.objects.filter(pk=offence(drugs, day(40)).pk).update(drug_related=True)
        offence(plain, day(60))
        # Alcohol-related and committed in the year, but proven after the six months' wait: not a proven reoffence.
        late = offence(alcohol_too_late, day(300), outcome_on=day(300) + datetime.timedelta(days=300))
        Offence.objects.filter(pk=late.pk).update(alcohol_related=True)
        flagged = offence(both, day(100))
        Offence.objects.filter(pk=flagged.pk).update(drug_related=True, alcohol_related=True)

        rollup()

        assert figure("proven_reoffending") == (3, 5)
        assert figure("drug_alcohol_reoffending") == (2, 5)  # drugs and both; never more than the binary rate

    def test_cohort_slices_are_subsets_of_the_partnership_cohort(self, rollup):
        on_two_cohorts = starter()  # IOM from START
        MembershipFactory(offender=on_two_cohorts, cohort=Cohort.DIP, started_on=day(30))
        release(on_two_cohorts, day(10))
        offence(on_two_cohorts, day(380))  # more than a year after the release on day 10
        on_iom_long_before = OffenderFactory()
        MembershipFactory(offender=on_iom_long_before, cohort=Cohort.IOM, started_on=datetime.date(2022, 5, 1))
        community_order(on_iom_long_before, day(20))
        offence(on_iom_long_before, day(100))
        starter()  # joined IOM in the quarter, no qualifying event: in no reoffending figure

        rollup()

        assert figure("proven_reoffending") == (1, 2)
        assert figure("proven_reoffending", dimension=Dimension.COHORT, slice_key=Cohort.IOM) == (1, 2)
        assert figure("proven_reoffending", dimension=Dimension.COHORT, slice_key=Cohort.DIP) == (0, 1)
        for value in RollupValue.objects.filter(measure="proven_reoffending", period_start=Q1.start):
            assert value.denominator <= 2 and value.numerator <= 1

    def test_priority_groups_are_slices_of_the_same_cohort(self, rollup):
        woman_veteran = OffenderFactory(gender=Offender.Gender.FEMALE, veteran=True)
        care_leaver = OffenderFactory(gender=Offender.Gender.MALE, care_leaver=True)
        for person in (woman_veteran, care_leaver):
            release(person, START)
        offence(care_leaver, day(60))

        rollup()

        assert figure("proven_reoffending", dimension=Dimension.GROUP, slice_key="women") == (0, 1)
        assert figure("proven_reoffending", dimension=Dimension.GROUP, slice_key="veterans") == (0, 1)
        assert figure("proven_reoffending", dimension=Dimension.GROUP, slice_key="care_leavers") == (1, 1)
        assert figure("proven_reoffending", dimension=Dimension.GROUP, slice_key="disability") == (0, None)


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
            community_order(person, START)
            for n in range(missed):
                Appointment.objects.create(
                    offender=person, agency=person.lead_agency, kind=Appointment.Kind.SUPERVISION,
                    scheduled_at=at(day(3 + n)), outcome=Appointment.Outcome.UNACCEPTABLE_ABSENCE,
                )
            # Missed after the first month: not counted.
            Appointment.objects.create(
                offender=person, agency=person.lead_agency, kind=Appointment.Kind.SUPERVISION,
                scheduled_at=at(day(45)), outcome=Appointment.Outcome.UNACCEPTABLE_ABSENCE,
            )
            people.append(person)

        rollup()

        assert figure("missed_first_month", category="none") == (1, None)
        assert figure("missed_first_month", category="one") == (1, None)
        assert figure("missed_first_month", category="two_or_more") == (1, None)

    def test_the_first_month_is_in_uk_time_so_half_past_midnight_in_summer_is_on_its_own_day(self, rollup):
        london = zoneinfo.ZoneInfo("Europe/London")
        person = OffenderFactory()
        community_order(person, START)  # 10 April 2024, British Summer Time

        def missed_at(date, hour, minute):
            Appointment.objects.create(
                offender=person, agency=person.lead_agency, kind=Appointment.Kind.SUPERVISION,
                scheduled_at=datetime.datetime.combine(date, datetime.time(hour, minute), tzinfo=london),
                outcome=Appointment.Outcome.UNACCEPTABLE_ABSENCE,
            )

        missed_at(START, 0, 30)  # 23:30 on 9 April in UTC: still the first day of the order
        missed_at(day(29), 23, 30)  # the 30th day
        missed_at(day(30), 0, 30)  # the 31st day (23:30 on the 30th in UTC): outside
        missed_at(day(-1), 23, 30)  # the evening before the order starts: outside

        rollup()

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

    def test_benefits_in_place_at_quarter_end(self, rollup):
        from pathways.models import BenefitStatus

        in_place, claim_made, working, stopped = (starter() for _ in range(4))
        starter()  # no benefit status recorded: not counted
        BenefitStatus.objects.create(offender=in_place, status="in_place", effective_on=day(3))
        BenefitStatus.objects.create(offender=claim_made, status="claim_made", effective_on=day(3))
        BenefitStatus.objects.create(offender=working, status="not_needed", effective_on=day(3))
        BenefitStatus.objects.create(offender=stopped, status="in_place", effective_on=day(3))
        BenefitStatus.objects.create(offender=stopped, status="not_in_place", effective_on=Q2.start)

        rollup()

        assert figure("benefits_in_place") == (2, 3)
        assert figure("benefits_in_place", Q2) == (1, 3)

    def test_needs_by_theme_from_the_assessment_standing_at_quarter_end(self, rollup):
        from tests.pathways_factories import NeedAssessmentFactory, pathway

        health, abuse, resolved, unassessed = (starter() for _ in range(4))
        NeedAssessmentFactory(offender=health, pathway=pathway("health"), level="significant", assessed_on=day(5))
        NeedAssessmentFactory(offender=abuse, pathway=pathway("abuse"), level="some", assessed_on=day(5))
        NeedAssessmentFactory(offender=abuse, pathway=pathway("finance"), level="some", assessed_on=day(6))
        NeedAssessmentFactory(offender=resolved, pathway=pathway("health"), level="some", assessed_on=day(5))
        NeedAssessmentFactory(offender=resolved, pathway=pathway("health"), level="none", assessed_on=day(60))
        # Assessed after the quarter: counts from Q2 only.
        NeedAssessmentFactory(offender=unassessed, pathway=pathway("health"), level="some", assessed_on=Q2.start)

        rollup()

        assert figure("need_health") == (1, 4)
        assert figure("need_health", Q2) == (2, 4)
        assert figure("need_abuse") == (1, 4)
        assert figure("need_finance") == (1, 4)

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

    def test_victim_satisfaction_at_the_end_of_checkpoint_contracts(self, rollup):
        from panels.models import CheckpointContract

        def ended(satisfaction, outcome_on=None):
            outcome_on = outcome_on or day(30)
            person = OffenderFactory()
            return CheckpointContract.objects.create(
                offender=person, eligible=True, conditions="Weekly contact", started_on=outcome_on - datetime.timedelta(
                    days=120), agency=person.lead_agency, outcome="completed", outcome_on=outcome_on,
                victim_satisfaction=satisfaction,
            )

        for satisfaction in ("very_satisfied", "satisfied", "dissatisfied", "neither", "declined", "not_reached", ""):
            ended(satisfaction)
        ended("very_satisfied", Q2.start)

        rollup()

        # Satisfied or very satisfied, of those who answered (declined, not reached and not asked left out).
        assert figure("checkpoint_victim_satisfaction") == (2, 4)
        assert figure("checkpoint_victim_satisfaction", Q2) == (1, 1)

    def test_victim_satisfaction_is_recorded_only_once_the_contract_has_an_outcome(self, db):
        from django.db import IntegrityError, transaction

        from panels.models import CheckpointContract

        person = OffenderFactory()
        with pytest.raises(IntegrityError), transaction.atomic():
            CheckpointContract.objects.create(
                offender=person, eligible=True, conditions="Weekly contact", started_on=day(1),
                agency=person.lead_agency, victim_satisfaction="satisfied",
            )

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

    def test_a_panel_action_counts_from_its_meeting_even_when_the_minutes_came_later(self, rollup):
        from panels.models import AgendaItem, Meeting, MeetingAction, Panel
        from tests.pathways_factories import ActionFactory

        person = OffenderFactory()
        panel = Panel.objects.create(name="Northtown IOM", kind="iom_main", area=person.area)
        meeting = Meeting.objects.create(panel=panel, held_on=Q1.end - datetime.timedelta(days=2))
        item = AgendaItem.objects.create(meeting=meeting, offender=person)
        # Typed up after the quarter ended, due a month after the meeting.
        typed_up_late = ActionFactory(offender=person, owner_agency=person.lead_agency, raised_on=Q2.start,
                                      due_on=Q2.start + datetime.timedelta(days=28))
        MeetingAction.objects.create(meeting=meeting, agenda_item=item, action=typed_up_late)

        rollup()

        assert figure("panel_actions", category="not_yet_due") == (1, None)
        assert figure("panel_actions", Q2, category="overdue") == (1, None)


def test_the_laptop_database_reads_timestamps_in_uk_time_too():
    """SQLite (the demo) keeps timestamps as UTC text: 23:30 UTC on 14 July is 00:30 on 15 July in London."""
    import sqlite3

    from django.db.backends.sqlite3._functions import register

    from dashboard.definition import Tables

    sqlite = sqlite3.connect(":memory:")
    register(sqlite)
    tables = Tables(vendor="sqlite")
    summer = sqlite.execute(f"SELECT {tables.local_date(chr(39) + '2024-07-14 23:30:00' + chr(39))}").fetchone()[0]
    winter = sqlite.execute(f"SELECT {tables.local_date(chr(39) + '2024-01-14 23:30:00' + chr(39))}").fetchone()[0]
    assert (summer, winter) == ("2024-07-15", "2024-01-14")
