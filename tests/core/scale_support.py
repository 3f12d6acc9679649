"""Helpers for the scale-out tests: worker processes, a publisher, counting what is stored."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from prognos.bench import fleet

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def env(**settings: object) -> dict[str, str]:
    """This environment with ``PROGNOS_<NAME>`` settings and the worktree's sources first."""
    out = {k: v for k, v in os.environ.items() if not k.startswith("PROGNOS_")}
    out["PYTHONPATH"] = str(ROOT / "src") + os.pathsep + out.get("PYTHONPATH", "")
    out.update({f"PROGNOS_{k.upper()}": str(v) for k, v in settings.items()})
    return out


def start(args: list[str], log: Path, **settings: object) -> subprocess.Popen:
    """``prognos ARGS`` as a process of its own, its output in ``log``."""
    fh = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "prognos", *args],
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env(**settings),
            cwd=log.parent,
        )
    finally:
        fh.close()


def stop(procs: list[subprocess.Popen]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def publish(
    port: int,
    messages: list[tuple[str, bytes]],
    user: str | None = None,
    password: str | None = None,
    logins: dict[str, str] | None = None,
) -> None:
    """Publish at QoS 1 and wait for every PUBACK; with ``logins`` (asset -> password) each
    asset's messages go out on a connection logged in as that asset."""
    by_login: dict[str | None, list[tuple[str, bytes]]] = {}
    for topic, payload in messages:
        who = topic.split("/")[2] if logins else user
        by_login.setdefault(who, []).append((topic, payload))
    clients = []
    try:
        for who, msgs in by_login.items():
            c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"pub-{who or 'anon'}")
            c.max_inflight_messages_set(500)
            if who is not None:
                c.username_pw_set(who, (logins or {}).get(who, password))
            c.connect("127.0.0.1", port)
            c.loop_start()
            clients.append((c, [c.publish(t, p, qos=1) for t, p in msgs]))
        for _, infos in clients:
            for info in infos:
                info.wait_for_publish(60)
                assert info.is_published()
    finally:
        for c, _ in clients:
            c.disconnect()
            c.loop_stop()


def stream(assets: int, ticks: int, first_tick: int = 0, channels: int = 4):
    return list(fleet.fleet_messages(assets, channels, ticks, first_tick=first_tick))
