"""What the site tests share besides fixtures: where the built site is, its list of pages, and how a
browser page is watched (`watch`: console errors, page errors, requests outside 127.0.0.1)."""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import sys
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
# OPTIMESSAY_SITE_DIR points the tests at another build (e.g. one in a temporary folder)
SITE = Path(os.environ.get("OPTIMESSAY_SITE_DIR", ROOT / "site")).resolve()
LOCAL_HOST = "127.0.0.1"
# URL schemes that never reach the network (inline data, in-page objects, the blank page)
LOCAL_SCHEMES = {"data", "blob", "about"}


def site_pages() -> list[str]:
    """Every page of the built site as a path below its root ('' for the home page, 'adam/', ...),
    in the order of sitemap.xml (MkDocs lists every page there); [] when there is no build."""
    sitemap = SITE / "sitemap.xml"
    if not sitemap.is_file():
        return []
    urls = re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", sitemap.read_text(encoding="utf-8"))
    prefix = os.path.commonprefix(urls) if len(urls) > 1 else urls[0] if urls else ""
    prefix = prefix[: prefix.rfind("/") + 1]  # the site_url: up to the last slash they share
    return [url[len(prefix):] for url in urls]


@functools.cache
def page_html(path: str) -> str:
    """The built HTML of the page at `path` ('' is the home page), read once per test process (the
    session never rebuilds SITE)."""
    return (SITE / path / "index.html").read_text(encoding="utf-8")


@functools.cache
def page_text(path: str) -> str:
    """The text of the page at `path`: its built HTML with the tags stripped, entities decoded."""
    return unescape(re.sub(r"<[^>]+>", "", page_html(path)))


def first_page_with(fragment: str, *, text: bool = False, besides: str | None = None,
                    required: bool = True) -> str | None:
    """The first page (sitemap order; not `besides`) whose built HTML contains `fragment`
    (with `text=True`: whose text, tags stripped, contains it); None if none does and not `required`."""
    for path in site_pages():
        if path != besides and fragment in (page_text(path) if text else page_html(path)):
            return path
    if not required:
        return None
    pytest.fail(f"no page of the site{f' besides /{besides}' if besides is not None else ''} "
                f"contains {fragment!r}")


