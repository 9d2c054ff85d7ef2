"""Every live figure of the built site (issue 13), whichever page holds it, in Chromium.

The pages are discovered from the built site (every page whose HTML has an `oe-widget` element), so a
new widget is covered as soon as its page has one. Two visits per such page, in one Chromium page
per worker (widget_helpers.shared_page):

- reached by Material's instant navigation at 1280 px in the light theme (from the page the
  previous such test left, light again; from the 404 page when the shared page holds anything else): every widget mounts (its
  root reaches data-widget-state="ready", exposes root.oeWidget with a timed update and draws on its
  canvas) without a console error; the keyboard's Tab reaches every control of every widget, and
  every control has a label; switching the page to dark mode (data-md-color-scheme="slate") redraws
  every widget that draws on a canvas;
- a full load as a phone reader (390 px) who asked for dark mode and reduced motion: the widgets
  mount and draw with the theme's background, neither the page nor any widget overflows (each
  widget's box lies within the page, no wider than the window), and no canvas keeps changing by
  itself after mounting.

A widget that fails shows a role=alert message in its root and its error reaches the console
(docs/widgets/index.js). The per-widget tests (test_widgets_*.py) check each widget's controls and
numbers; the checks above are made here once for every widget.

The `page` fixture (conftest.py) fails every test on a console error, an uncaught page error or a
request outside 127.0.0.1.
"""

from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from site_helpers import page_html, site_pages
from widget_helpers import goto, leave, shared_page, visit

pytestmark = pytest.mark.browser
page, each_test = shared_page()  # one Chromium page for this module's tests (per worker)


def widget_pages() -> list[str]:
    """Pages of the built site with at least one live figure, each once (sitemap.xml may list a URL
    twice: two nav entries built to one page; testing it twice repeats the same checks)."""
    return [path for path in dict.fromkeys(site_pages()) if re.search(r'class="oe-widget"', page_html(path))]


# with no widget page (no build), one placeholder that fails instead of an empty, skipped parametrization
PAGES = widget_pages() or ["no-page-has-widgets/"]

SETTLED = """() => [...document.querySelectorAll('.oe-widget')]
    .every((r) => r.dataset.widgetState === 'ready' || r.dataset.widgetState === 'failed')"""
STATES = """() => [...document.querySelectorAll('.oe-widget')].map((r) => ({
    name: r.dataset.widget, state: r.dataset.widgetState || '',
    alert: (r.querySelector('[role=alert]') || {}).textContent || '',
    timed: !!r.oeWidget && typeof r.oeWidget.update === 'function' && Number.isFinite(r.oeWidget.lastUpdateMs),
    drawn: [...r.querySelectorAll('canvas')].some((c) => {
        if (!c.width || !c.height) return false;
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        for (let i = 4; i < d.length; i += 4) {
            if (d[i] !== d[0] || d[i + 1] !== d[1] || d[i + 2] !== d[2]) return true;
        }
        return false;
    }) || r.querySelectorAll('canvas').length === 0 }))"""


def settle(page) -> list[dict]:
    page.wait_for_function(SETTLED, timeout=20000)
    return page.evaluate(STATES)


def check_widgets(states: list[dict], where: str) -> None:
    assert states, f"{where}: no .oe-widget found"
    for s in states:
        assert s["state"] == "ready", f"{where}: widget {s['name']!r} did not mount: {s['alert']}"
        assert s["timed"], f"{where}: widget {s['name']!r} has no root.oeWidget = {{update, lastUpdateMs}}"
        assert s["drawn"], f"{where}: widget {s['name']!r} left its canvas blank"


def test_some_page_has_widgets():
    assert widget_pages(), "no page of the built site has a live figure (.oe-widget)"


