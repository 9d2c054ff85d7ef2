"""What the live-figure tests share (tests/browser/test_widgets_*.py): open a widget, read its
drawing (a digest of its canvases), its readout table and its aria-live sentence, drive its controls
as a reader would (keyboard, typed values), and format numbers as the page does; compute a Python
reference in a background thread while the browser loads the page (`in_background`); one Chromium
page per test module and worker instead of a new context per test (`shared_page`); reach a page of
the site by Material's instant navigation instead of a page load (`visit`, `open_widget(instant=True)`)."""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from site_helpers import close_context, page_html, site_pages, watch

# one worker thread: a test's package reference (a Python loop over torch ops) runs while Chromium,
# in its own processes, loads and draws the page; the test then waits for both
_REFERENCES = ThreadPoolExecutor(max_workers=1, thread_name_prefix="widget-reference")
atexit.register(_REFERENCES.shutdown, wait=False, cancel_futures=True)


def in_background(fn, *args, **kwargs) -> Future:
    """Start `fn(*args, **kwargs)` in a background thread; `.result()` returns (or raises) its outcome."""
    return _REFERENCES.submit(fn, *args, **kwargs)


def shared_page():
    """``page, each_test = shared_page()`` in a test module: the module's tests share ONE Chromium
    context and page per worker (a new context per test cost ~0.5 s of Chromium CPU, measured beside
    a reused one) and get the checks of conftest.py's `page` fixture, which this replaces for the
    module: console errors, uncaught page errors and requests outside 127.0.0.1 (aborted) are
    recorded on the page (`page.console_errors`, `page.page_errors`, `page.external_requests`),
    conftest.py's `pytest_runtest_call` fails the test that saw one, and `each_test` empties the
    lists after each test (site_helpers.watch records them and serves sitemap.xml with this
    server's origin, as for `page`). Before each test `each_test` gives the page a new context's
    1280 x 900 viewport, light colour scheme and no reduced-motion preference (leaving the site
    first if the last test set others); each test then opens
    its own URL: a page load by `goto` (which also empties the site's localStorage and
    sessionStorage, as a new context has them) or an instant navigation."""

    @pytest.fixture(scope="module", name="page")
    def page_fixture(browser, site_url):
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        try:
            yield watch(context.new_page(), site_url)
        finally:
            close_context(context)

    @pytest.fixture(autouse=True)
    def each_test(page, site_url):
        # a new context's settings; when the last test left others, the page first leaves the site, so
        # that the page it shows is not laid out and styled again for them (it is left for a new URL)
        dark, reduce = page.evaluate("""() => [matchMedia('(prefers-color-scheme: dark)').matches,
            matchMedia('(prefers-reduced-motion: reduce)').matches]""")
        if page.viewport_size != {"width": 1280, "height": 900} or dark or reduce:
            leave(page)
            page.set_viewport_size({"width": 1280, "height": 900})
            page.emulate_media(color_scheme="light", reduced_motion="no-preference")
        yield
        # conftest.py's pytest_runtest_call has failed this test on anything recorded
        page.console_errors.clear()
        page.page_errors.clear()
        page.external_requests.clear()

    return page_fixture, each_test


def leave(page) -> None:
    """Show about:blank (no script of the site runs there): before a test changes the viewport or the
    emulated media for a page it then loads, so that the page the last test left is not laid out
    and styled again for them (a page of the site restyled in dark mode or laid out at 390 px costs
    ~0.2-0.4 s of Chromium CPU, measured)."""
    if page.url != "about:blank":
        page.goto("about:blank")


def goto(page, url: str) -> None:
    """Load `url` in a shared page as a new context would: with no localStorage or sessionStorage of
    the site. Material stores the palette there (`__palette`) on each load and when the emulated
    colour scheme changes, so an earlier test's theme would otherwise carry over; the page first
    leaves the site (about:blank: no script of the site runs to store it again), then the storage
    is cleared over the DevTools protocol."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    if page.url.startswith(origin):
        leave(page)
    if not hasattr(page, "oe_cdp"):
        page.oe_cdp = page.context.new_cdp_session(page)
    page.oe_cdp.send("Storage.clearDataForOrigin", {"origin": origin, "storageTypes": "local_storage,session_storage"})
    page.goto(url)


def js_sig(v: float, digits: int = 4) -> str:
    """docs/playground/dom.js's sig(): `digits` significant digits, exponent outside [1e-3, 1e5)."""
    if v == 0:
        return "0"
    if 1e-3 <= abs(v) < 1e5:
        text = repr(float(f"{v:.{digits}g}"))
        return text[:-2] if text.endswith(".0") else text
    mantissa, exponent = f"{v:.{digits - 1}e}".split("e")
    return f"{mantissa}e{'+' if int(exponent) >= 0 else '-'}{abs(int(exponent))}"


# Material's instant navigation, as a reader's click on a link of the site: the widgets of the page
# left are marked first, so that the new page's are the unmarked ones (it swaps the page's content;
# a full load, had Material not intercepted the click, leaves no mark either)
_FOLLOW = """(href) => { document.querySelectorAll('.oe-widget').forEach((r) => { r.dataset.oeLeft = '1'; });
    const a = document.createElement('a'); a.href = href; document.body.append(a); a.click(); a.remove(); }"""
_ARRIVED = """(href) => location.href === new URL(href).href
    && document.querySelector('.oe-widget[data-oe-left]') === null && document.querySelector('.md-content') !== null"""


