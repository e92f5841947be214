# ruff: noqa: S608 - SQL is assembled from table names and constants only; values are always parameters.
"""What a measure is: its kind, its plain-English definition and source, and the SQL pieces measures share.

A measure gives, for every reporting quarter at once, rows at the grain of a person
(or of an event about a person) with the columns

    q_start, offender_id, agency_id, category, num, den

and, when the measure has its own notion of cohort (people who joined a cohort, say),
the same rows with a `cohort` column. The roll-up engine (`dashboard.rollup`) joins
these rows to the person once, slices them by area, agency, cohort, gender, age band,
ethnicity and priority group, and sums `num` and `den`. A slice is always a subset of
the rows of the whole partnership.

`agency_id` may be NULL, in which case the person's lead agency is used; measures
about an agency's own work (enforcement, panel actions) give the acting agency.

The SQL is written for both PostgreSQL (production, tests) and SQLite (the laptop
demo): dates are compared as dates, and the vendor-specific pieces (adding days or
months to a date, the local date of a timestamp) go through `Tables`.
"""

import datetime
from dataclasses import dataclass, field

from django.apps import apps
from django.conf import settings
from django.db import connection

from .periods import add_months

COUNT = "count"  # a number of people or events
RATE = "rate"  # numerator out of denominator, shown as a percentage
RATIO = "ratio"  # numerator per denominator, shown as a decimal
MIX = "mix"  # counts split into categories that add up to a total

NULL_ID = "CAST(NULL AS BIGINT)"


class Tables:
    """Database table names and vendor-specific SQL pieces for the measure queries."""

    def __init__(self, vendor=None):
        self.vendor = vendor or connection.vendor
        self._tables = {}

    def __getattr__(self, label):
        # `t.cases_offender` -> the table of cases.Offender, so a renamed table cannot silently break SQL.
        if "_" not in label or label.startswith("_"):
            raise AttributeError(label)
        if label not in self._tables:
            app_label, model_name = label.split("_", 1)
            try:
                model = apps.get_model(app_label, model_name)
            except LookupError as error:
                raise AttributeError(label) from error
            self._tables[label] = connection.ops.quote_name(model._meta.db_table)
        return self._tables[label]

    def add_days(self, expression, days):
        days = int(days)
        if self.vendor == "sqlite":
            return f"date({expression}, '{days:+d} days')"
        return f"({expression} + {days})"

    def add_months(self, expression, months):
        """The date `months` calendar months after a date (the end of a shorter month, as `add_months`)."""
        months = int(months)
        if self.vendor == "sqlite":
            # SQLite rolls 31 January + 1 month over to 3 March; step back to the month's last day instead.
            # (%% is a literal per cent sign: the statement always has parameters.)
            rolled = f"date({expression}, '{months:+d} months')"
            wanted_month = f"((CAST(strftime('%%m', {expression}) AS INTEGER) - 1 + {months}) %% 12 + 1)"
            return (
                f"(CASE WHEN CAST(strftime('%%m', {rolled}) AS INTEGER) = {wanted_month} THEN {rolled} "
                f"ELSE date({rolled}, 'start of month', '-1 day') END)"
            )
        return f"CAST({expression} + INTERVAL '{months} months' AS DATE)"

    def local_date(self, expression):
        """The partnership's calendar date (Europe/London) of a timestamp."""
        zone = settings.TIME_ZONE.replace("'", "")
        if self.vendor == "sqlite":
            # SQLite keeps timestamps as UTC text and has no time zone rules: Django's own function converts them.
            return f"django_datetime_cast_date({expression}, '{zone}', 'UTC')"
        return f"CAST(({expression} AT TIME ZONE '{zone}') AS DATE)"

    def hours_between(self, start, end):
        """Whole hours from one timestamp to a later one."""
        if self.vendor == "sqlite":
            return f"CAST(ROUND((julianday({end}) - julianday({start})) * 24) AS INTEGER)"
        return f"CAST(ROUND(EXTRACT(EPOCH FROM ({end} - {start})) / 3600) AS INTEGER)"

    @property
    def materialized(self):
        """Keep a CTE as a computed table (PostgreSQL would otherwise inline it and pick index scans)."""
        return "MATERIALIZED " if self.vendor == "postgresql" else ""

    def in_list(self, values):
        return "(" + ", ".join("'" + str(value).replace("'", "''") + "'" for value in sorted(values)) + ")"


@dataclass(frozen=True)
class Measure:
    name: str
    label: str
    description: str
    kind: str
    # (t: Tables) -> (extra CTE definitions or "", person-level SELECT, cohort-level SELECT or None)
    build: object
    categories: tuple = ()
    # The plain-English definition shown on the measure's page, and where it comes from.
    definition: str = ""
    source: str = ""
    # Calendar months after the end of a quarter before its figure is final (proven reoffending: 18).
    maturity_months: int = 0
    higher_is_better: bool | None = None
    # A mix's headline: the share of these categories, described as `headline_label` (empty: the mix's total).
    headline: tuple = ()
    headline_label: str = ""
    # The app whose data the measure reads: measures of apps not installed yet are left out.
    source_app: str = "cases"
    unit: str = "people"
    group: str = "Cohort"
    requires: tuple = field(default=())  # model labels that must exist, e.g. ("pathways.Referral",)
    # Measures counting the same people (the reoffending cohort) protect their small numbers together, and
    # name what their numerator and denominator count (`dashboard.disclosure.FAMILY_QUANTITIES`).
    family: str = ""
    quantities: tuple = ()

    @property
    def category_labels(self):
        return dict(self.categories)

    @property
    def disclosure_family(self):
        return self.family or self.name

    def final_on(self, quarter):
        """The first day on which the quarter's figure can no longer change: every day of it has matured."""
        return add_months(quarter.end, self.maturity_months) + datetime.timedelta(days=1)

    def completeness(self, quarter, today):
        """How much of the quarter's figure is in, from 0 to 1.

        A day of the quarter is complete once it is over and, for a measure with a follow-up, once
        the follow-up and waiting period of someone starting that day are over too.
        """
        days = (quarter.end - quarter.start).days + 1
        complete = sum(
            1 for offset in range(days)
            if add_months(quarter.start + datetime.timedelta(days=offset), self.maturity_months) < today
        )
        return complete / days

    def is_available(self):
        if not apps.is_installed(self.source_app):
            return False
        for label in self.requires:
            try:
                apps.get_model(label)
            except LookupError:
                return False
        return True
