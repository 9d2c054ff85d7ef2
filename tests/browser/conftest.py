"""Fixtures for the browser tests of the built site (`make site` builds it into site/).

- `site_root`: the path of the built site (fails, never skips, when it is missing); the environment
  variable OPTIMESSAY_SITE_DIR points the tests at another build (e.g. one in a temporary folder).
- `site_url`: the built site served on 127.0.0.1 (a free port, a thread) for the whole session, as
  a static host serves it: text gzip-compressed (scripts/bench_pages.py's `GzipHandler`).
- `browser`: Debian's Chromium driven by Playwright, headless, for the whole session.
- `program_server`: a fork server with the kinds of tests/browser/program_server.py for the whole
  session (torch imported once per worker); `program_server.run(request, timeout)` runs one page's
  programs in a child forked from it.
- `page`: a fresh context and page per test. It records console errors (`page.console_errors`),
  uncaught page errors (`page.page_errors`) and every request to a host other than 127.0.0.1
  (`page.external_requests`; those requests are aborted, so nothing leaves the machine).
  After the test body, the test fails if any of the three is non-empty. A test that provokes an
  error on purpose clears the list itself once it has checked it. sitemap.xml is served with this
  server's origin, so Material's instant navigation works as it does at site_url.
- `open_page(width=, height=, color_scheme=, reduced_motion=, clipboard=)`: a factory of fresh
  pages (a context each: a first visit), watched and checked like `page`. `watch(page, site_url)`
  does the recording, for a fixture that shares one context over several tests (it clears the
  lists before each test; any funcarg with `external_requests` is checked after the test).
"""

from __future__ import annotations

import functools
import os
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from site_helpers import LOCAL_HOST, ROOT, SITE, close_context, load_script, watch

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def site_root() -> Path:
    """The built site; a missing build is a failure (the Makefile builds it before pytest)."""
    if not (SITE / "index.html").is_file():
        pytest.fail(f"{SITE} has no index.html: run `make site` first", pytrace=False)
    return SITE


@pytest.fixture(scope="session")
def site_url(site_root: Path):
    """`http://127.0.0.1:PORT/`: the built site, served by a thread for the whole session."""
    handler = functools.partial(load_script("bench_pages").GzipHandler, directory=str(site_root))
    server = ThreadingHTTPServer((LOCAL_HOST, 0), handler)  # port 0: the OS picks a free port
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="site-server", daemon=True)
    thread.start()
    try:
        yield f"http://{LOCAL_HOST}:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium under Playwright (Playwright cannot download its own browsers here)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)", pytrace=False)
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
    try:
        yield browser
    finally:
        browser.close()
        playwright.stop()


class ProgramServer:
    """The client of the fork server that runs the pages' code (tests/fork_server.py with the kinds of
    tests/browser/program_server.py): started on the first request, and again after a request that got
    no answer (the server and its child are killed then)."""

    def __init__(self):
        from fork_server import ForkServer

        # -I and a bare environment: what a reader's fresh interpreter has (the child adds what a kind needs)
        # under xdist, one server for all the workers of the run: each worker paid torch's import (3.7 s
        # of CPU) before, and the first ~quarter of the tests is dealt to the workers one by one
        self.server = ForkServer([ROOT / "tests" / "browser"], ["torch", "torch._dynamo", "program_server"],
                                 isolated=True, env={"PATH": "/usr/bin:/bin"}, cwd="/",
                                 shared=os.environ.get("PYTEST_XDIST_TESTRUNUID"))

    def stderr_tail(self, n: int = 3000) -> str:
        return self.server.stderr_tail(n)

    def run(self, request: dict, timeout: float) -> dict:
        """{"status": exit status, "result": ..., "error": traceback or ""} of one request."""
        try:
            return self.server.run(request, timeout)
        except RuntimeError as error:
            pytest.fail(str(error), pytrace=False)

    def close(self):
        self.server.close()


@pytest.fixture(scope="session")
def program_server():
    server = ProgramServer()
    try:
        yield server
    finally:
        server.close()


class FreshPages:
    """`open_page(...)`: a page in a context of its own (empty cache and storage: a first visit),
    watched like `page`; every page opened in a test is checked after it and closed."""

    def __init__(self, browser, site_url: str):
        self.browser, self.site_url = browser, site_url
        self.watched_pages = []

    def __call__(self, *, width: int = 1280, height: int = 900, color_scheme: str = "light",
                 reduced_motion: str = "no-preference", clipboard: bool = False):
        context = self.browser.new_context(viewport={"width": width, "height": height}, color_scheme=color_scheme,
                                           reduced_motion=reduced_motion)
        if clipboard:
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.site_url.rstrip("/"))
        page = watch(context.new_page(), self.site_url)
        self.watched_pages.append(page)
        return page

    def close(self) -> None:
        for page in self.watched_pages:
            close_context(page.context)


@pytest.fixture
def open_page(browser, site_url):
    """A factory of fresh watched pages (see FreshPages), for a test that needs a given viewport,
    colour scheme, motion setting or clipboard, or several first visits."""
    pages = FreshPages(browser, site_url)
    try:
        yield pages
    finally:
        pages.close()


@pytest.fixture
def page(browser, site_url):
    """A new context and page that records console errors, page errors and external requests."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = watch(context.new_page(), site_url)
    try:
        yield page
    finally:
        close_context(context)


def page_problems(page) -> list[str]:
    """Everything the `page` fixture saw that a clean page must not do."""
    problems = [f"console error: {text}" for text in page.console_errors]
    problems += [f"page error: {text}" for text in page.page_errors]
    problems += [f"request outside {LOCAL_HOST}: {url}" for url in page.external_requests]
    return problems


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    """After a test that used `page` or `open_page` (or a fixture's watched page) passed its own
    checks, fail it on any problem recorded on those pages."""
    result = yield
    pages = []  # `page`, a shared page a fixture hands out, and every page `open_page` opened
    for value in item.funcargs.values():
        if hasattr(value, "external_requests"):
            pages.append(value)
        pages += getattr(value, "watched_pages", [])
    for page in {id(page): page for page in pages}.values():  # a shared page may come from two fixtures
        page.wait_for_timeout(50)  # let late console messages of the last action arrive
        problems = page_problems(page)
        if problems:
            pytest.fail(f"{page.url}:\n  " + "\n  ".join(problems), pytrace=False)
    return result
