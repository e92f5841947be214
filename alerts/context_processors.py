from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from .models import Alert


def alert_count(request):
    """The header's link to the user's alerts, with the number not yet cleared: one query, and only if shown."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not user.sees_people:
        return {}
    if not getattr(user, "is_verified", lambda: True)():
        return {}  # until the security code is given there is nowhere to go but the code page
    return {
        "alerts_url": reverse("alerts:list"),
        "alert_count": SimpleLazyObject(lambda: Alert.objects.for_user(user).current().count()),
    }
