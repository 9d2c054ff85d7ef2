"""Every page of the built site, opened in Chromium (the `page` fixture fails a test on any console
error, uncaught page error, or request outside 127.0.0.1).

One visit per page checks: its first-load weight is within the budget (measured as
scripts/bench_pages.py measures it), math was rendered at build time (docs/hooks/katex.py) with no
KaTeX error, no KaTeX JavaScript is loaded and KaTeX's stylesheet only where there is math, each
formula is what KaTeX renders in the browser (the page's own KaTeX, loaded into the test page from
node_modules) and what the site showed before math was rendered at build time (a fixture captured
from the browser-rendered site), KaTeX's fonts loaded, every image loads, every video plays from
both of its sources, notebook pages show their output images and offer their .ipynb. Then a few
site-wide behaviours: search, the copy button, instant navigation, the dark/light toggle, video
autoplay and prefers-reduced-motion.
"""

from __future__ import annotations

import gzip
import json
import re
from html import unescape
from pathlib import Path

import pytest
from site_helpers import ROOT, load_script, page_html, site_pages

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


@pytest.mark.parametrize("path", PAGES, ids=page_id)
def test_page(page, site_url, path):
    weight = bench_pages.page_weight(page, site_url + path, path)
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


def first_page_with(fragment: str, *, text: bool = False, besides: str | None = None) -> str:
    """The first page (sitemap order; not `besides`) whose built HTML contains `fragment`
    (with `text=True`: whose text, tags stripped, contains it)."""
    for path in site_pages():
        content = page_html(path)
        if text:
            content = unescape(re.sub(r"<[^>]+>", "", content))
        if path != besides and fragment in content:
            return path
    pytest.fail(f"no page of the site{f' besides /{besides}' if besides is not None else ''} "
                f"contains {fragment!r}")


def test_copy_button_copies_the_code(page, site_url):
    path = first_page_with("torch.optim.Optimizer", text=True)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url.rstrip("/"))
    page.goto(site_url + path)
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


def test_instant_navigation_renders_math(page, site_url):
    math_page = first_page_with('class="arithmatex"', besides="")  # reached from the home page
    page.goto(site_url)
    page.wait_for_load_state("networkidle")  # Material intercepts clicks once it has read sitemap.xml
    page.evaluate("() => { window.sameDocument = true; }")  # survives instant navigation only
    link = page.locator(f"nav.md-nav--primary a.md-nav__link[href$='{math_page}']").first
    link.click()
    page.wait_for_url(re.compile(re.escape(math_page) + "$"))
    page.locator(".arithmatex .katex").first.wait_for()
    assert page.evaluate("() => window.sameDocument === true"), "the link did a full page load"
    assert page.evaluate(UNRENDERED_MATH) == []
    assert page.evaluate(KATEX_ERRORS) == []
    # KaTeX's stylesheet came with the page's content: its fonts style the math
    assert page.evaluate(KATEX_STYLESHEETS) == 1
    page.wait_for_function("() => getComputedStyle(document.querySelector('.katex')).fontFamily.includes('KaTeX_Main')")


def test_palette_toggle_switches_to_dark_and_back_and_search_finds_preconditioner(page, site_url):
    """One load of the home page: the dark/light toggle, then the search."""
    page.emulate_media(color_scheme="light")
    page.goto(site_url)
    scheme = "() => document.body.getAttribute('data-md-color-scheme')"
    assert page.evaluate(scheme) == "default"
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    assert page.evaluate(scheme) == "slate"
    page.locator("form[data-md-component='palette'] label:visible").first.click()
    assert page.evaluate(scheme) == "default"
    # search
    search = page.locator("input.md-search__input")
    search.click()
    search.press_sequentially("preconditioner")  # Material searches on key events
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=10000)
    assert results.count() > 0
    assert "preconditioner" in results.first.inner_text().lower()


def video_page() -> str:
    return first_page_with('data-autoplay="visible"')


def test_videos_autoplay_when_visible(page, site_url):
    page.goto(site_url + video_page())
    video = page.locator('video[data-autoplay="visible"]').first
    video.scroll_into_view_if_needed()
    page.wait_for_function("(v) => v.currentTime > 0.3", arg=video.element_handle(), timeout=10000)
    assert video.evaluate("(v) => v.muted && v.loop && v.controls")


def test_videos_do_not_autoplay_under_reduced_motion(page, site_url):
    page.emulate_media(reduced_motion="reduce")
    page.goto(site_url + video_page())
    video = page.locator('video[data-autoplay="visible"]').first
    video.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)
    assert video.evaluate("(v) => v.paused && v.currentTime === 0")


# every box that scrolls sideways (wide display math, wide tables) at a phone's width
SIDEWAYS = """() => [...document.querySelectorAll('article div.arithmatex, article .md-typeset__scrollwrap')]
  .filter((el) => el.scrollWidth > el.clientWidth + 1)
  .map((el) => ({ what: el.className, cue: getComputedStyle(el).backgroundImage.includes('radial-gradient') }))"""


def test_wide_boxes_on_a_phone_show_a_scroll_cue(browser, site_url):
    """At 390 px, wide tables and the widest equations scroll inside their own box (the page itself
    does not), and each such box has the edge shadow that says more is out of view
    (docs/stylesheets/extra.css)."""
    context = browser.new_context(viewport={"width": 390, "height": 900})
    seen = 0
    try:
        page = context.new_page()
        for path in ("adam/", "preconditioning/", "sgd-momentum/", "rmsprop/"):
            page.goto(site_url + path)
            boxes = page.evaluate(SIDEWAYS)
            seen += len(boxes)
            assert all(box["cue"] for box in boxes), (path, boxes)
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"/{path}: the page itself is {overflow} px too wide at 390 px"
    finally:
        context.close()
    assert seen, "nothing scrolls sideways at 390 px on these pages (the test no longer tests anything)"
