"""How CLI commands reach the platform: the store directly, or the running server.

On the embedded DuckDB default only one process may open the file, so when ``prognos serve``
holds it a command either goes through the server's API (with ``PROGNOS_API_KEY``) or says so
plainly. PostgreSQL allows both at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prognos.config import Settings
from prognos.errors import AccessDenied, Conflict, NotFound, PrognosError

if TYPE_CHECKING:  # the platform (and what it pulls in) loads when a command opens it
    from prognos.service.platform import Platform


def settings(db: str | None = None) -> Settings:
    s = Settings()
    return s.model_copy(update={"db": db}) if db else s


DEMO_DB = Path("var/demo/prognos.duckdb")  # where `make demo` keeps its store


def require_store(s: Settings) -> None:
    """A command that reads must not leave an empty ``prognos.duckdb`` behind (and answer
    "no API keys yet" about a store nobody meant): a missing embedded file is an error
    that says where the demo's store is and how to point the CLI at one."""
    if s.db.startswith(("postgres://", "postgresql://")) or s.db == ":memory:":
        return
    if Path(s.db).exists():
        return
    where = f"no prognos database at {s.db}"
    if DEMO_DB.exists() and Path(s.db).resolve() != DEMO_DB.resolve():
        hint = (
            f"the demo's is {DEMO_DB}: `export PROGNOS_DB={DEMO_DB}` (and PROGNOS_API_KEY from "
            "var/demo/logins.txt while the demo runs), or pass --db"
        )
    else:
        hint = (
            "run `make demo` for a demo fleet, set PROGNOS_DB (or --db) to your store, or "
            "begin one with `prognos registry load FILE`"
        )
    raise NotFound(where, hint=hint)


@contextmanager
def local_platform(s: Settings, create: bool = True) -> Iterator[Platform]:
    """The store opened here; ``create=False`` for commands that only make sense on a store
    that exists."""
    from prognos.service.platform import open_platform

    if not create:
        require_store(s)
    p = open_platform(s)
    try:
        yield p
    finally:
        p.close()


def try_local(s: Settings) -> Platform | None:
    """The store opened here, or None when a running server holds the DuckDB file."""
    from prognos.service.platform import open_platform

    require_store(s)
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
    import httpx

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
