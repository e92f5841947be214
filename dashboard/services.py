"""Operations of the dashboard: queueing a recalculation and the drill-down to people."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from cases.audit import log_access
from cases.models import AccessLogEntry, Offender, Role

from .models import RollupRun
from .rollup import offender_ids_for

# A queued or running run older than this is assumed lost (a worker died) and does not block a new one.
ACTIVE_RUN_TIMEOUT = timezone.timedelta(hours=2)


def can_recalculate(user):
    return user.is_active and (user.is_superuser or user.role in {Role.ANALYST, Role.AGENCY_ADMIN})


def can_drill_down(user):
    """Only roles that see people may go from a number to the people behind it."""
    return user.sees_people


def active_run():
    return (
        RollupRun.objects.filter(
            status__in=[RollupRun.Status.QUEUED, RollupRun.Status.RUNNING],
            queued_at__gte=timezone.now() - ACTIVE_RUN_TIMEOUT,
        )
        .order_by("-queued_at")
        .first()
    )


def request_recalculation(user):
    """Queue a roll-up run for the user, unless one is already queued or running; returns (run, queued)."""
    from .tasks import run_rollups

    if not can_recalculate(user):
        raise PermissionDenied("Only analysts and agency administrators can recalculate the dashboard.")
    with transaction.atomic():
        existing = active_run()
        if existing is not None:
            return existing, False
        run = RollupRun.objects.create(requested_by=user)
    # Queued after the commit so the worker finds the run; in eager mode (demo, tests) it runs here.
    transaction.on_commit(lambda: run_rollups.delay(run.pk))
    return run, True


def people_behind(user, measure, quarter, dimension, slice_key, category=None, part="numerator"):
    """The people counted in one figure that the user may see, as the case list would show them.

    Refuses roles that see numbers only. The list is computed afresh from the case record
    and then narrowed by Offender.objects.visible_to(user), so it never shows anyone the
    case list would not, and may show fewer people than the figure counts.
    """
    if not can_drill_down(user):
        raise PermissionDenied("Your role gives access to aggregate figures only.")
    ids = offender_ids_for(measure, quarter, dimension, slice_key, category, part)
    people = Offender.objects.visible_to(user).filter(pk__in=ids)
    log_access(
        user, AccessLogEntry.Action.SEARCH, object_type="cases.offender",
        detail=(
            f"Dashboard drill-down: {measure.label}, {quarter.short_label}, {dimension}={slice_key or 'all'}"
            f"{', ' + category if category else ''} ({part})"
        ),
    )
    return people, len(ids)
