"""Real server processes for end-to-end tests: jamjar on scripts/serve, and when a test needs
its own, MariaDB and Redis instances on free ports that it may stop and start."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.queue_ingest import worker_command

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, *, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            if check():
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} not ready after {timeout_s:g} s")


def port_open(port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
        return True
    return False


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class JamjarServer:
    """scripts/serve on a free loopback port, with the environment given."""

    def __init__(self, env: dict) -> None:
        self.port = free_port()
        self.log_path = Path(tempfile.mkstemp(prefix="jamjar-serve-", suffix=".log")[1])
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed by stop())
        self._final_log: str | None = None
        self.process = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "serve"), f"127.0.0.1:{self.port}"],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_until(lambda: port_open(self.port), timeout_s=90, what="scripts/serve")
        except TimeoutError:
            self.stop()
            raise AssertionError(self.log()) from None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        if self._final_log is not None:
            return self._final_log
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()
        if self._final_log is None:  # kept for the test's messages; the file goes
            self._final_log = self.log()
            self.log_path.unlink(missing_ok=True)


class ServiceProcess:
    """A server process a test may stop (SIGTERM, then wait) and start again."""

    process: subprocess.Popen | None = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=60)
        self.process = None


class MariaDB(ServiceProcess):
    """A MariaDB server of the test's own (own datadir and port), which it may stop and start.

    server_args replace the default of no binary log (a replication primary needs one);
    create_database=False leaves the jamjar database to come through replication.
    """

    def __init__(
        self, *, server_args: tuple[str, ...] = ("--skip-log-bin",), create_database: bool = True
    ) -> None:
        self.server_args = server_args
        self.folder = Path(tempfile.mkdtemp(prefix="jamjar-mariadb-"))
        (self.folder / "tmp").mkdir()
        for path in (self.folder, self.folder / "tmp"):  # the server runs as mysql and makes its socket here
            shutil.chown(path, "mysql", "mysql")
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        try:
            subprocess.run(
                [
                    "mariadb-install-db",
                    "--no-defaults",
                    "--user=mysql",
                    f"--datadir={self.folder / 'data'}",
                    "--skip-test-db",
                ],
                check=True,
                capture_output=True,
            )
            self.start()
            if create_database:
                self.sql("CREATE DATABASE jamjar CHARACTER SET utf8mb4")
        except BaseException:
            self.remove()  # a half-made instance leaves no server and no folder behind
            raise

    @property
    def url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/jamjar"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                "--user=mysql",
                f"--datadir={self.folder / 'data'}",
                f"--tmpdir={self.folder / 'tmp'}",
                f"--port={self.port}",
                f"--socket={self.folder / 'm.sock'}",
                "--bind-address=127.0.0.1",
                "--skip-grant-tables",
                "--innodb-buffer-pool-size=64M",
                *self.server_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open(self.port), timeout_s=60, what="MariaDB")

    def sql(self, statement: str) -> str:
        """Run SQL with the mariadb client; its output, tab-separated, without headers."""
        return subprocess.run(
            ["mariadb", "-h127.0.0.1", f"-P{self.port}", "-uroot", "-N", "-B", "-e", statement],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


def replication_primary() -> MariaDB:
    """A MariaDB that writes the binary log a replica follows (row-based, as the recipe)."""
    return MariaDB(server_args=("--server-id=1", "--log-bin=primary-bin", "--binlog-format=ROW"))


class MariaDBReplica(MariaDB):
    """A read-only replica of primary, following it from its first binary log (so the jamjar
    database and everything in it come through replication).  It does not resume
    replicating by itself after a restart (--skip-slave-start): the test decides."""

    def __init__(self, primary: MariaDB) -> None:
        self.primary = primary
        super().__init__(
            server_args=("--server-id=2", "--read-only=1", "--skip-slave-start", "--skip-log-bin"),
            create_database=False,
        )
        try:
            self.sql(
                f"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT={primary.port}, "
                "MASTER_USER='root', MASTER_PASSWORD='', MASTER_USE_GTID=slave_pos"
            )
            self.resume()
        except BaseException:
            self.remove()
            raise

    def pause(self) -> None:
        self.sql("STOP SLAVE")

    def resume(self) -> None:
        self.sql("START SLAVE")

    def delay(self, seconds: int) -> None:
        """Replicate, applying each change only seconds after the primary made it (MASTER_DELAY):
        replication runs and the replica lags behind, further as time goes on."""
        self.sql(f"STOP SLAVE; CHANGE MASTER TO MASTER_DELAY={seconds:d}; START SLAVE")

    def catch_up(self, *, timeout_s: float = 60) -> None:
        """Wait until the replica has applied everything the primary has written so far."""
        position = self.primary.sql("SELECT @@gtid_binlog_pos")
        waited = self.sql(f"SELECT MASTER_GTID_WAIT('{position}', {timeout_s:g})")
        if waited != "0":
            raise TimeoutError(f"replica not at the primary's {position} after {timeout_s:g} s")


class Redis(ServiceProcess):
    """A redis-server of the test's own on a free port (no persistence), stoppable."""

    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: port_open(self.port), timeout_s=30, what="Redis")


class CeleryWorker(ServiceProcess):
    """`celery -A jamjar_site worker` (one task at a time) with the environment given."""

    def __init__(self, env: dict, *, name: str) -> None:
        self.log_path = Path(tempfile.mkstemp(prefix=f"jamjar-celery-{name}-", suffix=".log")[1])
        self._log = open(self.log_path, "wb")  # noqa: SIM115  (closed by stop())
        self.process = subprocess.Popen(
            worker_command(name),
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(lambda: " ready." in self.log(), timeout_s=90, what=f"celery worker {name}")
        except TimeoutError:
            self.stop()
            raise AssertionError(self.log()) from None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        super().stop()
        if not self._log.closed:
            self._log.close()

    def remove(self) -> None:
        self.stop()
        self.log_path.unlink(missing_ok=True)
