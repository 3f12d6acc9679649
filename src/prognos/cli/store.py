"""``prognos store ...``: upkeep of the telemetry store."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli import _output as output
from prognos.domain.keys import MANUFACTURER

DbOpt = Annotated[str | None, typer.Option("--db", help="Store to use (default: PROGNOS_DB).")]


def register(app: typer.Typer) -> None:
    store = typer.Typer(help="Upkeep of the telemetry store.", no_args_is_help=True)

    @store.command("compact")
    def compact(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        db: DbOpt = None,
    ) -> None:
        """Lay the readings out by asset and time again, so per-asset scans stay fast.

        Readings arrive in time order with every asset's interleaved; run this now and then
        (nightly, from cron) to keep chart and forecast queries quick. Ingest waits while it
        runs; MQTT messages wait at the broker. Goes through the running server when it holds
        the DuckDB file (PROGNOS_API_KEY of the manufacturer).
        """
        s = ctx.settings(db)
        p = ctx.try_local(s)
        if p is None:
            out = ctx.remote_post(s, "/api/v1/store/compact", timeout=3600)
        else:
            try:
                with output.out.status("compacting the telemetry ...", spinner="dots"):
                    out = p.telemetry.compact(MANUFACTURER)
            finally:
                p.close()
        if as_json:
            print(json.dumps(out))
            return
        output.say(
            ("compacted", "green"),
            f" {out['readings']:,} readings ({out['store']}) in "
            f"{out['seconds']:.1f} s: each asset's readings now sit together",
        )

    app.add_typer(store, name="store")
