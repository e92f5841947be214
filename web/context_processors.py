from django.conf import settings
from django.urls import NoReverseMatch, reverse

# (label, URL name, who sees it). Apps that are not installed simply do not appear.
PRIMARY_NAVIGATION = [
    ("Cases", "cases:list", lambda user: user.sees_people),
    ("My actions", "pathways:my_actions", lambda user: user.sees_people),
    ("Incoming referrals", "referrals:incoming", lambda user: user.sees_people),
    ("Panels", "panels:list", lambda user: user.sees_people),
    ("Releases", "resettlement:board", lambda user: user.sees_people),
    ("Dashboard", "dashboard:index", lambda user: True),
    ("Evaluations", "evaluation:list", lambda user: user.is_superuser or user.role in {"analyst", "agency_admin"}),
    ("Delivery plan", "delivery:plan", lambda user: user.is_superuser or bool(user.agency_id)),
    ("Access log", "cases:access_log", lambda user: user.is_superuser or user.role == "agency_admin"),
    ("Staff", "accounts:staff", lambda user: user.is_superuser or user.role == "agency_admin"),
]


def navigation(request):
    items = []
    user = getattr(request, "user", None)
    # Until the second factor is given there is nowhere to go but the code page.
    if user is not None and user.is_authenticated and getattr(user, "is_verified", lambda: True)():
        for label, url_name, allowed in PRIMARY_NAVIGATION:
            try:
                url = reverse(url_name)
            except NoReverseMatch:
                continue
            if allowed(user):
                items.append({"label": label, "url": url, "current": request.path.startswith(url)})
    return {"service_name": settings.SERVICE_NAME, "primary_navigation": items}
