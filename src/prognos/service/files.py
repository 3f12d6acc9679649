"""Telemetry files (CSV, Parquet) into the platform, in chunks, through the same validation.

Files from the field rarely look like the API's payloads: many assets in one file, a time column
named anything (or empty), times in the plant's local zone, channel names with blanks, columns
nobody needs, sometimes no time at all, only a sampling rate. A ``FileMapping`` says what is
what; it is checked against the header and the registry before anything is stored
(``file_mapping.resolve``), then every chunk is mapped (``file_rows``) and validated like any
payload. Every cell that fails is quarantined with its row and column, never dropped.

    report = platform.files.ingest(p, Path("export.csv"), FileMapping(asset_column="machine"))
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from prognos.domain import Principal
from prognos.domain.telemetry import IngestResult, Rejection
from prognos.errors import ValidationFailed
from prognos.ingest.file_chunks import Chunk, is_csv, is_parquet, read_chunks
from prognos.service.file_mapping import FileMapping, Resolved, resolve
from prognos.service.file_rows import to_long
from prognos.service.registry import RegistryService
from prognos.service.telemetry import TelemetryService

Progress = Callable[[str, int, int], None]


def summarise(rejected: list[Rejection], top: int = 5) -> list[tuple[int, str, str]]:
    """The most common reasons for rejections: (count, field, an example reason)."""
    groups: Counter = Counter()
    example: dict[tuple[str, str], str] = {}
    for r in rejected:
        key = (r.field if r.field not in ("row", "record") else r.field, r.reason.split(":")[0])
        groups[key] += 1
        example.setdefault(key, r.reason)
    return [(n, f, example[(f, why)]) for (f, why), n in groups.most_common(top)]


class FileService:
    """Telemetry files into the platform (``prognos ingest file``)."""

    def __init__(self, telemetry: TelemetryService, registry: RegistryService):
        self._telemetry = telemetry
        self._registry = registry

    def _open(
        self, p: Principal, path: Path, mapping: FileMapping, chunk_rows: int
    ) -> tuple[Resolved, Iterator[Chunk], Chunk, Callable[[str], str]]:
        path = Path(path)
        if not (is_csv(path) or is_parquet(path)):
            raise ValidationFailed(
                f"{path.name}: unknown file type",
                hint="give a .csv, .tsv, .txt (each optionally .gz) or .parquet file",
            )
        chunks = read_chunks(
            path, chunk_rows, mapping.sep, mapping.header, mapping.names, f"file:{path.name}"
        )
        first = next(chunks)
        resolved = resolve(
            mapping, list(first.frame.columns), first.frame, self._registry.snapshot()
        )
        zones = {s.id: s.timezone for s in self._registry.sites(p)}
        assets = self._registry.snapshot().assets

        def zone_of(asset_id: str) -> str:
            a = assets.get(asset_id)
            return zones.get(a.site_id, "UTC") if a else "UTC"

        return resolved, chunks, first, zone_of

    def preview(
        self, p: Principal, path: Path, mapping: FileMapping, rows: int = 5
    ) -> dict[str, Any]:
        """How the first ``rows`` rows map, and what validation would say; stores nothing."""
        resolved, chunks, first, zone_of = self._open(p, path, mapping, max(rows, 1))
        chunks.close()  # the rest of the file is not read
        source = f"file:{Path(path).name}"
        head = Chunk(
            first.frame.iloc[:rows],
            first.rows[:rows],
            [x for x in first.rejected if x.index is not None and x.index < rows],
        )
        long, rej = to_long(resolved, head, zone_of, source)
        checked = self._telemetry.check(p, long, source, rej)
        return {
            "columns": describe(resolved),
            "readings": _readings_table(checked.batch),
            "rejected": [r.as_dict() for r in checked.rejected],
        }

    def ingest(
        self,
        p: Principal,
        path: Path,
        mapping: FileMapping | None = None,
        *,
        asset_id: str | None = None,
        start: datetime | None = None,
        interval_s: float | None = None,
        sep: str | None = None,
        chunk_rows: int = 50_000,
        progress: Progress | None = None,
    ) -> IngestResult:
        """Ingest a whole file; the result counts every chunk. Rejections keep the file's row
        numbers (0 is the first row after the header)."""
        mapping = (mapping or FileMapping()).merged(
            asset=asset_id, start=start, interval=interval_s, sep=sep
        )
        path = Path(path)
        resolved, chunks, first, zone_of = self._open(p, path, mapping, chunk_rows)
        source = f"file:{path.name}"
        total = IngestResult()
        for chunk in _chain(first, chunks):
            long, rej = to_long(resolved, chunk, zone_of, source)
            res = self._telemetry.ingest_long(p, long, source, rej)
            total.accepted += res.accepted
            total.duplicates += res.duplicates
            total.rejected += res.rejected
            if progress:
                progress(path.name, chunk.done, chunk.total)
        return total


def _chain(first: Chunk, rest: Iterator[Chunk]) -> Iterator[Chunk]:
    yield first
    yield from rest


def describe(r: Resolved) -> list[dict[str, str]]:
    """What each column of the file is, for the dry run."""
    m = r.mapping
    out = []
    if m.asset is not None:
        out.append({"column": "(none)", "is": f"asset {m.asset} for every row"})
    else:
        pre = f", prefixed {m.asset_prefix!r}" if m.asset_prefix else ""
        out.append({"column": r.asset_column, "is": f"asset id{pre}"})
    if r.time_column:
        zone = m.timezone or "each asset's site's zone"
        fmt = m.time_format or "ISO 8601 or epoch seconds"
        out.append({"column": r.time_column, "is": f"time ({fmt}; without offset: {zone})"})
    elif r.cycle_column:
        out.append({"column": r.cycle_column, "is": "cycle (counted from installation)"})
    else:
        out.append({"column": "(none)", "is": f"time: {m.start} + row x {m.interval} s"})
    if r.long:
        out.append({"column": r.channel_column, "is": "channel name"})
        out.append({"column": r.value_column, "is": "value"})
    for col, ch in r.columns.items():
        conv = f" (x {ch.scale:g} + {ch.offset:g})" if (ch.scale, ch.offset) != (1, 0) else ""
        if not r.long:
            out.append({"column": col, "is": f"channel {ch.channel}{conv}"})
        elif col != ch.channel or conv:
            out.append({"column": f"{r.channel_column}={col}", "is": f"channel {ch.channel}{conv}"})
    out += [{"column": c, "is": "ignored"} for c in r.ignored]
    return out


def _readings_table(batch) -> list[dict[str, Any]]:
    ts = pd.to_datetime(batch.ts, utc=True)
    return [
        {"asset_id": a, "ts": t.isoformat(), "channel": c, "value": float(v)}
        for a, t, c, v in zip(batch.asset_id, ts, batch.channel, batch.value, strict=True)
    ]
