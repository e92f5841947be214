"""factory-boy factories for needs, actions, pathway statuses and referrals."""

import datetime

import factory
from django.utils import timezone

from pathways.models import (
    AccommodationStatus,
    Action,
    EteStatus,
    NeedAssessment,
    NeedLevel,
    Pathway,
    Referral,
    Service,
    TreatmentEngagement,
)

from .factories import AgencyFactory, OffenderFactory


def pathway(key):
    """One of the pathways the data migration seeds."""
    return Pathway.objects.get(key=key)


class PathwayFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Pathway
        django_get_or_create = ("key",)

    key = factory.Sequence(lambda n: f"pathway-{n}")
    name = factory.Sequence(lambda n: f"Pathway {n}")
    order = 500


class NeedAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = NeedAssessment

    offender = factory.SubFactory(OffenderFactory)
    pathway = factory.LazyFunction(lambda: pathway("accommodation"))
    level = NeedLevel.SOME
    rationale = "Sofa surfing with a friend."
    assessed_on = factory.LazyFunction(timezone.localdate)
    agency = factory.LazyAttribute(lambda n: n.offender.lead_agency)


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    offender = factory.SubFactory(OffenderFactory)
    pathway = factory.LazyFunction(lambda: pathway("accommodation"))
    description = "Apply to the rent deposit scheme."
    owner_agency = factory.LazyAttribute(lambda a: a.offender.lead_agency)
    raised_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=14))
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=14))
    status = Action.Status.OPEN
    completed_on = factory.LazyAttribute(
        lambda a: None if a.status in (Action.Status.OPEN, Action.Status.IN_PROGRESS) else a.due_on
    )


class ServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    pathway = factory.LazyFunction(lambda: pathway("accommodation"))
    provider = factory.SubFactory(AgencyFactory)


class ReferralFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Referral

    offender = factory.SubFactory(OffenderFactory)
    service = factory.SubFactory(ServiceFactory)
    referring_agency = factory.LazyAttribute(lambda r: r.offender.lead_agency)
    referred_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=3))


class AccommodationStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccommodationStatus

    offender = factory.SubFactory(OffenderFactory)
    status = AccommodationStatus.Status.SETTLED
    effective_on = factory.LazyFunction(timezone.localdate)


class EteStatusFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EteStatus

    offender = factory.SubFactory(OffenderFactory)
    status = EteStatus.Status.UNEMPLOYED
    effective_on = factory.LazyFunction(timezone.localdate)


class TreatmentEngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TreatmentEngagement

    offender = factory.SubFactory(OffenderFactory)
    substance = TreatmentEngagement.Substance.DRUGS
    stage = TreatmentEngagement.Stage.IN_TREATMENT
    effective_on = factory.LazyFunction(timezone.localdate)
