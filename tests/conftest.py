"""A small partnership that most tests share.

Police lead an IOM case; probation sees it under the sharing agreement; the
council's housing team sees nothing until the case is shared with it; an OPCC
analyst sees numbers only.
"""

import importlib
import time

import pytest

from cases.models import Agency, Cohort, Role
from reoffending.security import IdleTimeoutMiddleware

from .factories import (
    AgencyFactory,
    AreaFactory,
    MembershipFactory,
    OffenderFactory,
    SharingAgreementFactory,
    UserFactory,
)


class Partnership:
    pass


def restore_default_panel_types():
    """Put back the panel types the migrations seed, which a transactional test's flush removes."""
    from django.apps import apps

    importlib.import_module("panels.migrations.0004_panel_types").seed_panel_types(apps, None)


@pytest.fixture
def partnership(db):
    restore_default_panel_types()
    p = Partnership()
    p.area = AreaFactory(name="Northtown", code="northtown")
    p.police = AgencyFactory(name="Northtown Police", kind=Agency.Kind.POLICE, area=p.area)
    p.probation = AgencyFactory(name="Probation Service North", kind=Agency.Kind.PROBATION, area=p.area)
    p.housing = AgencyFactory(name="Northtown Council Housing", kind=Agency.Kind.LOCAL_AUTHORITY, area=p.area)
    p.opcc = AgencyFactory(name="Office of the PCC", kind=Agency.Kind.OPCC, area=None)
    SharingAgreementFactory(agency=p.probation, cohort=Cohort.IOM)

    p.police_om = UserFactory(username="police.om", agency=p.police, role=Role.OFFENDER_MANAGER)
    p.police_reader = UserFactory(username="police.reader", agency=p.police, role=Role.READ_ONLY)
    p.police_admin = UserFactory(username="police.admin", agency=p.police, role=Role.AGENCY_ADMIN)
    p.probation_om = UserFactory(username="probation.om", agency=p.probation, role=Role.OFFENDER_MANAGER)
    p.housing_om = UserFactory(username="housing.om", agency=p.housing, role=Role.OFFENDER_MANAGER)
    p.analyst = UserFactory(username="opcc.analyst", agency=p.opcc, role=Role.ANALYST)

    p.iom_person = OffenderFactory(
        first_names="Jordan", last_name="Ashworth", area=p.area, lead_agency=p.police,
        lead_offender_manager=p.police_om, pnc_number="2015/0123456X", crn="X123456",
    )
    MembershipFactory(offender=p.iom_person, cohort=Cohort.IOM)
    # Led by the police and on no cohort that probation's agreement opens.
    p.police_only_person = OffenderFactory(
        first_names="Casey", last_name="Blackwood", area=p.area, lead_agency=p.police, pnc_number="2019/0000042Z"
    )
    return p


@pytest.fixture
def client_for(client):
    """Sign a test client in as the given user, past the two-factor step.

    The user gets a confirmed authenticator app (TOTP device) and the session is
    marked as verified with it, just as the security code page does.
    """
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def sign_in(user):
        client.force_login(user)
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="Authenticator app", confirmed=True
        )
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        # Just refreshed, as after the security code page: page views within the next
        # minute do not write the session, so query counts are the same on each view.
        session[IdleTimeoutMiddleware.SESSION_KEY] = int(time.time())
        session.save()
        return client

    return sign_in


@pytest.fixture
def api_for(db):
    """A REST API client that authenticates as the given user with a new API token of theirs."""
    from rest_framework.test import APIClient

    from accounts.models import ApiToken

    def make(user):
        client = APIClient()
        _record, token = ApiToken.objects.create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client

    return make
