"""factory-boy factories for the case record; other apps' tests build on these."""

import datetime

import factory
from django.utils import timezone

from cases.models import (
    Agency,
    Alias,
    Appointment,
    Area,
    CaseNote,
    Cohort,
    CohortMembership,
    Offender,
    Role,
    SharingAgreement,
    User,
)


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area
        django_get_or_create = ("code",)

    name = factory.Sequence(lambda n: f"Borough {n}")
    code = factory.Sequence(lambda n: f"b{n}")


class AgencyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agency

    name = factory.Sequence(lambda n: f"Agency {n}")
    kind = Agency.Kind.POLICE
    area = factory.SubFactory(AreaFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Sam"
    last_name = factory.Sequence(lambda n: f"Officer{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    agency = factory.SubFactory(AgencyFactory)
    role = Role.OFFENDER_MANAGER
    password = factory.django.Password("correct horse battery staple")


class OffenderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offender

    first_names = "Alex"
    last_name = factory.Sequence(lambda n: f"Person{n}")
    date_of_birth = datetime.date(1990, 5, 17)
    gender = Offender.Gender.MALE
    area = factory.SubFactory(AreaFactory)
    lead_agency = factory.SubFactory(AgencyFactory)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CohortMembership

    offender = factory.SubFactory(OffenderFactory)
    cohort = Cohort.IOM
    iom_category = factory.LazyAttribute(lambda m: "fixed" if m.cohort == Cohort.IOM else "")
    mappa_category = factory.LazyAttribute(lambda m: 2 if m.cohort == Cohort.MAPPA else None)
    mappa_level = factory.LazyAttribute(lambda m: 2 if m.cohort == Cohort.MAPPA else None)
    started_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=60))


class SharingAgreementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SharingAgreement

    agency = factory.SubFactory(AgencyFactory)
    cohort = Cohort.IOM


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    offender = factory.SubFactory(OffenderFactory)
    agency = factory.LazyAttribute(lambda a: a.offender.lead_agency)
    kind = Appointment.Kind.SUPERVISION
    scheduled_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=3))
    outcome = Appointment.Outcome.ATTENDED_COMPLIED


class CaseNoteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CaseNote

    offender = factory.SubFactory(OffenderFactory)
    agency = factory.LazyAttribute(lambda n: n.offender.lead_agency)
    text = "Seen at the office; engaging well."


class AliasFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Alias

    offender = factory.SubFactory(OffenderFactory)
    name = "Jay Smith"
