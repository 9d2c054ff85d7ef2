"""Figures for every screen (issue 16), in Chromium: the built site at 1280 and 390 px, light and dark.

`make figures` writes, beside each image, a dark variant (NAME.dark.png) and, for a figure with a
landscape, a narrow one (NAME.narrow.png, NAME.narrow.dark.png); a video's poster has a dark variant.
docs/hooks/figures.py puts one `<picture>` per theme on the page (Material hides the other theme's by
its `#only-light` / `#only-dark` suffix) with a `<source media>` for the narrow variant. These tests
check what a reader's browser does with that:

- the page shows the variant of its theme, and never requests the other theme's files (a hidden lazy
  image is not fetched), also after the reader flips the palette toggle;
- a narrow viewport (390 px) shows the narrow variant where there is one, a wide one (1280 px) never;
- a first visit in dark mode fetches no light picture, and no page with figures scrolls sideways at
  390 px (one test per page with figures checks both);
- a video shows the poster of the theme, and only that poster is requested.

The figures, their variants and the pages are read from the built site's markup (not listed by
hand), so the tests follow the catalog.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from site_helpers import SITE

WIDTHS = (1280, 390)
SCHEMES = ("default", "slate")


def _file(url: str) -> str:
    return url.split("/")[-1].split("#")[0]


def _variants(html: str) -> dict:
    """figure name -> its files by role, read from the built page's markup (the manifest the site was
    built from is not in the site, and docs/figures/ may have moved on since): png, png_dark,
    png_narrow, png_narrow_dark for an image with variants; poster, poster_dark for a video."""
    found = {}
    for name, body in re.findall(r'<figure class="optimessay-figure[^"]*" data-figure="([^"]+)">(.*?)</figure>',
                                 html, re.DOTALL):
        files = {}
        for theme, picture in re.findall(r'<picture class="optimessay-figure__(light|dark)">(.*?)</picture>', body,
                                         re.DOTALL):
            suffix = "_dark" if theme == "dark" else ""
            files["png" + suffix] = _file(re.search(r'<img src="([^"]+)"', picture).group(1))
            narrow = re.search(r'<source media="[^"]*" srcset="([^"]+)"', picture)
            if narrow:
                files["png_narrow" + suffix] = _file(narrow.group(1))
        posters = re.search(r'data-poster-light="([^"]+)" data-poster-dark="([^"]+)"', body)
        if posters:
            files.update(poster=_file(posters.group(1)), poster_dark=_file(posters.group(2)))
        if files:
            found[name] = files
    return found


def pages_with_variants(site_root: Path) -> list[tuple[str, dict]]:
    """(page URL, {figure: files by role}) for the built pages that place figures with variants, the
    pages with a narrow variant first."""
    pages = []
    for html_file in sorted(site_root.rglob("index.html")):
        variants = _variants(html_file.read_text(encoding="utf-8"))
        if variants:
            rel = html_file.parent.relative_to(site_root).as_posix()
            pages.append(("" if rel == "." else rel + "/", variants))
    pages.sort(key=lambda p: (not any("png_narrow" in files for files in p[1].values()), p[0]))
    return pages


# read when the tests are collected, for one test per page (xdist spreads them); [] without a build
VARIANT_PAGES = dict(pages_with_variants(SITE)) if SITE.is_dir() else {}


@pytest.fixture(scope="module")
def variant_pages(site_root):
    pages = pages_with_variants(site_root)
    if not pages:
        pytest.fail("no built page places a figure with variants: run `make figures`, then build the site",
                    pytrace=False)
    return pages


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
    url, variants = variant_pages[0]
    requested = _open(page, site_url, url, width, scheme)
    _show_every_figure(page)
    shown = _shown_sources(page)
    fetched = {Path(path).name for path in requested}
    for name, files in variants.items():
        if "png" in files:
            narrow = width <= 600 and "png_narrow" in files
            role = ("png_narrow" if narrow else "png") + ("_dark" if scheme == "slate" else "")
            assert shown[name] == [files[role]], (name, shown[name])
            others = {files[r] for r in files if r != role}
            assert not (others & fetched), f"{url} at {width} px, {scheme}: requested {sorted(others & fetched)}"
        if "poster" in files:
            want, other = ("poster_dark", "poster") if scheme == "slate" else ("poster", "poster_dark")
            poster = page.locator(f'figure[data-figure="{name}"] video').get_attribute("poster")
            assert poster and poster.endswith(files[want]), (name, poster)
            assert files[other] not in fetched
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{url} scrolls sideways by {overflow} px at {width} px"


def test_the_palette_toggle_swaps_the_pictures_and_the_poster(page, site_url, variant_pages):
    url, variants = next((p for p in variant_pages if any("poster" in f for f in p[1].values())), variant_pages[0])
    requested = _open(page, site_url, url, 1280, "default")
    _show_every_figure(page)
    page.locator("form[data-md-component='palette'] label:visible").first.click()  # the reader's toggle
    page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'")
    _show_every_figure(page)
    shown = _shown_sources(page)
    for name, files in variants.items():
        if "png_dark" in files:
            assert shown[name] == [files["png_dark"]], (name, shown[name])
        if "poster_dark" in files:
            poster = page.locator(f'figure[data-figure="{name}"] video').get_attribute("poster")
            assert poster.endswith(files["poster_dark"]), poster
    assert any(path.endswith(".dark.png") for path in requested)


@pytest.mark.parametrize("url", list(VARIANT_PAGES) or ["(no page with figure variants: build the site)"],
                         ids=lambda url: url.strip("/") or "home")
def test_a_first_visit_in_dark_mode_fetches_no_light_picture_and_a_phone_never_scrolls_sideways(page, site_url, url):
    """Two loads of each page with figures. A first visit (a fresh context: nothing stored) at 1280 px
    in dark mode: before Material's script bundle has read the system's scheme, the body is still
    light: the hook's early script must have set the dark scheme before any picture in view is
    requested. Then the page on a phone (390 px, light) must not scroll sideways."""
    if url not in VARIANT_PAGES:  # fail, never skip, when there is nothing to check
        pytest.fail("no built page places a figure with variants: run `make figures`, then build the site")
    requested = _open(page, site_url, url, 1280, "slate")
    light = {f for files in VARIANT_PAGES[url].values() for role, f in files.items() if not role.endswith("_dark")}
    assert not ({Path(path).name for path in requested} & light), (url, sorted(requested))

    page.set_viewport_size({"width": 390, "height": 900})
    page.emulate_media(color_scheme="light")
    page.goto(site_url + url)
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{url} scrolls sideways by {overflow} px at 390 px"
