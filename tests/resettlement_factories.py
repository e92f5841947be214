"""factory-boy factories for releases from custody and the person's own plan."""

import datetime

import factory
from django.utils import timezone

from cases.models import Supervision
from resettlement.models import Goal, GoalStep, PersonalPlan, PlanVersion

from .factories import AgencyFactory, OffenderFactory


class ReleaseFactory(factory.django.DjangoModelFactory):
    """A licence beginning with a release from custody in four weeks' time."""

    class Meta:
        model = Supervision

    offender = factory.SubFactory(OffenderFactory)
    kind = Supervision.Kind.LICENCE
    started_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=400))
    released_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(weeks=4))
    release_type = Supervision.ReleaseType.PLANNED
    responsible_agency = factory.SubFactory(AgencyFactory)


class PersonalPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PersonalPlan

    offender = factory.SubFactory(OffenderFactory)


class PlanVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PlanVersion

    plan = factory.SubFactory(PersonalPlanFactory)
    number = 1
    started_at = factory.LazyFunction(timezone.now)


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    version = factory.SubFactory(PlanVersionFactory)
    text = "Get my own flat near my kids"


class GoalStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GoalStep

    goal = factory.SubFactory(GoalFactory)
    text = "Go to the housing options appointment"
