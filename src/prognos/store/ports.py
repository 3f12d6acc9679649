"""The store's ports: small interfaces by concept, each a use case's view of the database.

A use case holds only the ports it needs (``service/``); one object, ``sql_store.SqlStore``
over DuckDB or PostgreSQL, implements them all (``base.Store``).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, Protocol

import pandas as pd

from prognos.domain import (
    Asset,
    AssetType,
    Customer,
    FailureForecast,
    HealthScore,
    Principal,
    ReadingBatch,
    Rejection,
    Site,
)
from prognos.domain.keys import ApiKey
from prognos.store.sql_fleet import FleetFilter
from prognos.store.sql_locks import Lease


class RegistryPort(Protocol):
    """Customers, sites, asset types and assets."""

    def upsert_customer(self, c: Customer) -> None: ...
    def get_customer(self, customer_id: str) -> Customer | None: ...
    def list_customers(self) -> list[Customer]: ...
    def upsert_site(self, s: Site) -> None: ...
    def get_site(self, site_id: str) -> Site | None: ...
    def list_sites(self, customer_id: str | None = None) -> list[Site]: ...
    def upsert_asset_type(self, t: AssetType) -> None: ...
    def get_asset_type(self, type_id: str) -> AssetType | None: ...
    def list_asset_types(self) -> list[AssetType]: ...
    def upsert_assets(self, assets: list[Asset]) -> None: ...
    def get_asset(self, asset_id: str) -> Asset | None: ...
    def list_assets(
        self,
        customer_id: str | None = None,
        type_id: str | None = None,
        site_id: str | None = None,
        search: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[Asset]: ...
    def count_assets(
        self,
        customer_id: str | None = None,
        type_id: str | None = None,
        site_id: str | None = None,
        search: str | None = None,
    ) -> int: ...


class ReadingsPort(Protocol):
    """Readings: appends, range scans, chart buckets, compaction."""

    kind: str  # the engine ("duckdb", "postgresql"): compaction differs between them

    def write_readings(self, batch: ReadingBatch) -> int: ...
    def read_telemetry(
        self,
        asset_id: str,
        channels: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame: ...
    def read_telemetry_many(self, asset_ids: list[str]) -> pd.DataFrame: ...
    def downsample(
        self,
        asset_id: str,
        channels: list[str] | None,
        start: datetime | None,
        end: datetime | None,
        max_points: int,
    ) -> pd.DataFrame: ...
    def telemetry_span(self, asset_id: str) -> tuple[datetime | None, datetime | None, int]: ...
    def last_reading_times(self, asset_ids: list[str]) -> dict[tuple[str, str], datetime]: ...
    def compact_telemetry(self) -> int:
        """Lay the readings out by asset and time again; returns how many there are."""
        ...

    def count_readings(self, distinct: bool = False) -> int: ...
    def telemetry_bytes(self) -> int:
        """Disk the raw readings take (PostgreSQL: partitions with indexes; DuckDB: the file)."""
        ...


class QuarantinePort(Protocol):
    """Rejected records, each with its reason, its raw payload and the customer it counts
    against (``customer_id``: the caller's, else each asset's owner from ``customer_of``)."""

    def quarantine(
        self,
        rejections: list[Rejection],
        source: str,
        customer_of: dict[str, str] | None = None,
        customer_id: str | None = None,
    ) -> None: ...
    def commit_ingest(
        self,
        batch: ReadingBatch,
        rejections: list[Rejection],
        source: str,
        customer_of: dict[str, str] | None = None,
        customer_id: str | None = None,
    ) -> int:
        """A batch's readings and its rejections in one transaction; returns readings new."""
        ...

    def list_quarantine(
        self, customer_id: str | None = None, limit: int = 100, offset: int = 0
    ) -> list[dict[str, Any]]: ...
    def count_quarantine(self, customer_id: str | None = None) -> int: ...
    def trim_quarantine(
        self, customer_id: str | None, keep: int, before: datetime | None
    ) -> int: ...
    def purge_quarantine(self, before: datetime, customer_id: str | None = None) -> int: ...


class KeysPort(Protocol):
    """API keys, stored as hashes."""

    def add_api_key(
        self, key_id: str, key_hash: str, customer_id: str | None, name: str
    ) -> None: ...
    def find_api_key(self, key_hash: str) -> Principal | None: ...
    def get_api_key(self, key_id: str) -> ApiKey | None: ...
    def list_api_keys(self, customer_id: str | None = None) -> list[ApiKey]: ...
    def revoke_api_key(self, key_id: str, at: datetime) -> None: ...


