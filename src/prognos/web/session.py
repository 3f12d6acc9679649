"""Who is looking and in which language: the signed session, CSRF, page rendering, error pages.

The session cookie holds no key: it holds the key's id, a CSRF token and an expiry, signed
with the panel's secret (``itsdangerous``; ``PROGNOS_SESSION_SECRET``, else one generated and
kept in the store). Each request looks the id up, so a revoked key ends its sessions at once.
A visitor without a session gets an anonymous one (a CSRF token, no key) with the first page,
so the login form is protected too. Every form posts the token as ``csrf``; ``csrf_protect``
refuses a POST whose token does not match its session's (403).
"""

from __future__ import annotations

import hmac
import secrets
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup

from prognos.domain import Principal
from prognos.domain.keys import MANUFACTURER
from prognos.errors import AccessDenied, Forbidden, PrognosError
from prognos.web import i18n

COOKIE = "prognos_session"
LANG_COOKIE = "lang"
YEAR = 365 * 24 * 3600
SECRET_DOC = "panel-session-secret"
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


class LoginRequired(Exception):
    """The request has no valid session; pages redirect to the login, data answers 401."""


class CsrfRejected(Exception):
    """A form came without the token of its session (another site's, or an expired page)."""


class Sessions:
    """Signs and reads the panel's session cookies."""

    def __init__(self, secret: str, hours: float):
        self.max_age = int(hours * 3600)
        self._signer = URLSafeTimedSerializer(secret, salt="prognos.panel.session")

    def dumps(self, key_id: str | None) -> tuple[str, str]:
        """A new session for ``key_id`` (None: anonymous): the cookie value and its CSRF token."""
        token = secrets.token_urlsafe(24)
        return self._signer.dumps({"kid": key_id, "csrf": token}), token

    def loads(self, value: str | None) -> dict[str, Any] | None:
        if not value:
            return None
        try:
            data = self._signer.loads(value, max_age=self.max_age)
        except BadSignature:  # a forged, altered or expired cookie is no session
            return None
        return data if isinstance(data, dict) and isinstance(data.get("csrf"), str) else None


def session_secret(platform) -> str:
    """The configured secret, or the one kept in the store (generated on first use)."""
    if platform.settings.session_secret:
        return platform.settings.session_secret
    doc = platform.state.get(MANUFACTURER, SECRET_DOC)
    if not doc or not doc.get("secret"):
        platform.state.put(MANUFACTURER, SECRET_DOC, {"secret": secrets.token_urlsafe(48)})
        doc = platform.state.get(MANUFACTURER, SECRET_DOC)  # another process may have won
    return doc["secret"]


def panel_of(request: Request):
    return request.app.state.panel


def session_of(request: Request) -> dict[str, Any] | None:
    if "prognos.session" not in request.scope:
        request.scope["prognos.session"] = panel_of(request).sessions.loads(
            request.cookies.get(COOKIE)
        )
    return request.scope["prognos.session"]


def current_principal(request: Request) -> Principal:
    data = session_of(request)
    if not data or not data.get("kid"):
        raise LoginRequired("log in first")
    try:
        return panel_of(request).platform.keys.by_id(data["kid"])
    except AccessDenied as e:
        raise LoginRequired(str(e)) from e


Viewer = Annotated[Principal, Depends(current_principal)]


def set_session(request: Request, resp: Response, key_id: str | None) -> str:
    """Give ``resp`` a new session cookie (a login, a logout, a first visit); returns its token."""
    value, token = panel_of(request).sessions.dumps(key_id)
    _set_cookie(request, resp, value)
    return token


def _set_cookie(request: Request, resp: Response, value: str) -> None:
    resp.set_cookie(
        COOKIE,
        value,
        max_age=panel_of(request).sessions.max_age,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def session_for(platform, key: str) -> tuple[str, str, str]:
    """(cookie name, cookie value, CSRF token) of a session for ``key``, for tests and
    benchmarks that skip the login form; the key is checked as a login checks it."""
    p = platform.keys.authenticate(key)
    sessions = Sessions(session_secret(platform), platform.settings.session_hours)
    value, token = sessions.dumps(p.key_id)
    return COOKIE, value, token


async def csrf_protect(request: Request) -> None:
    """Refuse an unsafe request whose form's ``csrf`` is not its session's token."""
    if request.method not in UNSAFE:
        return
    data = session_of(request)
    form = await request.form()
    sent = form.get("csrf")
    if not data or not isinstance(sent, str) or not hmac.compare_digest(sent, data["csrf"]):
        raise CsrfRejected("the form's token does not match the session")


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
        open_alarms = panel.platform.alarms.counts(principal).get("active", 0)
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
    data = session_of(request)
    fresh = None
    if data is None:  # a first visit: an anonymous session whose token the forms carry
        fresh, token = panel.sessions.dumps(None)
    else:
        token = data["csrf"]
    context["csrf_token"] = token
    context["csrf_field"] = Markup('<input type="hidden" name="csrf" value="{}">').format(token)
    resp = panel.templates.TemplateResponse(request, name, context, status_code=status_code)
    if fresh is not None:
        _set_cookie(request, resp, fresh)
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

    async def csrf_rejected(request: Request, exc: Exception) -> Response:
        e = Forbidden(
            "this form's security token does not match your session",
            hint="reload the page and send the form again",
        )
        e.code = "csrf_failed"
        return error_page(request, e, None)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(CsrfRejected, csrf_rejected)


# -- template filters ------------------------------------------------------------------------
def _num(v: Any, digits: int = 0) -> str:
    if v is None:
        return "–"
    text = f"{float(v):,.{digits}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text  # never "-0"


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
