"""A synchronous client over the app that works beside Playwright's event loop."""

from __future__ import annotations

import asyncio
import threading

import httpx

from prognos.web.session import session_for


class LoopClient:
    """A synchronous face on ``httpx.AsyncClient`` over the app, on its own loop and thread.

    After the browser tests the main thread keeps Playwright's event loop, where an ``async def``
    test cannot run; requests made from a thread of their own do not care.
    """

    def __init__(self, app):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.app = app
        self.http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
        self.cookies = self.http.cookies
        self.csrf = ""

    def log_in(self, key: str) -> None:
        """A session for ``key`` without the login form; ``csrf`` is its forms' token."""
        name, value, self.csrf = session_for(self.app.state.panel.platform, key)
        self.cookies.set(name, value)

    def _call(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)

    def get(self, url: str, **kw) -> httpx.Response:
        return self._call(self.http.get(url, **kw))

    def post(self, url: str, **kw) -> httpx.Response:
        return self._call(self.http.post(url, **kw))

    def close(self) -> None:
        self._call(self.http.aclose())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()
