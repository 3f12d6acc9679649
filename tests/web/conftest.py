"""The panel's fixtures: one seeded fleet for the session, served by uvicorn for chromium.

The browser is Debian's chromium (RECIPES.md section 3); ``base_url`` is our own server, so
pytest-base-url's autouse URL check is switched off here and tests without a browser never
start the server.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from loop_client import LoopClient
from panel_world import build

from prognos.config import Settings
from prognos.server import create_server_app
from prognos.service.platform import Platform, open_platform

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ROOT = Path(__file__).resolve().parents[2]
# The README's pictures are refreshed only when asked (PROGNOS_DOCS_SCREENSHOTS=1): a test run
# must not leave the checkout modified. Otherwise they go beside the others, under artifacts/.
SHOTS = (
    ROOT / "docs" / "img"
    if os.environ.get("PROGNOS_DOCS_SCREENSHOTS") == "1"
    else ROOT / "artifacts" / "screenshots" / "docs"
)
SCREENSHOTS = ROOT / "artifacts" / "screenshots"  # every page in both languages (gitignored)


@pytest.fixture(scope="session")
def world(tmp_path_factory) -> Iterator[tuple[Platform, dict[str, str]]]:
    """The seeded platform (on a DuckDB file) and API keys: maker, aerolinea, nordjet, pacific-air."""
    d = tmp_path_factory.mktemp("panel")
    platform = open_platform(Settings(db=str(d / "panel.duckdb"), artifacts_dir=d / "artifacts"))
    keys = build(platform)
    yield platform, keys
    platform.close()


# -- a fresh seeded fleet per module, for the in-process tests (the browser's world changes) --
@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """A fresh seeded platform for this module (the browser tests change theirs)."""
    d = tmp_path_factory.mktemp("panel-unit")
    p = open_platform(Settings(db=str(d / "panel.duckdb"), artifacts_dir=d / "artifacts"))
    keys = build(p)
    yield p, keys
    p.close()


@pytest.fixture
def platform(fleet):
    return fleet[0]


@pytest.fixture(scope="module")
def aerolinea(fleet):
    return fleet[0].keys.authenticate(fleet[1]["aerolinea"])


@pytest.fixture
def client(fleet):
    c = LoopClient(create_server_app(platform=fleet[0]))
    yield c
    c.close()


@pytest.fixture(scope="session")
def keys(world, base_url) -> dict[str, str]:
    """API keys by who holds them (the browser tests'), and ``_base_url``: the server."""
    return {**world[1], "_base_url": base_url, "_platform": world[0]}


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where the page walk writes its screenshots: ``artifacts/screenshots/{en,zh-CN}/``."""
    for lang in ("en", "zh-CN"):
        (SCREENSHOTS / lang).mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


@pytest.fixture(scope="session", autouse=True)
def _verify_url():
    """pytest-base-url's check would start the server for every test; the panel's needs none."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def base_url(world) -> Iterator[str]:
    """The whole server app (API + panel) over the seeded platform, in a thread."""
    platform, _ = world
    app = create_server_app(platform=platform)
    port = _free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        ws="none",
        lifespan="on",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="panel-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the panel server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def shot():
    """Write a screenshot of the page to NAME.png in ``SHOTS`` (docs/img when refreshing the
    README's pictures)."""
    SHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str, full_page: bool = False) -> Path:
        path = SHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    return take
