"""CLI commands: ``prognos ingest ...`` brings telemetry in (MQTT, files)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.redact import install_log_filter

ingest_app = typer.Typer(help="Bring telemetry in.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add this topic's commands to the app."""
    app.add_typer(ingest_app, name="ingest")


@ingest_app.command("mqtt")
def ingest_mqtt(
    broker: Annotated[
        str | None, typer.Option(help="mqtt://HOST:PORT (default: PROGNOS_MQTT_BROKER).")
    ] = None,
    db: Annotated[str | None, typer.Option(help="Store (default: PROGNOS_DB).")] = None,
    topic: Annotated[
        str | None,
        typer.Option(help="Topic filter, customer and asset as '+' (default: PROGNOS_MQTT_TOPIC)."),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(help="Shared-subscription group (default: PROGNOS_MQTT_GROUP)."),
    ] = None,
    client_id: Annotated[
        str | None,
        typer.Option(
            help="MQTT client id; the broker keeps unacknowledged messages under it while the "
            "worker is down (default: PROGNOS_MQTT_CLIENT_ID, else prognos-GROUP-HOST-PID, "
            "distinct for every worker; a survivor takes over the session of one that is gone)."
        ),
    ] = None,
    max_batch: Annotated[int, typer.Option(help="Most messages committed at once.")] = 2000,
    max_wait_ms: Annotated[
        float, typer.Option(help="How long to collect a batch after its first message.")
    ] = 20.0,
    idle_exit: Annotated[
        float | None,
        typer.Option(help="Exit after this many seconds without messages (drain a backlog)."),
    ] = None,
) -> None:
    """Subscribe to device telemetry and store it; a message is acknowledged once committed.

    On the embedded DuckDB store only one process may write: while `prognos serve` holds the
    file, set PROGNOS_MQTT_BROKER for the server instead, or use PostgreSQL for several workers.
    """
    from prognos.service.hosting import ingest_workers, with_heartbeat

    s = ctx.settings(db)
    s = s.model_copy(
        update={
            k: v
            for k, v in (("mqtt_broker", broker), ("mqtt_topic", topic), ("mqtt_group", group))
            if v is not None
        }
    )
    logging.basicConfig(
        level=s.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    install_log_filter()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    with ctx.local_platform(s) as platform:
        hosted = with_heartbeat(
            platform,
            ingest_workers(
                platform,
                s,
                client_id=client_id,
                max_batch=max_batch,
                max_wait_s=max_wait_ms / 1000,
            ),
        )
        worker = hosted["mqtt"]
        for w in hosted.values():
            w.start()
        try:
            while not stop.wait(0.2):
                idle = idle_exit is not None and worker.wait_subscribed(0)
                if idle and worker.idle_s() >= idle_exit:
                    break
        finally:
            for w in reversed(list(hosted.values())):
                w.stop()
        st, counts = worker.stats, worker.handler.status()
        typer.echo(
            f"received {st.received} messages, acknowledged {st.acked}; "
            f"stored {counts['accepted']} readings, {counts['duplicates']} duplicates, "
            f"{counts['rejected']} quarantined"
        )
