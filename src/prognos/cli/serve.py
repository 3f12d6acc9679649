"""``prognos serve`` (the platform: API, panel, in-process ingest workers) and ``prognos demo``."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli import _demo_state as state
from prognos.cli._output import BarColumn, out, progress_bars, say
from prognos.redact import install_log_filter, redact


def _run(settings) -> None:
    import uvicorn

    from prognos.server import create_server_app

    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_log_filter()
    app = create_server_app(settings)
    say(
        ("prognos", "bold green"),
        f" serving {redact(settings.db)} on http://{settings.host}:{settings.port} "
        f"(API docs: http://{settings.host}:{settings.port}/docs); Ctrl-C stops it",
    )
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=3,  # open live-update streams must not hold Ctrl-C
    )


def _build(s, subset: str, data: Path | None) -> dict:
    """A new demo world in ``s.db``: fleet, history, models, forecasts, plan and logins."""
    from prognos.demo.setup import setup_demo

    with progress_bars(
        "{task.description}", BarColumn(), "{task.completed}/{task.total}", transient=False
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(step: str, done: int, total: int) -> None:
            if step not in tasks:
                tasks[step] = bar.add_task(step, total=total)
            bar.update(tasks[step], completed=done, total=total)

        with ctx.local_platform(s) as p:
            return setup_demo(p, subset=subset, data_dir=data, progress=progress)


def register(app: typer.Typer) -> None:
    @app.command("serve")
    def serve(
        db: Annotated[str | None, typer.Option(help="Store (default: PROGNOS_DB).")] = None,
        host: Annotated[
            str | None, typer.Option(help="Bind address (default: PROGNOS_HOST).")
        ] = None,
        port: Annotated[int | None, typer.Option(help="Port (default: PROGNOS_PORT).")] = None,
    ) -> None:
        """Serve the API and control panel; host the ingest workers the settings name."""
        s = ctx.settings(db)
        s = s.model_copy(
            update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
        )
        _run(s)

    @app.command("demo")
    def demo(
        folder: Annotated[Path, typer.Option(help="Where the demo database and keys live.")] = Path(
            "var/demo"
        ),
        subset: Annotated[
            str, typer.Option(help="C-MAPSS subset for the turbofan fleet.")
        ] = "FD001",
        data: Annotated[
            Path | None,
            typer.Option("--data", help="Folder with C-MAPSS files (default: shipped copy)."),
        ] = None,
        fresh: Annotated[
            bool,
            typer.Option(
                "--fresh/--keep",
                help="Rebuild the world and issue new logins (default: keep the last run's).",
            ),
        ] = False,
        serve_after: Annotated[
            bool, typer.Option("--serve/--no-serve", help="Serve when set up.")
        ] = True,
        port: Annotated[int | None, typer.Option(help="Port (default: PROGNOS_PORT).")] = None,
        live_mqtt: Annotated[
            bool,
            typer.Option("--mqtt/--no-mqtt", help="Stream the simulator over a local Mosquitto."),
        ] = True,
    ) -> None:
        """Set up a demo fleet on the embedded store, print logins, and serve it."""

        folder.mkdir(parents=True, exist_ok=True)
        db = folder / "prognos.duckdb"
        s = ctx.settings(str(db)).model_copy(update={"artifacts_dir": folder / "artifacts"})
        if port is not None:
            s = s.model_copy(update={"port": port})
        url = f"http://{s.host}:{s.port}"
        info = None
        if not fresh and db.exists():
            with ctx.local_platform(s) as p:
                info = state.kept_world(p, folder)
            if info is None:
                say("the last demo world is incomplete (or its logins are gone); building anew")
        if info is None:
            state.clear(folder)
            info = _build(s, subset, data)
            state.save_logins(folder, info, url)
            out.rule("prognos demo is ready", style="bold")
            say(
                f"{info['assets']} assets at {info['customers']} customers, "
                f"{info['readings']:,} readings; {info['forecasts']} forecasts, a plan of "
                f"{info['jobs']} jobs ({info['setup_seconds']} s)"
            )
        else:
            state.save_logins(folder, info, url)  # the server's address may have changed
            out.rule("prognos demo: the world of the last run", style="bold")
            say(
                f"kept {info['assets']} assets at {info['customers']} customers with "
                f"{info['readings']:,} readings and the same logins; the simulator catches up "
                "from where it stopped (`prognos demo --fresh` rebuilds the world)"
            )
        say("open ", (url, "bold"), f" and log in with a key (API docs at {url}/docs)")
        say("manufacturer login (sees every customer): ", (info["manufacturer_key"], "bold"))
        say(
            f"customer '{info['customer']}' login (sees only its assets): ",
            (info["customer_key"], "bold"),
        )
        say(f"try: curl -H 'X-API-Key: {info['manufacturer_key']}' {url}/api/v1/assets?limit=3")
        say(f"the CLI beside the demo, in another shell (or `source {folder / 'prognos.env'}`):")
        for line in state.export_lines(folder, info, url):
            say("  " + line)
        say((f"the logins are also in {folder / 'logins.txt'}", "dim"))
        if not serve_after:
            return
        s = s.model_copy(update={"simulate": True})
        with contextlib.ExitStack() as stack:
            if live_mqtt:
                from prognos import devservers

                try:
                    b = stack.enter_context(devservers.mosquitto())
                    # one in-server worker: a plain subscription survives broker restarts
                    s = s.model_copy(update={"mqtt_broker": b.url, "mqtt_group": ""})
                    say(f"live telemetry: simulator -> MQTT {b.url} -> ingest worker -> store")
                except devservers.ServerUnavailable:
                    say(
                        "live telemetry: simulator -> store (install mosquitto to stream over MQTT)"
                    )
            _run(s)