# canvas snapshots kept in the page and compared there (size and pixels: equal exactly when their PNG
# data URLs are), instead of carrying PNG encodings of every canvas to Python: encoding a page's
# canvases cost 2-70 ms of Chromium CPU each time
SNAP = "(c) => ({ w: c.width, h: c.height, d: c.width && c.height ? c.getContext('2d').getImageData(0, 0, c.width, c.height).data : null })"
SAME = """(a, b) => { if (a.w !== b.w || a.h !== b.h) return false;
    if (a.d === null || b.d === null) return a.d === b.d;
    const x = new Uint32Array(a.d.buffer), y = new Uint32Array(b.d.buffer);  // RGBA: one pixel per element
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
    return true; }"""
KEEP_CANVASES = "() => { window.oeCanvases = [...document.querySelectorAll('.oe-widget canvas')].map(" + SNAP + "); }"
# how many canvases differ from the kept snapshot (a canvas added or removed counts too)
CHANGED_CANVASES = """() => { const now = [...document.querySelectorAll('.oe-widget canvas')].map(""" + SNAP + """),
    kept = window.oeCanvases, same = """ + SAME + """;
    return Math.abs(now.length - kept.length) + now.filter((s, i) => i >= kept.length || !same(s, kept[i])).length; }"""
# per widget: its canvases' snapshots (an empty list for a widget without a canvas)
KEEP_DRAWINGS = """() => { window.oeDrawings = [...document.querySelectorAll('.oe-widget')]
    .map((r) => [...r.querySelectorAll('canvas')].map(""" + SNAP + """)); }"""
# per widget: true if it has no canvas or its drawing differs from the kept one
REDRAWN = """() => { const same = """ + SAME + """;
    return [...document.querySelectorAll('.oe-widget')].map((r, i) => {
        const now = [...r.querySelectorAll('canvas')].map(""" + SNAP + """), kept = window.oeDrawings[i];
        return kept.length === 0 || now.length !== kept.length || now.some((s, j) => !same(s, kept[j])); }); }"""
CONTROLS = """(root) => [...root.querySelectorAll('input, select, button, textarea, [tabindex]')]
    .filter((e) => e.tabIndex >= 0 && !e.disabled && e.getClientRects().length > 0)"""


def tab_reaches_every_control(page, path: str) -> None:
    """Every widget has keyboard controls, each labelled, and Tab from just before it reaches them all."""
    count = page.locator(".oe-widget").count()
    for i in range(count):
        root = page.locator(".oe-widget").nth(i)
        info = root.evaluate(f"""(root) => {{
            const controls = ({CONTROLS})(root);
            controls.forEach((e, j) => {{ e.dataset.oeTabProbe = String(j); }});
            const unlabelled = controls.filter((e) => e.matches('input, select, textarea')
                && !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
                .map((e) => e.outerHTML.slice(0, 80));
            const anchor = document.createElement('button');
            anchor.id = 'oe-tab-anchor';
            anchor.textContent = 'anchor';
            root.before(anchor);
            return {{ n: controls.length, unlabelled }};
        }}""")
        assert info["n"] > 0, f"{path}: widget {i} has no keyboard control"
        assert not info["unlabelled"], f"{path}: widget {i} has controls without a label: {info['unlabelled']}"
        page.focus("#oe-tab-anchor")
        # each control reached by focus records its probe in the page; read back after a batch of
        # Tabs (as many as controls are still missing), at most n * 3 + 5 presses in all
        page.evaluate("""() => { window.oeTabReached = new Set();
            window.oeTabListener = () => { const p = document.activeElement && document.activeElement.dataset.oeTabProbe;
                if (p !== undefined) window.oeTabReached.add(Number(p)); };
            document.addEventListener('focusin', window.oeTabListener); }""")
        reached, presses, limit = set(), 0, info["n"] * 3 + 5
        while presses < limit and len(reached) < info["n"]:
            for _ in range(min(info["n"] - len(reached), limit - presses)):
                page.keyboard.press("Tab")
                presses += 1
            reached = set(page.evaluate("() => [...window.oeTabReached]"))
        page.evaluate("() => document.removeEventListener('focusin', window.oeTabListener)")
        page.evaluate("""() => { document.getElementById('oe-tab-anchor').remove();
            document.querySelectorAll('[data-oe-tab-probe]').forEach((e) => { delete e.dataset.oeTabProbe; }); }""")
        missing = sorted(set(range(info["n"])) - reached)
        assert not missing, f"{path}: widget {i}: Tab never reached controls {missing} of {info['n']}"


