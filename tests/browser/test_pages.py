"""Every page of the built site, opened in Chromium (the `page` fixture fails a test on any console
error, uncaught page error, or request outside 127.0.0.1).

One visit per page checks: its first-load weight is within the budget (measured as
scripts/bench_pages.py measures it), math was rendered at build time (docs/hooks/katex.py) with no
KaTeX error, no KaTeX JavaScript is loaded and KaTeX's stylesheet only where there is math, each
formula is what KaTeX renders in the browser (the page's own KaTeX, loaded into the test page from
node_modules) and what the site showed before math was rendered at build time (a fixture captured
from the browser-rendered site), KaTeX's fonts loaded, every image loads, every video plays from
both of its sources, notebook pages show their output images and offer their .ipynb. Then, on
the same load, narrowed to a phone's 390 px where the page has figures or wide boxes, no sideways
scrolling and a scroll cue on every wide box (tests/browser/page_checks.py), and a few site-wide
behaviours: search, the copy button, instant navigation, the dark/light toggle, video autoplay, and a
live figure's URL write pending when the reader leaves (tests/browser/test_url_writes.py; that file
also checks prefers-reduced-motion).
"""

from __future__ import annotations

import functools
import gzip
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from page_checks import (
    COPIED_VIEW,
    MATH_VIEW,
    PHONE_PAGES,
    TOGGLE_PAGE,
    VARIANTS_PAGE,
    VIEWS,
    check_a_live_figure_write_pending_when_the_reader_leaves_stays_off_the_next_page,
    check_a_phone_never_scrolls_sideways_and_wide_boxes_show_a_scroll_cue,
    check_math_in_views_is_rendered_by_katex,
    check_notes_beside_their_code_at_1280_under_it_at_390,
    check_shows_and_fetches_only_its_own_variant,
    check_the_copy_button_copies_the_section_exactly,
    check_the_palette_toggle_swaps_the_pictures_and_the_poster,
    record_figure_requests,
)
from site_helpers import ROOT, first_page_with, first_visit_fixtures, load_script, site_pages

bench_pages = load_script("bench_pages")

PAGES = site_pages() or ["(no site/: run `make site` first)"]
pytestmark = pytest.mark.browser

KATEX_JS = ROOT / "node_modules" / "katex" / "dist" / "katex.min.js"
# {page: [outerHTML of each formula]}: the site's math as KaTeX's auto-render drew it in Chromium
# before math was rendered at build time (captured from commit 2a9a025's build)
BROWSER_FIXTURE = Path(__file__).parent / "fixtures" / "katex_rendered_in_browser.json.gz"

# math left as TeX: an arithmatex element without KaTeX's output, or $...$ in a notebook's markdown
UNRENDERED_MATH = """() => [
  ...[...document.querySelectorAll('.arithmatex')]
    .filter((el) => !el.querySelector('.katex, .katex-error')).map((el) => el.textContent.slice(0, 80)),
  ...[...document.querySelectorAll('.jupyter-wrapper .jp-RenderedMarkdown')]
    .flatMap((el) => el.innerText.match(/\\$[^$\\s][^$]*\\$/g) || []),
]"""
# a formula KaTeX could not parse (.katex-error), or an unknown command it drew in its error colour
KATEX_ERRORS = """() => [
  ...[...document.querySelectorAll('.katex-error')]
    .map((el) => (el.getAttribute('title') || '') + ': ' + el.textContent.slice(0, 80)),
  ...[...document.querySelectorAll('.katex mstyle[mathcolor="#cc0000"]')]
    .map((el) => 'unknown command: ' + el.textContent.slice(0, 80)),
]"""
KATEX_SCRIPTS = "() => [...document.scripts].map((s) => s.src).filter((src) => /katex/i.test(src))"
KATEX_STYLESHEETS = "() => [...document.querySelectorAll('link[rel=stylesheet]')].filter((l) => /katex/i.test(l.href)).length"
# each formula of the page (the outermost .katex-display or .katex), its TeX (KaTeX keeps it in the
# MathML annotation), and what KaTeX (window.katex, loaded by the test) renders for the same TeX
FORMULAS = """() => [...document.querySelectorAll('.katex')].filter((el) => !el.parentElement.closest('.katex'))
  .map((el) => {
    const top = el.parentElement.classList.contains('katex-display') ? el.parentElement : el;
    const tex = el.querySelector('annotation[encoding="application/x-tex"]').textContent;
    const display = top !== el;
    const span = document.createElement('span');
    window.katex.render(tex, span, { displayMode: display, throwOnError: false, macros: {} });
    return { tex, display, html: top.outerHTML, browser: span.firstElementChild.outerHTML };
  })"""
