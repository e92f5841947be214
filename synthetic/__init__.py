"""A large, invented partnership for measuring the service at scale.

Everything is generated inside PostgreSQL with INSERT ... SELECT over
generate_series, so 100,000 people and millions of rows load in minutes
rather than the hours the ORM would take. Every random choice is a hash of
(row number, seed, column), so the same seed and as-of date give the same data.
"""

import datetime
import math
from dataclasses import dataclass, field

# Counts at scale 1: a large police force area with five years of history.
FULL_SCALE = {
    "people": 100_000,
    "staff": 600,
    "appointments": 2_000_000,
    "needs": 500_000,
    "actions": 500_000,
    "offences": 200_000,
    "access_log": 2_500_000,
    "case_notes": 300_000,
    "enforcement_actions": 50_000,
    "referrals": 150_000,
}
PANELS_AT_FULL_SCALE = 60
YEARS_OF_HISTORY = 5
HISTORY_DAYS = 365 * YEARS_OF_HISTORY


@dataclass
class Plan:
    seed: int
    scale: float
    as_of: datetime.date
    counts: dict = field(default_factory=dict)
    panels: int = 0

    @classmethod
    def build(cls, *, seed, scale, as_of):
        counts = {name: max(1, math.ceil(n * scale)) for name, n in FULL_SCALE.items()}
        counts["people"] = max(counts["people"], 20)
        counts["staff"] = max(counts["staff"], 60)
        panels = max(3, math.ceil(PANELS_AT_FULL_SCALE * scale))
        return cls(seed=seed, scale=scale, as_of=as_of, counts=counts, panels=panels)

    def salt(self, column):
        """A distinct hash seed per column, so choices for different columns are independent."""
        return self.seed * 1000 + column


SQL_HELPERS = """
CREATE OR REPLACE FUNCTION pg_temp.rnd(i bigint, salt bigint) RETURNS double precision
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (hashint8extended(i, salt) & 2147483647)::double precision / 2147483648.0 $$;
CREATE OR REPLACE FUNCTION pg_temp.pick(i bigint, salt bigint, n integer) RETURNS integer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT floor(pg_temp.rnd(i, salt) * n)::integer $$;
"""


def install_helpers(cursor):
    cursor.execute(SQL_HELPERS)


def weighted_pool(weights):
    """A list in which each value appears in proportion to its weight: picking uniformly from it is a weighted pick."""
    pool = []
    for value, weight in weights:
        pool.extend([value] * weight)
    return pool
