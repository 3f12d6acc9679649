"""The alarm desk: paged and filtered alarms (or their groups by asset and cause), acknowledged
one at a time, as selected, or all that match the filters."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from prognos.errors import PrognosError
from prognos.service.alarm_desk import AlarmQuery
from prognos.web.session import (
    Viewer,
    csrf_protect,
    error_page,
    panel_of,
    render,
    safe_next,
)
from prognos.web.views import alarms as alarm_views

# Every POST here carries the session's CSRF token (the templates' ``csrf_field``).
router = APIRouter(dependencies=[Depends(csrf_protect)])


@router.get("/alarms", response_class=HTMLResponse)
def alarm_desk(
    request: Request,
    viewer: Viewer,
    state: str | None = None,
    status: str | None = None,  # the desk's old name for it; old links keep working
    severity: str | None = None,
    customer: str | None = None,
    site: str | None = None,
    type: str | None = None,
    cause: str | None = None,
    asset: str | None = None,
    group: bool = False,
    page: Annotated[int, Query(ge=1)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
    done: int | None = None,
    error: str | None = None,
):
    platform = panel_of(request).platform
    state = state or {"open": "active"}.get(status or "", status) or "active"
    try:
        q = AlarmQuery(state, severity, customer, site, asset, type, cause, page, size)
        view = alarm_views.desk_view(platform, viewer, q, group)
    except PrognosError as e:
        return error_page(request, e, viewer)
    if view["total"] and q.page > view["pages"]:  # past the end: the last page
        return RedirectResponse(alarm_views.link(q, group, page=view["pages"]), status_code=303)

    def link(**change) -> str:
        return alarm_views.link(q, bool(change.pop("group", group)), **change)

    return render(
        request,
        "alarms.html",
        viewer,
        q=q,
        group=group,
        v=view,
        tabs=alarm_views.TABS,
        link=link,
        done=done,
        error=error,
    )


def _back(target: str, **params: str | int) -> RedirectResponse:
    target = safe_next(target if target.startswith("/alarms") else "/alarms")
    for k, v in params.items():
        target += ("&" if "?" in target else "?") + f"{k}={quote(str(v))}"
    return RedirectResponse(target, status_code=303)


@router.post("/alarms/ack")
def acknowledge_selected(
    request: Request,
    viewer: Viewer,
    id: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads the default, never mutates
    g: Annotated[list[str], Form()] = [],  # noqa: B006 - groups: "asset|cause"
    one: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "selected",
    note: Annotated[str, Form()] = "",
    state: Annotated[str, Form()] = "",
    severity: Annotated[str, Form()] = "",
    customer: Annotated[str, Form()] = "",
    site: Annotated[str, Form()] = "",
    type: Annotated[str, Form()] = "",
    cause: Annotated[str, Form()] = "",
    asset: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/alarms",
):
    """The desk's form: one row's button (``one``), the selected rows or groups, or every alarm
    the filters match (``scope=matching``)."""
    alarms = panel_of(request).platform.alarms
    try:
        if one:
            alarms.acknowledge(viewer, one, note)
            n = 1
        elif scope == "matching":
            q = AlarmQuery(state or None, severity, customer, site, asset, type, cause)
            n = alarms.acknowledge_many(viewer, q=q, note=note)
        else:
            n = alarms.acknowledge_many(viewer, ids=id, note=note) if id else 0
            for key in g:
                gasset, _, gcause = key.partition("|")
                q = AlarmQuery("open", asset=gasset, cause=gcause)
                n += alarms.acknowledge_many(viewer, q=q, note=note)
    except PrognosError as e:
        if e.status_code == 404:
            return error_page(request, e, viewer)
        return _back(back, error=str(e))
    return _back(back, done=n)


@router.post("/alarms/{alarm_id}/ack")
def acknowledge_one(request: Request, alarm_id: str, viewer: Viewer):
    try:
        panel_of(request).platform.alarms.acknowledge(viewer, alarm_id)
    except PrognosError as e:
        return error_page(request, e, viewer)
    return _back(request.query_params.get("next") or "/alarms")