class ForecastsPort(Protocol):
    """Forecasts, health scores and trained model versions."""

    def save_forecast(self, f: FailureForecast) -> None: ...
    def save_forecasts(self, forecasts: list[FailureForecast]) -> None: ...
    def latest_forecast(self, asset_id: str) -> FailureForecast | None: ...
    def forecast_history(self, asset_id: str, limit: int = 100) -> list[FailureForecast]: ...
    def latest_forecasts(
        self, asset_ids: list[str] | None = None
    ) -> dict[str, FailureForecast]: ...
    def save_health(self, h: HealthScore) -> None: ...
    def save_healths(self, scores: list[HealthScore]) -> None: ...
    def latest_health(self, asset_id: str) -> HealthScore | None: ...
    def health_history(self, asset_id: str, limit: int = 500) -> list[HealthScore]: ...
    def latest_healths(self, asset_ids: list[str] | None = None) -> dict[str, HealthScore]: ...
    def forecast_bodies(self, asset_id: str, limit: int) -> list[dict[str, Any]]: ...
    def forecast_stamp(self, asset_id: str) -> str | None: ...
    def save_model(
        self, model_id: str, asset_type: str, body: dict[str, Any], artifact: bytes | None = None
    ) -> int: ...
    def model_artifact(self, model_id: str) -> bytes | None: ...
    def latest_model(self, asset_type: str) -> dict[str, Any] | None: ...


class FleetPort(Protocol):
    """The fleet overview: a page of assets with their newest state, counts and a histogram."""

    def fleet_rows(
        self, f: FleetFilter, days_per_unit: dict[str, float], jobs_until: date, bins: int = 20
    ) -> list[tuple]: ...
    def fleet_stamp(self, customer_id: str | None = None) -> str: ...


class WorkersPort(Protocol):
    """Heartbeats of every hosted worker, wherever it runs (``sql_cluster``)."""

    def beat(self, rows: list[dict[str, Any]]) -> None: ...
    def list_workers(self, kind: str | None = None) -> list[dict[str, Any]]: ...
    def forget_worker(self, worker_id: str) -> None: ...
    def forget_workers_older_than(self, seconds: float, keep_sessions: bool = True) -> int: ...
    def db_now(self) -> datetime: ...


class StampsPort(Protocol):
    """Counters that say a shared thing changed (the registry), for caches in other processes."""

    def bump_stamp(self, name: str) -> int: ...
    def stamp(self, name: str) -> int: ...


class ActivityPort(Protocol):
    """Which assets got readings, hourly rollups, retention (``sql_activity``)."""

    def take_fresh_assets(self) -> list[str]: ...
    def refresh_backlog(self) -> tuple[int, float]: ...
    def roll_up(
        self, before: datetime, floor: datetime | None = None, chunk_hours: int = 24
    ) -> int: ...
    def unrolled_before(self, before: datetime) -> int: ...
    def expire_readings(self, before: datetime, type_ids: list[str] | None = None) -> int: ...
    def expire_rollups(self, before: datetime) -> int: ...
    def prune_activity(self, before: datetime) -> int: ...
    def ensure_partitions(self, months_ahead: int = 2) -> list[str]: ...
    def drop_partitions(self, before: datetime) -> list[str]: ...
    def telemetry_bytes(self) -> int: ...


class LocksPort(Protocol):
    """Leader leases: one process of several does a job (``sql_locks``)."""

    def try_lease(self, name: str) -> Lease | None: ...


class Kind(StrEnum):
    """What a stored document is; its body is the planning domain's model dumped as JSON, so
    the planner, the API and the panel read and write the same shapes."""

    calendar = "calendar"  # id: site id
    crew = "crew"
    part_stock = "part_stock"  # id: depot:part
    cost_model = "cost_model"  # id: asset type id or asset id
    travel = "travel"  # id: "default"
    workorder = "workorder"
    event = "event"  # labelled failures, replacements: what training reads
    alarm = "alarm"


class DocumentsPort(Protocol):
    """Typed JSON documents by kind: calendars, crews, parts, costs, work orders, alarms, events."""

    def put_document(
        self,
        kind: str,
        doc_id: str,
        body: dict[str, Any],
        customer_id: str | None = None,
        asset_id: str | None = None,
        status: str | None = None,
    ) -> None: ...
    def put_documents(
        self, kind: str, docs: list[tuple[str, dict, str | None, str | None, str | None]]
    ) -> None: ...
    def get_document(self, kind: str, doc_id: str) -> dict[str, Any] | None: ...
    def list_documents(
        self,
        kind: str,
        customer_id: str | None = None,
        asset_id: str | None = None,
        status: str | None = None,
    ) -> list[dict[str, Any]]: ...
    def delete_document(self, kind: str, doc_id: str) -> bool: ...
    def count_documents(self, kind: str, customer_id: str | None = None) -> dict[str, int]: ...