def dark_switch_redraws_every_widget(page, path: str) -> None:
    """Switching the page to Material's dark scheme redraws every widget that draws on a canvas."""
    names = page.evaluate("() => [...document.querySelectorAll('.oe-widget')].map((r) => r.dataset.widget)")
    page.evaluate(KEEP_DRAWINGS)
    page.evaluate("() => document.body.setAttribute('data-md-color-scheme', 'slate')")
    try:  # wait for the redraw (the condition), not a fixed time; the assertion below names a laggard
        page.wait_for_function("() => (" + REDRAWN + ")().every((r) => r)", timeout=5000)
    except PlaywrightTimeout:
        pass
    redrawn = page.evaluate(REDRAWN)
    for name, r in zip(names, redrawn, strict=True):
        assert r, f"{path}: widget {name!r} did not redraw when the page switched to dark mode"


def at_a_light_page_with_the_nav(page, site_url) -> None:
    """Leave the shared page at a page of the site, in the light theme, ready for instant navigation:
    where the previous instant-navigation test left it (it switched back to light and recorded its
    URL), else on a fresh load of the site's lightest page that has the whole nav (the 404 page: no
    figures, no video, unlike the home page, whose autoplaying video a full load would fetch and
    decode first)."""
    if getattr(page, "oe_left_light_at", None) == page.url:
        return
    goto(page, site_url + "404.html")
    # Material intercepts only links listed in sitemap.xml, which it fetches after the load event: a
    # click before that arrives is a full page load (seen under load in a fresh clone's make test)
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("path", PAGES)
def test_widgets_after_instant_navigation_tab_and_dark_switch(page, site_url, path):
    """At 1280 px in the light theme, reached by instant navigation: every widget mounts and draws,
    Tab reaches every (labelled) control, and a switch to dark mode redraws every canvas widget."""
    at_a_light_page_with_the_nav(page, site_url)
    page.oe_left_light_at = None
    # the widgets of the page we leave are marked: the new page's are the unmarked ones
    page.evaluate("""() => { window.sameDocument = true;
        document.querySelectorAll('.oe-widget').forEach((r) => { r.dataset.oeLeft = '1'; }); }""")
    link = page.locator(f"nav.md-nav a.md-nav__link[href$='{path}']").first
    link.evaluate("(a) => a.click()")  # the nav may be collapsed (a drawer): click it as a script would
    page.wait_for_url(lambda url: urlsplit(url).path.endswith("/" + path))  # a widget's state may sit in the query
    page.wait_for_function("""() => document.querySelector('.oe-widget') !== null
        && document.querySelector('.oe-widget[data-oe-left]') === null""")
    check_widgets(settle(page), path)
    assert page.evaluate("() => window.sameDocument === true"), "the link did a full page load"
    light = page.evaluate("() => document.body.getAttribute('data-md-color-scheme')")
    assert light != "slate"
    tab_reaches_every_control(page, path)
    dark_switch_redraws_every_widget(page, path)
    # back to the light theme (the widgets redraw), where the next such test starts
    page.evaluate("(light) => document.body.setAttribute('data-md-color-scheme', light)", light)
    page.oe_left_light_at = page.url


