"""The one command, ``prognos``, and its subcommands.

Each topic lives in its own module with a ``register(app)`` that adds its commands; this file
only assembles them and turns prognos errors into one sentence with a next step.
"""

from __future__ import annotations

import sys

import typer

from prognos.cli._output import say_error
from prognos.errors import PrognosError

app = typer.Typer(
    name="prognos",
    help="prognos: connect sold equipment, predict failures, plan service into customers' calendars.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

from prognos.cli import (  # noqa: E402  (each topic adds its commands to `app`)
    backtest,
    bench,
    calendar,
    events,
    ingest,
    ingest_files,
    opcua,
    plan,
    registry,
    reliability,
    serve,
    simulate,
    store,
    train,
)

# the order of `prognos --help`
for _topic in (serve, ingest, ingest_files, registry, store, train, events, reliability,
               backtest, calendar, plan, opcua, simulate, bench):  # fmt: skip
    _topic.register(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, printing prognos errors as sentences instead of tracebacks."""
    try:
        code = app(args=argv, standalone_mode=False)
        # outside standalone mode click hands back a command's `typer.Exit(code)` as the result
        if isinstance(code, int) and code:
            sys.exit(code)
    except PrognosError as e:
        say_error(e.message, e.hint)
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # click usage errors arrive here in non-standalone mode
        import click

        # typer 0.20+ runs on its own copy of click (typer._click): both kinds of usage error
        usage = (click.ClickException, *_vendored_click_errors())
        if isinstance(e, usage):
            e.show()
            sys.exit(e.exit_code)
        raise


def _vendored_click_errors() -> tuple[type, ...]:
    try:
        from typer._click.exceptions import ClickException
    except ImportError:  # a typer that uses click itself
        return ()
    return (ClickException,)
