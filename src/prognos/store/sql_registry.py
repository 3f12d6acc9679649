"""The SQL of one store port, customers, sites, asset types and assets; mixed into ``SqlStore``."""

from __future__ import annotations

from prognos.domain import (
    Asset,
    AssetType,
    Customer,
    Site,
)
from prognos.store.sql import (
    _ASSET_COLS,
    SqlBase,
    _json_load,
    from_db_time,
    to_naive_utc,
)


class RegistrySql(SqlBase):
    def upsert_customer(self, c: Customer) -> None:
        self._exec(
            "INSERT INTO customers VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name",
            (c.id, c.name),
        )

    def get_customer(self, customer_id: str) -> Customer | None:
        rows = self._rows("SELECT id, name FROM customers WHERE id = ?", (customer_id,))
        return Customer(id=rows[0][0], name=rows[0][1]) if rows else None

    def list_customers(self) -> list[Customer]:
        return [
            Customer(id=r[0], name=r[1])
            for r in self._rows("SELECT id, name FROM customers ORDER BY id")
        ]

    def upsert_site(self, s: Site) -> None:
        self._exec(
            "INSERT INTO sites VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
            "customer_id = EXCLUDED.customer_id, name = EXCLUDED.name, timezone = EXCLUDED.timezone, "
            "region = EXCLUDED.region, latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude",
            (s.id, s.customer_id, s.name, s.timezone, s.region, s.latitude, s.longitude),
        )

    def _site(self, r: tuple) -> Site:
        return Site(
            id=r[0],
            customer_id=r[1],
            name=r[2],
            timezone=r[3],
            region=r[4],
            latitude=r[5],
            longitude=r[6],
        )

    def get_site(self, site_id: str) -> Site | None:
        rows = self._rows("SELECT * FROM sites WHERE id = ?", (site_id,))
        return self._site(rows[0]) if rows else None

    def list_sites(self, customer_id: str | None = None) -> list[Site]:
        if customer_id is None:
            rows = self._rows("SELECT * FROM sites ORDER BY id")
        else:
            rows = self._rows(
                "SELECT * FROM sites WHERE customer_id = ? ORDER BY id", (customer_id,)
            )
        return [self._site(r) for r in rows]

    def upsert_asset_type(self, t: AssetType) -> None:
        self._exec(
            "INSERT INTO asset_types VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body",
            (t.id, t.model_dump_json()),
        )

    def get_asset_type(self, type_id: str) -> AssetType | None:
        rows = self._rows("SELECT body FROM asset_types WHERE id = ?", (type_id,))
        return AssetType.model_validate(_json_load(rows[0][0])) if rows else None

    def list_asset_types(self) -> list[AssetType]:
        rows = self._rows("SELECT body FROM asset_types ORDER BY id")
        return [AssetType.model_validate(_json_load(r[0])) for r in rows]

    def upsert_assets(self, assets: list[Asset]) -> None:
        """Insert or replace assets in one transaction (bulk on engines that have it)."""
        self._upsert_rows(
            "assets",
            [c.strip() for c in _ASSET_COLS.split(",")],
            ["id"],
            [
                (
                    a.id,
                    a.customer_id,
                    a.site_id,
                    a.type_id,
                    a.serial,
                    a.model,
                    to_naive_utc(a.installed_at),
                    a.parent_id,
                    a.lifecycle.value,
                    to_naive_utc(a.retired_at),
                )
                for a in assets
            ],
        )

    @staticmethod
    def _asset(r: tuple) -> Asset:
        return Asset(
            id=r[0],
            customer_id=r[1],
            site_id=r[2],
            type_id=r[3],
            serial=r[4],
            model=r[5],
            installed_at=from_db_time(r[6]),
            parent_id=r[7],
            lifecycle=r[8] or "in_service",
            retired_at=from_db_time(r[9]),
        )

    def get_asset(self, asset_id: str) -> Asset | None:
        rows = self._rows(f"SELECT {_ASSET_COLS} FROM assets WHERE id = ?", (asset_id,))
        return self._asset(rows[0]) if rows else None

    @staticmethod
    def _asset_filter(customer_id, type_id, site_id, search, lifecycle=None) -> tuple[str, list]:
        where, params = [], []
        for col, val in (
            ("customer_id", customer_id),
            ("type_id", type_id),
            ("site_id", site_id),
            ("lifecycle", lifecycle),
        ):
            if val is not None:
                where.append(f"{col} = ?")
                params.append(val)
        if search:
            where.append("(lower(id) LIKE ? OR lower(serial) LIKE ? OR lower(model) LIKE ?)")
            params += [f"%{search.lower()}%"] * 3
        return (" WHERE " + " AND ".join(where)) if where else "", params

    def list_assets(
        self,
        customer_id=None,
        type_id=None,
        site_id=None,
        search=None,
        limit=None,
        offset=0,
        lifecycle=None,
    ):
        where, params = self._asset_filter(customer_id, type_id, site_id, search, lifecycle)
        sql = f"SELECT {_ASSET_COLS} FROM assets{where} ORDER BY id"
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return [self._asset(r) for r in self._rows(sql, params)]

    def count_assets(
        self, customer_id=None, type_id=None, site_id=None, search=None, lifecycle=None
    ) -> int:
        where, params = self._asset_filter(customer_id, type_id, site_id, search, lifecycle)
        return int(self._rows(f"SELECT count(*) FROM assets{where}", params)[0][0])
