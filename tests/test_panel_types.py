"""Panel types as partnership data: the defaults, adding one, setting up its panel, and who sees it."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from cases.models import Cohort, RagStatus, Role
from panels import services
from panels.models import Meeting, Panel, PanelType

from .factories import MembershipFactory, OffenderFactory, SharingAgreementFactory, UserFactory
from .panels_factories import MeetingFactory, PanelFactory

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
DAY = datetime.timedelta(days=1)


@pytest.fixture
def admin(partnership):
    return UserFactory(username="system.admin", agency=partnership.police, is_superuser=True,
                       role=Role.AGENCY_ADMIN)


def test_the_default_panel_types_include_asb_marac_and_domestic_abuse_perpetrators():
    types = {t.code: t for t in PanelType.objects.all()}
    assert {"iom_main", "iom_mid_month", "mappa", "checkpoint", "dip", "sgv", "asb_marac",
            "da_perpetrators"} <= set(types)
    assert types["mappa"].sets_mappa_levels and types["checkpoint"].runs_checkpoint_contracts
    assert types["asb_marac"].cohort == "" and types["asb_marac"].agenda_rules == ["review_due", "carried_forward"]
    assert types["da_perpetrators"].name == "Domestic abuse serial perpetrators panel"


def test_an_administrator_adds_a_panel_type_sets_up_its_panel_and_generates_the_first_agenda(
    partnership, admin, client_for
):
    p = partnership
    client = client_for(admin)
    response = client.post(reverse("panels:type_create"), {
        "name": "Women's justice panel", "cohort": Cohort.WOMENS_JUSTICE,
        "agenda_rules": ["new_referral", "red"], "member_agencies": [p.probation.pk, p.housing.pk],
    })
    assert response.status_code == 302
    panel_type = PanelType.objects.get(name="Women's justice panel")
    assert panel_type.code == "womens_justice_panel" and panel_type.cohort == Cohort.WOMENS_JUSTICE
    assert "Women&#x27;s justice panel" in client.get(reverse("panels:types")).content.decode()

    response = client.post(reverse("panels:create"), {
        "name": "Northtown women's justice panel", "kind": panel_type.pk, "area": p.area.pk,
        "cadence": "monthly", "usual_week": "2", "usual_weekday": "2", "usual_place": "Women's centre",
    })
    assert response.status_code == 302
    panel = Panel.objects.get(name="Northtown women's justice panel")
    assert set(panel.memberships.values_list("agency", flat=True)) == {p.probation.pk, p.housing.pk}
    assert panel.date_rule == "the second Wednesday of each month"

    referred = OffenderFactory(area=p.area, lead_agency=p.probation, last_name="Referred")
    MembershipFactory(offender=referred, cohort=Cohort.WOMENS_JUSTICE, started_on=TODAY - 3 * DAY)
    iom_red = OffenderFactory(area=p.area, lead_agency=p.probation, rag_status=RagStatus.RED)
    MembershipFactory(offender=iom_red, cohort=Cohort.IOM)
    meeting = services.schedule_meeting(admin, panel, held_on=TODAY)
    services.generate_agenda(admin, meeting)
    assert {item.offender_id: item.reasons for item in meeting.items.all()} == {referred.pk: ["New referral"]}
    assert meeting.location == "" and meeting.starts_at == panel.usual_start


def test_only_a_system_administrator_adds_panel_types_and_panels(partnership, client_for):
    p = partnership
    for user in (p.police_admin, p.police_om, p.analyst):
        client = client_for(user)
        assert client.get(reverse("panels:types")).status_code == 403
        assert client.post(reverse("panels:type_create"), {"name": "X", "member_agencies": [p.police.pk]}
                           ).status_code == 403
        assert client.post(reverse("panels:create"), {"name": "X"}).status_code == 403
        with pytest.raises(PermissionDenied):
            services.add_panel_type(user, name="X", member_agencies=[p.police])
    assert not PanelType.objects.filter(name="X").exists()


def test_a_panel_type_without_a_cohort_takes_people_by_hand(partnership, admin, client_for):
    p = partnership
    refused = client_for(admin).post(reverse("panels:type_create"), {
        "name": "Hoarding panel", "agenda_rules": ["red"], "member_agencies": [p.housing.pk],
    })
    assert refused.status_code == 200 and "Rules about the cohort need a cohort" in refused.content.decode()
    with pytest.raises(ValidationError):
        services.add_panel_type(admin, name="Hoarding panel", agenda_rules=["red"], member_agencies=[p.housing])
    duplicate = client_for(admin).post(reverse("panels:type_create"), {
        "name": "ASB and Community MARAC", "member_agencies": [p.housing.pk]})
    assert "There is already a panel type with that name." in duplicate.content.decode()

    marac = PanelFactory(kind="asb_marac", area=p.area, chair=admin, members=[p.police, p.housing])
    red = OffenderFactory(area=p.area, lead_agency=p.police, rag_status=RagStatus.RED)
    MembershipFactory(offender=red, cohort=Cohort.IOM)
    meeting = MeetingFactory(panel=marac)
    assert services.generate_agenda(admin, meeting) == []
    services.add_to_agenda(admin, meeting, red, reason="Referred by the council's ASB team")
    assert [item.reasons for item in meeting.items.all()] == [["Added by the chair"]]


def test_who_sees_a_panel_follows_its_members_and_the_sharing_agreement(partnership, admin, client_for):
    p = partnership
    # Probation holds the IOM sharing agreement (see conftest); the police do not.
    opened = services.add_panel_type(admin, name="DA perpetrators (restricted)", cohort=Cohort.IOM,
                                     agenda_rules=["red"], member_agencies=[p.police, p.probation],
                                     opened_by_agreement=True)
    panel = services.set_up_panel(admin, name="Northtown DA perpetrators", kind=opened, area=p.area,
                                  members=[p.police, p.probation])
    meeting = MeetingFactory(panel=panel)
    assert Panel.objects.visible_to(p.probation_om).filter(pk=panel.pk).exists()
    assert not Panel.objects.visible_to(p.police_om).filter(pk=panel.pk).exists()
    assert not Panel.objects.visible_to(p.housing_om).filter(pk=panel.pk).exists()
    assert client_for(p.police_om).get(reverse("panels:meeting", args=[meeting.pk])).status_code == 404
    assert client_for(p.probation_om).get(reverse("panels:meeting", args=[meeting.pk])).status_code == 200
    SharingAgreementFactory(agency=p.police, cohort=Cohort.IOM)
    assert Panel.objects.visible_to(p.police_om).filter(pk=panel.pk).exists()
    assert Meeting.objects.visible_to(p.police_om).filter(pk=meeting.pk).exists()
    with pytest.raises(ValidationError):
        services.add_panel_type(admin, name="No cohort but restricted", opened_by_agreement=True,
                                member_agencies=[p.police])
