"""Demonstration history: the police offender manager (om.police) records that someone on their caseload has
moved and takes on a new tier of work, so the case's activity log shows what changed, from what, to what.

Called by `manage.py seed_demo`. Safe to run twice: nothing is changed once the demo has history.
"""

from cases import services
from cases.models import Offender

from .middleware import changes_made_by
from .models import PersonChange

NEW_ADDRESSES = ["Flat 3, 41 Canal Street", "12 Orchard Close", "Room 7, Station Road Hostel"]


def seed(context, rng):
    police = context["staff"].get("om.police")
    if police is None or PersonChange.objects.exists():
        return
    person = Offender.objects.filter(lead_offender_manager=police).order_by("pk").first()
    if person is None:
        return
    with changes_made_by(police, url=f"/cases/{person.pk}/edit/"):
        services.update_offender(police, person, expected_version=person.version,
                                 address=f"{rng.choice(NEW_ADDRESSES)}, Northtown", postcode="NT4 2QX")