ANNOTATION = re.compile(r'<annotation encoding="application/x-tex">(.*?)</annotation>', re.DOTALL)
STYLE_ATTRIBUTE = re.compile(r'style="([^"]*)"')
NEGATIVE_HEIGHT = re.compile(r"(?<=[\";])height:-[\d.]+em;?")
# KaTeX writes a MathML space as <mtext>SPACES</mtext> in its HTML string and as a bare text node
# when it builds the DOM (its SpaceNode); these are the characters it uses
SPACE_MTEXT = re.compile(r"<mtext>([\s\u00a0\u2000-\u200b\u205f-\u2064\u3000]*)</mtext>")


def normalized(html: str) -> str:
    """One formula's outerHTML, without the differences between KaTeX's HTML string (what the build
    writes, parsed by the browser) and the DOM KaTeX builds in the browser (what the fixture holds):
    the browser re-serializes a style set from script as `a: b;` (the string has `a:b;`) and drops
    a negative height from it (invalid CSS, which it ignores in a parsed style too), keeps an empty
    `class=""` and drops the svg namespace attribute the string writes, and KaTeX's DOM builder
    writes MathML spaces as bare text. Nothing else is changed."""
    html = STYLE_ATTRIBUTE.sub(lambda m: 'style="' + re.sub(r"\s*([:;])\s*", r"\1", m.group(1)).strip() + '"', html)
    html = NEGATIVE_HEIGHT.sub("", html).replace(' style=""', "")
    html = html.replace(' class=""', "").replace('<svg xmlns="http://www.w3.org/2000/svg"', "<svg")
    return SPACE_MTEXT.sub(r"\1", html)


def formula_key(html: str) -> tuple[str, bool]:
    """(TeX, display mode) of a formula's outerHTML."""
    return unescape(ANNOTATION.search(html).group(1)), html.startswith('<span class="katex-display"')


def browser_fixture() -> dict[str, dict[tuple[str, bool], str]]:
    pages = json.loads(gzip.decompress(BROWSER_FIXTURE.read_bytes()))
    return {path: {formula_key(html): normalized(html) for html in formulas} for path, formulas in pages.items()}


BEFORE = browser_fixture()
# test_page's first loads: one context per worker (site_helpers.FirstVisits: emptied before each visit)
first_visits, first_visit = first_visit_fixtures()
# images shown on the page that did not load (the other theme's figure variants are hidden and never
# fetched: tests/browser/test_figures_screens.py checks them in their own theme)
BROKEN_IMAGES = """() => [...document.images].filter((img) => img.getClientRects().length > 0)
    .filter((img) => !(img.complete && img.naturalWidth > 0)).map((img) => img.currentSrc || img.src)"""
# play each source of the page's videos, each in a fresh, visible <video> of its own, all at once (the
# waits overlap: ~0.3 s of playback each); resolve with the time each reached, or its error
PLAYS = """async (sources) => Promise.all(sources.map(async ([src, poster]) => {
  const video = document.createElement('video');
  Object.assign(video, { muted: true, playsInline: true, src, poster });
  video.style.width = '300px';
  document.querySelector('article').prepend(video);
  video.scrollIntoView();
  try { await video.play(); } catch (error) { video.remove(); return 'play() failed: ' + error; }
  const start = performance.now();
  while (video.currentTime < 0.3 && performance.now() - start < 5000) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const reached = video.currentTime;
  video.pause();
  video.remove();
  return reached;
}))"""