def load_script(name: str):
    """Import scripts/NAME.py as a module (scripts/ is not a package)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before exec: dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


def by_page(programs: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """``[("PAGE:NAME", code), ...]`` grouped by PAGE, in order (one test per page, one interpreter each)."""
    pages: dict[str, list[tuple[str, str]]] = {}
    for program_id, code in programs:
        pages.setdefault(program_id.split(":")[0], []).append((program_id, code))
    return pages


def is_local(url: str) -> bool:
    """True for a URL served by our own server (or one that never touches the network)."""
    parts = urlsplit(url)
    return parts.scheme in LOCAL_SCHEMES or parts.hostname == LOCAL_HOST


def watch(page, site_url: str):
    """Record on `page` its console errors, uncaught page errors and requests outside 127.0.0.1
    (aborted: nothing leaves the machine), and serve sitemap.xml to its context with this server's
    origin. Returns the page, with the lists `console_errors`, `page_errors`, `external_requests`."""
    page.console_errors = []
    page.page_errors = []
    page.external_requests = []

    def on_console(message):
        if message.type == "error":
            location = message.location or {}
            page.console_errors.append(f"{message.text} ({location.get('url', '?')}:{location.get('lineNumber', '?')})")

    def on_request(request):
        if not is_local(request.url):
            page.external_requests.append(request.url)

    def on_route(route):
        url = route.request.url
        if not is_local(url):
            route.abort()  # recorded by on_request; nothing leaves the machine
        elif urlsplit(url).path.endswith("/sitemap.xml"):
            # Material's instant navigation only intercepts links listed in sitemap.xml, and keeps
            # the port of site_url (8000, `make serve`) in those URLs; this server runs elsewhere.
            # Giving the sitemap this server's origin lets tests see what a reader at site_url sees.
            # Read from disk, not fetched through the route: a fetch still pending when the test
            # closes its page fails with "Response has been disposed".
            sitemap = (SITE / "sitemap.xml").read_text(encoding="utf-8")
            sitemap = re.sub(r"<loc>https?://[^/<]+", f"<loc>{site_url.rstrip('/')}", sitemap)
            route.fulfill(status=200, content_type="application/xml", body=sitemap)
        else:
            route.continue_()

    page.on("console", on_console)
    page.on("pageerror", lambda error: page.page_errors.append(str(error)))
    page.on("request", on_request)
    # Chromium asks the test process about the requests these patterns match, and only those: any
    # URL outside site_url (a superset of the non-local ones; on_route lets a local one through) and
    # every sitemap.xml. A route for every request cost a round trip to Python per request.
    page.context.route(re.compile(rf"^(?!{re.escape(site_url)}|(?:data|blob|about):)"), on_route)
    page.context.route(re.compile(r"/sitemap\.xml(?:[?#]|$)"), on_route)
    return page


def close_context(context) -> None:
    # requests still in flight (Material fetches sitemap.xml in the background) must not reach
    # the route handler of a closing context: that raises TargetClosedError, a flake
    context.unroute_all(behavior="ignoreErrors")
    context.close()


class FirstVisits:
    """First visits without a new context each (a new context and its renderer cost ~0.9 s of
    Chromium CPU per load, measured: 8 dark loads 21.1-21.6 s fresh, 14.1-14.6 s in one context).

    `page(width=, height=, color_scheme=, reduced_motion=, clipboard=)` hands out the one watched page
    of a context with those settings (made on first use, kept for the test module; the viewport is
    set on the page, as a new context's is, before it loads anything), emptied of what a site could
    find of an earlier visit: it leaves the site (about:blank: no script of the site runs
    while its data is cleared), the tab's sessionStorage for the site and the site's storage of every
    other kind are cleared (localStorage holds Material's palette), and the browser's HTTP cache too. The HTTP cache is not used anyway: watch()
    routes requests, and Playwright disables the cache of a context with routes, so every picture,
    script and font of the page is requested again, seen by `page.on("request")`. Measured on the 20
    pages of the site, twice over in one context in light and dark mode: the same requests (URL by URL,
    counted) and the same first-load weight (scripts/bench_pages.py) as a new context's."""

    def __init__(self, browser, site_url: str):
        self.browser, self.site_url = browser, site_url
        self.origin = site_url.rstrip("/")
        self.pages: dict[tuple, object] = {}

    def page(self, *, width: int = 1280, height: int = 900, color_scheme: str = "light",
             reduced_motion: str = "no-preference", clipboard: bool = False):
        key = (color_scheme, reduced_motion, clipboard)
        page = self.pages.get(key)
        if page is None:
            context = self.browser.new_context(viewport={"width": width, "height": height},
                                               color_scheme=color_scheme, reduced_motion=reduced_motion)
            if clipboard:
                context.grant_permissions(["clipboard-read", "clipboard-write"], origin=self.origin)
            page = self.pages[key] = watch(context.new_page(), self.site_url)
            page.oe_cdp = context.new_cdp_session(page)
        else:
            if page.url.startswith(self.origin):  # the tab's sessionStorage (clearDataForOrigin leaves it)
                page.evaluate("sessionStorage.clear()")
            if page.url != "about:blank":
                page.goto("about:blank")
            if page.viewport_size != {"width": width, "height": height}:  # on about:blank
                page.set_viewport_size({"width": width, "height": height})
        page.oe_cdp.send("Storage.clearDataForOrigin", {"origin": self.origin, "storageTypes": "all"})
        page.oe_cdp.send("Network.clearBrowserCache")
        for records in (page.console_errors, page.page_errors, page.external_requests):
            records.clear()
        return page

    def close(self) -> None:
        for page in self.pages.values():
            close_context(page.context)


class _FirstVisitsOfATest:
    """`first_visit(**settings)`: FirstVisits.page; `watched_pages` (the pages handed out in this test)
    are checked after it by conftest.py's pytest_runtest_call, as `open_page`'s are."""

    def __init__(self, visits: FirstVisits):
        self.visits = visits
        self.watched_pages = []

    def __call__(self, **settings):
        page = self.visits.page(**settings)
        self.watched_pages.append(page)
        return page


def first_visit_fixtures():
    """``first_visits, first_visit = first_visit_fixtures()`` in a test module: `first_visit(...)` in a
    test is a first visit's page (FirstVisits), its contexts shared by the module's tests per worker."""

    @pytest.fixture(scope="module", name="first_visits")
    def first_visits_fixture(browser, site_url):
        visits = FirstVisits(browser, site_url)
        try:
            yield visits
        finally:
            visits.close()

    @pytest.fixture(name="first_visit")
    def first_visit_fixture(first_visits):
        return _FirstVisitsOfATest(first_visits)

    return first_visits_fixture, first_visit_fixture
