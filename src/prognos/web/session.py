"""Who is looking and in which language: the session cookie, page rendering, error pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from prognos.domain import Principal
from prognos.errors import AccessDenied, PrognosError
from prognos.web import i18n

COOKIE = "prognos_key"
LANG_COOKIE = "lang"
YEAR = 365 * 24 * 3600


class LoginRequired(Exception):
    """The request has no valid session; pages redirect to the login, data answers 401."""


def panel_of(request: Request):
    return request.app.state.panel


def current_principal(request: Request) -> Principal:
    try:
        return panel_of(request).platform.keys.authenticate(request.cookies.get(COOKIE))
    except AccessDenied as e:
        raise LoginRequired(str(e)) from e


Viewer = Annotated[Principal, Depends(current_principal)]


def lang_of(request: Request) -> str:
    return i18n.pick(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def safe_next(target: str | None) -> str:
    """Only same-site paths: ``/x`` but never ``//evil.example`` or ``https://...``."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def render(
    request: Request,
    name: str,
    principal: Principal | None = None,
    status_code: int = 200,
    **ctx: Any,
) -> HTMLResponse:
    panel = panel_of(request)
    lang = lang_of(request)
    catalogue = i18n.translations(lang)
    who, open_alarms = None, 0
    if principal is not None:
        open_alarms = panel.platform.alarms.counts(principal).get("open", 0)
        if principal.is_manufacturer:
            who = {"label": catalogue.gettext("Manufacturer (all customers)"), "customer": None}
        else:
            c = panel.platform.registry.customer(principal, principal.customer_id)
            who = {
                "label": c.name,
                "customer": principal.customer_id,
            }
    context = {
        "i18n": catalogue,  # read by gettext, ngettext and the filters that translate data
        "lang": lang,
        "langs": i18n.LANGS,
        "js_strings": i18n.js_strings(lang),
        "weekdays": i18n.weekdays(lang),
        "principal": principal,
        "who": who,
        "open_alarms": open_alarms,
        "path": request.url.path,
        "here": request.url.path + (f"?{request.url.query}" if request.url.query else ""),
        **ctx,
    }
    resp = panel.templates.TemplateResponse(request, name, context, status_code=status_code)
    if request.query_params.get("lang") in i18n.LANGS:
        resp.set_cookie(LANG_COOKIE, lang, max_age=YEAR, samesite="lax")
    return resp


def error_page(request: Request, e: PrognosError, principal: Principal | None) -> HTMLResponse:
    return render(
        request,
        "error.html",
        principal,
        status_code=e.status_code,
        code=e.code,
        message=e.message,
        hint=e.hint,
    )


def install(app: FastAPI) -> None:
    async def login_required(request: Request, exc: Exception) -> Response:
        path = request.url.path
        if path.startswith(("/panel/data/", "/events")):
            return JSONResponse(
                {"error": {"code": "access_denied", "message": "log in first"}}, status_code=401
            )
        target = path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='/')}", status_code=303)

    app.add_exception_handler(LoginRequired, login_required)


# -- template filters ------------------------------------------------------------------------
def _num(v: Any, digits: int = 0) -> str:
    if v is None:
        return "–"
    return f"{float(v):,.{digits}f}"


def _when(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, str):
        v = datetime.fromisoformat(v)
    if isinstance(v, datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _day(v: Any) -> str:
    if v is None:
        return "–"
    if isinstance(v, str):
        return v[:10]
    return v.strftime("%Y-%m-%d")


FILTERS = {"num": _num, "when": _when, "day": _day}