def page_id(path: str) -> str:
    return path.strip("/") or "home"


# the home page carries the most site-wide checks (palette, search, autoplay, instant navigation):
# the longest of these tests, started first under xdist (tests/conftest.py)
@pytest.mark.parametrize("path", [pytest.param(path, marks=[pytest.mark.slow] if path == "" else [])
                                  for path in PAGES], ids=page_id)
def test_page(first_visit, site_url, path):
    """One first load of the page (nothing stored, nothing cached: site_helpers.FirstVisits) checks
    what every page must do, then what the site-wide checks this page was chosen for (SITE_WIDE)
    must do, on the same load."""
    extras = [check for check in site_wide_checks() if check.path == path]
    page = first_visit(clipboard=any(check.clipboard for check in extras))
    requested = record_figure_requests(page)
    weight = bench_pages.page_weight(page, site_url + path, path, uncompressed=False)
    assert weight.total <= bench_pages.BUDGET_BYTES, (
        f"/{path} transfers {weight.total:,} bytes on first visit, over the budget of "
        f"{bench_pages.BUDGET_BYTES:,}: {weight.bytes_by_kind}")

    # math: rendered when the site was built, no KaTeX JavaScript, KaTeX's stylesheet where math is
    assert page.evaluate(UNRENDERED_MATH) == []
    assert page.evaluate(KATEX_ERRORS) == []
    assert page.evaluate(KATEX_SCRIPTS) == [], "the page loads KaTeX's JavaScript"
    has_math = page.locator(".katex").count() > 0
    assert page.evaluate(KATEX_STYLESHEETS) == (1 if has_math else 0), f"/{path}: math {has_math}"
    if has_math:
        assert page.evaluate("() => document.fonts.check('16px KaTeX_Main')"), "KaTeX's fonts did not load"
        check_formulas(page, path)

    # images (page_weight made the lazy ones load)
    assert page.evaluate(BROKEN_IMAGES) == []

    # videos: poster present, and each source plays in this browser
    sources = []
    for video in page.locator("article video").all():
        poster = video.get_attribute("poster")
        assert poster, f"a video on /{path} has no poster"
        assert video.get_attribute("preload") == "none"
        for source in video.locator("source").all():
            sources.append([page.evaluate("(el) => el.src", source.element_handle()), poster])
    if sources:
        for (src, _), reached in zip(sources, page.evaluate(PLAYS, sources), strict=True):
            assert not isinstance(reached, str) and reached >= 0.3, f"{src} did not play: {reached}"

    # notebook pages: executed outputs with their plots, and the notebook to download
    if page.locator(".jupyter-wrapper").count():
        outputs = page.locator(".jupyter-wrapper .jp-OutputArea-output img")
        assert outputs.count() > 0, f"notebook page /{path} has no output image (plots dropped?)"
        download = page.locator("a[download][href$='.ipynb']")
        assert download.count() == 1
        # at the top, above the notebook's first cell, where a reader sees it without scrolling
        above = page.evaluate("""() => {
          const link = document.querySelector("a[download][href$='.ipynb']");
          const first = document.querySelector('.jupyter-wrapper');
          return Boolean(link.compareDocumentPosition(first) & Node.DOCUMENT_POSITION_FOLLOWING)
            && link.getBoundingClientRect().top + window.scrollY < window.innerHeight;
        }""")
        assert above, f"/{path}: the notebook download link is not at the top of the page"
        response = page.request.get(download.evaluate("(a) => a.href"))
        assert response.ok and response.json()["cells"], "the .ipynb download is not a notebook"

    for check in extras:
        check.run(page, site_url, path, requested)


