"""Small named state documents of the manufacturer's (the demo simulator's seed and clock).

Kept in the store so a restarted server continues where it left off; not for tenants' data.
"""

from __future__ import annotations

from typing import Any

from prognos.domain import Principal
from prognos.store.ports import DocumentsPort

KIND = "state"


class StateService:
    def __init__(self, documents: DocumentsPort):
        self._docs = documents

    def get(self, p: Principal, name: str) -> dict[str, Any] | None:
        p.require_manufacturer()
        return self._docs.get_document(KIND, name)

    def put(self, p: Principal, name: str, body: dict[str, Any]) -> None:
        p.require_manufacturer()
        self._docs.put_document(KIND, name, body)
