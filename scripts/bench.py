#!/usr/bin/env python
"""Server-time benchmark on a large generated partnership (`make bench`).

    python scripts/bench.py                 # generate reo_bench once if it is empty, then measure
    python scripts/bench.py --repeats 40    # more samples per page
    python scripts/bench.py --only-pages --check   # pages against the framework floor; exit 1 naming each miss
    python scripts/bench.py sessions 50 --out test-artifacts/sessions.json   # signed-in sessions for locust
    python scripts/bench.py explain         # EXPLAIN ANALYZE of the case list for every filter, sort and search

Pages are requested in-process with Django's test Client (signed in and past the
two-factor step, as the test suite's `client_for` does), so the figures are server
time: views, templates and SQL, without the network or a browser. DEBUG is off.
Each page is also measured against the framework floor: a signed-in page that renders
the base template and nothing else (scripts/bench_urls.py), timed before every page
request, so that the ratios hold on a slow or busy machine.
The database is DATABASE_URL (default reo_bench); it is created, migrated and
filled by `generate_partnership --scale 1` (or --scale) the first time.
"""

import argparse
import datetime
import importlib
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")
# Generating the partnership and the full roll-up run for minutes in this process, as an operator's
# command would: no statement timeout here (the load test's gunicorn keeps the production limits).
os.environ.setdefault("DB_STATEMENT_TIMEOUT", "0")
ARTIFACTS = ROOT / "test-artifacts"
GENERATION_REPORT = ARTIFACTS / "bench-generation.json"

# Targets from the performance brief, in milliseconds of server time at the 95th percentile.
PAGE_TARGET_MS = 150
IDENTIFIER_SEARCH_TARGET_MS = 50
# Targets against the framework floor (a signed-in page that renders the base template and nothing
# else, timed in the same run): (median, p95) as multiples of the floor's median and p95. Unlike
# milliseconds, a ratio holds on a slow or busy machine, so these are what `--check` enforces.
PAGE_RATIO_TARGET = (3, 4)
IDENTIFIER_SEARCH_RATIO_TARGET = (2, 2)


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def ensure_database(scale):
    """Create, migrate and fill the benchmark database when it holds no people yet."""
    import dj_database_url
    import psycopg

    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    admin = psycopg.connect(host=config["HOST"], port=config["PORT"] or 5432, user=config["USER"],
                            password=config["PASSWORD"] or None, dbname="postgres", autocommit=True)
    with admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [config["NAME"]]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{config["NAME"]}"')

    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    from cases.models import Offender

    if Offender.objects.exists():
        return
    print(f"Generating the partnership at scale {scale} into {config['NAME']} (once) ...", flush=True)
    from django.db import connection
    from django.utils import timezone

    from synthetic import Plan
    from synthetic.management.commands.generate_partnership import generate

    report = generate(Plan.build(seed=2026, scale=scale, as_of=timezone.localdate()), log=print)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    vacuum = time.perf_counter() - started
    ARTIFACTS.mkdir(exist_ok=True)
    GENERATION_REPORT.write_text(json.dumps({
        "scale": scale, "rows": report["rows"], "seconds": report["seconds"] + vacuum, "cpus": os.cpu_count(),
        "steps": report["steps"],
    }, indent=1))


