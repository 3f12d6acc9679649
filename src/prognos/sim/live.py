"""Live telemetry of a simulated fleet: elevators, drive chains and turbofans, seeded.

Each asset's wear follows a path drawn once from ``(seed, asset id, life start)``, so a new
part is a new path and the same asset always degrades the same way; measurement noise comes
from a per-asset stream drawn a fixed number of values per sample, so the readings depend only
on the seed and the samples asked for, not on how time was cut into calls.

* **elevator** (hours): a door roller bearing wears as ``(age / life) ** p``; vibration rises
  from about 2.5 mm/s to the 12 mm/s failure level, the door cycle slows and the door motor
  draws more current; humidity follows the day.
* **chain_drive** (days): elongation grows at a random rate toward 3 % (``world.chain_path``,
  one step per day), the sprocket warms with load and wear; load follows the site's two
  shifts (06:00-22:00 local on its working days).
* **turbofan** (cycles): an engine in service continues with the rows of a held-out C-MAPSS
  *train* unit, one cycle per simulated day, until that unit's recorded failure; an engine
  whose true life is known (``LiveAsset.life``) takes the unit up where it has as many
  cycles left, so it fails at its true life with the sensors of a unit that far from its end;
  a new engine (``replace``) runs a unit from its first cycle.

    fleet = LiveFleet([LiveAsset("el-1", "acme", ELEVATOR, installed)], seed=0)
    batch = fleet.advance(now)      # every reading due up to ``now``, as a ReadingBatch
    fleet.pop_failures()            # parts that reached their end of life meanwhile
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from prognos.data import dataset_dir, open_text
from prognos.domain import ReadingBatch
from prognos.sim.costs import CHAIN_DRIVE, ELEVATOR, TURBOFAN  # one set of type ids
from prognos.sim.live_types import (  # noqa: F401  (the types live beside: re-exported)
    ASSET_TYPES,
    CHAIN_TYPE,
    CHANNELS,
    CMAPSS_CHANNELS,
    ELEVATOR_TYPE,
    VIBRATION_LIMIT,
)
from prognos.sim.world import CHAIN_LIMIT, CHAIN_NOISE, chain_path

SHIFT_HOURS = (6, 22)  # two shifts, local time
JOIN_CYCLES = 10  # an engine's continuation joins the mean of its last this many cycles
_US = np.timedelta64(1, "us")
UNIT_SECONDS = {ELEVATOR: 3600.0, CHAIN_DRIVE: 86400.0, TURBOFAN: 86400.0}


@dataclass(frozen=True)
class LiveAsset:
    """What the simulator needs of one asset; ``last_ts``: readings come after it."""

    asset_id: str
    customer_id: str
    type_id: str
    installed_at: datetime
    last_ts: datetime | None = None
    timezone: str = "UTC"
    workdays: tuple[int, ...] = (0, 1, 2, 3, 4)
    life: float | None = None  # turbofan: the true life (cycles) of the part fitted at installed_at
    level: tuple[float, ...] | None = None  # turbofan: its last cycles' mean (CMAPSS_CHANNELS)


@dataclass(frozen=True)
class Failure:
    """A part that reached its end of life in the simulation."""

    asset_id: str
    customer_id: str
    type_id: str
    life_start: datetime
    at: datetime
    age: float  # in the type's time unit


@dataclass(frozen=True)
class Samples:
    """Readings of one asset as a wide block: one row per time stamp."""

    asset_id: str
    customer_id: str
    channels: tuple[str, ...]
    ts: np.ndarray  # datetime64[us], UTC
    values: np.ndarray  # (len(ts), len(channels))

    def records(self) -> list[dict]:
        """Wide JSON records, ``{"ts": ISO, "values": {...}}``, as an MQTT payload carries them."""
        stamps = np.datetime_as_string(self.ts, unit="s")
        return [
            {"ts": f"{s}Z", "values": dict(zip(self.channels, map(float, row), strict=True))}
            for s, row in zip(stamps, np.round(self.values, 4), strict=True)
        ]


def load_turbofan_pool(
    subsets: tuple[str, ...] = ("FD003",), data_dir: Path | str | None = None
) -> list[np.ndarray]:
    """Run-to-failure C-MAPSS train units as (cycles, 24) arrays of settings and sensors."""
    folder = dataset_dir("cmapss", data_dir)
    pool = []
    for sub in subsets:
        with open_text(folder, f"train_{sub}.txt") as fh:
            arr = np.loadtxt(fh, dtype=float, ndmin=2)
        for unit in np.unique(arr[:, 0]):
            rows = arr[arr[:, 0] == unit]
            pool.append(rows[np.argsort(rows[:, 1])][:, 2:26])
    return pool


def _key(seed: int, *parts: str) -> list[int]:
    return [seed, *(zlib.crc32(p.encode()) for p in parts)]


def _utc(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _dt64(t: datetime) -> np.datetime64:
    return np.datetime64(_utc(t).replace(tzinfo=None), "us")


def _py(t: np.datetime64) -> datetime:
    return t.astype("datetime64[us]").astype(datetime).replace(tzinfo=UTC)


@dataclass
class _State:
    spec: LiveAsset
    period: np.timedelta64
    next_ts: np.datetime64
    noise: np.random.Generator
    life: float  # in the type's unit; no readings at or after it
    params: dict = field(default_factory=dict)
    failed: bool = False


class LiveFleet:
    """The fleet's next readings at any simulated time; deterministic for a seed."""

    def __init__(
        self,
        assets: list[LiveAsset],
        seed: int = 0,
        *,
        sample_minutes: float = 10.0,
        turbofan_pool: list[np.ndarray] | None = None,
    ):
        self.seed = seed
        self.sample_minutes = sample_minutes
        self._pool = turbofan_pool
        self._states = [self._state(a) for a in assets]
        self._failures: list[Failure] = []

    @property
    def assets(self) -> list[LiveAsset]:
        return [s.spec for s in self._states]

    def life(self, asset_id: str) -> float:
        """The true life of the asset's current part, in its type's unit (what forecasts aim at)."""
        return next(s.life for s in self._states if s.spec.asset_id == asset_id)

    def pop_failures(self) -> list[Failure]:
        """Parts that failed since the last call (each asset at most once per life)."""
        out, self._failures = self._failures, []
        return out

    def replace(self, asset_id: str, at: datetime) -> None:
        """A new part from ``at`` on (repair or planned replacement): a new life, a new path."""
        for i, st in enumerate(self._states):
            if st.spec.asset_id == asset_id:
                last = st.next_ts - st.period
                spec = replace(
                    st.spec, installed_at=_utc(at), last_ts=max(_utc(at), _py(last)), life=None
                )
                self._states[i] = self._state(spec)
                return
        raise KeyError(asset_id)

    def life_if_replaced(self, asset_id: str, at: datetime) -> float:
        """The true life of the part ``replace`` would fit at ``at``, the fleet left as it is."""
        st = {s.spec.asset_id: s for s in self._states}[asset_id]  # KeyError: not simulated
        return self._state(
            replace(st.spec, installed_at=_utc(at), last_ts=_utc(at), life=None)
        ).life

    def life_used(self, asset_id: str, at: datetime) -> float | None:
        """Share of the current part's true life used at ``at`` (None: not simulated)."""
        for s in self._states:
            if s.spec.asset_id == asset_id:
                age = (_utc(at) - _utc(s.spec.installed_at)).total_seconds()
                return max(age / UNIT_SECONDS[s.spec.type_id] / s.life, 0.0)
        return None

    def sent_until(self, asset_id: str) -> datetime | None:
        """Time stamp of the asset's last reading handed out (None: none yet, or not simulated)."""
        for s in self._states:
            if s.spec.asset_id == asset_id:
                last = s.next_ts - s.period
                return _py(last) if last >= _dt64(s.spec.installed_at) else None
        return None

    def installed(self, asset_id: str) -> datetime | None:
        """Start of the asset's current life in the simulation (None: not simulated)."""
        for s in self._states:
            if s.spec.asset_id == asset_id:
                return _utc(s.spec.installed_at)
        return None

    @property
    def next_due(self) -> datetime | None:
        """The earliest time stamp any running asset will report next."""
        due = [s.next_ts for s in self._states if not s.failed]
        return _py(min(due)) if due else None

    # -- set up ------------------------------------------------------------------------------
    def _state(self, a: LiveAsset) -> _State:
        installed = _dt64(a.installed_at)
        after = _dt64(a.last_ts) if a.last_ts else installed
        rng = np.random.default_rng(_key(self.seed, a.asset_id, a.installed_at.isoformat()))
        noise = np.random.default_rng(_key(self.seed, a.asset_id, a.installed_at.isoformat(), "n"))
        if a.type_id == TURBOFAN:
            period = np.timedelta64(86_400_000_000, "us")
        elif a.type_id in (ELEVATOR, CHAIN_DRIVE):
            period = np.timedelta64(int(self.sample_minutes * 60e6), "us")
        else:
            raise ValueError(f"the simulator has no model for asset type {a.type_id!r}")
        k = (after - installed) // period + 1  # first grid point after the last reading
        st = _State(a, period, installed + max(int(k), 1) * period, noise, 0.0)
        getattr(self, f"_init_{a.type_id}")(st, rng)
        return st

    def _init_elevator(self, st: _State, rng: np.random.Generator) -> None:
        st.life = float(np.exp(rng.normal(np.log(4200.0), 0.3)))
        st.params = {
            "p": rng.uniform(1.8, 3.0),
            "v0": rng.uniform(2.0, 3.0),
            "t0": rng.uniform(3.0, 3.6),
            "i0": rng.uniform(1.6, 2.2),
            "h0": rng.uniform(40.0, 60.0),
        }

    def _init_chain_drive(self, st: _State, rng: np.random.Generator) -> None:
        path, life_days = chain_path(rng)
        st.params = {"path": path, "ambient": rng.uniform(18.0, 28.0), "rated": rng.uniform(65, 85)}
        # the path gives elongation after each whole day; failure is where it crosses 3 %
        e0, e1 = path[life_days - 1], path[life_days]
        st.life = life_days - 1 + (CHAIN_LIMIT - e0) / max(e1 - e0, 1e-9)

    def _init_turbofan(self, st: _State, rng: np.random.Generator) -> None:
        if self._pool is None:
            self._pool = load_turbofan_pool()
        age = int((st.next_ts - _dt64(st.spec.installed_at)) // st.period) - 1
        lives = np.array([len(u) for u in self._pool])
        left = st.spec.life - age if st.spec.life is not None else None
        # an engine with a known true life continues with a unit from the same life left on, so
        # its sensors say what its life says (a unit taken up at the engine's age had a state up
        # to tens of cycles off: forecasts jumped at the join); a new part starts a unit anew
        need = left if left is not None else age + 1
        ok = np.flatnonzero(lives > need)
        if not len(ok):
            ok = np.array([int(np.argmax(lives))])
        if st.spec.life is not None:  # the unit whose life is nearest the engine's true life
            gap = np.abs(lives[ok] - st.spec.life)
            pick = int(rng.choice(ok[gap == gap.min()]))
        else:
            pick = int(rng.choice(ok))
        n = int(lives[pick])
        offset = n - int(round(st.spec.life)) if left is not None and n > left else 0
        rows = self._pool[pick]
        st.params = {"rows": rows, "unit": pick, "offset": offset, "shift": 0.0}
        st.life = float(n - offset)
        if st.spec.level is not None and left is not None:
            # sensors join where the engine's own readings left off: C-MAPSS units differ in
            # level (core speeds by tens of rpm), and a jump at the join read as an anomaly
            j = max(age + offset, 1)
            shift = np.asarray(st.spec.level, dtype=float) - rows[max(j - JOIN_CYCLES, 0) : j].mean(
                0
            )
            shift[:3] = 0.0  # the operating settings are the flight's, not the engine's
            st.params["shift"] = shift

    # -- readings ----------------------------------------------------------------------------
    def advance_wide(self, until: datetime, max_per_asset: int | None = None) -> list[Samples]:
        """Every asset's readings due up to ``until`` (at most ``max_per_asset`` each)."""
        end = _dt64(until)
        out = []
        for st in self._states:
            if st.failed or st.next_ts > end:
                continue
            n = int((end - st.next_ts) // st.period) + 1
            if max_per_asset is not None:
                n = min(n, max_per_asset)
            ts = st.next_ts + np.arange(n) * st.period
            unit = st.spec.type_id
            age = (ts - _dt64(st.spec.installed_at)) / _US / 1e6 / UNIT_SECONDS[unit]
            alive = age <= st.life if unit == TURBOFAN else age < st.life
            if not alive.all():
                k = int(np.argmin(alive))
                ts, age, n = ts[:k], age[:k], k
                st.failed = True
                at = st.spec.installed_at + timedelta(seconds=st.life * UNIT_SECONDS[unit])
                self._failures.append(
                    Failure(
                        st.spec.asset_id,
                        st.spec.customer_id,
                        unit,
                        _utc(st.spec.installed_at),
                        _utc(at),
                        float(st.life),
                    )
                )
            st.next_ts = st.next_ts + n * st.period
            if n == 0:
                continue
            noise = st.noise.standard_normal((n, len(CHANNELS[unit])))
            values = getattr(self, f"_values_{unit}")(st, ts, age, noise)
            out.append(Samples(st.spec.asset_id, st.spec.customer_id, CHANNELS[unit], ts, values))
        return out

    def advance(self, until: datetime, max_per_asset: int | None = None) -> ReadingBatch:
        """The readings due up to ``until`` as one long batch."""
        return to_batch(self.advance_wide(until, max_per_asset))

    def _local(self, st: _State, ts: np.ndarray) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(ts).tz_localize("UTC").tz_convert(st.spec.timezone)

    def _values_elevator(self, st, ts, age, z) -> np.ndarray:
        p = st.params
        w = np.clip(age / st.life, 0.0, 1.0) ** p["p"]
        hour = self._local(st, ts).hour.to_numpy()
        busy = ((hour >= 7) & (hour < 20)).astype(float)  # more door cycles by day
        vib = p["v0"] + (VIBRATION_LIMIT - p["v0"]) * w + 0.25 * z[:, 2] + 0.3 * busy
        cycle = p["t0"] + 0.9 * w + 0.08 * z[:, 1] + 0.15 * busy
        current = p["i0"] + 1.1 * w + 0.06 * z[:, 0] + 0.1 * busy
        humid = p["h0"] + 12.0 * np.sin(2 * np.pi * (hour - 9) / 24.0) + 2.0 * z[:, 3]
        return np.column_stack(
            [
                np.clip(current, 0.1, 9.9),
                np.clip(cycle, 1.1, 14.9),
                np.clip(vib, 0.1, 39.9),
                np.clip(humid, 5.0, 98.0),
            ]
        )

    def _values_chain_drive(self, st, ts, age, z) -> np.ndarray:
        p = st.params
        path = p["path"]
        e = np.interp(age, np.arange(len(path)), path)
        local = self._local(st, ts)
        hour, wd = local.hour.to_numpy(), local.day_of_week.to_numpy()
        on = np.isin(wd, st.spec.workdays) & (hour >= SHIFT_HOURS[0]) & (hour < SHIFT_HOURS[1])
        load = np.where(on, p["rated"] + 8.0 * z[:, 2], 2.0 + 1.0 * np.abs(z[:, 2]))
        load = np.clip(load, 0.0, 120.0)
        temp = p["ambient"] + 0.35 * load + 6.0 * e + 1.0 * z[:, 1]
        return np.column_stack(
            [np.clip(e + CHAIN_NOISE * z[:, 0], -0.4, 5.9), np.clip(temp, -19.0, 149.0), load]
        )

    def _values_turbofan(self, st, ts, age, z) -> np.ndarray:
        rows = st.params["rows"]
        # cycle c is row c - 1 + offset
        idx = np.clip(np.round(age).astype(int) - 1 + st.params["offset"], 0, len(rows) - 1)
        return rows[idx] + st.params["shift"]


def to_batch(samples: list[Samples]) -> ReadingBatch:
    """Wide blocks as one long ``ReadingBatch``."""
    parts = []
    for s in samples:
        n, k = s.values.shape
        parts.append(
            ReadingBatch(
                np.full(n * k, s.asset_id, dtype=object),
                np.tile(np.array(s.channels, dtype=object), n),
                np.repeat(s.ts, k),
                s.values.reshape(-1).astype(np.float64),
            )
        )
    return ReadingBatch.concat(parts)
