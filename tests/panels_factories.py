"""factory-boy factories for panels, their members, meetings and agenda items."""

import factory
from django.utils import timezone

from panels.models import AgendaItem, Meeting, Panel, PanelKind, PanelMembership

from .factories import AreaFactory, OffenderFactory


class PanelFactory(factory.django.DjangoModelFactory):
    """A panel; `members` lists the agencies that sit on it (`PanelFactory(members=[police, probation])`)."""

    class Meta:
        model = Panel
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Panel {n}")
    kind = PanelKind.IOM_MAIN
    area = factory.SubFactory(AreaFactory)

    @factory.post_generation
    def members(panel, create, agencies, **kwargs):
        for agency in agencies or ():
            PanelMembershipFactory(panel=panel, agency=agency)


class PanelMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PanelMembership

    panel = factory.SubFactory(PanelFactory)


class MeetingFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Meeting

    panel = factory.SubFactory(PanelFactory)
    held_on = factory.LazyFunction(timezone.localdate)


class AgendaItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgendaItem

    meeting = factory.SubFactory(MeetingFactory)
    offender = factory.SubFactory(OffenderFactory)
    position = factory.Sequence(lambda n: n + 1)
