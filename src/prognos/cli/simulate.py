"""``prognos simulate``: a fleet streaming live telemetry, into the store or to an MQTT broker."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli._output import out, say


def register(app: typer.Typer) -> None:
    @app.command("simulate")
    def simulate(
        broker: Annotated[
            str | None,
            typer.Option(
                help="Publish to this MQTT broker (mqtt://HOST:PORT); no database needed."
            ),
        ] = None,
        speed: Annotated[
            float, typer.Option(help="Simulated seconds per real second (3600: an hour a second).")
        ] = 3600.0,
        duration: Annotated[
            float, typer.Option(help="Stop after this many real seconds (0: until Ctrl-C).")
        ] = 0.0,
        seed: Annotated[int, typer.Option(help="Seed of the demo world.")] = 0,
        build_world: Annotated[
            bool,
            typer.Option(help="Build the demo world in the store first when it has no fleet."),
        ] = False,
        db: Annotated[str | None, typer.Option(help="Store (default: PROGNOS_DB).")] = None,
    ) -> None:
        """Stream elevators, drive chains and turbofans; time runs SPEED times faster until now."""
        from prognos.demo import simulator as sim
        from prognos.errors import Conflict, ValidationFailed

        platform = None
        if broker:
            with out.status("preparing the demo fleet..."):
                fleet = sim.world_fleet(seed)
            target = broker
        else:
            s = ctx.settings(db)
            platform = ctx.try_local(s)
            if platform is None:
                raise Conflict(
                    f"the database {s.db} is held by a running prognos server",
                    hint="publish through its MQTT broker with --broker mqtt://HOST:PORT, "
                    "or stop the server first",
                )
            fleet = sim.live_fleet(platform)
            if not fleet.assets and build_world:
                from prognos.demo.history import build_demo_world

                with out.status("building the demo world..."):
                    build_demo_world(platform, seed)
                fleet = sim.live_fleet(platform)
            if not fleet.assets:
                platform.close()
                raise ValidationFailed(
                    f"the store {s.db} has no elevators, chains or turbofans in service",
                    hint="add --build-world, or run `make demo`",
                )
            target = platform
        simulator = sim.Simulator(target, fleet, speed=speed)
        simulator.start()
        say(
            f"simulating {len(fleet.assets)} assets at {speed:g}x from "
            f"{simulator.sim_start:%Y-%m-%d %H:%M} UTC -> "
            + (f"MQTT {broker}" if broker else "the store")
        )
        t0 = time.monotonic()
        try:
            with out.status("") as status:
                while duration <= 0 or time.monotonic() - t0 < duration:
                    st = simulator.status()
                    status.update(
                        f"simulated {st['sim_time'][:16].replace('T', ' ')}  "
                        f"{st['readings']:,} readings  {st['failures']} failures  "
                        f"{st['errors']} errors"
                    )
                    time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            simulator.stop()
            if platform is not None:
                platform.close()
        st = simulator.status()
        say(
            f"sent {st['readings']:,} readings in {time.monotonic() - t0:.0f} s "
            f"(simulated up to {st['sim_time'][:16]}), {st['failures']} failures, "
            f"{st['errors']} errors"
        )
