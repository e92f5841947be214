# ruff: noqa: S608 - SQL is assembled from table names and constants only; values are always parameters.
"""Time the full roll-up and the dashboard pages on a large partnership (see generate_partnership).

Not a timed test: it reports numbers for the performance issue. Run it against a database
filled by `manage.py generate_partnership --scale 1` (100,000 people, five years of history):

    DATABASE_URL=postgres://.../reo_bench python manage.py benchmark_dashboard --quarters 20

The baseline is a raw SQL pass over the same measure queries that only groups by quarter
(no slices, nothing written): the least work that still produces every headline figure.
The roll-up adds the six slices, the cohort breakdown and writing the rows; the target is
that it costs at most three times the baseline.
"""

import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.test import Client
from django.urls import reverse

from cases.models import Agency, Offender, Role, User
from dashboard.definition import Tables
from dashboard.measures import all_measures
from dashboard.models import RollupRun, RollupValue
from dashboard.periods import reporting_quarters
from dashboard.rollup import _measure_ctes, aggregation_transaction, compute_measure, run_rollup


def baseline_sql(measure, quarters):
    sql, params = _measure_ctes(measure, quarters, Tables())
    return sql + "SELECT q_start, category, SUM(num), SUM(den) FROM base GROUP BY q_start, category", params


class Command(BaseCommand):
    help = "Report the roll-up time against a raw SQL baseline, and the dashboard page times."

    def add_arguments(self, parser):
        parser.add_argument("--quarters", type=int, default=20, help="Quarters to roll up (20 = five years).")
        parser.add_argument("--page-repeats", type=int, default=5)

    def handle(self, *args, quarters, page_repeats, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Benchmark against PostgreSQL (set DATABASE_URL).")
        people = Offender.objects.count()
        periods = reporting_quarters(count=quarters)
        measures = all_measures()
        self.stdout.write(f"{people:,} people, {len(measures)} measures, {len(periods)} quarters")

        baseline = {}
        for measure in measures:
            sql, params = baseline_sql(measure, periods)
            # The same memory for sorts and hashes as the roll-up has, so the comparison is fair.
            with aggregation_transaction(), connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute(sql, params)
                cursor.fetchall()
                baseline[measure.name] = time.perf_counter() - started
            self.stdout.write(f"  baseline {measure.name:<28} {baseline[measure.name]:7.2f} s")
            self.stdout.flush()

        started = time.perf_counter()
        run = run_rollup(quarters=periods, measures=measures)
        rollup_seconds = time.perf_counter() - started
        if run.status != RollupRun.Status.SUCCEEDED:
            raise CommandError(f"The roll-up did not succeed: {run.status} {run.error}")

        per_measure = {}
        for measure in measures:
            started = time.perf_counter()
            compute_measure(measure, periods)
            per_measure[measure.name] = time.perf_counter() - started

        self.stdout.write(f"\n{'measure':<28} {'baseline s':>10} {'sliced s':>10} {'ratio':>6}")
        for measure in measures:
            b, s = baseline[measure.name], per_measure[measure.name]
            self.stdout.write(f"{measure.name:<28} {b:10.2f} {s:10.2f} {s / max(b, 1e-9):6.2f}")
        total_baseline = sum(baseline.values())
        self.stdout.write(
            f"\nBaseline raw SQL pass (quarter totals only): {total_baseline:8.2f} s\n"
            f"Full roll-up (all slices, written):          {rollup_seconds:8.2f} s "
            f"({run.rows_written:,} rows, {rollup_seconds / max(total_baseline, 1e-9):.2f}x the baseline)"
        )

        client = self._signed_in_client()
        for label, url in [
            ("dashboard", reverse("dashboard:index")),
            ("dashboard by area", reverse("dashboard:index") + f"?quarter={periods[-2].key}&area="
             + str(Offender.objects.values_list("area_id", flat=True).first())),
            ("board report", reverse("dashboard:report")),
            ("measure breakdown", reverse("dashboard:measure", args=["proven_reoffending"]) + "?by=agency"),
        ]:
            timings = []
            for _ in range(page_repeats):
                started = time.perf_counter()
                response = client.get(url)
                timings.append(time.perf_counter() - started)
                if response.status_code != 200:
                    raise CommandError(f"{url} answered {response.status_code}")
            self.stdout.write(f"Page {label:<20} median {statistics.median(timings) * 1000:7.0f} ms")
        self.stdout.write(f"Roll-up rows in the table: {RollupValue.objects.count():,}")

    def _signed_in_client(self):
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice

        agency = Agency.objects.filter(kind=Agency.Kind.OPCC).first() or Agency.objects.first()
        user, _ = User.objects.get_or_create(
            username="benchmark.analyst", defaults={"agency": agency, "role": Role.ANALYST, "is_active": True}
        )
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="Benchmark", confirmed=True
        )
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client
