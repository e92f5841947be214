from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from cases.access import require_people_access
from cases.audit import log_many
from cases.models import AccessLogEntry
from web.pagination import CappedPaginator
from web.shortcuts import form_page

from . import services
from .forms import AlertSettingsForm
from .models import Alert, AlertSettings

ALERTS_PER_PAGE = 50


@login_required
def alert_list(request):
    """The user's alerts, newest first: those not yet cleared, or those cleared already."""
    user = request.user
    require_people_access(user)
    cleared = request.GET.get("show") == "cleared"
    alerts = Alert.objects.for_user(user)
    alerts = alerts.filter(cleared_at__isnull=False).order_by("-cleared_at", "-pk") if cleared else alerts.current()
    page = CappedPaginator(alerts.select_related("offender"), ALERTS_PER_PAGE).get_page(request.GET.get("page"))
    people = {alert.offender_id: alert.offender for alert in page.object_list}
    log_many(user, AccessLogEntry.Action.VIEW, people.values(), detail="Alerts")
    return render(request, "alerts/list.html", {"page": page, "cleared": cleared})


@login_required
@require_POST
def clear(request):
    """Clear one alert (the button on its row), the alerts ticked, or all of them."""
    require_people_access(request.user)
    if "all" in request.POST:
        ids = None
    else:
        chosen = [request.POST.get("alert")] if request.POST.get("alert") else request.POST.getlist("alerts")
        ids = [int(value) for value in chosen if value and value.isdigit()]
        if not ids:
            messages.error(request, "Select the alerts to clear.")
            return redirect("alerts:list")
    cleared = services.clear_alerts(request.user, ids=ids)
    messages.success(request, f"{cleared} {'alert' if cleared == 1 else 'alerts'} cleared.")
    return redirect("alerts:list")


@login_required
@require_http_methods(["GET", "POST"])
def alert_settings(request):
    user = request.user
    require_people_access(user)
    current = AlertSettings.objects.filter(user=user).first() or AlertSettings(user=user)
    form = AlertSettingsForm(request.POST or None, instance=current)
    return form_page(
        request, form, lambda data: services.save_alert_settings(user, email=data["email"]),
        template="alerts/settings.html", context={}, success_message="Alert settings saved.",
        success_url=reverse("alerts:list"),
    )
