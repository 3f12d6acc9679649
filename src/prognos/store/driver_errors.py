"""Driver exceptions never leave the store: each becomes a ``PrognosError`` with a hint.

A DuckDB or psycopg exception above the store was a 500 with a driver's message; here it is
one of three answers, by what the caller can do about it:

- the database refused a value (out of range, not convertible): ``ValidationFailed`` (422);
- the stored state refused it (a key exists): ``Conflict`` (409);
- the database failed or went away: ``StoreError`` (503), try again later.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import duckdb

from prognos.errors import Conflict, PrognosError, StoreError, ValidationFailed

_DUCK_VALUE = (
    duckdb.ConversionException,
    duckdb.OutOfRangeException,
    duckdb.InvalidInputException,
)
_RETRY = "try again in a moment; if it persists, check the database and the server's log"


def translate(e: BaseException, engine: str) -> PrognosError | None:
    """The ``PrognosError`` for a driver exception, or None for anything else."""
    text = str(e).strip().splitlines()[0][:300] if str(e).strip() else type(e).__name__
    if isinstance(e, duckdb.ConstraintException):
        return Conflict(f"the database refused the write: {text}")
    if isinstance(e, _DUCK_VALUE):
        return ValidationFailed(
            f"the database refused a value: {text}", hint="check the ranges of the values sent"
        )
    if isinstance(e, duckdb.Error):
        return StoreError(f"the {engine} store failed: {text}", hint=_RETRY)
    if isinstance(e, UnicodeError):
        return ValidationFailed(
            "a text value is not valid Unicode (a lone surrogate?)", hint="send UTF-8 text"
        )
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return None
    if isinstance(e, psycopg.errors.IntegrityError):
        return Conflict(f"the database refused the write: {text}")
    if isinstance(e, psycopg.errors.DataError):
        return ValidationFailed(
            f"the database refused a value: {text}", hint="check the ranges of the values sent"
        )
    if isinstance(e, psycopg.OperationalError | psycopg.InterfaceError):
        return StoreError(
            f"the PostgreSQL server does not answer: {text}",
            hint="the connection is replaced on the next request; " + _RETRY,
        )
    if isinstance(e, psycopg.Error):
        return StoreError(f"the {engine} store failed: {text}", hint=_RETRY)
    return None


@contextmanager
def translated(engine: str) -> Iterator[None]:
    """Re-raise driver exceptions of the block as ``PrognosError``s."""
    try:
        yield
    except PrognosError:
        raise
    except Exception as e:
        err = translate(e, engine)
        if err is None:
            raise
        raise err from e
