"""The read replica against a real streaming replica: a primary and a replica of its own, started here
from Debian's PostgreSQL (`initdb`, then `pg_basebackup -R` of the primary) on free ports, as the
postgres OS user, and stopped by PID. The shared server on 5432 is not touched: it does not accept
replication connections, and giving it that would mean reconfiguring it.

The checks themselves (tests/replica_checks.py) run in a pytest of their own, whose DATABASE_URL is
this primary and DATABASE_REPLICA_URL this replica.
"""

import os
import subprocess
import sys

import pytest

from .processes import ROOT, PostgresCluster, postgres_folder

pytestmark = pytest.mark.faults


def test_replica_routing_and_lag_against_a_real_streaming_replica():
    with postgres_folder() as folder:
        primary = PostgresCluster(folder, "primary").init_primary().start()
        replica = None
        try:
            replica = PostgresCluster(folder, "replica").replica_of(primary).start()
            env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
            env.update(DATABASE_URL=primary.url("reo_replica"), DATABASE_REPLICA_URL=replica.url("reo_replica"),
                       REPLICA_DATA_DIR=str(replica.dir), DJANGO_SETTINGS_MODULE="reoffending.test_settings")
            result = subprocess.run(  # noqa: S603 - our own test suite
                [sys.executable, "-m", "pytest", "tests/replica_checks.py", "-q", "-p", "no:cacheprovider",
                 "-o", "addopts="],
                cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False,
            )
        finally:
            if replica is not None:
                replica.stop()
            primary.stop()
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "5 passed" in result.stdout, result.stdout[-3000:]
