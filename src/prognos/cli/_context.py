"""How CLI commands reach the platform: the store directly, or the running server.

On the embedded DuckDB default only one process may open the file, so when ``prognos serve``
holds it a command either goes through the server's API (with ``PROGNOS_API_KEY``) or says so
plainly. PostgreSQL allows both at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from prognos.config import Settings
from prognos.errors import AccessDenied, Conflict, PrognosError
from prognos.service.platform import Platform, open_platform


def settings(db: str | None = None) -> Settings:
    s = Settings()
    return s.model_copy(update={"db": db}) if db else s


@contextmanager
def local_platform(s: Settings) -> Iterator[Platform]:
    p = open_platform(s)
    try:
        yield p
    finally:
        p.close()


def try_local(s: Settings) -> Platform | None:
    """The store opened here, or None when a running server holds the DuckDB file."""
    try:
        return open_platform(s)
    except Conflict:
        return None


def remote_get(s: Settings, path: str, **params: Any) -> Any:
    return _remote(s, "GET", path, params=params)


def remote_post(s: Settings, path: str, **kw: Any) -> Any:
    return _remote(s, "POST", path, **kw)


def remote_delete(s: Settings, path: str) -> Any:
    return _remote(s, "DELETE", path)


def _remote(s: Settings, method: str, path: str, **kw: Any) -> Any:
    if not s.api_key:
        raise Conflict(
            f"the database {s.db} is held by a running prognos server",
            hint="set PROGNOS_API_KEY to a manufacturer key so this command goes through the "
            f"server at {s.server_url}, or stop the server first",
        )
    try:
        kw.setdefault("timeout", 60)
        r = httpx.request(method, s.server_url + path, headers={"X-API-Key": s.api_key}, **kw)
    except httpx.HTTPError as e:
        raise PrognosError(
            f"cannot reach the prognos server at {s.server_url}: {e}",
            hint="check PROGNOS_API_URL / PROGNOS_PORT",
        ) from e
    if r.status_code >= 400:
        err = r.json().get("error", {}) if "json" in r.headers.get("content-type", "") else {}
        cls = AccessDenied if r.status_code in (401, 403) else PrognosError
        raise cls(err.get("message") or f"server answered {r.status_code}", hint=err.get("hint"))
    return r.json()
