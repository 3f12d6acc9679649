"""The one place where ingest, store, analytics and planning meet: ``open_platform(settings)``.

A ``Platform`` holds the store and the registry snapshot, and offers the use cases the API, the
CLI and the workers call. Every use case takes the calling ``Principal`` and shows it only what
its customer owns: another customer's asset is answered as not found.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from prognos.config import Settings
from prognos.domain import Asset, AssetType, Customer, Principal, ReadingBatch, Registry, Site
from prognos.domain.keys import MANUFACTURER, ApiKey
from prognos.domain.telemetry import IngestResult, Rejection
from prognos.errors import AccessDenied, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from prognos.ingest import records
from prognos.ingest.validate import validate
from prognos.service import keys as keyring
from prognos.store import Store, open_store

log = logging.getLogger(__name__)

ReadingsListener = Callable[[ReadingBatch], None]


@dataclass(frozen=True)
class CheckedReadings:
    """A validated batch on its way to the store, with what was refused and for whom."""

    batch: ReadingBatch
    rejected: list[Rejection]
    source: str
    registry: Registry


class Platform:
    """Use cases over one store. Thread-safe: the store serialises what it must."""

    def __init__(self, settings: Settings, store: Store):
        self.settings = settings
        self.store = store
        self._registry: Registry | None = None
        self._registry_lock = threading.Lock()
        self._listeners: list[ReadingsListener] = []
        self._forecaster = None

    @property
    def forecaster(self):
        """The model cache that turns histories into forecasts (``service.prognostics.Forecaster``)."""
        if self._forecaster is None:
            from prognos.service.prognostics import Forecaster

            self._forecaster = Forecaster(self)
        return self._forecaster

    # -- lifecycle -----------------------------------------------------------------------------
    def close(self) -> None:
        self.store.close()

    def on_readings(self, listener: ReadingsListener) -> None:
        """Call ``listener`` with every batch after it is committed (forecast refresh, live views)."""
        self._listeners.append(listener)

    def off_readings(self, listener: ReadingsListener) -> None:
        """Stop calling ``listener`` (a live view that went away)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- access --------------------------------------------------------------------------------
    def authenticate(self, key: str | None) -> Principal:
        if not key:
            raise AccessDenied(
                "no API key given",
                hint="send it as 'Authorization: Bearer KEY' or 'X-API-Key: KEY'",
            )
        p = self.store.find_api_key(keyring.hash_key(key))
        if p is None:
            raise AccessDenied("unknown API key", hint="create one with `prognos keys create`")
        return p

    def create_key(self, customer_id: str | None = None, name: str = "") -> tuple[str, Principal]:
        if customer_id is not None and self.store.get_customer(customer_id) is None:
            raise NotFound(
                f"customer {customer_id!r} does not exist",
                hint="list customers with `prognos registry customers`",
            )
        key_id, key, digest = keyring.new_key()
        self.store.add_api_key(key_id, digest, customer_id, name or (customer_id or "manufacturer"))
        return key, Principal(key_id=key_id, customer_id=customer_id, name=name)

    def list_keys(
        self, customer_id: str | None = None, p: Principal = MANUFACTURER
    ) -> list[ApiKey]:
        """Every key (or one customer's), revoked ones included, oldest first."""
        self.require_manufacturer(p)
        if customer_id is not None and self.store.get_customer(customer_id) is None:
            raise NotFound(
                f"customer {customer_id!r} does not exist",
                hint="list customers with `prognos registry customers`",
            )
        return self.store.list_api_keys(customer_id)

    def revoke_key(self, key_id: str, p: Principal = MANUFACTURER) -> ApiKey:
        """Revoke a key from the next request on; revoking it again changes nothing."""
        self.require_manufacturer(p)
        if self.store.get_api_key(key_id) is None:
            raise NotFound(
                f"API key {key_id!r} does not exist",
                hint="list keys and their ids with `prognos keys list`",
            )
        self.store.revoke_api_key(key_id, utcnow())
        return self.store.get_api_key(key_id)

    @staticmethod
    def require_manufacturer(p: Principal) -> None:
        if not p.is_manufacturer:
            raise Forbidden("only the manufacturer's keys may do this")

    # -- registry ------------------------------------------------------------------------------
    def registry(self) -> Registry:
        with self._registry_lock:
            if self._registry is None:
                self._registry = Registry.build(
                    self.store.list_assets(), self.store.list_asset_types()
                )
            return self._registry

    def _registry_changed(self) -> None:
        with self._registry_lock:
            self._registry = None

    def add_customer(self, c: Customer, p: Principal = MANUFACTURER) -> Customer:
        self.require_manufacturer(p)
        self.store.upsert_customer(c)
        return c

    def add_site(self, s: Site, p: Principal = MANUFACTURER) -> Site:
        self.require_manufacturer(p)
        if self.store.get_customer(s.customer_id) is None:
            raise NotFound(
                f"site {s.id}: customer {s.customer_id!r} does not exist",
                hint="add the customer first",
            )
        self.store.upsert_site(s)
        return s

    def add_asset_type(self, t: AssetType, p: Principal = MANUFACTURER) -> AssetType:
        self.require_manufacturer(p)
        self.store.upsert_asset_type(t)
        self._registry_changed()
        return t

    def add_assets(self, assets: list[Asset], p: Principal = MANUFACTURER) -> list[Asset]:
        self.require_manufacturer(p)
        sites = {s.id: s for s in self.store.list_sites()}
        types = {t.id for t in self.store.list_asset_types()}
        known = {a.id for a in self.store.list_assets()} | {a.id for a in assets}
        for a in assets:
            site = sites.get(a.site_id)
            if site is None:
                raise NotFound(
                    f"asset {a.id}: site {a.site_id!r} does not exist", hint="add the site first"
                )
            if site.customer_id != a.customer_id:
                raise ValidationFailed(
                    f"asset {a.id}: site {a.site_id} belongs to {site.customer_id}, not {a.customer_id}"
                )
            if a.type_id not in types:
                raise NotFound(
                    f"asset {a.id}: asset type {a.type_id!r} does not exist",
                    hint="add the asset type first",
                )
            if a.parent_id is not None and a.parent_id not in known:
                raise NotFound(f"asset {a.id}: parent {a.parent_id!r} does not exist")
        self.store.upsert_assets(assets)
        self._registry_changed()
        return assets

    def get_asset(self, p: Principal, asset_id: str) -> Asset:
        a = self.store.get_asset(asset_id)
        if a is None or not p.may_see(a.customer_id):
            raise NotFound(f"asset {asset_id!r} not found")
        return a

    def list_assets(
        self,
        p: Principal,
        *,
        customer_id=None,
        type_id=None,
        site_id=None,
        search=None,
        limit: int | None = None,
        offset: int = 0,
    ) -> tuple[list[Asset], int]:
        if not p.is_manufacturer:
            if customer_id is not None and customer_id != p.customer_id:
                return [], 0
            customer_id = p.customer_id
        kw = dict(customer_id=customer_id, type_id=type_id, site_id=site_id, search=search)
        return self.store.list_assets(**kw, limit=limit, offset=offset), self.store.count_assets(
            **kw
        )

    def list_customers(self, p: Principal) -> list[Customer]:
        return [c for c in self.store.list_customers() if p.may_see(c.id)]

    def list_sites(self, p: Principal) -> list[Site]:
        return self.store.list_sites(None if p.is_manufacturer else p.customer_id)

    def asset_type(self, type_id: str) -> AssetType:
        t = self.registry().types.get(type_id) or self.store.get_asset_type(type_id)
        if t is None:
            raise NotFound(f"asset type {type_id!r} not found")
        return t

    # -- ingestion -----------------------------------------------------------------------------
    def ingest_payload(
        self,
        body: bytes,
        content_type: str,
        p: Principal,
        source: str = "http",
        asset_id: str | None = None,
    ) -> IngestResult:
        """Parse, validate, store and quarantine one payload (JSON or CSV)."""
        if len(body) > self.settings.max_payload_bytes:
            rej = Rejection(
                None,
                "payload",
                f"payload of {len(body)} bytes exceeds the limit of "
                f"{self.settings.max_payload_bytes} bytes",
                body[:2000].decode("utf-8", "replace"),
                source,
                asset_id,
            )
            self.store.quarantine([rej], source, self.registry().customer_of())
            raise PayloadTooLarge(
                rej.reason,
                hint="split the batch or raise PROGNOS_MAX_PAYLOAD_BYTES",
                details=[rej.as_dict()],
            )
        raw_records = None
        if "csv" in content_type:
            df, rej = records.from_csv_bytes(body, source)
        else:
            df, rej = records.from_json_bytes(body, source, asset_id)
        return self.ingest_long(df, p, source, rej, raw_records)

    def ingest_messages(
        self, messages: list[tuple[str, bytes]], source: str = "mqtt", p: Principal = MANUFACTURER
    ) -> IngestResult:
        """Ingest a batch of (asset_id, JSON payload) messages in one transaction.

        Brokers deliver one message per asset and instant; committing them one by one would cost a
        transaction each, so workers hand over what arrived in the last few milliseconds at once.
        Record indices in rejections count across the batch in order.
        """
        long, rejected = records.from_json_messages(
            messages, source, self.settings.max_payload_bytes
        )
        return self.ingest_long(long, p, source, rejected)

    def ingest_frame(
        self,
        frame: pd.DataFrame,
        p: Principal = MANUFACTURER,
        source: str = "file",
        first_record: int = 0,
    ) -> IngestResult:
        df, rej = records.from_frame(frame, source, first_record)
        return self.ingest_long(df, p, source, rej)

    def ingest_long(
        self,
        df: pd.DataFrame,
        p: Principal,
        source: str,
        pre_rejected: list[Rejection] | None = None,
        raw_records: list | None = None,
    ) -> IngestResult:
        return self.store_checked(self.check_long(df, p, source, pre_rejected, raw_records))

    def check_long(
        self,
        df: pd.DataFrame,
        p: Principal,
        source: str,
        pre_rejected: list[Rejection] | None = None,
        raw_records: list | None = None,
    ) -> CheckedReadings:
        """Validate a long table against the registry; writes nothing, so a worker can check
        the next batch while the store commits the one before (``store_checked``)."""
        registry = self.registry()
        batch, rejected = validate(
            df,
            registry,
            p,
            max_future_seconds=self.settings.max_future_seconds,
            source=source,
            raw_records=raw_records,
        )
        return CheckedReadings(batch, list(pre_rejected or []) + rejected, source, registry)

    def store_checked(self, checked: CheckedReadings) -> IngestResult:
        """Store what ``check_long`` accepted and quarantine what it refused."""
        batch, rejected = checked.batch, checked.rejected
        stored = self.store.write_readings(batch)
        if rejected:
            self.store.quarantine(rejected, checked.source, checked.registry.customer_of())
        result = IngestResult(accepted=stored, duplicates=len(batch) - stored, rejected=rejected)
        if len(batch):
            for listener in self._listeners:
                try:
                    listener(batch)
                except Exception:  # a listener must never undo an acknowledged write
                    log.exception("readings listener failed")
        return result

    def ingest_batch(
        self, batch: ReadingBatch, p: Principal = MANUFACTURER, source: str = "batch"
    ) -> IngestResult:
        """Ingest already-columnar readings (simulator, file loaders) through the same validation."""
        df = pd.DataFrame(
            {
                "record": np.arange(len(batch)),
                "asset_id": batch.asset_id,
                "channel": batch.channel,
                "ts": pd.Series(pd.to_datetime(batch.ts, utc=True)),
                "cycle": None,
                "value": batch.value,
            }
        )
        return self.ingest_long(df, p, source)

    # -- queries -------------------------------------------------------------------------------
    def telemetry(
        self,
        p: Principal,
        asset_id: str,
        channels: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        max_points: int | None = None,
    ) -> dict[str, Any]:
        """Readings for charts: raw when few, else min/max/mean per bucket (server-side)."""
        self.get_asset(p, asset_id)
        lo, hi, n = self.store.telemetry_span(asset_id)
        out: dict[str, Any] = {
            "asset_id": asset_id,
            "first": lo.isoformat() if lo else None,
            "last": hi.isoformat() if hi else None,
            "channels": {},
        }
        if n == 0:
            out["downsampled"] = False
            return out
        if max_points:
            df = self.store.downsample(asset_id, channels, start, end, max_points)
            out["downsampled"] = True
            for ch, g in df.groupby("channel", sort=True):
                out["channels"][ch] = {
                    "ts": [t.isoformat() for t in g["ts"]],
                    "mean": g["mean"].round(6).tolist(),
                    "min": g["min"].tolist(),
                    "max": g["max"].tolist(),
                    "count": g["count"].astype(int).tolist(),
                }
        else:
            df = self.store.read_telemetry(asset_id, channels, start, end)
            out["downsampled"] = False
            for ch, g in df.groupby("channel", sort=True):
                out["channels"][ch] = {
                    "ts": [t.isoformat() for t in g["ts"]],
                    "value": g["value"].tolist(),
                }
        return out

    def compact_telemetry(self, p: Principal) -> dict[str, Any]:
        """Lay the stored readings out by asset and time again (manufacturer only): per-asset
        range scans read a few blocks instead of most of the table. Writes wait meanwhile."""
        self.require_manufacturer(p)
        t0 = time.perf_counter()
        n = self.store.compact_telemetry()
        seconds = round(time.perf_counter() - t0, 2)
        log.info("telemetry compacted: %d readings in %.1f s", n, seconds)
        return {"readings": n, "seconds": seconds, "store": self.store.kind}

    def quarantine(self, p: Principal, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        return self.store.list_quarantine(
            None if p.is_manufacturer else p.customer_id, limit, offset
        )


def open_platform(settings: Settings | None = None) -> Platform:
    """Open the store the settings name (migrating it) and wrap it in a ``Platform``."""
    settings = settings or Settings()
    return Platform(settings, open_store(settings.db))


def utcnow() -> datetime:
    return datetime.now(UTC)
