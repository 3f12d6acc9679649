"""Secrets out of everything prognos prints: passwords in URLs, key secrets in log lines.

``PROGNOS_DB=postgresql://user:secret@host/db`` and ``mqtt://user:secret@broker`` carry their
password; API keys read ``pk_<id>_<secret>``. What is printed shows who and where, never the secret:

    redact("postgresql://prognos:s3cret@db:5432/p")   # 'postgresql://prognos:***@db:5432/p'
    install_log_filter()                              # every log record passes through redact
"""

from __future__ import annotations

import logging
import re

_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:/@\s]+):[^@\s]*@")
_API_KEY = re.compile(r"\b(pk_[0-9a-f]{6,})_[A-Za-z0-9_-]{8,}")
_PASSWORD_PARAM = re.compile(r"(?i)\b(password|passwd|pwd)=([^\s&;]+)")


def redact(text: str) -> str:
    """``text`` with URL passwords, API key secrets and ``password=...`` values masked."""
    text = _URL_PASSWORD.sub(r"\1:***@", text)
    text = _API_KEY.sub(r"\1_***", text)
    return _PASSWORD_PARAM.sub(r"\1=***", text)


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message (formatted with its arguments) before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit its format: leave it alone
            return True
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True


def install_log_filter() -> None:
    """Put the filter on every handler of the root logger (call after logging is configured)."""
    for h in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in h.filters):
            h.addFilter(RedactingFilter())