def check_formulas(page, path: str) -> None:
    """Each formula equals KaTeX's own rendering of its TeX in this browser, and, where the page had
    the same formula before math was rendered at build time, the browser's rendering of it then."""
    page.add_script_tag(path=str(KATEX_JS))  # inline: no request; only for the comparison
    formulas = page.evaluate(FORMULAS)
    assert formulas, f"/{path} has .katex elements but no formula was read"
    differ = [f["tex"] for f in formulas if normalized(f["html"]) != normalized(f["browser"])]
    assert differ == [], f"/{path}: formulas rendered unlike KaTeX in the browser: {differ[:5]}"
    before = BEFORE.get(path, {})
    compared = [f for f in formulas if (f["tex"], f["display"]) in before]
    changed = [f["tex"] for f in compared if normalized(f["html"]) != before[(f["tex"], f["display"])]]
    assert changed == [], f"/{path}: formulas rendered unlike before (browser-side KaTeX): {changed[:5]}"
    if before:  # the page's math may have been edited since, but not all of it
        assert compared, f"/{path}: none of the page's formulas of the fixture is on it any more"


def test_the_fixture_covers_every_page_that_had_math():
    """The fixture was captured from every page of the site, and those pages are still built."""
    assert len(BEFORE) >= 14 and sum(map(len, BEFORE.values())) > 500
    missing = [path for path in BEFORE if path not in site_pages()]
    assert missing == [], f"pages of the KaTeX fixture that are no longer built: {missing}"


def check_copy_button_copies_the_code(page, site_url, path, requested):
    """The copy button of a code block copies what the block shows (the first page showing
    torch.optim.Optimizer in its text)."""
    block = page.locator("article div.highlight", has_text="torch.optim.Optimizer").first
    block.evaluate("(el) => { const details = el.closest('details'); if (details) details.open = true; }")
    block.scroll_into_view_if_needed()
    block.hover()
    block.locator("button.md-code__button").first.click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    shown = block.locator("code").first.evaluate("(code) => code.textContent")

    def lines(text: str) -> list[str]:  # annotation markers leave trailing spaces in the page text
        return [line.rstrip() for line in text.strip().splitlines()]

    assert lines(copied) == lines(shown)
    assert "class " in copied and "def step" in copied


def check_videos_autoplay_when_visible(page, site_url, path, requested):
    video = page.locator('video[data-autoplay="visible"]').first
    video.scroll_into_view_if_needed()
    page.wait_for_function("(v) => v.currentTime > 0.3", arg=video.element_handle(), timeout=10000)
    assert video.evaluate("(v) => v.muted && v.loop && v.controls")


def check_palette_toggle_switches_to_dark_and_back_and_search_finds_preconditioner(page, site_url, path, requested):
    """The dark/light toggle (from light: the context's colour scheme), then the search."""
    scheme = "() => document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == "default"
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    assert page.evaluate(scheme) == "slate"
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    assert page.evaluate(scheme) == "default"
    # search
    search = page.locator("input.md-search__input")
    search.click()
    # Material searches on key events: all but the last letter typed at once, the last one pressed
    # (one search, for the whole word, instead of one per letter)
    search.fill("preconditione")
    search.press("r")
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10000)
    assert results.count() > 0
    assert "preconditioner" in results.first.inner_text().lower()
    search.press("Escape")  # closes the search, as a reader would, for the checks after this one
    page.wait_for_function("() => !document.getElementById('__search').checked")


def check_figure_variants_at_1280_px_in_light_mode(page, site_url, path, requested):
    """page_checks: every figure shows its wide light variant, no other variant was requested."""
    check_shows_and_fetches_only_its_own_variant(page, path, 1280, "default", requested)


def check_the_palette_toggle_swaps_the_pictures(page, site_url, path, requested):
    check_the_palette_toggle_swaps_the_pictures_and_the_poster(page, path, requested)


def check_annotated_views_in_light_mode(page, site_url, path, requested):
    """page_checks: each view of VIEWS on this page (notes beside their code, colours, 390 px), the
    copy button of COPIED_VIEW and the math of MATH_VIEW where they are on this page."""
    for view_path, name in VIEWS:
        if view_path == path:
            check_notes_beside_their_code_at_1280_under_it_at_390(page, path, name, "default")
    if COPIED_VIEW[0] == path:
        check_the_copy_button_copies_the_section_exactly(page, COPIED_VIEW[1])
    if MATH_VIEW[0] == path:
        check_math_in_views_is_rendered_by_katex(page, MATH_VIEW[1])


