"""``prognos bench ingest``: MQTT end to end against the bare broker, or HTTP batches
(the measuring is in ``prognos.bench.ingest``)."""

from __future__ import annotations

from typing import Annotated

import typer

from prognos.cli.bench._common import check_store, emit


def register(bench_app: typer.Typer) -> None:
    """Add `prognos bench ingest`."""

    @bench_app.command("ingest")
    def bench_ingest(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        http: Annotated[
            bool, typer.Option("--http", help="Measure HTTP batch ingest instead of MQTT.")
        ] = False,
        store: Annotated[
            str,
            typer.Option(
                help="duckdb (a file in a temporary folder), postgres-temp (a throwaway "
                "PostgreSQL server) or a postgresql:// URL."
            ),
        ] = "duckdb",
        assets: Annotated[int, typer.Option(help="Assets in the fleet.")] = 1000,
        channels: Annotated[int, typer.Option(help="Channels per asset.")] = 20,
        ticks: Annotated[
            int, typer.Option(help="Messages per asset (MQTT) / batches (HTTP).")
        ] = 10,
        max_batch: Annotated[
            int, typer.Option(help="MQTT worker: most messages per commit.")
        ] = 2000,
        max_wait_ms: Annotated[
            float, typer.Option(help="MQTT worker: batch collection time.")
        ] = 20.0,
        concurrency: Annotated[int, typer.Option(help="HTTP: requests in flight at once.")] = 2,
        publisher: Annotated[
            str,
            typer.Option(
                help="MQTT: paho (a paho-mqtt client publishing the fleet's messages, as a "
                "gateway would) or raw (pre-built QoS 1 packets, as fast as the broker takes "
                "them: the most Mosquitto can hand over, a stress test)."
            ),
        ] = "paho",
        workers: Annotated[
            int,
            typer.Option(
                help="MQTT: run 1..N `prognos ingest mqtt` processes in one group, one after "
                "the other, and report readings/s for each and the scaling ratio."
            ),
        ] = 0,
        kill_one: Annotated[
            bool,
            typer.Option(
                "--kill-one",
                help="MQTT: two worker processes, one SIGKILLed mid-stream and never "
                "restarted; reports when the survivor had stored everything, and duplicates.",
            ),
        ] = False,
        repeat: Annotated[
            int,
            typer.Option(
                help="MQTT: measure broker and platform this many times, alternating; "
                "rates are medians (a shared machine is noisy)."
            ),
        ] = 3,
    ) -> None:
        """Ingest throughput: MQTT end to end against the bare broker, or HTTP batches."""
        from prognos.bench.ingest import run_http, run_mqtt

        if publisher not in ("paho", "raw"):
            raise typer.BadParameter(f"unknown publisher {publisher!r}: use paho or raw")
        check_store(store)
        if kill_one or workers:
            from prognos.bench.ingest_scale import run_kill_one, run_scale

            if kill_one:
                result = run_kill_one(store, assets, channels, ticks, publisher)
                title = "MQTT ingest: one of two workers killed"
            else:
                result = run_scale(store, assets, channels, ticks, workers, publisher)
                title = "MQTT ingest: 1..N worker processes"
        elif http:
            result = run_http(store, assets, channels, ticks, concurrency)
            title = "HTTP batch ingest"
        else:
            result = run_mqtt(
                store, assets, channels, ticks, max_batch, max_wait_ms / 1000, repeat, publisher
            )
            title = "MQTT ingest: platform vs bare broker"
        emit(result, as_json=as_json, title=title)
