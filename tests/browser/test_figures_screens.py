"""Figures for every screen (issue 16), in Chromium: the built site at 1280 and 390 px, light and dark.

`make figures` writes, beside each image, a dark variant (NAME.dark.png) and, for a figure with a
landscape, a narrow one (NAME.narrow.png, NAME.narrow.dark.png); a video's poster has a dark variant.
docs/hooks/figures.py puts one `<picture>` per theme on the page (Material hides the other theme's by
its `#only-light` / `#only-dark` suffix) with a `<source media>` for the narrow variant. These tests
check what a reader's browser does with that:

- the page shows the variant of its theme, and never requests the other theme's files (a hidden lazy
  image is not fetched), also after the reader flips the palette toggle;
- a narrow viewport (390 px) shows the narrow variant where there is one, a wide one (1280 px) never;
- no page with figures scrolls sideways at 390 px;
- a video shows the poster of the theme, and only that poster is requested.

The figures and pages are found from docs/figures/manifest.json and the built site (not listed by
hand), so the tests follow the catalog.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = ROOT / "docs" / "figures" / "manifest.json"
WIDTHS = (1280, 390)
SCHEMES = ("default", "slate")


def _manifest() -> dict:
    if not MANIFEST.is_file():
        pytest.fail(f"{MANIFEST} is missing: run `make figures`", pytrace=False)
    return json.loads(MANIFEST.read_text(encoding="utf-8"))["figures"]


def _pages_with(site_root: Path, pattern: str) -> list[str]:
    """Site-relative URLs of the built pages whose HTML matches ``pattern``."""
    found = []
    for html in sorted(site_root.rglob("index.html")):
        if re.search(pattern, html.read_text(encoding="utf-8")):
            rel = html.parent.relative_to(site_root).as_posix()
            found.append("" if rel == "." else rel + "/")
    return found


@pytest.fixture(scope="module")
def variant_pages(site_root):
    """(page URL, image figures with variants on it, video figures with a dark poster on it) for the
    built pages that place such figures, the pages with a narrow variant first."""
    figures = _manifest()
    images = {n for n, e in figures.items() if e.get("kind") == "image" and "png_dark" in e.get("files", {})}
    videos = {n for n, e in figures.items() if e.get("kind") == "video" and "poster_dark" in e.get("files", {})}
    if not images:
        pytest.fail("no figure in the manifest has a dark variant: run `make figures`", pytrace=False)
    pages = []
    for url in _pages_with(site_root, r'data-figure="'):
        html = (site_root / url / "index.html").read_text(encoding="utf-8")
        placed = set(re.findall(r'data-figure="([^"]+)"', html))
        if placed & (images | videos):
            # a page built before the figures had variants would show them as plain <img>: stale site
            pages.append((url, sorted(placed & images), sorted(placed & videos)))
    if not pages:
        pytest.fail("no built page places a figure with variants: rebuild the site after `make figures`",
                    pytrace=False)
    pages.sort(key=lambda p: (not any("png_narrow" in figures[n]["files"] for n in p[1]), p[0]))
    return figures, pages


def _open(page, site_url: str, url: str, width: int, scheme: str) -> list[str]:
    """Load ``url`` at ``width`` px in ``scheme`` (as Material's palette picks it from the reader's
    system setting); returns the list the figure requests are appended to."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(urlsplit(request.url).path)
            if "/figures/" in request.url else None)
    page.set_viewport_size({"width": width, "height": 900})
    page.emulate_media(color_scheme="dark" if scheme == "slate" else "light")
    page.goto(site_url + url)
    assert page.evaluate("() => document.body.getAttribute('data-md-color-scheme')") == scheme
    return requested


def _show_every_figure(page) -> None:
    """Scroll each figure into view and wait until its shown image has loaded (lazy images load then)."""
    count = page.locator("figure.optimessay-figure").count()
    for k in range(count):
        figure = page.locator("figure.optimessay-figure").nth(k)
        figure.scroll_into_view_if_needed()
        page.wait_for_function(
            """(k) => {
                const fig = document.querySelectorAll('figure.optimessay-figure')[k];
                const shown = [...fig.querySelectorAll('img')].filter((img) => img.offsetParent !== null);
                return shown.every((img) => img.complete && img.naturalWidth > 0);
            }""", arg=k, timeout=20000)


def _shown_sources(page) -> dict:
    """figure name -> the file name of each image it shows (currentSrc), hidden ones left out."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('figure.optimessay-figure')].map((fig) => [
            fig.dataset.figure,
            [...fig.querySelectorAll('img')].filter((img) => img.offsetParent !== null)
                .map((img) => img.currentSrc.split('/').pop().split('#')[0])]))""")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_each_theme_and_width_shows_and_fetches_only_its_own_variant(page, site_url, variant_pages, width, scheme):
    figures, pages = variant_pages
    url, images, videos = pages[0]
    requested = _open(page, site_url, url, width, scheme)
    _show_every_figure(page)
    shown = _shown_sources(page)
    fetched = {Path(path).name for path in requested}
    for name in images:
        files = figures[name]["files"]
        narrow = width <= 600 and "png_narrow" in files
        role = ("png_narrow" if narrow else "png") + ("_dark" if scheme == "slate" else "")
        assert shown[name] == [files[role]], (name, shown[name])
        others = {files[r] for r in files if r != role}
        assert not (others & fetched), f"{url} at {width} px, {scheme}: requested {sorted(others & fetched)}"
    for name in videos:
        files = figures[name]["files"]
        want, other = ("poster_dark", "poster") if scheme == "slate" else ("poster", "poster_dark")
        poster = page.locator(f'figure[data-figure="{name}"] video').get_attribute("poster")
        assert poster and poster.endswith(files[want]), (name, poster)
        assert files[other] not in fetched
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{url} scrolls sideways by {overflow} px at {width} px"


def test_the_palette_toggle_swaps_the_pictures_and_the_poster(page, site_url, variant_pages):
    figures, pages = variant_pages
    url, images, videos = next((p for p in pages if p[2]), pages[0])
    requested = _open(page, site_url, url, 1280, "default")
    _show_every_figure(page)
    page.locator("form[data-md-component='palette'] label:visible").first.click()  # the reader's toggle
    page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'")
    _show_every_figure(page)
    shown = _shown_sources(page)
    for name in images:
        assert shown[name] == [figures[name]["files"]["png_dark"]], (name, shown[name])
    for name in videos:
        poster = page.locator(f'figure[data-figure="{name}"] video').get_attribute("poster")
        assert poster.endswith(figures[name]["files"]["poster_dark"]), poster
    assert any(path.endswith(".dark.png") for path in requested)


def test_no_page_with_figures_scrolls_sideways_on_a_phone(page, site_url, variant_pages):
    _, pages = variant_pages
    page.set_viewport_size({"width": 390, "height": 900})
    wide = []
    for url, _, _ in pages:
        page.goto(site_url + url)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if overflow > 0:
            wide.append((url, overflow))
    assert wide == []