def signed_in_client(user):
    """A test client signed in as `user` and verified with an authenticator app, like tests' client_for."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    try:
        from django_otp import DEVICE_ID_SESSION_KEY
        from django_otp.plugins.otp_totp.models import TOTPDevice
    except ImportError:
        return client
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
        user=user, name="Authenticator app", confirmed=True
    )
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def busiest_offender_manager(kind):
    from django.db.models import Count

    from cases.models import Role, User

    return (
        User.objects.filter(agency__kind=kind, role=Role.OFFENDER_MANAGER, is_active=True)
        .annotate(cases=Count("caseload")).order_by("-cases", "pk").first()
    )


def url_for(name, *args):
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


class Bench:
    def __init__(self, repeats):
        self.repeats = repeats
        self.rows = []
        self.floor = None
        self.floor_timings = []
        self.floor_failures = 0

    def set_floor(self, client, url):
        """Time a request of the framework floor before each page request from now on.

        Sampling the floor between the pages, rather than once before them, means it meets the
        same load as the pages do when other work shares the machine.
        """
        if url is None:
            return
        self.floor = (client, url)
        for _ in range(2):
            client.get(url)

    def _time_floor(self):
        client, url = self.floor
        started = time.perf_counter()
        response = client.get(url)
        self.floor_timings.append((time.perf_counter() - started) * 1000)
        if response.status_code != 200:
            self.floor_failures += 1

    def time_requests(self, label, client, urls, target_ms=None, note="", ratio_target=PAGE_RATIO_TARGET):
        """Request each URL (cycling) `repeats` times after two warm-up requests; record server time."""
        if not urls or urls[0] is None:
            self.rows.append({"label": label, "note": note or "not built yet", "ratio_target": ratio_target})
            return
        for url in urls[:2]:
            client.get(url)
        timings, failures = [], 0
        for index in range(self.repeats):
            if self.floor:
                self._time_floor()
            url = urls[index % len(urls)]
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                failures += 1
        self.rows.append({
            "label": label, "median": statistics.median(timings), "p95": percentile(timings, 0.95),
            "n": len(timings), "target": target_ms, "failures": failures, "note": note,
            "ratio_target": ratio_target,
        })
        print(f"  {label}: median {self.rows[-1]['median']:.0f} ms, p95 {self.rows[-1]['p95']:.0f} ms", flush=True)

    def add(self, label, value, unit, note=""):
        self.rows.append({"label": label, "value": value, "unit": unit, "note": note})
        print(f"  {label}: {value} {unit} {note}", flush=True)

    def floor_figures(self):
        """(median, p95) of every floor request of the run, or None when the floor was not timed."""
        if not self.floor_timings:
            return None
        return statistics.median(self.floor_timings), percentile(self.floor_timings, 0.95)

    def ratios(self, row):
        floor = self.floor_figures()
        if floor is None or "median" not in row or "ratio_target" not in row:
            return None  # not a page: agenda generation and the like are not compared with a request
        return row["median"] / floor[0], row["p95"] / floor[1]

    def missed_targets(self):
        """Each target a measure missed, in words: against the floor for pages (a page that failed counts
        too), in milliseconds for agenda generation."""
        if self.floor_figures() is None:
            return ["the framework floor was not timed: run with DJANGO_SETTINGS_MODULE=bench_settings"]
        missed = [f"the framework floor answered {self.floor_failures} requests with a status other than 200"
                  ] if self.floor_failures else []
        for row in self.rows:
            if row.get("missed"):
                missed.append(f"{row['label']}: {row['missed']}")
            ratios = self.ratios(row)
            if ratios is None or not row.get("ratio_target"):
                continue
            for name, ratio, limit in zip(("median", "p95"), ratios, row["ratio_target"], strict=True):
                if ratio > limit:
                    missed.append(f"{row['label']}: {name} {ratio:.1f}x the floor (target <= {limit}x)")
            if row["failures"]:
                missed.append(f"{row['label']}: {row['failures']} of {row['n']} requests not 200")
        return missed

    def print_table(self):
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"\nCPU cores: {os.cpu_count()}   load average: {load}\n")
        floor = self.floor_figures()
        print(f"| {'Measure':<50} | {'median ms':>9} | {'p95 ms':>8} | {'n':>4} | {'target':>9} | "
              f"{'x floor':>11} | {'target':>9} | note")
        print(f"|{'-' * 52}|{'-' * 11}|{'-' * 10}|{'-' * 6}|{'-' * 11}|{'-' * 13}|{'-' * 11}|------")
        if floor:
            print(f"| {'Framework floor (signed in, base template only)':<50} | {floor[0]:9.1f} | {floor[1]:8.1f} | "
                  f"{len(self.floor_timings):>4} | {'':>9} | {'1.0 / 1.0':>11} | {'':>9} | sampled before each "
                  "page request" + (f"; {self.floor_failures} non-200" if self.floor_failures else ""))
        for row in self.rows:
            ratio_target = row.get("ratio_target")
            if "median" in row:
                target = f"<= {row['target']}" if row["target"] else ""
                verdicts = [] if not row["target"] else ["ms " + ("met" if row["p95"] <= row["target"] else "MISSED")]
                ratios = self.ratios(row)
                shown, floor_target = "", ""
                if ratios:
                    shown = f"{ratios[0]:.1f} / {ratios[1]:.1f}"
                    if ratio_target:
                        floor_target = f"{ratio_target[0]} / {ratio_target[1]}"
                        met = all(r <= t for r, t in zip(ratios, ratio_target, strict=True))
                        verdicts.append("floor " + ("met" if met else "MISSED"))
                verdict = ", ".join(verdicts)
                note = " ".join(x for x in [verdict, row["note"], f"{row['failures']} non-200" if row[
                    "failures"] else ""] if x)
                print(f"| {row['label']:<50} | {row['median']:9.1f} | {row['p95']:8.1f} | {row['n']:>4} | "
                      f"{target:>9} | {shown:>11} | {floor_target:>9} | {note}")
            elif "value" in row:
                print(f"| {row['label']:<50} | {row['value']:>9} | {'':>8} | {'':>4} | {row['unit']:>9} | "
                      f"{'':>11} | {'':>9} | {row['note']}")
            else:
                print(f"| {row['label']:<50} | {'-':>9} | {'-':>8} | {'':>4} | {'':>9} | {'':>11} | {'':>9} | "
                      f"{row['note']}")


def bench_pages(bench):
    from django.apps import apps

    from cases.models import Agency, Offender, Role, User

    # Load the application as a server's worker does, which also sets up its garbage collector as in service.
    importlib.import_module("reoffending.wsgi")

    user = busiest_offender_manager(Agency.Kind.POLICE)
    client = signed_in_client(user)
    visible = Offender.objects.visible_to(user)
    print(f"Offender manager {user.username}: {visible.count():,} people visible, "
          f"{Offender.objects.filter(lead_offender_manager=user).count():,} on their caseload", flush=True)
    rng = random.Random(2026)  # noqa: S311 - a repeatable sample, not a secret
    sample_ids = sorted(visible.values_list("pk", flat=True)[:100_000:997])
    if len(sample_ids) < 40:  # a small generated partnership (--scale 0.001): take everyone
        sample_ids = sorted(visible.values_list("pk", flat=True))
    sample = Offender.objects.filter(pk__in=rng.sample(sample_ids, min(40, len(sample_ids))))
    some_person = sample[0]
    area_id, agency_id = some_person.area_id, some_person.lead_agency_id
    case_list = url_for("cases:list")
    bench.set_floor(client, url_for("bench-floor"))

    def list_url(query):
        return f"{case_list}?{query}"

    bench.time_requests("Case list, no filter", client, [case_list], PAGE_TARGET_MS)
    for label, query in [
        ("cohort IOM", "cohort=iom"), ("cohort MAPPA", "cohort=mappa"), ("RAG red", "rag_status=red"),
        ("area", f"area={area_id}"), ("lead agency", f"lead_agency={agency_id}"), ("my caseload", "mine=on"),
        ("sort by RAG", "sort=rag"), ("sort by last updated", "sort=-updated"), ("sort by date of birth", "sort=dob"),
        ("cohort + RAG + area", f"cohort=iom&rag_status=red&area={area_id}"), ("page 40 (the last offered)", "page=40"),
    ]:
        bench.time_requests(f"Case list, {label}", client, [list_url(query)], PAGE_TARGET_MS)
    surnames = [p.last_name for p in sample[:10]]
    bench.time_requests("Case list, search by surname", client, [list_url(f"q={name}") for name in surnames],
                        PAGE_TARGET_MS)
    bench.time_requests("Case list, search by first name and surname", client,
                        [list_url(f"q={p.first_names}+{p.last_name}") for p in sample[:10]], PAGE_TARGET_MS)
    bench.time_requests("Case list, search by PNC number", client,
                        [list_url(f"q={p.pnc_number}") for p in sample[:20]], IDENTIFIER_SEARCH_TARGET_MS,
                        ratio_target=IDENTIFIER_SEARCH_RATIO_TARGET)
    bench.time_requests("Case list, search by short PNC number (17/128C)", client,
                        [list_url(f"q={short_pnc(p.pnc_number)}") for p in sample[:20]], IDENTIFIER_SEARCH_TARGET_MS,
                        ratio_target=IDENTIFIER_SEARCH_RATIO_TARGET)
    crns = [p.crn for p in sample if p.crn]
    no_crn = "" if crns else "nobody in the sample has a CRN"
    bench.time_requests("Case list, search by CRN", client, [list_url(f"q={crn}") for crn in crns[:20]],
                        IDENTIFIER_SEARCH_TARGET_MS, note=no_crn, ratio_target=IDENTIFIER_SEARCH_RATIO_TARGET)
    bench.time_requests("Case list, search by CRN in lower case", client,
                        [list_url(f"q={crn.lower()}") for crn in crns[:20]], IDENTIFIER_SEARCH_TARGET_MS,
                        note=no_crn, ratio_target=IDENTIFIER_SEARCH_RATIO_TARGET)
    bench.time_requests("Case list, search by misspelt surname", client,
                        [list_url(f"q={misspell(name)}") for name in surnames], PAGE_TARGET_MS)
    bench.time_requests("Case list, search by surname and date of birth", client,
                        [list_url(f"q={p.last_name}+{p.date_of_birth:%d/%m/%Y}") for p in sample[:10]],
                        PAGE_TARGET_MS)
    bench.time_requests("Case page (40 different people)", client,
                        [url_for("cases:detail", p.pk) for p in sample], PAGE_TARGET_MS)

    pathways_owner = user
    if apps.is_installed("pathways") and url_for("pathways:my_actions"):
        from django.db.models import Count, Q

        pathways_owner = (
            User.objects.filter(role=Role.OFFENDER_MANAGER)
            .annotate(open_actions=Count("owned_actions", filter=Q(owned_actions__status__in=["open", "in_progress"])))
            .order_by("-open_actions", "pk").first()
        )
        note = f"{pathways_owner.open_actions} open actions"
        bench.time_requests("My actions", signed_in_client(pathways_owner), [url_for("pathways:my_actions")],
                            PAGE_TARGET_MS, note=note)
    else:
        bench.time_requests("My actions", client, [None])

    bench_panels(bench)

    dashboard = url_for("dashboard:index")
    analyst = User.objects.filter(role=Role.ANALYST).order_by("pk").first()
    bench.time_requests("Dashboard page (analyst)", signed_in_client(analyst) if dashboard else client,
                        [dashboard], note="reads the roll-up tables")
    people_api = url_for("api:person-list")
    bench.time_requests("API list of people (page 1)", client, [people_api], PAGE_TARGET_MS)
    if people_api:
        # A client reading everyone: the first 20 cursor pages, found by following `next`.
        cursor_pages = [f"{people_api}?pagination=cursor"]
        while len(cursor_pages) < 20 and (following := client.get(cursor_pages[-1]).json()["next"]):
            cursor_pages.append(following)
        bench.time_requests("API list of people, cursor pages 1 to 20", client, cursor_pages, PAGE_TARGET_MS)
        bench.time_requests("API list of people, search by PNC", client,
                            [f"{people_api}?q={p.pnc_number}" for p in sample[:20]], IDENTIFIER_SEARCH_TARGET_MS,
                            ratio_target=IDENTIFIER_SEARCH_RATIO_TARGET)


AGENDA_TARGET_MS = 300


def bench_panels(bench):
    """The agenda page of recent meetings, and generating the agenda of upcoming ones (rolled back)."""
    from django.apps import apps
    from django.db import transaction

    if not (apps.is_installed("panels") and url_for("panels:list")):
        bench.time_requests("Panel agenda page", None, [None])
        bench.add("Panel agenda generation", "-", "", "not built yet")
        return
    from panels import services
    from panels.models import Meeting

    closed = list(Meeting.objects.filter(status="closed").select_related("panel__chair").order_by("-held_on")[:10])
    if not closed:
        bench.add("Panel agenda page", "-", "", "no meetings in the generated data")
        return
    chair = closed[0].panel.chair
    mine = [m for m in closed if m.panel.chair_id == chair.pk] or closed[:1]
    if bench.floor is None:  # measured on its own (--only-panels)
        bench.set_floor(signed_in_client(chair), url_for("bench-floor"))
    bench.time_requests("Panel agenda page (15 people)", signed_in_client(chair),
                        [url_for("panels:meeting", m.pk) for m in mine], PAGE_TARGET_MS)

    class Rollback(Exception):
        pass

    upcoming = list(
        Meeting.objects.filter(status="scheduled").select_related("panel__chair").order_by("held_on", "pk")[:8])

    def generate(meeting):
        started = time.perf_counter()
        try:
            with transaction.atomic():
                size = len(services.generate_agenda(meeting.panel.chair, meeting))
                elapsed = (time.perf_counter() - started) * 1000
                raise Rollback
        except Rollback:
            pass
        return size, elapsed

    sizes = {meeting.pk: generate(meeting)[0] for meeting in upcoming}  # also the warm-up
    timings = {meeting.pk: [generate(meeting)[1] for _ in range(5)] for meeting in upcoming}
    if not timings:
        return
    everyone = [ms for samples in timings.values() for ms in samples]
    bench.rows.append({
        "label": "Panel agenda generation (service, rolled back)", "median": statistics.median(everyone),
        "p95": percentile(everyone, 0.95), "n": len(everyone), "target": None, "failures": 0,
        "note": f"{min(sizes.values())}-{max(sizes.values())} people selected per agenda",
    })
    busiest = sorted(upcoming, key=lambda meeting: sizes[meeting.pk])[-3:]
    samples = [ms for meeting in busiest for ms in timings[meeting.pk]]
    median = statistics.median(samples)
    bench.rows.append({
        "label": "Panel agenda generation, the three busiest panels", "median": median,
        "p95": percentile(samples, 0.95), "n": len(samples), "target": None, "failures": 0,
        "note": f"{min(sizes[m.pk] for m in busiest)}-{max(sizes[m.pk] for m in busiest)} people; "
                f"target median < {AGENDA_TARGET_MS} ms: {'met' if median < AGENDA_TARGET_MS else 'MISSED'}",
        "missed": None if median < AGENDA_TARGET_MS else f"median {median:.0f} ms (target < {AGENDA_TARGET_MS} ms)",
    })


def bench_rollup(bench, quarters):
    try:
        from dashboard.management.commands.benchmark_dashboard import baseline_sql
        from dashboard.measures import all_measures
        from dashboard.models import RollupRun
        from dashboard.periods import reporting_quarters
        from dashboard.rollup import aggregation_transaction, run_rollup
    except ImportError:
        bench.add("Full roll-up", "-", "", "dashboard roll-up not built yet")
        return
    from django.db import connection

    periods = reporting_quarters(count=quarters)
    measures = all_measures()
    started = time.perf_counter()
    for measure in measures:
        sql, params = baseline_sql(measure, periods)
        # The roll-up's own memory and planner settings, so the comparison is like for like.
        with aggregation_transaction(), connection.cursor() as cursor:
            cursor.execute(sql, params)
            cursor.fetchall()
    floor = time.perf_counter() - started
    started = time.perf_counter()
    run = run_rollup(quarters=periods, measures=measures)
    rollup = time.perf_counter() - started
    ok = run.status == RollupRun.Status.SUCCEEDED
    ratio = rollup / max(floor, 1e-9)
    bench.add(f"SQL floor: {len(measures)} measures x {len(periods)} quarters", f"{floor:.1f}", "s",
              "hand-written aggregate pass, quarter totals only")
    verdict = "met" if ok and ratio <= 3 and rollup < 120 else "MISSED"
    bench.add("Full roll-up (all measures, slices, quarters)", f"{rollup:.1f}", "s",
              f"{ratio:.2f}x the floor (target <= 3x and < 120 s: {verdict}); {run.rows_written:,} rows"
              + ("" if ok else f"; run {run.status}: {run.error}"))


class _RolledBack(Exception):
    pass


def bench_incremental_rollup(bench, quarters):
    """One change's incremental roll-up, for each kind of change: the change and the run are rolled back.

    Needs the figures of a full run in place (one is made if there are none). Other pending changes are
    set aside inside the same transaction, so only the one change is taken in; the database is left as it was.
    """
    from django.conf import settings
    from django.db import connection, transaction
    from django.utils import timezone

    from cases.models import Appointment, CohortMembership, Offender, RagChange
    from dashboard.models import PendingRollupChange, RollupValue
    from dashboard.periods import reporting_quarters
    from dashboard.rollup import apply_pending_changes, run_rollup

    periods = reporting_quarters(count=quarters)
    if not RollupValue.objects.exists():
        run_rollup(quarters=periods)
    on_cohort = CohortMembership.objects.filter(ended_on=None).order_by("pk").values_list("offender_id", flat=True)
    person = Offender.objects.get(pk=on_cohort[len(on_cohort) // 2])
    today = timezone.localdate()

    def rag_change():
        RagChange.objects.create(offender=person, from_status=person.rag_status or "",
                                 to_status="amber" if person.rag_status != "amber" else "green", reason="Review")

    def appointment_outcome():
        past = Appointment.objects.filter(offender=person, scheduled_at__lt=timezone.now())
        appointment = past.latest("scheduled_at")
        Appointment.objects.filter(pk=appointment.pk).update(outcome=Appointment.Outcome.UNACCEPTABLE_ABSENCE,
                                                             absence_reason="")

    def cohort_join():
        cohort = "sgv" if not CohortMembership.objects.filter(offender=person, cohort="sgv", ended_on=None).exists() \
            else "dip"
        CohortMembership.objects.create(offender=person, cohort=cohort, started_on=today)

    def area_change():
        Offender.objects.filter(pk=person.pk).update(area_id=Offender.objects.exclude(area_id=person.area_id)
                                                     .values_list("area_id", flat=True)[:1])

    settings.DASHBOARD_QUARTERS = len(periods)  # the incremental run covers the quarters the full run did
    for label, change in (("a RAG change", rag_change), ("an appointment's outcome", appointment_outcome),
                          ("a cohort join today", cohort_join), ("a person's area", area_change)):
        load = os.getloadavg()[0]
        try:
            with transaction.atomic():
                PendingRollupChange.objects.all().delete()
                change()
                started = time.perf_counter()
                run = apply_pending_changes()
                seconds = time.perf_counter() - started
                raise _RolledBack
        except _RolledBack:
            pass
        connection.close()  # the run's temporary tables and settings go with the session
        measures = len(run.scope) if run else 0
        cells = sum(len(keys) for keys in run.scope.values()) if run else 0
        rows = run.rows_written if run else 0
        bench.add(f"Incremental roll-up after {label}", f"{seconds:.2f}", "s",
                  f"{measures} measures, {cells} measure-quarters, {rows:,} rows; load average {load:.1f}; rolled back")


def bench_shared_rollup(bench, worker_counts=(1, 2)):
    """A full roll-up shared out by Celery: timed with one worker process, then two (--concurrency 1 each).

    The workers and a Redis of their own (on a free port) are started here and stopped by their PIDs.
    """
    import shutil
    import socket
    import subprocess
    import tempfile

    from dashboard.models import RollupRun
    from dashboard.tasks import run_rollups
    from operations.background import send_to_worker
    from reoffending.celery import app

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/0"
    logs = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    redis = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "",  # noqa: S603
                              "--appendonly", "no", "--bind", "127.0.0.1", "--dir", str(logs)],
                             stdout=(logs / "redis.log").open("wb"), stderr=subprocess.STDOUT)
    app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    env = dict(os.environ, REDIS_URL=url, PYTHONPATH=f"{ROOT}:{ROOT / 'scripts'}")
    load = os.getloadavg()
    timings = {}
    workers = []
    try:
        for count in worker_counts:
            workers.clear()
            for n in range(count):
                log = logs / f"worker-{count}-{n}.log"
                workers.append((subprocess.Popen(  # noqa: S603
                    [str(Path(sys.executable).parent / "celery"), "-A", "reoffending", "worker", "--pool", "solo",
                     "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "info", "--hostname",
                     f"bench-{count}-{n}@%h"], cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                    start_new_session=True), log))
            deadline = time.monotonic() + 60
            while not all("ready." in log.read_text(errors="replace") for _, log in workers):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"workers did not start: see {logs}")
                time.sleep(0.2)
            run = RollupRun.objects.create()
            started = time.perf_counter()
            send_to_worker(run_rollups, run.pk)
            while RollupRun.objects.get(pk=run.pk).status in {RollupRun.Status.QUEUED, RollupRun.Status.RUNNING}:
                time.sleep(0.2)
            timings[count] = time.perf_counter() - started
            run.refresh_from_db()
            _stop(workers)
            note = f"{run.rows_written:,} rows, {run.parts.count()} parts"
            if run.status != RollupRun.Status.SUCCEEDED:
                note = f"run {run.status}: {run.error}"
            bench.add(f"Full roll-up shared by {count} worker process{'es' if count > 1 else ''}",
                      f"{timings[count]:.1f}", "s", note)
    finally:
        _stop(workers)
        redis.terminate()
        redis.wait(10)
    if 1 in timings and 2 in timings:
        bench.add("Speed-up, two workers against one", f"{timings[1] / timings[2]:.2f}", "x",
                  f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores at the start")


def _stop(workers):
    """Stop the worker processes started here (each its own session), by their PIDs."""
    import signal

    for process, _ in workers:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(60)
    workers.clear()


class _Rollback(Exception):
    pass


def _timed_import(kind, user, path):
    """Apply a feed file through the real import (rolled back afterwards): (report, seconds)."""
    from django.db import transaction

    from feeds.catalogue import FEEDS
    from feeds.importing import import_file
    from feeds.models import ImportRun
    from feeds.reading import FeedFile

    result = {}
    try:
        with transaction.atomic():
            run = ImportRun.objects.create(kind=kind, filename=path.name, channel="command", user=user,
                                           agency=user.agency)
            started = time.perf_counter()
            result["report"] = import_file(FEEDS[kind], user, FeedFile(path.name, path=path), dry_run=False, run=run)
            result["seconds"] = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return result["report"], result["seconds"]


def bench_import(bench, rows_wanted):
    """The people feed: a CSV of new and known people through the real import, rolled back."""
    import csv
    import tempfile

    from cases.models import Agency, Area, Offender

    user = busiest_offender_manager(Agency.Kind.POLICE)
    area = Area.objects.order_by("pk").first()
    known = list(Offender.objects.filter(lead_agency=user.agency).order_by("pk")
                 .values_list("pnc_number", flat=True)[: rows_wanted // 2])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "people.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["pnc_number", "first_names", "last_name", "date_of_birth", "gender", "area", "rag_status"])
            for index in range(rows_wanted):
                if index < len(known):
                    writer.writerow([known[index], "", "", "", "", "", ["red", "amber", "green"][index % 3]])
                else:
                    writer.writerow([f"2024/{9000000 + index:07d}Z", "Imported", f"Person{index}", "1990-01-31",
                                     "male", area.code, "amber"])
        report, elapsed = _timed_import("people", user, path)
    bench.add(f"People feed, {report.rows:,} rows (half new, half updates)", f"{report.rows / elapsed:,.0f}",
              "rows/s", f"{elapsed:.1f} s, rolled back; {report.line()}")


def _offences_file(path, people, rows):
    import csv

    groups = ["theft", "violence", "burglary", "drugs", "criminal_damage", "public_order"]
    outcomes = [("convicted", 40), ("cautioned", 15), ("nfa", 20), ("pending", 10), ("charged", 10), ("acquitted", 5)]
    pool = [name for name, weight in outcomes for _ in range(weight)]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source_system", "source_reference", "pnc_number", "crn", "last_name", "date_of_birth",
                         "committed_on", "offence_group", "drug_related", "alcohol_related", "outcome", "outcome_on",
                         "court"])
        for index in range(rows):
            pnc, last_name, born = people[index % len(people)]
            outcome = pool[index % len(pool)]
            committed = datetime.date(2022, 1, 1) + datetime.timedelta(days=index % 900)
            decided = "" if outcome == "pending" else (committed + datetime.timedelta(days=30)).isoformat()
            writer.writerow(["bench-police", f"CR-{index:08d}", pnc, "", last_name, born.isoformat(),
                             committed.isoformat(), groups[index % len(groups)], "yes" if index % 4 == 0 else "no",
                             "yes" if index % 5 == 0 else "no", outcome, decided,
                             "Northtown Magistrates' Court" if outcome == "convicted" else ""])


def _floor(path):
    """Reading and splitting the same file with the csv module alone: what no import can go below."""
    import csv

    started = time.perf_counter()
    with path.open(newline="") as handle:
        for _ in csv.reader(handle):
            pass
    return time.perf_counter() - started


def bench_offences_feed(bench, rows_wanted):
    """The offences feed at 100,000 rows against people on the record, and its memory against a file 4x smaller."""
    import subprocess
    import tempfile

    from cases.models import Agency, Offender

    user = busiest_offender_manager(Agency.Kind.POLICE)
    people = list(Offender.objects.visible_to(user).exclude(pnc_number="").order_by("pk")
                  .values_list("pnc_number", "last_name", "date_of_birth")[:20_000])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "offences.csv"
        _offences_file(path, people, rows_wanted)
        floor = _floor(path)
        report, elapsed = _timed_import("offences", user, path)
        rate = report.rows / elapsed
        verdict = "met" if rate >= 5000 and not report.has_rejections else "MISSED"
        bench.add(f"Offences feed, {report.rows:,} rows, {path.stat().st_size / 1e6:.0f} MB", f"{rate:,.0f}", "rows/s",
                  f"{elapsed:.1f} s, rolled back (target >= 5,000 rows/s: {verdict}); {report.line()}; "
                  f"{elapsed / max(floor, 1e-9):.0f}x reading the CSV alone ({floor:.2f} s)")
        # Peak memory of a fresh process importing a quarter of the file, then all of it.
        peaks = []
        for share in (4, 1):
            part = Path(folder) / f"offences-{share}.csv"
            with path.open() as source, part.open("w") as target:
                for number, line in enumerate(source):
                    if number > rows_wanted // share:
                        break
                    target.write(line)
            code = (
                "import django, os, resource, sys; sys.path.insert(0, 'scripts'); django.setup(); "
                "from pathlib import Path; from cases.models import User; import bench; "
                f"user = User.objects.get(pk={user.pk}); bench._timed_import('offences', user, Path({str(part)!r})); "
                "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
            )
            output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,  # noqa: S603
                                    env={**os.environ})
            peaks.append(int(output.stdout.strip().splitlines()[-1]) / 1024)
        bench.add("Offences feed, peak memory: quarter file / whole file", f"{peaks[0]:.0f} / {peaks[1]:.0f}", "MB",
                  f"{rows_wanted // 4:,} and {rows_wanted:,} rows, each in a fresh process "
                  f"(+{peaks[1] - peaks[0]:.0f} MB for {rows_wanted - rows_wanted // 4:,} more rows)")


def bench_matching(bench, treated=1000, pool=100_000):
    """Propensity score matching of 1,000 treated people against a 100,000-person pool (target < 30 s).

    Arrays shaped as an evaluation's are (numbers, categories as indicators), so this is the matching
    alone, as it runs in the worker once the population is read. The floor is the logistic fit alone.
    """
    import numpy as np

    from evaluation.matching import Feature, balance, compare, match, propensity_scores

    rng = np.random.default_rng(2026)
    size = treated + pool
    features = [
        Feature("age", "Age", rng.uniform(18, 60, size), False),
        Feature("previous_offences", "Previous", rng.poisson(2, size).astype(float), False),
        Feature("years_since_last", "Years", rng.uniform(0, 10, size), False),
    ]
    for variable, levels in (("gender", 3), ("ethnicity", 6), ("offence_group", 14), ("area", 4), ("quarter", 4)):
        chosen = rng.integers(0, levels, size)
        features += [Feature(variable, f"{variable} {level}", (chosen == level).astype(float), True)
                     for level in range(levels)]
    outcome = (rng.random(size) < 0.3).astype(float)
    started = time.perf_counter()
    propensity_scores(features, treated, seed=1)
    floor = time.perf_counter() - started
    for replacement in (False, True):
        started = time.perf_counter()
        matched = match(features, treated, with_replacement=replacement, seed=1)
        balance(features, treated, matched)
        compare(outcome[:treated][matched.treated], outcome[treated:][matched.controls])
        elapsed = time.perf_counter() - started
        verdict = "met" if elapsed < 30 else "MISSED"
        bench.add(f"Evaluation matching, {treated:,} against {pool:,}, {'with' if replacement else 'without'} "
                  "replacement", f"{elapsed:.1f}", "s",
                  f"{len(matched.treated):,} matched, {len(features)} columns (target < 30 s: {verdict}); "
                  f"{elapsed / max(floor, 1e-9):.1f}x the logistic fit alone ({floor:.2f} s)")


def report_generation(bench):
    if GENERATION_REPORT.exists():
        data = json.loads(GENERATION_REPORT.read_text())
        bench.add(f"Generation at scale {data['scale']} ({data['rows']:,} rows)",
                  f"{data['rows'] / data['seconds']:,.0f}", "rows/s",
                  f"{data['seconds']:.0f} s in all on {data['cpus']} cores (target < 600 s)")
    else:
        bench.add("Generation", "-", "", "database generated outside this script")


BIG_TABLES = ("cases_offender", "cases_cohortmembership", "cases_appointment", "cases_ragchange", "cases_alias",
              "cases_accesslogentry", "cases_casenote", "cases_offence", "pathways_action")


def case_list_queries(user):
    """(label, query string) of every filter, sort and search the case list offers."""
    from cases.models import Offender

    person = Offender.objects.visible_to(user).exclude(crn="").order_by("pk")[100]
    return [
        ("no filter", {}), ("cohort iom", {"cohort": "iom"}), ("cohort youth", {"cohort": "youth"}),
        ("rag red", {"rag_status": "red"}), ("area", {"area": person.area_id}),
        ("lead agency", {"lead_agency": person.lead_agency_id}), ("mine", {"mine": "on"}),
        ("sort name desc", {"sort": "-name"}), ("sort rag", {"sort": "rag"}), ("sort updated", {"sort": "-updated"}),
        ("sort dob", {"sort": "dob"}), ("search surname", {"q": person.last_name}),
        ("search first+surname", {"q": f"{person.first_names} {person.last_name}"}),
        ("search prefix", {"q": person.last_name[:3]}), ("search PNC", {"q": person.pnc_number}),
        ("search short PNC", {"q": short_pnc(person.pnc_number)}), ("search CRN", {"q": person.crn.lower()}),
        ("search misspelt", {"q": misspell(person.last_name)}),
        ("search name+dob", {"q": f"{person.last_name} {person.date_of_birth:%d/%m/%Y}"}),
    ]


def short_pnc(pnc):
    """2017/0000128C as an officer would type it: 17/128C."""
    year, rest = pnc.split("/")
    return f"{year[2:]}/{int(rest[:-1])}{rest[-1]}"


def misspell(name):
    """The name with two letters swapped in the middle, a typical typing slip."""
    if len(name) < 5:
        return name
    middle = len(name) // 2
    return name[:middle] + name[middle + 1] + name[middle] + name[middle + 2:]


def explain_case_list():
    """EXPLAIN ANALYZE the case list's page and count queries for every filter, sort and search."""
    from django.db import connection

    from cases.filters import CaseFilter
    from cases.models import Agency, Offender

    user = busiest_offender_manager(Agency.Kind.POLICE)
    for label, data in case_list_queries(user):
        queryset = CaseFilter(data, queryset=Offender.objects.visible_to(user), user=user).qs
        page_sql, params = queryset.select_related("area", "lead_agency", "lead_offender_manager")[:25].query \
            .sql_with_params()
        # The case list's paginator counts at most cap + 1 rows (web.pagination).
        count_sql, count_params = queryset.order_by().values("pk")[:1001].query.sql_with_params()
        for kind, sql, sql_params in [
            # SQL compiled by Django from the queryset; every value is a parameter.
            ("page", page_sql, params), ("count", f"SELECT count(*) FROM ({count_sql}) AS q", count_params),  # noqa: S608
        ]:
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT TEXT) {sql}", sql_params)
                plan = [row[0] for row in cursor.fetchall()]
            seq = sorted({t for line in plan for t in BIG_TABLES if f"Seq Scan on {t} " in line + " "})
            total = next((line for line in plan if line.startswith("Execution Time")), "")
            print(f"{label:<22} {kind:<5} {total:<28} seq scans: {', '.join(seq) or '-'}")
            if os.environ.get("EXPLAIN_VERBOSE"):
                print("\n".join("    " + line for line in plan))


