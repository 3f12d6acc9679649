"""Telemetry files (CSV, optionally gzipped, or Parquet) read in chunks of text rows.

CSV rows are read with the ``csv`` module, not pandas' parser, for the same reason as the HTTP
CSV path (``tables.from_csv_bytes``): a row with more or fewer fields than the header is
rejected by its row number instead of failing the file or shifting values into the wrong
columns. Each chunk says how far through the file it is (bytes of the file on disk, so a
gzipped file reports true progress), for a progress bar on large files.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from prognos.domain import Rejection
from prognos.ingest.shape import raw_text

CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".txt.gz", ".tsv", ".tsv.gz", ".dat", ".dat.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass
class Chunk:
    """Rows of a file: a frame of text cells (None where empty), each row's number in the file
    (0 is the first row after the header), the rows refused for their shape, and progress."""

    frame: pd.DataFrame
    rows: np.ndarray
    rejected: list[Rejection] = field(default_factory=list)
    done: int = 0  # bytes (CSV) or rows (Parquet) read so far
    total: int = 0


def column_names(header: list[str]) -> list[str]:
    """Header cells stripped; an empty one is named by its position (``column_1`` is the first),
    the name a mapping uses for it."""
    return [h.strip() or f"column_{i + 1}" for i, h in enumerate(header)]


def guess_separator(line: str) -> str:
    """The delimiter a header line uses most: comma, semicolon, tab or pipe; else blanks."""
    best = max([",", ";", "\t", "|"], key=line.count)
    if line.count(best) == 0 and line.strip().count(" "):
        return " "  # columns separated by blanks
    return best


def is_parquet(path: Path) -> bool:
    return path.name.lower().endswith(PARQUET_SUFFIXES)


def is_csv(path: Path) -> bool:
    return path.name.lower().endswith(CSV_SUFFIXES)


def read_chunks(
    path: Path,
    chunk_rows: int = 50_000,
    sep: str | None = None,
    header: bool = True,
    names: list[str] | None = None,
    source: str = "file",
) -> Iterator[Chunk]:
    """The file as chunks; ``names`` name the columns of a file without a header line."""
    if is_parquet(path):
        yield from _parquet_chunks(path, chunk_rows)
    else:
        yield from _csv_chunks(path, chunk_rows, sep, header, names, source)


def _parquet_chunks(path: Path, chunk_rows: int) -> Iterator[Chunk]:
    df = pd.read_parquet(path)
    df.columns = column_names([str(c) for c in df.columns])
    n = len(df)
    for i in range(0, max(n, 1), chunk_rows):
        part = df.iloc[i : i + chunk_rows].reset_index(drop=True)
        yield Chunk(part, np.arange(i, i + len(part)), [], min(i + chunk_rows, n), n)


def _open_text(path: Path) -> tuple[io.TextIOWrapper, object]:
    raw = path.open("rb")
    stream = gzip.GzipFile(fileobj=raw) if path.name.lower().endswith(".gz") else raw
    return io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""), raw


def _csv_chunks(
    path: Path,
    chunk_rows: int,
    sep: str | None,
    header: bool,
    names: list[str] | None,
    source: str,
) -> Iterator[Chunk]:
    total = path.stat().st_size
    text, raw = _open_text(path)
    with raw, text:  # a GzipFile leaves the file it reads open
        first = text.readline()
        if sep is None:
            sep = guess_separator(first)
        if sep == " ":  # whitespace-separated (C-MAPSS, many lab exports): runs of blanks are one
            reader = (line.split() for line in _lines(first, text))
        else:
            reader = csv.reader(_lines(first, text), delimiter=sep)
        cols: list[str] | None = list(names) if names else None
        skip_header = header and names is not None  # the file's header, renamed by ``names``
        rows: list[list[str]] = []
        numbers: list[int] = []
        rejected: list[Rejection] = []
        n = 0
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue  # a blank line
            if cols is None:
                if header:
                    cols = column_names(row)
                    continue
                cols = [f"column_{i + 1}" for i in range(len(row))]
            elif skip_header:
                skip_header = False
                continue
            if len(row) == len(cols):
                rows.append(row)
                numbers.append(n)
            else:
                why = (
                    f"row has {len(row)} fields but the header has {len(cols)}; "
                    "a value would land in the wrong column"
                )
                rejected.append(Rejection(n, "row", why, raw_text(sep.join(row)), source))
            n += 1
            if len(rows) + len(rejected) >= chunk_rows:
                yield _chunk(rows, cols, numbers, rejected, raw.tell(), total)
                rows, numbers, rejected = [], [], []
        if cols is None:
            cols = []
        yield _chunk(rows, cols, numbers, rejected, total, total)


def _lines(first: str, text: io.TextIOWrapper) -> Iterator[str]:
    yield first
    yield from text


def _chunk(rows, cols, numbers, rejected, done, total) -> Chunk:
    frame = pd.DataFrame(rows, columns=cols, dtype=object) if rows else pd.DataFrame(columns=cols)
    frame = frame.replace({"": None})
    return Chunk(frame, np.asarray(numbers, dtype=np.int64), list(rejected), done, total)
