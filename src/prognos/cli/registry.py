"""CLI commands for keys, the registry and the quarantine."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from prognos.cli import _context as ctx
from prognos.cli._output import say, show, table
from prognos.domain.keys import MANUFACTURER, ApiKey
from prognos.errors import ValidationFailed

DbOpt = Annotated[str | None, typer.Option("--db", help="Store to use (default: PROGNOS_DB).")]


def register(app: typer.Typer) -> None:
    keys = typer.Typer(
        help="API keys: the manufacturer's (sees all) or one customer's.", no_args_is_help=True
    )

    @keys.command("create")
    def keys_create(
        customer: Annotated[
            str | None, typer.Option(help="Customer the key belongs to; none: manufacturer.")
        ] = None,
        name: Annotated[str, typer.Option(help="A label to recognise the key by.")] = "",
        db: DbOpt = None,
    ) -> None:
        """Create an API key and print it once (only its hash is stored)."""
        s = ctx.settings(db)
        with ctx.local_platform(s) as p:
            key, principal = p.keys.create(MANUFACTURER, customer, name)
        from prognos.service.keys import describe

        say(("created", "green"), f" a key for the {describe(principal)}:")
        print(key)
        say(
            (
                "use it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'; it is not shown again",
                "dim",
            )
        )

    @keys.command("list")
    def keys_list(
        customer: Annotated[str | None, typer.Option(help="Only this customer's keys.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        db: DbOpt = None,
    ) -> None:
        """List keys by id and prefix (never the secret), revoked ones with their time."""
        s = ctx.settings(db)
        p = ctx.try_local(s)
        if p is None:  # a running server holds the DuckDB file: ask it
            params = {"customer": customer} if customer else {}
            items = [ApiKey.model_validate(k) for k in ctx.remote_get(s, "/api/v1/keys", **params)]
        else:
            try:
                items = p.keys.list_keys(MANUFACTURER, customer)
            finally:
                p.close()
        if as_json:
            print(json.dumps([k.model_dump(mode="json") for k in items], indent=2))
            return
        if not items:
            say("no API keys yet: create one with `prognos keys create`")
            return
        t = table(
            "id", "name", "for", "created", "revoked",
            title=f"API keys ({sum(not k.revoked for k in items)} of {len(items)} active)",
            caption="a key reads pk_<id>_<secret>; times in UTC",
            whole=("id", "created", "revoked"),
        )  # fmt: skip
        for k in items:
            t.add_row(
                k.id,
                k.name,
                k.customer_id or "manufacturer",
                f"{k.created_at:%Y-%m-%d %H:%M}",
                f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
                style="dim" if k.revoked else None,
            )
        show(t)

    @keys.command("revoke")
    def keys_revoke(
        key_id: Annotated[str, typer.Argument(metavar="ID", help="The key's id (`keys list`).")],
        db: DbOpt = None,
    ) -> None:
        """Revoke a key: from its next request on it is refused like an unknown one."""
        s = ctx.settings(db)
        p = ctx.try_local(s)
        if p is None:  # a running server holds the DuckDB file: ask it
            k = ApiKey.model_validate(ctx.remote_delete(s, f"/api/v1/keys/{key_id}"))
        else:
            try:
                k = p.keys.revoke(MANUFACTURER, key_id)
            finally:
                p.close()
        owner = f"customer {k.customer_id}" if k.customer_id else "the manufacturer"
        say(
            ("revoked", "green"),
            f" key {k.id} ({k.prefix}…, {k.name!r}, {owner}) "
            f"as of {k.revoked_at.isoformat(timespec='seconds')}",
        )

    app.add_typer(keys, name="keys")

    quarantine_app = typer.Typer(
        help="Rejected records: list them (the default), or purge them.",
        invoke_without_command=True,
    )

    @quarantine_app.callback()
    def quarantine(
        context: typer.Context,
        limit: Annotated[int, typer.Option(help="How many records, newest first.")] = 50,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        db: DbOpt = None,
    ) -> None:
        """List rejected records with the reason each was refused."""
        if context.invoked_subcommand is not None:
            return
        s = ctx.settings(db)
        p = ctx.try_local(s)
        if p is None:
            items = ctx.remote_get(s, "/api/v1/quarantine", limit=limit)["items"]
        else:
            try:
                items = p.telemetry.quarantined(MANUFACTURER, limit=limit)
            finally:
                p.close()
        if as_json:
            print(json.dumps(items, indent=2))
            return
        if not items:
            say("the quarantine is empty: nothing was rejected")
            return
        t = table(
            "received", "source", "record", "asset", "field", "reason",
            title=f"quarantine (newest {len(items)})",
        )  # fmt: skip
        for q in items:
            t.add_row(
                q["received_at"][:19],
                q["source"],
                str(q["index"]),
                q["asset_id"] or "",
                q["field"],
                q["reason"],
            )
        show(t)

    @quarantine_app.command("purge")
    def purge(
        source: Annotated[
            str | None, typer.Option(help="Only records of this source (file:NAME, http, mqtt).")
        ] = None,
        before: Annotated[
            datetime | None, typer.Option(help="Only records received before this time (UTC).")
        ] = None,
        asset: Annotated[str | None, typer.Option(help="Only records of this asset.")] = None,
        db: DbOpt = None,
    ) -> None:
        """Delete rejected records by source, time or asset (the filters given all apply)."""
        if source is None and before is None and asset is None:
            raise ValidationFailed(
                "purge which records?", hint="give --source, --before or --asset"
            )
        with ctx.local_platform(ctx.settings(db)) as p:
            n = p.telemetry.purge_quarantine(
                MANUFACTURER, source=source, before=before, asset_id=asset
            )
        say(("purged", "green"), f" {n:,} quarantined records")

    app.add_typer(quarantine_app, name="quarantine")

    reg = typer.Typer(
        help="Look at the installed base: customers, sites and assets.", no_args_is_help=True
    )

    @reg.command("customers")
    def customers(db: DbOpt = None) -> None:
        """List customers with their asset counts."""
        with ctx.local_platform(ctx.settings(db), create=False) as p:
            t = table("id", "name", "sites", "assets", title="customers")
            for c in p.registry.customers(MANUFACTURER):
                t.add_row(
                    c.id,
                    c.name,
                    str(sum(s.customer_id == c.id for s in p.registry.sites(MANUFACTURER))),
                    str(p.registry.assets(MANUFACTURER, customer_id=c.id, limit=0)[1]),
                )
        show(t)

    @reg.command("assets")
    def assets(
        customer: Annotated[str | None, typer.Option(help="Only this customer's assets.")] = None,
        limit: int = 50,
        db: DbOpt = None,
    ) -> None:
        """List assets."""
        with ctx.local_platform(ctx.settings(db), create=False) as p:
            items, total = p.registry.assets(MANUFACTURER, customer_id=customer, limit=limit)
        t = table(
            "id", "customer", "site", "type", "serial", "installed",
            title=f"assets ({len(items)} of {total})",
        )  # fmt: skip
        for a in items:
            t.add_row(
                a.id,
                a.customer_id,
                a.site_id,
                a.type_id,
                a.serial,
                a.installed_at.date().isoformat(),
            )
        show(t)

    @reg.command("load")
    def load(
        path: Annotated[
            Path,
            typer.Argument(
                help="Registry file (JSON or YAML): customers, sites, asset_types, assets, "
                "and optionally crews, parts, cost_models, travel."
            ),
        ],
        check: Annotated[
            bool, typer.Option("--check", help="Only check the file; save nothing.")
        ] = False,
        db: DbOpt = None,
    ) -> None:
        """Register a whole file: every record is checked before anything is saved."""
        from prognos.service.registry_file import read_document

        doc = read_document(path)
        with ctx.local_platform(ctx.settings(db)) as p:
            if check:
                p.registry_files.check(MANUFACTURER, doc, path.name)
                say(("valid", "green"), f" {path.name}: nothing saved (--check)")
                return
            counts = p.registry_files.load(MANUFACTURER, doc, path.name)
        parts = [f"{n} {k.replace('_', ' ')}" for k, n in counts.items() if n]
        say(("registered", "green"), f" {', '.join(parts) or 'nothing'} from {path.name}")

    @reg.command("schema")
    def schema() -> None:
        """Print the registry file's JSON Schema (the format `registry load` reads)."""
        from prognos.domain.registry_file import registry_schema

        print(json.dumps(registry_schema(), indent=2))

    app.add_typer(reg, name="registry")
