"""Throwaway Mosquitto and PostgreSQL servers for tests, benchmarks and the demo.

Each runs from Debian's packages in a private temporary folder on a free loopback port, and is
stopped (and its folder removed) when the context exits. Nothing here is used in production.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
PG_BIN = Path("/usr/lib/postgresql/15/bin")


class ServerUnavailable(RuntimeError):
    """The server's program is not installed; the message says which package brings it."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing answers on {host}:{port} after {timeout} s") from None
            time.sleep(0.02)


@dataclass(frozen=True)
class MosquittoTls:
    """PEM files for a TLS listener; with ``require_certificate`` clients must show one too."""

    ca_file: Path
    cert_file: Path
    key_file: Path
    require_certificate: bool = False


@dataclass
class Mosquitto:
    port: int
    folder: Path
    process: subprocess.Popen | None = None
    persistence: bool = False
    users: dict[str, str] | None = None  # user -> password; then anonymous clients are refused
    tls: MosquittoTls | None = None
    # 0: no queue limit (the tests' default); None: the broker's stock limit (1,000 per client)
    queue_limit: int | None = 0
    sys_interval: int | None = None  # seconds between $SYS updates (stock: 10)
    config: Path | None = None  # a shipped mosquitto.conf: its settings, this run's paths
    acl: Path | None = None  # an ACL file to copy in

    @property
    def url(self) -> str:
        return f"{'mqtts' if self.tls else 'mqtt'}://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not Path(MOSQUITTO).exists():
            raise ServerUnavailable("mosquitto is not installed: apt-get install mosquitto")
        conf = self.folder / "mosquitto.conf"
        lines = [
            "user root",
            f"listener {self.port} 127.0.0.1",
            "log_dest stderr",
        ]
        if self.config is not None:  # its settings; paths and listeners are this run's
            lines += [
                ln
                for ln in Path(self.config).read_text().splitlines()
                if ln.strip()
                and not ln.lstrip().startswith("#")
                and ln.split()[0] not in _RUN_SPECIFIC
            ]
        elif self.queue_limit is not None:
            lines.append(f"max_queued_messages {self.queue_limit}")
        if self.sys_interval is not None:
            lines.append(f"sys_interval {self.sys_interval}")
        if self.acl is not None:
            shutil.copy(self.acl, self.folder / "acl")
            lines.append(f"acl_file {self.folder / 'acl'}")
        if self.tls is not None:
            lines += [
                f"cafile {self.tls.ca_file}",
                f"certfile {self.tls.cert_file}",
                f"keyfile {self.tls.key_file}",
                f"require_certificate {'true' if self.tls.require_certificate else 'false'}",
            ]
        if self.users:
            passwd = self.folder / "passwd"
            passwd.write_text("")
            for user, password in self.users.items():
                subprocess.run(
                    [MOSQUITTO_PASSWD, "-b", str(passwd)] + [user, password],
                    check=True,
                    capture_output=True,
                )
            lines += ["allow_anonymous false", f"password_file {passwd}"]
        elif self.config is None:
            lines.append("allow_anonymous true")
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.folder}/"]
        else:
            lines.append("persistence false")
        conf.write_text("\n".join(lines) + "\n")
        self._log = (self.folder / "mosquitto.log").open("ab")
        self.process = subprocess.Popen(
            [MOSQUITTO, "-c", str(conf)], stderr=self._log, stdout=self._log
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
            self._log.close()

    def restart(self) -> None:
        self.stop()
        self.start()


_RUN_SPECIFIC = {
    "listener",
    "port",
    "bind_address",
    "persistence",
    "persistence_location",
    "password_file",
    "acl_file",
    "log_dest",
    "user",
    "pid_file",
    "include_dir",
    "allow_anonymous",
    "sys_interval",
}


@contextmanager
def mosquitto(
    persistence: bool = False,
    users: dict[str, str] | None = None,
    tls: MosquittoTls | None = None,
    *,
    queue_limit: int | None = 0,
    sys_interval: int | None = None,
    config: Path | None = None,
    acl: Path | None = None,
) -> Iterator[Mosquitto]:
    """A broker on a free port. ``queue_limit=None`` keeps Mosquitto's stock queue limit (it
    drops messages for a client that falls 1,000 behind); ``config`` runs a shipped
    ``mosquitto.conf`` (its queue limits, expiry, ...) with this run's port and paths."""
    folder = Path(tempfile.mkdtemp(prefix="prognos-mqtt-"))
    os.chmod(folder, 0o755)
    broker = Mosquitto(
        port=free_port(),
        folder=folder,
        persistence=persistence,
        users=users,
        tls=tls,
        queue_limit=queue_limit,
        sys_interval=sys_interval,
        config=config,
        acl=acl,
    )
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _run_pg(cmd: list[str], cwd: Path) -> None:
    if os.geteuid() == 0:  # initdb refuses to run as root
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=cwd)


@dataclass
class Postgres:
    port: int
    folder: Path

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def restart(self) -> None:
        """Stop and start the server (fast shutdown): every client connection is cut."""
        data = self.folder / "data"
        _run_pg(
            [
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.folder / "log"),
                "-m",
                "fast",
                "-w",
                "restart",
            ],
            self.folder,
        )

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}"')
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@contextmanager
def postgres() -> Iterator[Postgres]:
    if not (PG_BIN / "initdb").exists():
        raise ServerUnavailable("PostgreSQL 15 is not installed: apt-get install postgresql")
    base = Path(tempfile.mkdtemp(prefix="prognos-pg-"))
    if os.geteuid() == 0:
        pw = pwd.getpwnam("postgres")
        os.chown(base, pw.pw_uid, pw.pw_gid)
    data = base / "data"
    port = free_port()
    _run_pg(
        [
            str(PG_BIN / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--no-sync",
            "--encoding=UTF8",
            "--locale=C",
        ],
        base,
    )
    opts = (
        f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    _run_pg(
        [
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(base / "log"),
            "-w",
            "-o",
            opts,
            "start",
        ],
        base,
    )
    try:
        yield Postgres(port=port, folder=base)
    finally:
        _run_pg([str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], base)
        shutil.rmtree(base, ignore_errors=True)
