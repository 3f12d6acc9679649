"""Pages where people act: log in and out, language, work orders (the alarm desk acts in
``alarm_pages``)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from prognos.domain.planning import WorkOrderStatus
from prognos.errors import AccessDenied, PrognosError, TooManyRequests
from prognos.web import i18n
from prognos.web.session import (
    LANG_COOKIE,
    YEAR,
    Viewer,
    csrf_protect,
    error_page,
    panel_of,
    render,
    safe_next,
    set_session,
)
from prognos.web.views import Names

# Every POST here carries the session's CSRF token (the templates' ``csrf_field``).
router = APIRouter(dependencies=[Depends(csrf_protect)])


# -- session -------------------------------------------------------------------------------------
@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", next=safe_next(next), failed=False)


@router.post("/login")
def login(request: Request, key: Annotated[str, Form()] = "", next: Annotated[str, Form()] = "/"):
    """Check the key and start a session that holds its id (never the key) and a new token."""
    key = key.strip()
    client = request.client.host if request.client else "unknown"
    try:
        p = panel_of(request).platform.keys.authenticate(key, client)
    except TooManyRequests as e:
        resp = error_page(request, e, None)
        resp.headers["Retry-After"] = str(max(1, int(e.retry_after + 0.999)))
        return resp
    except AccessDenied:
        return render(request, "login.html", status_code=401, next=safe_next(next), failed=True)
    resp = RedirectResponse(safe_next(next), status_code=303)
    set_session(request, resp, p.key_id)
    return resp


@router.post("/logout")
def logout(request: Request):
    resp = RedirectResponse("/login", status_code=303)
    set_session(request, resp, None)  # anonymous again, with a new token
    return resp


@router.get("/lang/{code}")
def switch_language(code: str, next: str = "/"):
    resp = RedirectResponse(safe_next(next), status_code=303)
    if code in i18n.LANGS:
        resp.set_cookie(LANG_COOKIE, code, max_age=YEAR, samesite="lax")
    return resp


# -- work orders -----------------------------------------------------------------------------
def _back(request: Request, fallback: str, error: str | None = None) -> RedirectResponse:
    target = safe_next(request.query_params.get("next") or fallback)
    if error:
        target += ("&" if "?" in target else "?") + "error=" + quote(error)
    return RedirectResponse(target, status_code=303)


@router.get("/workorders", response_class=HTMLResponse)
def workorders_page(
    request: Request, viewer: Viewer, status: str | None = None, error: str | None = None
):
    platform = panel_of(request).platform
    orders = platform.orders.list_orders(viewer, status=status)
    return render(
        request,
        "workorders.html",
        viewer,
        orders=orders,
        names=Names(platform, viewer),
        crews={c.id: c for c in platform.resources.crews(viewer)},  # region, skills: a tooltip
        status=status,
        error=error,
        statuses=[s.value for s in WorkOrderStatus],
    )


@router.post("/workorders/{order_id}/complete")
def complete(
    request: Request,
    order_id: str,
    viewer: Viewer,
    condition: Annotated[str, Form()] = "",
    measured_wear: Annotated[str, Form()] = "",
    failure_found: Annotated[bool, Form()] = False,
    part_replaced: Annotated[bool, Form()] = False,
):
    try:
        wear = float(measured_wear) if measured_wear.strip() else None
    except ValueError:
        return _back(request, "/workorders", f"measured wear {measured_wear!r} is not a number")
    try:
        panel_of(request).platform.orders.complete(
            viewer,
            order_id,
            condition,
            wear,
            failure_found,
            part_replaced,
        )
    except PrognosError as e:
        if e.status_code == 404:
            return error_page(request, e, viewer)
        return _back(request, "/workorders", str(e))
    return _back(request, "/workorders")


@router.post("/workorders/{order_id}/{action}")
def transition(request: Request, order_id: str, action: str, viewer: Viewer):
    try:
        panel_of(request).platform.orders.act(viewer, order_id, action)
    except PrognosError as e:
        if e.status_code == 404:
            return error_page(request, e, viewer)
        return _back(request, "/workorders", str(e))
    return _back(request, "/workorders")
