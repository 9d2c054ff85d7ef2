"""Figures for every screen (issue 16), in Chromium: the built site at 1280 and 390 px, light and dark.

`make figures` writes, beside each image, a dark variant (NAME.dark.png) and, for a figure with a
landscape, a narrow one (NAME.narrow.png, NAME.narrow.dark.png); a video's poster has a dark variant.
docs/hooks/figures.py puts one `<picture>` per theme on the page (Material hides the other theme's by
its `#only-light` / `#only-dark` suffix) with a `<source media>` for the narrow variant. These tests
check what a reader's browser does with that:

- the page shows the variant of its theme, and never requests the other theme's files (a hidden lazy
  image is not fetched), also after the reader flips the palette toggle;
- a narrow viewport (390 px) shows the narrow variant where there is one, a wide one (1280 px) never;
- a first visit in dark mode fetches no light picture (one test per page with figures), and no page
  with figures scrolls sideways at 390 px (page_checks.check_a_phone_never_scrolls_sideways_and_wide_
  boxes_show_a_scroll_cue, made by test_pages.py's test_page on its light load of each such page);
- a video shows the poster of the theme, and only that poster is requested.

A page load is most of a browser test's CPU, so each load checks everything that needs it
(tests/browser/page_checks.py holds the checks): the widths and themes are checked on one page
(page_checks.VARIANTS_PAGE): at 1280 px in light mode on test_pages.py's first load of it (with the
palette toggle, on page_checks.TOGGLE_PAGE), at 1280 px in dark mode on its dark first visit here, at
390 px in both themes by test_a_phone_in_each_theme_shows_and_fetches_only_its_own_variant. The dark
first visit of a page with annotated views also checks them in dark mode (test_annotate_site.py).

The figures, their variants and the pages are read from the built site's markup (not listed by
hand), so the tests follow the catalog.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from page_checks import (
    SCHEME,
    VARIANT_PAGES,
    VARIANTS_PAGE,
    VIEWS,
    check_notes_beside_their_code_at_1280_under_it_at_390,
    check_shows_and_fetches_only_its_own_variant,
    pages_with_variants,
    record_figure_requests,
)
from site_helpers import first_visit_fixtures

NO_BUILD = "(no page with figure variants: build the site)"
# the first visits: one context per colour scheme and worker (site_helpers.FirstVisits: emptied before each visit)
first_visits, first_visit = first_visit_fixtures()


@pytest.fixture(scope="module")
def variant_pages(site_root):
    pages = pages_with_variants(site_root)
    if not pages:
        pytest.fail("no built page places a figure with variants: run `make figures`, then build the site",
                    pytrace=False)
    return pages


def page_id(url: str) -> str:
    return url.strip("/") or "home"


# the pages visited in dark mode: those with figure variants, and those with annotated views to check
DARK_PAGES = list(dict.fromkeys([*VARIANT_PAGES, *(path for path, _ in VIEWS)])) if VARIANT_PAGES else []


@pytest.mark.parametrize("url", DARK_PAGES or [NO_BUILD], ids=page_id)
def test_a_first_visit_in_dark_mode_fetches_no_light_picture(first_visit, site_url, variant_pages, url):
    """A first visit (nothing stored, nothing cached: site_helpers.FirstVisits) at 1280 px in dark
    mode: before Material's script bundle has read the system's scheme, the body is still light: the
    hook's early script must have set the dark scheme before any picture in view is requested. On
    the same load: on VARIANTS_PAGE every figure shows its dark wide variant and nothing else of it
    was requested; the annotated views of VIEWS on this page, in dark mode."""
    if url not in DARK_PAGES:  # fail, never skip, when there is nothing to check
        pytest.fail("no built page places a figure with variants: run `make figures`, then build the site")
    page = first_visit(width=1280, color_scheme="dark")
    requested = record_figure_requests(page)
    page.goto(site_url + url)
    assert page.evaluate(SCHEME) == "slate"
    light = {f for files in VARIANT_PAGES.get(url, {}).values() for role, f in files.items()
             if not role.endswith("_dark")}
    assert not ({Path(path).name for path in requested} & light), (url, sorted(requested))

    if url == VARIANTS_PAGE:
        check_shows_and_fetches_only_its_own_variant(page, url, 1280, "slate", requested)
    for view_path, name in VIEWS:
        if view_path == url:
            check_notes_beside_their_code_at_1280_under_it_at_390(page, url, name, "slate")


@pytest.mark.parametrize("scheme", ["default", "slate"])
def test_a_phone_in_each_theme_shows_and_fetches_only_its_own_variant(first_visit, site_url, variant_pages, scheme):
    """VARIANTS_PAGE at 390 px, a first visit in each theme (site_helpers.FirstVisits): the narrow
    variant of the theme where there is one, no other variant requested, the poster of the theme, no
    sideways scrolling."""
    page = first_visit(width=390, color_scheme="dark" if scheme == "slate" else "light")
    requested = record_figure_requests(page)
    page.goto(site_url + VARIANTS_PAGE)
    check_shows_and_fetches_only_its_own_variant(page, VARIANTS_PAGE, 390, scheme, requested)
