"""The SQL of one store port, forecasts, health scores and model versions; mixed into ``SqlStore``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from prognos.domain import (
    FailureForecast,
    HealthScore,
)
from prognos.store.sql import (
    SqlBase,
    _json_load,
    to_naive_utc,
)

# json.dumps(..., default=str) builds an encoder per call; one made once writes the same text
_BODY = json.JSONEncoder(default=str)


class ForecastsSql(SqlBase):
    _FORECAST_COLUMNS = ["asset_id", "component", "as_of", "created_at", "model", "p50", "body"]

    def save_forecast(self, f: FailureForecast) -> None:
        self.save_forecasts([f])

    def save_forecasts(self, forecasts: list[FailureForecast]) -> None:
        """Store many forecasts in one transaction (a fleet's scoring, a refresh round); a
        forecast for the same asset, component, moment and model replaces the stored one."""
        now = to_naive_utc(datetime.now(UTC))
        rows = [
            (
                f.asset_id,
                f.component or "",
                to_naive_utc(f.as_of),
                now,
                f.model,
                f.p50,
                _BODY.encode(f.as_dict()),
            )
            for f in forecasts
        ]
        self._upsert_rows(
            "forecasts", self._FORECAST_COLUMNS, ["asset_id", "component", "as_of", "model"], rows
        )

    def forecast_history(self, asset_id: str, limit: int = 100) -> list[FailureForecast]:
        rows = self._rows(
            f"SELECT body FROM forecasts WHERE asset_id = ? ORDER BY as_of DESC, created_at DESC LIMIT {int(limit)}",
            (asset_id,),
        )
        return [FailureForecast.from_dict(_json_load(r[0])) for r in rows]

    def latest_forecast(self, asset_id: str) -> FailureForecast | None:
        h = self.forecast_history(asset_id, limit=1)
        return h[0] if h else None

    def latest_forecasts(self, asset_ids=None) -> dict[str, FailureForecast]:
        sql = (
            "SELECT asset_id, body FROM (SELECT asset_id, body, row_number() OVER "
            "(PARTITION BY asset_id ORDER BY as_of DESC, created_at DESC) AS rn FROM forecasts) t WHERE rn = 1"
        )
        rows = self._rows(sql)
        wanted = set(asset_ids) if asset_ids is not None else None
        return {
            r[0]: FailureForecast.from_dict(_json_load(r[1]))
            for r in rows
            if wanted is None or r[0] in wanted
        }

    def forecasts_stamp(self) -> str:
        """Changes whenever a forecast is stored (count and newest write)."""
        n, at = self._rows("SELECT count(*), max(created_at) FROM forecasts")[0]
        return f"{n}:{at}"

    def save_health(self, h: HealthScore) -> None:
        self.save_healths([h])

    def save_healths(self, scores: list[HealthScore]) -> None:
        """Store many health scores in one transaction; a score for the same asset and moment
        replaces the stored one."""
        rows = [
            (h.asset_id, to_naive_utc(h.as_of), h.score, _BODY.encode(h.as_dict())) for h in scores
        ]
        self._upsert_rows(
            "health", ["asset_id", "as_of", "score", "body"], ["asset_id", "as_of"], rows
        )

    @staticmethod
    def _health(body: Any) -> HealthScore:
        d = _json_load(body)
        return HealthScore(
            asset_id=d["asset_id"],
            as_of=datetime.fromisoformat(d["as_of"]),
            score=float(d["score"]),
            drivers=d.get("drivers") or {},
            anomalies=d.get("anomalies") or {},
            extra=d.get("extra") or {},
        )

    def latest_health(self, asset_id: str) -> HealthScore | None:
        rows = self._rows(
            "SELECT body FROM health WHERE asset_id = ? ORDER BY as_of DESC LIMIT 1", (asset_id,)
        )
        return self._health(rows[0][0]) if rows else None

    def health_history(self, asset_id: str, limit: int = 500) -> list[HealthScore]:
        """The asset's health scores, newest first."""
        rows = self._rows(
            f"SELECT body FROM health WHERE asset_id = ? ORDER BY as_of DESC LIMIT {int(limit)}",
            (asset_id,),
        )
        return [self._health(r[0]) for r in rows]

    def latest_healths(self, asset_ids=None) -> dict[str, HealthScore]:
        rows = self._rows(
            "SELECT asset_id, body FROM (SELECT asset_id, body, row_number() OVER "
            "(PARTITION BY asset_id ORDER BY as_of DESC) AS rn FROM health) t WHERE rn = 1"
        )
        wanted = set(asset_ids) if asset_ids is not None else None
        return {r[0]: self._health(r[1]) for r in rows if wanted is None or r[0] in wanted}

    def save_model(
        self, model_id: str, asset_type: str, body: dict[str, Any], artifact: bytes | None = None
    ) -> int:
        """Store a model's card (and its pickled artefact) as the next version for its key."""
        with self._cursor() as cur:
            cur.execute(
                self._sql("SELECT coalesce(max(version), 0) FROM models WHERE asset_type = ?"),
                (asset_type,),
            )
            version = int(cur.fetchall()[0][0]) + 1
            body = {**body, "id": model_id, "asset_type": asset_type, "version": version}
            cur.execute(
                self._sql(
                    "INSERT INTO models (id, asset_type, version, created_at, body, artifact) "
                    "VALUES (?, ?, ?, ?, ?, ?)"
                ),
                (
                    model_id,
                    asset_type,
                    version,
                    to_naive_utc(datetime.now(UTC)),
                    json.dumps(body, default=str),
                    artifact,
                ),
            )
        return version

    def latest_model(self, asset_type: str) -> dict[str, Any] | None:
        rows = self._rows(
            "SELECT body FROM models WHERE asset_type = ? ORDER BY version DESC LIMIT 1",
            (asset_type,),
        )
        return _json_load(rows[0][0]) if rows else None

    def model_artifact(self, model_id: str) -> bytes | None:
        """The pickled model stored with a card (None for models saved before migration 5)."""
        rows = self._rows("SELECT artifact FROM models WHERE id = ?", (model_id,))
        return bytes(rows[0][0]) if rows and rows[0][0] is not None else None

    def forecast_bodies(self, asset_id: str, limit: int) -> list[dict[str, Any]]:
        """The newest ``limit`` stored forecasts of the asset itself (else of its components),
        oldest first, as their JSON bodies: a chart of 90 needs no 90 distribution objects."""
        sql = "SELECT body FROM forecasts WHERE asset_id = ?{} ORDER BY as_of DESC, created_at DESC"
        for extra in (" AND component = ''", ""):
            rows = self._rows(sql.format(extra) + f" LIMIT {int(limit)}", [asset_id])
            if rows:
                return [_json_load(r[0]) for r in rows][::-1]
        return []

    def forecast_stamp(self, asset_id: str) -> str | None:
        """When the newest forecast of an asset was made (for live pages to notice a refresh)."""
        r = self._rows(
            "SELECT max(as_of), max(created_at) FROM forecasts WHERE asset_id = ?", [asset_id]
        )
        return None if r[0][0] is None else f"{r[0][0]}|{r[0][1]}"
