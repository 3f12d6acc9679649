"""CLI commands: ``prognos opcua browse`` and the ``ingest_opcua`` command (``prognos ingest opcua``)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

import typer

from prognos.cli._output import err, say


def register(app: typer.Typer) -> None:
    """Add this topic's commands to the app."""
    opcua_app = typer.Typer(
        help="OPC UA servers: look at their address space to write a mapping file.",
        no_args_is_help=True,
    )
    opcua_app.command("browse")(browse)
    app.add_typer(opcua_app, name="opcua")
    from prognos.cli.ingest import ingest_app  # `prognos ingest` belongs to cli/ingest.py

    ingest_app.command("opcua")(ingest_opcua)


def _connection(endpoint: str | None, mapping: Path | None, user: str | None):
    """Endpoint, security and login from the options, falling back to a mapping file's."""
    from prognos.errors import ConfigError
    from prognos.ingest.opcua_mapping import PASSWORD_ENV, Mapping

    m = Mapping.from_file(mapping) if mapping else None
    endpoint = endpoint or (m.endpoint if m else None)
    if not endpoint:
        raise ConfigError("no OPC UA endpoint", hint="pass --endpoint opc.tcp://HOST:PORT")

    password = m.password if m and m.user and not user else os.environ.get(PASSWORD_ENV)
    return endpoint, (m.security if m else None), (user or (m.user if m else None)), password


def browse(
    endpoint: str = typer.Option(None, "--endpoint", "-e", help="opc.tcp://HOST:PORT/PATH"),
    mapping: Path = typer.Option(
        None, "--mapping", "-m", help="take endpoint, security and user from this mapping file"
    ),
    user: str = typer.Option(
        None, help="user name; the password comes from PROGNOS_OPCUA_PASSWORD"
    ),
    depth: int = typer.Option(6, help="how deep to walk below Objects"),
    all_nodes: bool = typer.Option(False, "--all", help="include the standard Server object"),
    as_yaml: bool = typer.Option(
        False, "--yaml", help="print a mapping skeleton with every numeric variable instead"
    ),
    as_json: bool = typer.Option(False, "--json", help="print the nodes as JSON"),
) -> None:
    """Print a server's objects and variables (node id, browse path, type, value, unit)."""
    from prognos.ingest.opcua import connect, disconnect
    from prognos.ingest.opcua_browse import browse as walk

    endpoint, security, user, password = _connection(endpoint, mapping, user)

    async def main():
        client = await connect(endpoint, security, user, password)
        try:
            return await walk(client, max_depth=depth, include_server=all_nodes)
        finally:
            await disconnect(client)

    nodes = asyncio.run(main())
    if as_json:
        print(json.dumps([n.__dict__ for n in nodes], indent=2, default=str))
    elif as_yaml:
        print(f"endpoint: {endpoint}\nitems:")
        for n in nodes:
            if n.node_class == "Variable" and n.numeric:
                unit = f", unit: {json.dumps(n.unit, ensure_ascii=False)}" if n.unit else ""
                print(
                    f'  - {{node: "{n.node_id}", asset: "", channel: ""{unit}}}  # {n.browse_path}'
                )
    else:
        for n in nodes:
            pad = "  " * n.depth
            if n.node_class == "Variable":
                unit = f" {n.unit}" if n.unit else ""
                say(
                    (f"{pad}{n.name}", "bold"),
                    f"  {n.data_type} = {n.value!r}{unit}  ",
                    (n.node_id, "cyan"),
                    "  ",
                    (n.browse_path, "dim"),
                )
            else:
                say((f"{pad}{n.name}/", "bold blue"), "  ", (n.node_id, "cyan"))


def ingest_opcua(
    mapping: Path = typer.Option(..., "--mapping", "-m", help="the mapping file (YAML)"),
    endpoint: str = typer.Option(
        None, "--endpoint", "-e", help="opc.tcp://HOST:PORT/PATH; overrides the mapping's"
    ),
    db: str = typer.Option(None, help="store to write to; default PROGNOS_DB"),
    check: bool = typer.Option(
        False, "--check", help="check the mapping against the registry and the server, then exit"
    ),
    duration: float = typer.Option(
        None, help="stop after this many seconds (default: run until Ctrl-C)"
    ),
    publishing_interval: float = typer.Option(0.1, help="seconds between the server's reports"),
    status_every: float = typer.Option(30.0, help="seconds between status lines on stderr"),
) -> None:
    """Subscribe to the mapped nodes of an OPC UA server and store what they report.

    On DuckDB, while `prognos serve` holds the file, set PROGNOS_OPCUA_MAPPING for it instead.
    """
    from prognos.cli import _context as ctx
    from prognos.errors import Conflict
    from prognos.ingest.opcua_client import ServerUnreachable
    from prognos.service.platform import open_platform
    from prognos.service.workers import OpcUaIngest, OpcUaWorker

    settings = ctx.settings(db)
    try:
        platform = open_platform(settings)
    except Conflict as e:
        raise Conflict(
            e.message,
            hint="set PROGNOS_OPCUA_MAPPING for `prognos serve` instead (it runs the worker "
            "itself), stop the server, or use PostgreSQL",
        ) from None
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        worker = OpcUaWorker(
            OpcUaIngest.from_file(
                platform, mapping, endpoint=endpoint, publishing_interval=publishing_interval
            )
        )
        worker.start()
        try:
            if not worker.wait_ready(15.0 if check else None):
                raise ServerUnreachable(
                    f"no subscription after 15 s ({worker.status()['last_error']})"
                )
            s = worker.status()
            err.print(
                f"subscribed to {s['monitored_items']} nodes on {s['endpoint']}"
                + ("" if check else "; Ctrl-C stops")
            )
            if not check:
                deadline = time.monotonic() + duration if duration else None
                while not stop.is_set() and worker.running:
                    wait = status_every
                    if deadline is not None:
                        wait = min(wait, deadline - time.monotonic())
                        if wait <= 0:
                            break
                    if not stop.wait(wait):
                        err.print(_line(worker.status()))
        finally:
            worker.stop()
        print(json.dumps(worker.status(), indent=2), file=sys.stdout)
    finally:
        platform.close()


def _line(s: dict) -> str:
    return (
        f"{s['state']}: {s['accepted']} readings stored, {s['rejected']} rejected, "
        f"{s['reconnects']} reconnects, last sample {s['last_sample_ts'] or '-'}"
    )
