"""A simulated machine as a real OPC UA server (asyncua), for tests, benchmarks and the demo.

Run it as a process so server and client do not share one event loop::

    python -m prognos.ingest.opcua_sim --port 4840 --pumps 2 --bench 1000 --interval 0.1

Address space (namespace ``urn:prognos:sim``, index 2, string node ids that survive restarts)::

    Objects/Pump1                    ns=2;s=Pump1
      Temperature  Double  °C        ns=2;s=Pump1.Temperature   (written every interval)
      Vibration    Double  mm/s      ns=2;s=Pump1.Vibration     (written every interval)
      Speed        Double  rpm       ns=2;s=Pump1.Speed         (constant)
      Mode         String            ns=2;s=Pump1.Mode          (constant "running")
    Objects/Bench/V0000 .. V0999     ns=2;s=Bench.V0000          (with --bench N)

Every value written carries its source timestamp. ``--log FILE`` appends one line per write
(``node_id<TAB>µs since epoch<TAB>value``) so a test can compare what arrived with what was
written. ``--history`` keeps the moving variables' history (in memory) for HistoryRead.
SIGTERM stops writing, waits ``--linger`` seconds so the last values get published,
then stops the server. ``SimServer`` starts, stops and restarts such a process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import signal
import socket
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

NAMESPACE = "urn:prognos:sim"
SERVER_URI = "urn:prognos:sim:server"


async def make_certificate(folder: Path, name: str, uri: str, *, server: bool) -> tuple[Path, Path]:
    """A self-signed certificate (DER) and key (PEM) for ``uri``; reused when still valid."""
    from asyncua.crypto.cert_gen import setup_self_signed_certificate
    from cryptography.x509.oid import ExtendedKeyUsageOID

    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / f"{name}-cert.der", folder / f"{name}-key.pem"
    use = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    await setup_self_signed_certificate(
        key, cert, uri, socket.gethostname(), [use], {"commonName": name}
    )
    return cert, key


# -- the server process --------------------------------------------------------------------------
def _skip_value_copies() -> None:
    """Let asyncua's monitored items keep the written DataValue instead of a deep copy of it.

    The copy guards against a writer mutating a value after writing it; this simulator writes a
    fresh DataValue every time and never touches it again. The deep copy cost ~600 µs per write
    under the profiler and capped the benchmark's server well below 10,000 changes per second.
    """
    from asyncua.server.monitored_item_service import MonitoredItemValues

    def set_current_datavalue(self, cur_val) -> None:
        self.old_dvalue = self.current_dvalue
        self.current_dvalue = cur_val

    MonitoredItemValues.set_current_datavalue = set_current_datavalue


async def serve(args: argparse.Namespace) -> None:
    from asyncua import Server, ua
    from asyncua.crypto.permission_rules import User, UserRole

    _skip_value_copies()

    users = dict(u.split(":", 1) for u in args.user or [])

    class PasswordUsers:
        def get_user(self, iserver, username=None, password=None, certificate=None):
            if users.get(username) == password and username is not None:
                return User(role=UserRole.User)
            return None

    server = Server(user_manager=PasswordUsers() if users else None)
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{args.port}/prognos/")
    server.set_server_name("prognos simulated machine")
    await server.set_application_uri(SERVER_URI)
    if args.secure:
        cert, key = await make_certificate(Path(args.secure), "server", SERVER_URI, server=True)
        server.set_security_policy([ua.SecurityPolicyType.Basic256Sha256_SignAndEncrypt])
        await server.load_certificate(str(cert))
        await server.load_private_key(str(key))
    else:
        server.set_security_policy([ua.SecurityPolicyType.NoSecurity])
    if users:
        server.set_identity_tokens([ua.UserNameIdentityToken])
    idx = await server.register_namespace(NAMESPACE)
    objects = server.nodes.objects

    def eu(display: str, code: str) -> ua.EUInformation:
        unit_id = 0
        for ch in code:
            unit_id = (unit_id << 8) | ord(ch)
        return ua.EUInformation(
            NamespaceUri="http://www.opcfoundation.org/UA/units/un/cefact",
            UnitId=unit_id,
            DisplayName=ua.LocalizedText(display),
            Description=ua.LocalizedText(display),
        )

    async def variable(parent, sid: str, name: str, value, vtype, unit=None):
        var = await parent.add_variable(
            f"ns={idx};s={sid}", ua.QualifiedName(name, idx), value, vtype
        )
        if unit is not None:
            await var.add_property(
                f"ns={idx};s={sid}.EngineeringUnits",
                ua.QualifiedName("EngineeringUnits", 0),
                unit,
                datatype=ua.NodeId(ua.ObjectIds.EUInformation),
            )
        return var

    moving: list[tuple[ua.NodeId, str, float, float, float]] = []  # node, id, base, amp, phase
    for k in range(1, args.pumps + 1):
        pump = await objects.add_object(f"ns={idx};s=Pump{k}", ua.QualifiedName(f"Pump{k}", idx))
        t = await variable(
            pump,
            f"Pump{k}.Temperature",
            "Temperature",
            60.0,
            ua.VariantType.Double,
            eu("°C", "CEL"),
        )
        v = await variable(
            pump, f"Pump{k}.Vibration", "Vibration", 5.0, ua.VariantType.Double, eu("mm/s", "C16")
        )
        await variable(
            pump, f"Pump{k}.Speed", "Speed", 1450.0, ua.VariantType.Double, eu("rpm", "RPM")
        )
        await variable(pump, f"Pump{k}.Mode", "Mode", "running", ua.VariantType.String)
        moving.append((t.nodeid, f"ns={idx};s=Pump{k}.Temperature", 60.0, 10.0, k))
        moving.append((v.nodeid, f"ns={idx};s=Pump{k}.Vibration", 5.0, 2.0, k + 0.5))
    if args.bench:
        bench = await objects.add_object(f"ns={idx};s=Bench", ua.QualifiedName("Bench", idx))
        for i in range(args.bench):
            sid = f"Bench.V{i:04d}"
            var = await variable(bench, sid, f"V{i:04d}", 0.0, ua.VariantType.Double)
            moving.append((var.nodeid, f"ns={idx};s={sid}", 50.0, 20.0, i * 0.01))

    log = open(args.log, "a", buffering=1 << 16) if args.log else None  # noqa: SIM115
    stats = {"writes": 0, "ticks": 0, "late_ticks": 0, "variables": len(moving)}
    epoch = datetime(1970, 1, 1, tzinfo=UTC)

    async def tick() -> None:
        now = datetime.now(UTC)
        td = now - epoch
        us = (td.days * 86_400 + td.seconds) * 1_000_000 + td.microseconds
        x = time.time()
        lines = []
        for nodeid, sid, base, amp, phase in moving:
            value = round(base + amp * math.sin(x / 3.0 + phase), 6)
            dv = ua.DataValue(
                Value=ua.Variant(value, ua.VariantType.Double),
                SourceTimestamp=now,
                ServerTimestamp=now,
            )
            await server.write_attribute_value(nodeid, dv)
            if log is not None:
                lines.append(f"{sid}\t{us}\t{value!r}\n")
        stats["writes"] += len(moving)
        stats["ticks"] += 1
        if log is not None:
            log.write("".join(lines))
            log.flush()

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    parent = os.getppid()

    async def orphaned() -> None:  # a test or benchmark that died must not leave us running
        while os.getppid() == parent:
            await asyncio.sleep(0.5)
        stop.set()

    watcher = asyncio.create_task(orphaned())
    await tick()  # the initial values are samples too
    if args.history:  # in memory: it dies with the process, like a real server's RAM buffer
        await server.historize_node_data_change(
            [server.get_node(m[0]) for m in moving], period=timedelta(minutes=30)
        )
    async with server:
        print(f"READY opc.tcp://127.0.0.1:{args.port}/prognos/", flush=True)
        start = time.monotonic()
        next_at = start + args.interval
        last_stats = start
        while not stop.is_set():
            delay = next_at - time.monotonic()
            if delay > 0:
                try:
                    await asyncio.wait_for(stop.wait(), delay)
                    break
                except TimeoutError:
                    pass
            else:
                stats["late_ticks"] += 1
                next_at = time.monotonic()  # behind: do not try to catch up, it only gets worse
                await asyncio.sleep(0)
            next_at += args.interval
            await tick()
            if args.stats and time.monotonic() - last_stats >= 0.5:
                last_stats = time.monotonic()
                _write_stats(args.stats, stats, last_stats - start)
        if args.stats:
            _write_stats(args.stats, stats, time.monotonic() - start)
        await asyncio.sleep(args.linger)  # let the last values go out before the server stops
    watcher.cancel()
    if log is not None:
        log.close()


def _write_stats(path: str, stats: dict, elapsed: float) -> None:
    tmp = f"{path}.tmp"
    Path(tmp).write_text(json.dumps({**stats, "elapsed_s": elapsed, "cpu_s": time.process_time()}))
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--pumps", type=int, default=2)
    ap.add_argument("--bench", type=int, default=0, help="extra Bench.Vnnnn variables")
    ap.add_argument("--interval", type=float, default=0.1, help="seconds between writes")
    ap.add_argument("--log", help="append every write to this file")
    ap.add_argument("--stats", help="keep write counts (JSON) in this file")
    ap.add_argument("--secure", help="folder for the server certificate; Sign&Encrypt only")
    ap.add_argument("--user", action="append", help="NAME:PASSWORD; no anonymous logins")
    ap.add_argument("--history", action="store_true", help="keep 30 min of history, readable")
    ap.add_argument("--linger", type=float, default=0.5)
    asyncio.run(serve(ap.parse_args(argv)))


# -- the controlling side ------------------------------------------------------------------------
@dataclass
class SimServer:
    """A simulated machine server process on a fixed port: start, stop, restart, read its log."""

    port: int
    folder: Path
    pumps: int = 2
    bench: int = 0
    interval: float = 0.1
    secure: bool = False
    users: list[str] = field(default_factory=list)
    log: bool = True
    history: bool = False
    linger: float = 0.5
    process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"opc.tcp://127.0.0.1:{self.port}/prognos/"

    @property
    def log_path(self) -> Path:
        return self.folder / "writes.log"

    @property
    def stats_path(self) -> Path:
        return self.folder / "stats.json"

    @property
    def cert_folder(self) -> Path:
        return self.folder / "pki"

    def start(self, timeout: float = 30.0) -> None:
        cmd = [
            sys.executable,
            "-m",
            "prognos.ingest.opcua_sim",
            f"--port={self.port}",
            f"--pumps={self.pumps}",
            f"--bench={self.bench}",
            f"--interval={self.interval}",
            f"--stats={self.stats_path}",
            f"--linger={self.linger}",
        ]
        if self.log:
            cmd.append(f"--log={self.log_path}")
        if self.history:
            cmd.append("--history")
        if self.secure:
            cmd.append(f"--secure={self.cert_folder}")
        cmd += [f"--user={u}" for u in self.users]
        self.folder.mkdir(parents=True, exist_ok=True)
        self._stderr = (self.folder / "server.err").open("ab")
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._stderr, text=True)
        deadline = time.monotonic() + timeout
        assert self.process.stdout is not None
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("READY"):
                return
            if not line and self.process.poll() is not None:
                break
        self.kill()
        err = (self.folder / "server.err").read_text()[-2000:]
        raise RuntimeError(f"simulated OPC UA server did not start: {err}")

    def stop_writing(self) -> None:
        """SIGTERM without waiting: no more writes; published values keep flowing for ``linger`` s."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)

    def stop(self, timeout: float = 15.0) -> None:
        """Graceful: stop writing, publish what was written, close."""
        if self.process is None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout + self.linger)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._close()

    def kill(self) -> None:
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self._close()

    def _close(self) -> None:
        if self.process is not None and self.process.stdout is not None:
            self.process.stdout.close()
        self.process = None
        self._stderr.close()

    def written(self) -> dict[str, list[tuple[int, float]]]:
        """Every (µs since epoch, value) written so far, per node id."""
        out: dict[str, list[tuple[int, float]]] = defaultdict(list)
        if self.log_path.exists():
            for line in self.log_path.read_text().splitlines():
                parts = line.split("\t")
                if len(parts) == 3:
                    out[parts[0]].append((int(parts[1]), float(parts[2])))
        return out

    def stats(self) -> dict:
        try:
            return json.loads(self.stats_path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}


if __name__ == "__main__":
    main()
