"""Telemetry in flight: a columnar batch of readings and the reasons records were rejected."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class ReadingBatch:
    """Readings as parallel columns, so a batch of 100k costs arrays, not 100k objects.

    ``ts`` is datetime64[us] in UTC. ``source_index`` maps each reading back to the record of the
    payload it came from, so a rejection can name that record.
    """

    asset_id: np.ndarray  # object (str)
    channel: np.ndarray  # object (str)
    ts: np.ndarray  # datetime64[us], UTC
    value: np.ndarray  # float64

    def __post_init__(self) -> None:
        n = len(self.value)
        if not (len(self.asset_id) == len(self.channel) == len(self.ts) == n):
            raise ValueError("ReadingBatch columns must have equal length")

    def __len__(self) -> int:
        return len(self.value)

    @classmethod
    def empty(cls) -> ReadingBatch:
        return cls(
            np.array([], dtype=object),
            np.array([], dtype=object),
            np.array([], dtype="datetime64[us]"),
            np.array([], dtype=np.float64),
        )

    @classmethod
    def concat(cls, batches: list[ReadingBatch]) -> ReadingBatch:
        batches = [b for b in batches if len(b)]
        if not batches:
            return cls.empty()
        return cls(
            np.concatenate([b.asset_id for b in batches]),
            np.concatenate([b.channel for b in batches]),
            np.concatenate([b.ts for b in batches]),
            np.concatenate([b.value for b in batches]),
        )

    def take(self, mask: np.ndarray) -> ReadingBatch:
        return ReadingBatch(
            self.asset_id[mask], self.channel[mask], self.ts[mask], self.value[mask]
        )


@dataclass
class Rejection:
    """One record that was not accepted, with enough to find and fix it."""

    index: int | None
    field: str
    reason: str
    raw: Any = None
    source: str = ""
    asset_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "field": self.field,
            "reason": self.reason,
            "asset_id": self.asset_id,
        }


@dataclass
class IngestResult:
    """What an ingestion call did: how many readings were stored, what was rejected."""

    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected_count": len(self.rejected),
            "rejected": [r.as_dict() for r in self.rejected[:1000]],
        }
