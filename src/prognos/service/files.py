"""Telemetry files (CSV, Parquet) into the platform, in chunks, through the same validation.

Files from the field often lack what the API insists on: a sensor export may have no asset
column (``asset_id`` fills it) and no timestamps, only a sampling rate (``start`` + ``interval``
number the rows). Every cell that fails is quarantined with its row and column, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pandas as pd

from prognos.domain import Principal
from prognos.domain.telemetry import IngestResult
from prognos.errors import ValidationFailed
from prognos.service.telemetry import TelemetryService

Progress = Callable[[str, int, int], None]


def read_chunks(
    path: Path, chunk_rows: int = 50_000, sep: str | None = None
) -> Iterator[pd.DataFrame]:
    """A CSV (any delimiter, optionally gzipped) or Parquet file as DataFrames of strings/values."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        df = pd.read_parquet(path)
        for i in range(0, len(df), chunk_rows):
            yield df.iloc[i : i + chunk_rows]
        return
    if name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv")):
        if sep is None:
            import gzip

            opener = gzip.open if name.endswith(".gz") else open
            with opener(path, "rt") as fh:
                head = fh.readline()
            sep = max([",", ";", "\t"], key=head.count)
        yield from pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, chunksize=chunk_rows
        )
        return
    raise ValidationFailed(
        f"{path.name}: unknown file type", hint="give a .csv, .csv.gz, .tsv or .parquet file"
    )


def prepare(
    df: pd.DataFrame,
    first_row: int,
    asset_id: str | None,
    start: datetime | None,
    interval_s: float | None,
) -> pd.DataFrame:
    df = df.replace({"": None})
    if asset_id is not None:
        df.insert(0, "asset_id", asset_id)
    if start is not None:
        if interval_s is None:
            raise ValidationFailed("--start needs --interval (seconds between rows)")
        offsets = pd.to_timedelta((first_row + pd.RangeIndex(len(df))) * interval_s, unit="s")
        df.insert(1, "ts", (pd.Timestamp(start) + offsets).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    return df


class FileService:
    """Telemetry files into the platform (``prognos ingest file``)."""

    def __init__(self, telemetry: TelemetryService):
        self._telemetry = telemetry

    def ingest(self, p: Principal, path: Path, **options) -> IngestResult:
        """Ingest a whole file (see ``ingest_file`` for the options)."""
        return ingest_file(self._telemetry, p, path, **options)


def ingest_file(
    telemetry: TelemetryService,
    p: Principal,
    path: Path,
    *,
    asset_id: str | None = None,
    start: datetime | None = None,
    interval_s: float | None = None,
    sep: str | None = None,
    chunk_rows: int = 50_000,
    progress: Progress | None = None,
) -> IngestResult:
    """Ingest a whole file; the result counts every chunk. Rejections keep the file's row numbers."""
    total = IngestResult()
    row = 0
    for chunk in read_chunks(path, chunk_rows, sep):
        df = prepare(chunk.reset_index(drop=True), row, asset_id, start, interval_s)
        res = telemetry.ingest_frame(p, df, source=f"file:{path.name}", first_record=row)
        total.accepted += res.accepted
        total.duplicates += res.duplicates
        total.rejected += res.rejected
        row += len(chunk)
        if progress:
            progress(path.name, row, row)
    return total
