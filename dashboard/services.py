"""Operations of the dashboard: queueing a recalculation (and failing runs whose worker died), the drill-down."""

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from cases.audit import log_access
from cases.models import AccessLogEntry, Offender, Role
from operations.background import WorkersUnavailable, send_to_worker

from .models import Dimension, RollupRun, RollupValue
from .rollup import drop_run_cohorts_tables, offender_ids_for

# A queued run no worker has taken in this long is assumed lost (the broker lost it) and does not block a new one.
ACTIVE_RUN_TIMEOUT = timezone.timedelta(hours=2)
WORKERS_DOWN = ("The figures were not recalculated: the background service is not reachable, nothing was queued. "
                "The figures shown are from the last successful calculation. Try again later.")
WORKER_STOPPED = "The worker stopped before the run finished (no heartbeat since {since:%H:%M on %-d %B %Y})."
NEVER_TAKEN = "No worker took the run within {hours} hours."


class RecalculationRefused(Exception):  # noqa: N818 - what happened to the request
    """The recalculation cannot be queued; the message says why."""


def can_recalculate(user):
    return user.is_active and (user.is_superuser or user.role in {Role.ANALYST, Role.AGENCY_ADMIN})


def can_drill_down(user):
    """Only roles that see people may go from a number to the people behind it."""
    return user.sees_people


def stalled_after():
    return timezone.timedelta(seconds=settings.ROLLUP_STALLED_AFTER_SECONDS)


def fail_stalled_runs():
    """Mark failed the runs whose worker is gone: running with no heartbeat for `stalled_after()`, or queued
    and never taken for ACTIVE_RUN_TIMEOUT. Returns how many. A run marked failed here that is delivered
    again later restarts, unless a later run has been queued (dashboard.tasks.run_rollups)."""
    now = timezone.now()
    failed = 0
    last_sign_of_life = Coalesce("heartbeat_at", "started_at", "queued_at")
    for run in RollupRun.objects.annotate(seen=last_sign_of_life).filter(
        status=RollupRun.Status.RUNNING, seen__lt=now - stalled_after()
    ):
        failed += RollupRun.objects.filter(pk=run.pk, status=RollupRun.Status.RUNNING).filter(
            Q(heartbeat_at=run.heartbeat_at) if run.heartbeat_at else Q(heartbeat_at__isnull=True)
        ).update(status=RollupRun.Status.FAILED, finished_at=now,
                 error=WORKER_STOPPED.format(since=timezone.localtime(run.seen)))
    failed += RollupRun.objects.filter(
        status=RollupRun.Status.QUEUED, queued_at__lt=now - ACTIVE_RUN_TIMEOUT
    ).update(status=RollupRun.Status.FAILED, finished_at=now,
             error=NEVER_TAKEN.format(hours=int(ACTIVE_RUN_TIMEOUT.total_seconds() // 3600)))
    if connection.vendor == "postgresql":
        drop_run_cohorts_tables()  # left by shared runs that stopped (one delivered again makes its own anew)
    return failed


def active_run():
    return (
        RollupRun.objects.filter(kind=RollupRun.Kind.FULL,
                                 status__in=[RollupRun.Status.QUEUED, RollupRun.Status.RUNNING])
        .order_by("-queued_at")
        .first()
    )


def request_recalculation(user):
    """Queue a roll-up run for the user, unless one is already queued or running; returns (run, queued).

    Runs whose worker is gone are marked failed first, so they never block the button. When the
    broker cannot take the task, the run is marked failed with WORKERS_DOWN and RecalculationRefused
    is raised: nothing is left queued. Call it outside a transaction: the worker must find the run.
    """
    from .tasks import run_rollups

    if not can_recalculate(user):
        raise PermissionDenied("Only analysts and agency administrators can recalculate the dashboard.")
    fail_stalled_runs()
    with transaction.atomic():
        existing = active_run()
        if existing is not None:
            return existing, False
        run = RollupRun.objects.create(requested_by=user)
    try:
        # In eager mode (the laptop demo, tests) the run is done here.
        send_to_worker(run_rollups, run.pk)
    except WorkersUnavailable as error:
        RollupRun.objects.filter(pk=run.pk, status=RollupRun.Status.QUEUED).update(
            status=RollupRun.Status.FAILED, finished_at=timezone.now(), error=WORKERS_DOWN)
        raise RecalculationRefused(WORKERS_DOWN) from error
    run.refresh_from_db()
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


def figure_hidden(measure, quarter, dimension, slice_key, category=None, part="numerator"):
    """Whether the published figure is hidden by disclosure control (a figure not rolled up yet counts as hidden)."""
    value = RollupValue.objects.filter(
        measure=measure.name, period_start=quarter.start, dimension=dimension,
        slice_key=slice_key if dimension != Dimension.ALL else "", category=category or "",
    ).values_list("numerator_hidden", "denominator_hidden").first()
    if value is None:
        return True
    return value[1] if part == "denominator" else value[0]