def check_a_phone_never_scrolls_sideways(page, site_url, path, requested):
    """page_checks: narrowed to 390 px, no sideways scrolling; a scroll cue on every wide box."""
    check_a_phone_never_scrolls_sideways_and_wide_boxes_show_a_scroll_cue(page, path)


def check_a_live_figure_write_stays_off_the_next_page(page, site_url, path, requested):
    """page_checks (tests/browser/test_url_writes.py describes it): a slider's URL write, pending when
    the reader leaves, stays off the next page's URL. Leaves the page's state changed: after the
    checks that read it."""
    check_a_live_figure_write_pending_when_the_reader_leaves_stays_off_the_next_page(page, path)


def check_instant_navigation_renders_math(page, site_url, path, requested):
    """From the home page (loaded, the network settled: Material intercepts clicks once it has read
    sitemap.xml), a nav link to a page with math renders it without a full page load. Last: it
    leaves the page."""
    math_page = first_page_with('class="arithmatex"', besides="")  # reached from the home page
    page.wait_for_load_state("networkidle")
    page.evaluate("() => { window.sameDocument = true; }")  # survives instant navigation only
    link = page.locator(f"nav.md-nav--primary a.md-nav__link[href$='{math_page}']").first
    link.click()
    page.wait_for_url(lambda url: urlsplit(url).path.endswith("/" + math_page))
    page.locator(".arithmatex .katex").first.wait_for()
    assert page.evaluate("() => window.sameDocument === true"), "the link did a full page load"
    assert page.evaluate(UNRENDERED_MATH) == []
    assert page.evaluate(KATEX_ERRORS) == []
    # KaTeX's stylesheet came with the page's content: its fonts style the math
    assert page.evaluate(KATEX_STYLESHEETS) == 1
    page.wait_for_function("() => getComputedStyle(document.querySelector('.katex')).fontFamily.includes('KaTeX_Main')")


@dataclass(frozen=True)
class SiteWide:
    """A site-wide check, made in test_page on the load of the page it is about (`path`)."""

    path: str | None  # None: no page of the site has what the check needs (test_each_site_wide_check_has_a_page)
    run: Callable
    clipboard: bool = False


def video_page() -> str | None:
    return first_page_with('data-autoplay="visible"', required=False)


@functools.cache
def site_wide_checks() -> tuple[SiteWide, ...]:
    """Each site-wide check and its page, in the order they run when several share a page: the
    light-mode figure variants before the phone's width fetches the narrow ones, the phone (light
    mode) before the palette toggles, the instant navigation last (it leaves the page)."""
    return (
        SiteWide(first_page_with("torch.optim.Optimizer", text=True, required=False),
                 check_copy_button_copies_the_code, clipboard=True),
        SiteWide(video_page(), check_videos_autoplay_when_visible),
        SiteWide(VARIANTS_PAGE, check_figure_variants_at_1280_px_in_light_mode),
        *(SiteWide(view_path, check_annotated_views_in_light_mode, clipboard=view_path == COPIED_VIEW[0])
          for view_path in dict.fromkeys([path for path, _ in VIEWS] + [COPIED_VIEW[0], MATH_VIEW[0]])),
        *(SiteWide(phone_path, check_a_phone_never_scrolls_sideways) for phone_path in PHONE_PAGES),
        SiteWide(first_page_with('data-widget="momentum"', required=False),
                 check_a_live_figure_write_stays_off_the_next_page),
        SiteWide("", check_palette_toggle_switches_to_dark_and_back_and_search_finds_preconditioner),
        SiteWide(TOGGLE_PAGE, check_the_palette_toggle_swaps_the_pictures),
        SiteWide("", check_instant_navigation_renders_math),
    )


def test_each_site_wide_check_has_a_page():
    """Every site-wide check found its page among the built pages, so test_page makes it."""
    missing = [check.run.__name__ for check in site_wide_checks() if check.path not in PAGES]
    assert missing == [], f"site-wide checks no built page is chosen for: {missing}"
