"""Timing hooks for ``prognos bench forecast``: seconds spent in wrapped methods, by label, and
where fleet scoring's time went."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from typing import Any

_MISSING = object()


class Phases:
    """Seconds spent in wrapped methods, by label."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def _add(self, key: str, dt: float) -> None:
        self.seconds[key] = self.seconds.get(key, 0.0) + dt
        self.calls[key] = self.calls.get(key, 0) + 1

    @contextlib.contextmanager
    def hooks(self, targets: list[tuple[Any, str, str]]) -> Iterator[None]:
        """Wrap ``obj.method`` as an instance attribute for the duration; removed afterwards."""
        wrapped = []
        for obj, name, label in targets:
            inner = getattr(obj, name)
            own = vars(obj).get(name, _MISSING)  # a class's or module's own attribute

            def timed(*args, _inner=inner, _label=label, **kwargs):
                t = time.perf_counter()
                try:
                    return _inner(*args, **kwargs)
                finally:
                    self._add(_label, time.perf_counter() - t)

            setattr(obj, name, timed)
            wrapped.append((obj, name, own))
        try:
            yield
        finally:
            for obj, name, own in wrapped:
                if own is _MISSING:
                    delattr(obj, name)
                else:
                    setattr(obj, name, own)


def split(ph: Phases, t0: float, t_end: float) -> dict[str, float]:
    """Where the scoring time went. Chunks are read, prepared, scored and saved one after
    another on one thread, so the parts add up: ``rest`` is what no hook covers (forecast
    objects, health made consistent with the forecast, listing the assets)."""
    got = ph.seconds.get
    out = {
        "total": t_end - t0,
        "rul_model": got("score", 0.0),
        "health_model": got("health", 0.0),
    }
    out["other_main_thread"] = out["total"] - out["rul_model"] - out["health_model"]
    out["reading"] = got("read", 0.0)
    out["pivot_and_frames"] = got("prepare", 0.0) - got("read", 0.0)
    out["saving"] = got("save_forecasts", 0.0) + got("save_healths", 0.0)
    out["alarms"] = got("alarms", 0.0)
    out["rest"] = out["other_main_thread"] - got("prepare", 0.0) - out["saving"] - out["alarms"]
    return {k: round(v, 3) for k, v in out.items()}
