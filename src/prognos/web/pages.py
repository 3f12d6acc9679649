"""The pages people watch: the fleet, one asset, the calendars."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from prognos.errors import PrognosError
from prognos.service.fleet import FleetQuery
from prognos.web import i18n
from prognos.web.session import Viewer, error_page, lang_of, panel_of, render
from prognos.web.views import Names
from prognos.web.views import asset as asset_views
from prognos.web.views import calendar as calendar_views
from prognos.web.views import seen as seen_views

router = APIRouter()

FLEET_POLL_S = 10.0  # how often an open fleet page asks whether its numbers changed


def _fleet_link(q: FleetQuery, **change) -> str:
    params = {
        "customer": q.customer,
        "site": q.site,
        "type": q.type,
        "q": q.q,
        "band": q.band,
        "state": q.state,
        "sort": q.sort,
        "desc": "1" if q.desc else None,
        "page": q.page,
        "size": q.size if q.size != 50 else None,
    }
    params.update(change)
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    if clean.get("page") == 1:
        del clean["page"]
    return "/?" + urlencode(clean)


@router.get("/", response_class=HTMLResponse)
def fleet_page(
    request: Request,
    viewer: Viewer,
    customer: str | None = None,
    site: str | None = None,
    type: str | None = None,
    q: str | None = None,
    band: str | None = None,
    state: str | None = None,
    sort: str = "rul",
    desc: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
):
    platform = panel_of(request).platform
    try:
        query = FleetQuery(customer, site, type, q, band, sort, desc, page, size, state)
        result = platform.fleet.page(viewer, query)
    except PrognosError as e:
        return error_page(request, e, viewer)
    if result.total and query.page > result.pages:  # past the end: the last page
        return RedirectResponse(_fleet_link(query, page=result.pages), status_code=303)

    def sort_link(col: str) -> str:
        return _fleet_link(
            query, sort=col, desc=None if query.sort != col or query.desc else "1", page=None
        )

    Names(platform, viewer).name_rows(result.rows)  # people read names; ids stay in links
    zones = {s.id: s.timezone for s in platform.registry.sites(viewer)}
    seen_views.add_seen(result.rows, zones, lang_of(request))
    seen_views.mark_replaced(result.rows, platform.registry.snapshot().assets)
    rul_scale = max((r["p90"] or 0 for r in result.rows), default=0) or 1.0
    return render(
        request,
        "fleet.html",
        viewer,
        result=result,
        query=query,
        options=platform.fleet.filter_options(viewer),
        sort_link=sort_link,
        page_link=lambda n: _fleet_link(query, page=n),
        rul_scale=rul_scale,
        states=result.summary["state_tiles"],
        state_link=lambda st: _fleet_link(query, state=st, page=None),
        poll_s=FLEET_POLL_S,
    )


@router.get("/assets/{asset_id}", response_class=HTMLResponse)
def asset_page(request: Request, asset_id: str, viewer: Viewer):
    try:
        platform = panel_of(request).platform
        view = asset_views.asset_view(platform, viewer, asset_id)
        st = platform.lifecycle.state(viewer, asset_id)
    except PrognosError as e:
        return error_page(request, e, viewer)
    catalogue = i18n.translations(lang_of(request))
    for c in view["channel_info"]:  # the charts' axes name units as the reader writes them
        c["unit_label"] = i18n.unit_label(c["unit"], catalogue)
    tz = view["site"].timezone if view["site"] else None
    view["state"] = st.state.value
    view["seen"] = seen_views.seen(st.last_seen, tz, lang_of(request))
    installed = view["asset"].installed_at
    scored = [x.as_of for x in (view["health"], view["forecast_obj"]) if x is not None]
    view["replaced_on"] = installed.date() if scored and min(scored) < installed else None
    return render(request, "asset.html", viewer, v=view)


@router.get("/calendar", response_class=HTMLResponse)
def calendar_page(
    request: Request,
    viewer: Viewer,
    customer: str | None = None,
    start: date | None = None,
    days: Annotated[int, Query(ge=7, le=120)] = 42,
):
    try:
        cal = calendar_views.calendar_view(
            panel_of(request).platform, viewer, customer, start, days
        )
    except PrognosError as e:
        return error_page(request, e, viewer)

    def shift(weeks: int) -> str:
        params = {"start": (cal["start"] + timedelta(weeks=weeks)).isoformat()}
        if viewer.is_manufacturer and cal["customer_id"]:
            params["customer"] = cal["customer_id"]
        return "/calendar?" + urlencode(params)

    def jump(day: date) -> str:
        """The calendar from the week before ``day`` (the same customer)."""
        params = {"start": (day - timedelta(days=7)).isoformat()}
        if viewer.is_manufacturer and cal["customer_id"]:
            params["customer"] = cal["customer_id"]
        return "/calendar?" + urlencode(params)

    return render(
        request, "calendar.html", viewer, cal=cal, shift=shift, jump=jump, today=date.today()
    )
