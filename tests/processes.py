"""Servers a test starts for itself (Redis, Celery, gunicorn, PostgreSQL) on free ports, stopped by PID.

Nothing here touches the shared PostgreSQL on 5432 or Redis on 6379 beyond connecting to them.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition, timeout=30, interval=0.1, what="the condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if condition():
                return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Process:
    """A child process with its output in a log file; `stop()` signals this PID (and its own children)."""

    def __init__(self, args, *, env=None, log_dir, name, cwd=ROOT, user=None):
        """`user`: run as that OS user (the tests run as root here, as CI does)."""
        self.name = name
        self.log = Path(log_dir) / f"{name}.log"
        as_user = {"user": user, "group": user, "extra_groups": []} if user is not None else {}
        with self.log.open("wb") as out:
            self.popen = subprocess.Popen(  # noqa: S603 - fixed commands built by the tests
                [str(a) for a in args], cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, **as_user,
            )
        self.pid = self.popen.pid

    def output(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def running(self):
        return self.popen.poll() is None

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stop this process (its session: the PID and the children it started), waiting for it to exit."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, sig)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                self.popen.wait(10)
        return self.popen.returncode


@contextlib.contextmanager
def redis_server(log_dir):
    """A Redis of the test's own, on a free port; yields (url, process)."""
    port = free_port()
    process = Process(
        [shutil.which("redis-server") or "redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", log_dir],
        log_dir=log_dir, name=f"redis-{port}",
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close() or True,
                 what=f"redis on {port}")
        yield url, process
    finally:
        process.stop()


def django_env(**overrides):
    """The environment for a child process running the app against this test run's databases."""
    from django.db import connection

    env = {k: v for k, v in os.environ.items() if k not in {"DJANGO_ALLOW_ASYNC_UNSAFE"}}
    config = connection.settings_dict
    env["DATABASE_URL"] = (
        f"postgres://{config['USER']}@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{config['NAME']}"
    )
    env.setdefault("DJANGO_SETTINGS_MODULE", "reoffending.test_settings")
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def celery_worker(log_dir, env, *, name="worker", queues=None):
    args = [BIN / "celery", "-A", "reoffending", "worker", "--pool", "solo", "--concurrency", "1",
            "--without-gossip", "--without-mingle", "--hostname", f"{name}-{os.getpid()}@%h", "--loglevel", "info"]
    if queues:
        args += ["--queues", queues]
    return Process(args, env=env, log_dir=log_dir, name=name)


def postgres_bin(name):
    """A PostgreSQL server program from Debian's packages (the newest installed major version)."""
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    assert found, f"PostgreSQL's {name} is not installed (Debian package postgresql)"
    return found[-1]


class PostgresCluster:
    """A PostgreSQL server of the test's own, in a temporary folder, run as the postgres OS user.

    `primary()` makes a new cluster that accepts replication connections; `replica_of(primary)` makes a
    streaming replica of one with `pg_basebackup -R`. `stop()` signals the postmaster by its PID.
    """

    OS_USER = "postgres"

    def __init__(self, base_dir, name):
        self.dir = Path(base_dir) / name
        self.port = free_port()
        self.log_dir = Path(base_dir)
        self.name = name
        self.process = None

    def _run(self, *args):
        result = subprocess.run(  # noqa: S603 - fixed commands built by the tests
            [str(a) for a in args], user=self.OS_USER, capture_output=True, text=True, timeout=300, check=False,
            cwd=self.log_dir,
        )
        assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout}\n{result.stderr}"

    def init_primary(self):
        self._run(postgres_bin("initdb"), "--pgdata", self.dir, "--auth", "trust", "--username", "postgres",
                  "--no-sync", "--encoding", "UTF8", "--locale", "C")
        # synchronous_commit stays on: with it off, a commit can return before its WAL is written, and
        # pg_current_wal_lsn() (the write position) would not yet cover it, so "the replica has replayed
        # everything written so far" could hold while the newest commits were still on their way.
        with (self.dir / "postgresql.conf").open("a") as conf:
            conf.write("wal_level = replica\nmax_wal_senders = 5\nfsync = off\nfull_page_writes = off\n")
        return self

    def replica_of(self, primary):
        self._run(postgres_bin("pg_basebackup"), "--host", "127.0.0.1", "--port", primary.port, "--username",
                  "postgres", "--pgdata", self.dir, "--write-recovery-conf", "--wal-method", "stream", "--no-sync")
        return self

    def start(self):
        self.process = Process(
            [postgres_bin("postgres"), "-D", self.dir, "-p", self.port, "-c", "listen_addresses=127.0.0.1",
             "-c", f"unix_socket_directories={self.log_dir}"],
            log_dir=self.log_dir, name=self.name, user=self.OS_USER,
        )
        wait_for(lambda: subprocess.run([postgres_bin("pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],  # noqa: S603
                                        check=False).returncode == 0,
                 timeout=60, what=f"{self.name} to accept connections\n{self.process.output()}")
        return self

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def stop(self):
        """Fast shutdown: SIGINT to the postmaster, whose PID is the process started here."""
        if self.process is not None:
            return self.process.stop(signal.SIGINT, timeout=30)
        return None


@contextlib.contextmanager
def postgres_folder():
    """A temporary folder the postgres OS user owns (a data folder must belong to the server's user)."""
    import pwd
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="reo-postgres-"))
    account = pwd.getpwnam(PostgresCluster.OS_USER)
    os.chown(folder, account.pw_uid, account.pw_gid)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