def test_a_failing_widget_shows_an_alert_and_reaches_the_console(page, site_url):
    # by instant navigation from the page the instant-navigation tests left (it runs before the phone
    # tests, which leave the site first); the page it leaves is no start for those tests
    visit(page, site_url, PAGES[0])
    page.oe_left_light_at = None
    settle(page)
    page.evaluate("""async () => {
        const div = document.createElement('div');
        div.className = 'oe-widget';
        div.dataset.widget = 'no-such-widget';
        div.id = 'oe-broken';
        document.querySelector('.oe-widget').after(div);
        // the page's own module (same URL: the same instance, with its mounted set)
        (await import(document.querySelector('script[src$="widgets/index.js"]').src)).mountAll();
    }""")
    page.wait_for_function("() => document.getElementById('oe-broken').dataset.widgetState === 'failed'")
    alert = page.locator("#oe-broken [role=alert]")
    assert "no-such-widget" in alert.text_content()
    for _ in range(40):  # wait (at most ~1 s) for the error to reach the console
        if any("no-such-widget" in e for e in page.console_errors + page.page_errors):
            break
        page.wait_for_timeout(25)
    errors = page.console_errors + page.page_errors
    assert any("no-such-widget" in e for e in errors), errors
    page.console_errors.clear()  # provoked on purpose, checked above
    page.page_errors.clear()


@pytest.mark.parametrize("path", PAGES)
def test_on_a_phone_in_dark_mode_with_reduced_motion(page, site_url, path):
    """One load as a phone reader who asked for dark mode and reduced motion (each check below
    concerns one of the three settings, so one page load serves all): no horizontal overflow at
    390 px (the page, and each widget: its box starts at x >= 0, ends within the page and is no
    wider than the window), the widgets mount and draw with the theme's background, and no canvas
    keeps changing by itself after mounting."""
    leave(page)  # first: the page the last test left is not laid out at 390 px and styled dark
    page.set_viewport_size({"width": 390, "height": 844})
    page.emulate_media(color_scheme="dark", reduced_motion="reduce")
    goto(page, site_url + path)
    assert page.evaluate("() => document.body.getAttribute('data-md-color-scheme')") == "slate"
    check_widgets(settle(page), path)
    mounted = time.monotonic()
    overflow = page.evaluate("""() => ({
        page: document.documentElement.scrollWidth - document.documentElement.clientWidth,
        inner: document.documentElement.scrollWidth - window.innerWidth, window: window.innerWidth,
        widgets: [...document.querySelectorAll('.oe-widget')].map((r) => {
            const box = r.getBoundingClientRect();
            return { name: r.dataset.widget, over: r.scrollWidth - r.clientWidth, left: box.left + window.scrollX,
                     width: box.width, right: box.right - document.documentElement.clientWidth }; }) })""")
    assert overflow["page"] <= 0, f"{path}: the page scrolls sideways by {overflow['page']} px at 390 px"
    assert overflow["inner"] <= 0, f"{path}: the page is wider than the window by {overflow['inner']} px at 390 px"
    for w in overflow["widgets"]:
        assert w["over"] <= 0 and w["right"] <= 0.5, f"{path}: widget {w['name']!r} is wider than the page at 390 px: {w}"
        assert w["left"] >= 0 and w["width"] <= overflow["window"], f"{path}: widget {w['name']!r} leaves the window at 390 px: {w}"
    # the canvas background follows the theme: not the light page's white
    light = page.evaluate("""() => [...document.querySelectorAll('.oe-widget canvas')].map((c) => {
        const d = c.getContext('2d').getImageData(1, 1, 1, 1).data; return d[0] + d[1] + d[2] > 3 * 235; })""")
    assert not any(light), f"{path}: a widget canvas kept a white background in dark mode"
    # a widget may draw its end state once, right after mounting (the checks above ran inside the 300 ms)
    page.wait_for_timeout(max(0.0, 300 - 1000 * (time.monotonic() - mounted)))
    page.evaluate(KEEP_CANVASES)
    page.wait_for_timeout(800)  # the property itself: nothing changes over this time
    assert page.evaluate(CHANGED_CANVASES) == 0, f"{path}: a canvas kept changing with prefers-reduced-motion: reduce"
