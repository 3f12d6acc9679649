"""One exception tree for prognos.

    PrognosError
    ├── ConfigError            a setting is missing or malformed
    ├── NotFound               an id names nothing the caller may see
    ├── AccessDenied           a key is missing, unknown or lacks the right (429: too many tries)
    ├── Conflict               the request contradicts stored state (store busy, duplicate id)
    ├── ValidationFailed       input that cannot be accepted; carries the per-record rejections
    ├── StoreError             the database failed or refused
    ├── ModelError             a model cannot be trained or used (no data, not fitted)
    └── Infeasible             a plan cannot satisfy a named constraint

Lower layers raise these; the API turns them into one JSON error shape and the CLI into one
sentence with a next step.
"""

from __future__ import annotations


class PrognosError(Exception):
    """Base of every error prognos raises on purpose."""

    status_code = 500
    code = "error"

    def __init__(self, message: str, *, hint: str | None = None, details: object | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class ConfigError(PrognosError):
    status_code = 500
    code = "config_error"


class NotFound(PrognosError):
    status_code = 404
    code = "not_found"


class AccessDenied(PrognosError):
    status_code = 401
    code = "access_denied"


class Forbidden(AccessDenied):
    status_code = 403
    code = "forbidden"


class TooManyRequests(AccessDenied):
    """Too many failed attempts from one place; ``retry_after`` says when to try again."""

    status_code = 429
    code = "too_many_requests"

    def __init__(self, message: str, *, retry_after: float, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class Conflict(PrognosError):
    status_code = 409
    code = "conflict"


class ValidationFailed(PrognosError):
    status_code = 422
    code = "validation_failed"


class PayloadTooLarge(ValidationFailed):
    status_code = 413
    code = "payload_too_large"


class StoreError(PrognosError):
    status_code = 503
    code = "store_error"


class ModelError(PrognosError):
    status_code = 422
    code = "model_error"


class Infeasible(PrognosError):
    status_code = 422
    code = "infeasible"