@functools.cache
def _lightest_page(*avoid: str) -> str:
    """A page of the site (in sitemap.xml) that is cheap to show, other than `avoid`: no live figure
    and no video if there is one, else the smallest built HTML."""
    def weight(path):
        html = page_html(path)
        return 'class="oe-widget"' in html, "<video" in html, len(html)

    return min((path for path in dict.fromkeys(site_pages()) if path not in avoid), key=weight)


def visit(page, site_url: str, path_and_query: str) -> None:
    """Open `site_url + path_and_query` in a shared page by Material's instant navigation, as a reader
    following a link of the site: a widget reads its URL state when it mounts there as on a load,
    at about half a load's Chromium CPU (measured: ~0.8 s against ~1.5 s for a widget page; the
    stylesheets, Material's bundle and its search index are not loaded again). Material swaps the
    page only for another path (same path, new query: it just changes the URL), so a visit to the
    path already open goes through the site's lightest page first (~0.3 s). Unlike `goto`, the site's
    storage is kept, as when a reader follows a link (the widgets keep nothing there); a page that
    is not on the site yet (the module's first test) is loaded by `goto`."""
    url = site_url + path_and_query
    current = urlsplit(page.url)
    if not page.url.startswith(site_url) or not page.evaluate("() => !!window.document$"):
        goto(page, url)
        return
    target = urlsplit(url).path
    if current.path == target:
        via = _lightest_page(current.path[len(urlsplit(site_url).path):])
        page.evaluate(_FOLLOW, site_url + via)
        page.wait_for_function(_ARRIVED, arg=site_url + via)
    page.evaluate(_FOLLOW, url)
    page.wait_for_function(_ARRIVED, arg=url)


def open_widget(page, site_url: str, path: str, name: str, query: str = "", width: int = 1280, reload: bool = True,
                instant: bool = False):
    """Open `path` with `query`, wait until widget `name` is mounted; returns its root locator.
    reload=False: `path` is already open (another widget of the same page): no new page load.
    instant=True: reached by instant navigation (`visit`) when the shared page already shows the site."""
    if reload:
        page.set_viewport_size({"width": width, "height": 900})
        if instant:
            visit(page, site_url, f"{path}{query}")
        else:
            goto(page, f"{site_url}{path}{query}")
    root = page.locator(f'.oe-widget[data-widget="{name}"]')
    root.wait_for(state="attached")
    page.wait_for_function(
        f"""() => {{ const r = document.querySelector('.oe-widget[data-widget="{name}"]');
                    return r && r.dataset.widgetState === 'ready'; }}""",
        timeout=20000,
    )
    root.scroll_into_view_if_needed()
    return root


def pixels(root) -> str:
    """A digest of every canvas of the widget (their pixels as PNG data)."""
    urls = root.evaluate("r => [...r.querySelectorAll('canvas')].map(c => c.toDataURL())")
    return hashlib.sha256("".join(urls).encode()).hexdigest()


def readout(root) -> dict[str, str]:
    """The readout table: {data-key: text}."""
    return root.evaluate(
        "r => Object.fromEntries([...r.querySelectorAll('.oe-w-readout tr[data-key]')]"
        ".map(tr => [tr.dataset.key, tr.querySelector('td').textContent]))"
    )


def summary(root) -> str:
    return root.locator(".oe-w-live").text_content()


# the widget's state as one comparable value, in the page: canvases' PNG data, readout rows, summary
_STATE = """(r) => JSON.stringify([[...r.querySelectorAll('canvas')].map((c) => c.toDataURL()),
    [...r.querySelectorAll('.oe-w-readout tr[data-key]')].map((tr) => [tr.dataset.key, tr.querySelector('td').textContent]),
    (r.querySelector('.oe-w-live') || {}).textContent])"""
# the state after the action once all three parts differ from `before` (else false: polled again)
_ALL_CHANGED = "([r, before]) => { const s = (" + _STATE + """)(r), a = JSON.parse(s), b = JSON.parse(before);
    return JSON.stringify(a[0]) !== JSON.stringify(b[0]) && JSON.stringify(a[1]) !== JSON.stringify(b[1]) && a[2] !== b[2] && s; }"""


def _parts(state: str) -> tuple[str, dict[str, str], str]:
    """(`pixels`, `readout`, `summary`) of a widget from its _STATE string."""
    urls, rows, live = json.loads(state)
    return hashlib.sha256("".join(urls).encode()).hexdigest(), dict(rows), live


def changes(root, action) -> None:
    """`action()` changes the widget's pixels, its readout and its aria-live summary. The state is read
    in the page once before and once after (the after state is the value the wait returns): each
    read encodes every canvas as PNG, which cost more Chromium CPU than the rest of the check."""
    before_state = root.evaluate(_STATE)
    action()
    try:  # wait until all three changed (the condition, not a fixed time); the asserts below say which did not
        after_state = root.page.wait_for_function(_ALL_CHANGED, arg=[root.element_handle(), before_state],
                                                  timeout=2000).json_value()
    except PlaywrightTimeout:
        after_state = root.evaluate(_STATE)
    before, after = _parts(before_state), _parts(after_state)
    assert after[0] != before[0], "the drawing did not change"
    assert after[1] != before[1], f"the readout did not change: {after[1]}"
    assert after[2] != before[2], f"the summary did not change: {after[2]}"


def press(root, widget_id: str, key: str, keys: str) -> None:
    """Focus a slider's range input and press keys on it (keyboard access)."""
    root.locator(f"#oe-w-{widget_id}-{key}").focus()
    root.page.keyboard.press(keys)


def type_value(root, widget_id: str, key: str, value) -> None:
    """Type a value into a slider's number field and press Enter."""
    field = root.locator(f"#oe-w-{widget_id}-{key}-n")
    field.fill(str(value))
    field.press("Enter")
