"""Customers' production calendars: shifts, planned stops, shutdowns and blackouts per site.

A customer keeps its own sites' calendars; the manufacturer any. The planner puts jobs only
into the windows a calendar allows, and alarms are silenced during planned stops.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prognos.domain import Principal
from prognos.domain.planning import SiteCalendar
from prognos.errors import NotFound
from prognos.planning.calendar import from_ics
from prognos.service.registry import RegistryService
from prognos.store.ports import DocumentsPort, Kind


class CalendarService:
    def __init__(self, documents: DocumentsPort, registry: RegistryService):
        self._docs = documents
        self._registry = registry

    def put(self, p: Principal, cal: SiteCalendar) -> SiteCalendar:
        site = self._registry.site(p, cal.site_id)
        cal = cal.model_copy(
            update={"timezone": cal.timezone if cal.timezone != "UTC" else site.timezone}
        )
        self._docs.put_document(
            Kind.calendar, site.id, cal.model_dump(mode="json"), customer_id=site.customer_id
        )
        return cal

    def import_ics(
        self, p: Principal, site_id: str, ics: bytes | str, days: int = 400
    ) -> SiteCalendar:
        """An iCalendar file's events as the site's windows for the next ``days`` days."""
        site = self._registry.site(p, site_id)
        cal = from_ics(
            ics, site_id, until=datetime.now(UTC) + timedelta(days=days), timezone=site.timezone
        )
        return self.put(p, cal)

    def get(self, p: Principal, site_id: str) -> SiteCalendar:
        self._registry.site(p, site_id)
        cal = self.of_site(site_id)
        if cal is None:
            raise NotFound(
                f"site {site_id!r} has no calendar", hint="PUT one or import an .ics file"
            )
        return cal

    def list_calendars(self, p: Principal) -> list[SiteCalendar]:
        docs = self._docs.list_documents(
            Kind.calendar, customer_id=None if p.is_manufacturer else p.customer_id
        )
        return [SiteCalendar.model_validate(d) for d in docs]

    def of_site(self, site_id: str) -> SiteCalendar | None:
        """The stored calendar of a site, for the service's own use (planner, alarms)."""
        body = self._docs.get_document(Kind.calendar, site_id)
        return SiteCalendar.model_validate(body) if body else None

    def raw(self, p: Principal, site_id: str) -> dict | None:
        """The stored calendar as its JSON body: a view of a few weeks need not validate a year."""
        self._registry.site(p, site_id)
        return self._docs.get_document(Kind.calendar, site_id)
