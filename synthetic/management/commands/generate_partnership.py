import datetime
import importlib
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

import synthetic
from cases.models import Offender
from dashboard import changes
from synthetic import cases_data

# Apps built on cases add their tables after it, in this order, when they are installed and migrated.
LATER_APPS = ["pathways", "panels"]


class Command(BaseCommand):
    help = (
        "Generate a large invented partnership (100,000 people and five years of history at --scale 1) "
        "in PostgreSQL, for benchmarks and load tests. Deterministic for a given --seed and --as-of."
    )

    def add_arguments(self, parser):
        parser.add_argument("--scale", type=float, default=1.0, help="1 is the full partnership; 0.001 is tiny.")
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--as-of", type=datetime.date.fromisoformat, default=None,
            help="The 'today' of the generated history (YYYY-MM-DD); defaults to today.",
        )
        parser.add_argument("--no-vacuum", action="store_true", help="Skip VACUUM ANALYZE at the end.")

    def handle(self, *args, scale, seed, as_of, no_vacuum, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The generator needs PostgreSQL (set DATABASE_URL).")
        if scale <= 0:
            raise CommandError("--scale must be positive.")
        plan = synthetic.Plan.build(seed=seed, scale=scale, as_of=as_of or timezone.localdate())
        report = generate(plan, log=lambda line: self.stdout.write(line))
        if not no_vacuum and not connection.in_atomic_block:
            started = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
            self.stdout.write(f"  {'VACUUM ANALYZE':<32} {time.perf_counter() - started:8.1f} s")
        self.stdout.write(self.style.SUCCESS(
            f"Generated {report['rows']:,} rows in {report['seconds']:.1f} s "
            f"({report['rows'] / max(report['seconds'], 1e-9):,.0f} rows/s)."
        ))


def generate(plan, log=lambda line: None):
    """Generate the partnership in one transaction; returns the row count and time per step."""
    if Offender.objects.exists() and not connection.in_atomic_block:
        # Generating twice into one database would mix two partnerships; tests may do it inside a savepoint.
        raise CommandError("The database already holds people: generate into an empty, migrated database.")
    steps = []
    started = time.perf_counter()

    def step(label, sql, params, *, table=None):
        t0 = time.perf_counter()
        with connection.cursor() as cursor:
            dropped = _drop_plain_indexes(cursor, table) if table else []
            cursor.execute(sql, params)
            rows = max(cursor.rowcount, 0)
            for definition in dropped:
                cursor.execute(definition)
        seconds = time.perf_counter() - t0
        steps.append({"label": label, "rows": rows, "seconds": seconds})
        log(f"  {label:<32} {rows:>10,} rows {seconds:8.1f} s")

    with transaction.atomic():
        with connection.cursor() as cursor:
            synthetic.install_helpers(cursor)
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            # Check foreign keys at the end of each statement rather than at commit: an index cannot be
            # rebuilt on a table with deferred checks pending, and an error then names the step.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # The roll-up's change triggers would note millions of facts one by one: one note says it all.
        with changes.recorded_as_one_change():
            context = cases_data.setup_partnership(plan)
            log(f"  {'agencies and staff':<32} {len(context['staff']):>10,} staff")
            cases_data.generate(plan, context, step)
            for app in LATER_APPS:
                module = _generator_for(app)
                if module is not None:
                    module.generate(plan, context, step)
    seconds = time.perf_counter() - started
    rows = sum(s["rows"] for s in steps)
    return {"rows": rows, "seconds": seconds, "steps": steps, "context": context}


def _drop_plain_indexes(cursor, table):
    """Set aside a table's plain indexes and foreign keys for a bulk load; returns the statements that restore them.

    Building an index once over millions of rows is much faster than updating it row by row, and
    re-adding a foreign key checks every row in one join instead of one lookup (and row lock) per row.
    Unique and primary key indexes and check constraints stay, so those are checked as the rows go in;
    the foreign keys are checked in full when they are re-added, before the transaction commits.
    """
    cursor.execute("""
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = %s AND i.indexdef NOT LIKE 'CREATE UNIQUE%%'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexname::regclass)
    """, [table])
    indexes = cursor.fetchall()
    cursor.execute("""
        SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
        WHERE conrelid = %s::regclass AND contype = 'f'
    """, [table])
    foreign_keys = cursor.fetchall()
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    for name, _ in foreign_keys:
        cursor.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
    return [definition for _, definition in indexes] + [
        f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}' for name, definition in foreign_keys
    ]


def _generator_for(app):
    from django.apps import apps

    if not apps.is_installed(app):
        return None
    try:
        module = importlib.import_module(f"synthetic.{app}_data")
    except ModuleNotFoundError:
        return None
    return module if module.available() else None
