"""Readings in and out: parse, validate against the registry, store, quarantine, query.

Every path in (HTTP payloads, broker messages, files, simulators) ends in ``check`` then
``store_checked``: the first only reads (a worker validates the next batch while the store
commits the one before), the second writes the readings and the quarantine and tells the
listeners (forecast refresh, live pages) what was committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from prognos.config import Settings
from prognos.domain import Principal, ReadingBatch, Registry
from prognos.domain.telemetry import IngestResult, Rejection
from prognos.errors import PayloadTooLarge
from prognos.ingest import records
from prognos.ingest.validate import validate
from prognos.service.quarantine import QuarantineQuotas
from prognos.service.registry import RegistryService
from prognos.store.ports import QuarantinePort, ReadingsPort

log = logging.getLogger(__name__)

ReadingsListener = Callable[[ReadingBatch], None]


@dataclass(frozen=True)
class CheckedReadings:
    """A validated batch on its way to the store, with what was refused and for whom."""

    batch: ReadingBatch
    rejected: list[Rejection]
    source: str
    registry: Registry
    customer_id: str | None = None  # a customer's key: its rejections count against it


class TelemetryService:
    def __init__(
        self,
        settings: Settings,
        readings: ReadingsPort,
        quarantine: QuarantinePort,
        registry: RegistryService,
    ):
        self.settings = settings
        self._readings = readings
        self._quarantine = quarantine
        self._registry = registry
        self._listeners: list[ReadingsListener] = []
        self._quotas = QuarantineQuotas(settings)

    # -- listeners -----------------------------------------------------------------------------
    def on_readings(self, listener: ReadingsListener) -> None:
        """Call ``listener`` with every batch after it is committed (forecast refresh, live views)."""
        self._listeners.append(listener)

    def off_readings(self, listener: ReadingsListener) -> None:
        """Stop calling ``listener`` (a live view that went away)."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    # -- in ------------------------------------------------------------------------------------
    def ingest_payload(
        self,
        p: Principal,
        body: bytes,
        content_type: str,
        source: str = "http",
        asset_id: str | None = None,
    ) -> IngestResult:
        """Parse, validate, store and quarantine one payload (JSON or CSV)."""
        limit = self.settings.max_payload_bytes
        if len(body) > limit:
            self.refuse_oversized(p, body[:2000], f"{len(body)} bytes", source, asset_id)
        if "csv" in content_type:
            df, rej = records.from_csv_bytes(body, source)
        else:
            df, rej = records.from_json_bytes(body, source, asset_id)
        return self.ingest_long(p, df, source, rej)

    def refuse_oversized(
        self,
        p: Principal,
        head: bytes,
        size: str,
        source: str = "http",
        asset_id: str | None = None,
    ) -> NoReturn:
        """Quarantine a payload over the limit by its first bytes (read no further) and raise
        ``PayloadTooLarge`` naming the limit."""
        limit = self.settings.max_payload_bytes
        rej = Rejection(
            None,
            "payload",
            f"payload of {size} exceeds the limit of {limit} bytes",
            head[:2000].decode("utf-8", "replace"),
            source,
            asset_id,
        )
        self._keep_rejections([rej], source, self._registry.snapshot(), p.customer_id)
        raise PayloadTooLarge(
            rej.reason,
            hint="split the batch or raise PROGNOS_MAX_PAYLOAD_BYTES",
            details=[rej.as_dict()],
        )

    def ingest_messages(
        self, p: Principal, messages: list[tuple[str, bytes]], source: str = "mqtt"
    ) -> IngestResult:
        """Ingest a batch of (asset_id, JSON payload) messages in one transaction.

        Brokers deliver one message per asset and instant; committing them one by one would cost a
        transaction each, so workers hand over what arrived in the last few milliseconds at once.
        Record indices in rejections count across the batch in order.
        """
        long, rejected = records.from_json_messages(
            messages, source, self.settings.max_payload_bytes
        )
        return self.ingest_long(p, long, source, rejected)

    def ingest_frame(
        self, p: Principal, frame: pd.DataFrame, source: str = "file", first_record: int = 0
    ) -> IngestResult:
        df, rej = records.from_frame(frame, source, first_record)
        return self.ingest_long(p, df, source, rej)

    def ingest_batch(
        self, p: Principal, batch: ReadingBatch, source: str = "batch"
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
        return self.ingest_long(p, df, source)

    def ingest_long(
        self,
        p: Principal,
        df: pd.DataFrame,
        source: str,
        pre_rejected: list[Rejection] | None = None,
    ) -> IngestResult:
        return self.store_checked(self.check(p, df, source, pre_rejected))

    def check(
        self,
        p: Principal,
        df: pd.DataFrame,
        source: str,
        pre_rejected: list[Rejection] | None = None,
    ) -> CheckedReadings:
        """Validate a long table against the registry; writes nothing, so a worker can check
        the next batch while the store commits the one before (``store_checked``)."""
        registry = self._registry.snapshot()
        batch, rejected = validate(
            df,
            registry,
            p,
            max_future_seconds=self.settings.max_future_seconds,
            source=source,
        )
        return CheckedReadings(
            batch, list(pre_rejected or []) + rejected, source, registry, p.customer_id
        )

    def store_checked(self, checked: CheckedReadings) -> IngestResult:
        """Store what ``check`` accepted and quarantine what it refused, in one transaction:
        both are kept or, when the store fails (``StoreError``), neither."""
        batch, rejected = checked.batch, checked.rejected
        if rejected:
            owners = checked.registry.customer_of()
            stored = self._quarantine.commit_ingest(
                batch, rejected, checked.source, owners, checked.customer_id
            )
            self._quotas.wrote(self._quarantine, rejected, owners, checked.customer_id)
        else:
            stored = self._readings.write_readings(batch)
        result = IngestResult(accepted=stored, duplicates=len(batch) - stored, rejected=rejected)
        if len(batch):
            for listener in list(self._listeners):
                try:
                    listener(batch)
                except Exception:  # a listener must never undo an acknowledged write
                    log.exception("readings listener failed")
        return result

    def store_answers(self) -> bool:
        """Whether the readings' store answers a round trip now (ingest asks before it sets a
        failing message aside: a message that failed while the store was away is not poison)."""
        try:
            self._readings.ping()
        except Exception:
            return False
        return True

    # -- out -----------------------------------------------------------------------------------
    def series(
        self,
        p: Principal,
        asset_id: str,
        channels: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
        max_points: int | None = None,
    ) -> dict[str, Any]:
        """Readings for charts: raw when few, else min/max/mean per bucket (server-side)."""
        self._registry.asset(p, asset_id)
        lo, hi, n = self._readings.telemetry_span(asset_id)
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
            df = self._readings.downsample(asset_id, channels, start, end, max_points)
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
            df = self._readings.read_telemetry(asset_id, channels, start, end)
            out["downsampled"] = False
            for ch, g in df.groupby("channel", sort=True):
                out["channels"][ch] = {
                    "ts": [t.isoformat() for t in g["ts"]],
                    "value": g["value"].tolist(),
                }
        return out

    def history(
        self,
        p: Principal,
        asset_id: str,
        channels: list[str] | None = None,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> pd.DataFrame:
        """An asset's readings as a long frame (ts, channel, value), oldest first."""
        self._registry.asset(p, asset_id)
        return self._readings.read_telemetry(asset_id, channels, start, end)

    def span(self, p: Principal, asset_id: str) -> tuple[datetime | None, datetime | None, int]:
        """First and last reading time of an asset, and how many readings it has."""
        self._registry.asset(p, asset_id)
        return self._readings.telemetry_span(asset_id)

    def last_reading_times(
        self, p: Principal, asset_ids: list[str]
    ) -> dict[tuple[str, str], datetime]:
        """The newest stored reading per (asset, channel): where a connector resumes."""
        p.require_manufacturer()
        return self._readings.last_reading_times(asset_ids)

    def count(self, p: Principal, distinct: bool = False) -> int:
        """How many readings are stored in all (the manufacturer's figure); ``distinct``
        counts different (asset, channel, time) keys, to find readings stored twice."""
        p.require_manufacturer()
        return self._readings.count_readings(distinct)

    def disk_bytes(self, p: Principal) -> int:
        """Disk the stored readings take (the manufacturer's figure; sizing, benchmarks)."""
        p.require_manufacturer()
        return self._readings.telemetry_bytes()

    def compact(self, p: Principal) -> dict[str, Any]:
        """Lay the stored readings out by asset and time again (manufacturer only): per-asset
        range scans read a few blocks instead of most of the table. Writes wait meanwhile."""
        p.require_manufacturer()
        t0 = time.perf_counter()
        n = self._readings.compact_telemetry()
        seconds = round(time.perf_counter() - t0, 2)
        log.info("telemetry compacted: %d readings in %.1f s", n, seconds)
        return {"readings": n, "seconds": seconds, "store": self._readings.kind}

    # -- quarantine ----------------------------------------------------------------------------
    def _keep_rejections(
        self, rejected: list[Rejection], source: str, registry: Registry, customer_id: str | None
    ) -> None:
        owners = registry.customer_of()
        self._quarantine.quarantine(rejected, source, owners, customer_id)
        self._quotas.wrote(self._quarantine, rejected, owners, customer_id)

    def quarantined(self, p: Principal, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
        """Rejected records the caller may see, newest first, with reason and raw payload."""
        return self._quarantine.list_quarantine(
            None if p.is_manufacturer else p.customer_id, limit, offset
        )

    def purge_quarantine(
        self,
        p: Principal,
        older_than_days: float | None = None,
        customer_id: str | None = None,
        *,
        source: str | None = None,
        before: datetime | None = None,
        asset_id: str | None = None,
    ) -> int:
        """Delete rejected records (the manufacturer's: the quarantine is the record of what was
        refused) by source, receipt time, asset or customer, the filters given all applying;
        with none of source, before or asset: those older than ``older_than_days`` (default:
        the retention setting). Returns how many went."""
        p.require_manufacturer("the quarantine is purged by the manufacturer")
        if source is None and before is None and asset_id is None:
            days = (
                self.settings.quarantine_retention_days
                if older_than_days is None
                else older_than_days
            )
            before = datetime.now(UTC) - timedelta(days=days)
        return self._quarantine.purge_quarantine(
            source=source, before=before, asset_id=asset_id, customer_id=customer_id
        )