def make_sessions(count, out):
    """Signed-in, two-factor-verified sessions for `count` offender managers, for the load test."""
    from django.conf import settings

    from cases.models import Agency, Offender, Role, User

    users = list(
        User.objects.filter(role=Role.OFFENDER_MANAGER, agency__kind__in=[Agency.Kind.POLICE, Agency.Kind.PROBATION])
        .order_by("pk")[:count]
    )
    sessions = []
    for user in users:
        client = signed_in_client(user)
        people = list(Offender.objects.visible_to(user).order_by("?").values_list("pk", flat=True)[:50])
        sessions.append({
            "username": user.username, "cookie": client.cookies[settings.SESSION_COOKIE_NAME].value,
            "people": people, "surnames": list(
                Offender.objects.filter(pk__in=people[:10]).values_list("last_name", flat=True)),
            "pncs": list(Offender.objects.filter(pk__in=people[:10]).values_list("pnc_number", flat=True)),
        })
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({"cookie_name": settings.SESSION_COOKIE_NAME, "sessions": sessions}))
    print(f"Wrote {len(sessions)} signed-in sessions to {out}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", nargs="?", default="bench", choices=["bench", "sessions", "prepare", "explain"])
    parser.add_argument("count", nargs="?", type=int, default=50)
    parser.add_argument("--out", default=str(ARTIFACTS / "sessions.json"))
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--quarters", type=int, default=20)
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--offence-rows", type=int, default=100_000)
    parser.add_argument("--skip-rollup", action="store_true")
    parser.add_argument("--only-pages", action="store_true",
                        help="Measure the pages and the framework floor only (no roll-up, feeds or matching).")
    parser.add_argument("--check", action="store_true",
                        help="Exit non-zero, naming each one, when a page misses its target against the floor.")
    parser.add_argument("--only-rollup", action="store_true", help="Measure the roll-up and the import only.")
    parser.add_argument("--only-feeds", action="store_true", help="Measure the feeds only.")
    parser.add_argument("--only-matching", action="store_true", help="Measure evaluation matching only.")
    parser.add_argument("--only-panels", action="store_true",
                        help="Measure the panel agenda page and agenda generation only.")
    parser.add_argument("--only-incremental", action="store_true",
                        help="Measure the incremental roll-up after one change of each kind only.")
    parser.add_argument("--only-workers", action="store_true",
                        help="Measure the roll-up shared by one and by two Celery worker processes only.")
    args = parser.parse_args()

    if args.only_matching:
        bench = Bench(args.repeats)
        bench_matching(bench)
        bench.print_table()
        return

    ensure_database(args.scale)
    if args.what == "prepare":
        return
    if args.what == "explain":
        explain_case_list()
        return
    if args.what == "sessions":
        make_sessions(args.count, args.out)
        return
    bench = Bench(args.repeats)
    if args.only_panels:
        bench_panels(bench)
        finish(bench, args.check)
        return
    if args.only_incremental:
        bench_incremental_rollup(bench, args.quarters)
        bench.print_table()
        return
    if args.only_workers:
        bench_shared_rollup(bench)
        bench.print_table()
        return
    if args.only_feeds:
        bench_import(bench, args.import_rows)
        bench_offences_feed(bench, args.offence_rows)
        bench.print_table()
        return
    if args.only_pages:
        bench_pages(bench)
        finish(bench, args.check)
        return
    if not args.only_rollup:
        bench_pages(bench)
    if args.skip_rollup:
        bench.add("Full roll-up", "-", "", "skipped (--skip-rollup)")
    else:
        bench_rollup(bench, args.quarters)
        bench_incremental_rollup(bench, args.quarters)
        bench_shared_rollup(bench)
    bench_import(bench, args.import_rows)
    bench_offences_feed(bench, args.offence_rows)
    bench_matching(bench)
    report_generation(bench)
    finish(bench, args.check and not args.only_rollup)


def finish(bench, check):
    """Print the table; with --check, name each target missed and exit 1 if any was."""
    bench.print_table()
    if not check:
        return
    missed = bench.missed_targets()
    for row in bench.rows:
        if row.get("ratio_target") and "median" not in row:
            print(f"Not measured: {row['label']} ({row['note']})")
    if missed:
        print(f"\n{len(missed)} target{'s' if len(missed) > 1 else ''} missed:")
        for line in missed:
            print(f"  - {line}")
        sys.exit(1)
    print("\nEvery measure is within its target.")


if __name__ == "__main__":
    main()
