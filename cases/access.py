"""Finding the person a request is about, for every app's pages and API.

A person the user's agency may not see is a 404, never a 403, so their existence is not
disclosed; a person they may see but whose case their role may not change is a 403, given
before any input is looked at.
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from .models import Offender
from .services import ensure_casework_allowed


def require_people_access(user):
    """Analysts see aggregate figures only: every page about people refuses them."""
    if not user.sees_people:
        raise PermissionDenied("Your role gives access to aggregate figures only.")


def person_or_404(user, pk):
    """The person, if the user's agency may see them."""
    return get_object_or_404(
        Offender.objects.visible_to(user).select_related("area", "lead_agency", "lead_offender_manager"), pk=pk
    )


def person_for_casework(user, pk):
    """The person, if the user may work on the case: 404 when unseen, 403 when the role may not change it."""
    person = person_or_404(user, pk)
    ensure_casework_allowed(user, person)
    return person
