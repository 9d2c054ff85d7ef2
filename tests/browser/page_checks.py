"""Checks of a loaded page that several browser tests make on one load (a page load is most of a
browser test's CPU: ~1 s in Chromium's renderer for a page of this site, more in a fresh context).

- figure variants (docs/hooks/figures.py): which variant each figure shows and which files were
  requested, at a width and a theme (tests/browser/test_figures_screens.py describes the rules);
- annotated views (docs/hooks/annotate.py): notes beside their code at 1280 px and under it at
  390 px, the theme's code colours, the copy button, the math (tests/browser/test_annotate_site.py);
- a phone (390 px): the page does not scroll sideways, and every box that does (wide display math,
  wide tables) shows the edge shadow that says more is out of view (PHONE_PAGES);
- URL writes: a playground's or a live figure's write of its state into the URL, still pending when
  the reader leaves, stays off the next page's URL (tests/browser/test_url_writes.py);
- prefers-reduced-motion: a visible video stays paused.

test_pages.py runs them on its light first load of a page, test_figures_screens.py on its dark
first visit, each where the page has what the check is about.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

from site_helpers import ROOT, SITE

PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
SCHEME = "() => document.body.getAttribute('data-md-color-scheme')"


# --- figure variants ----------------------------------------------------------------------------------


def _file(url: str) -> str:
    return url.split("/")[-1].split("#")[0]


def variants(html: str) -> dict:
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
        found = variants(html_file.read_text(encoding="utf-8"))
        if found:
            rel = html_file.parent.relative_to(site_root).as_posix()
            pages.append(("" if rel == "." else rel + "/", found))
    pages.sort(key=lambda p: (not any("png_narrow" in files for files in p[1].values()), p[0]))
    return pages


# read when the tests are collected (one test per page: xdist spreads them); {} without a build
VARIANT_PAGES = dict(pages_with_variants(SITE)) if SITE.is_dir() else {}
# the page every width and theme is checked on: the first with a narrow variant
VARIANTS_PAGE = next(iter(VARIANT_PAGES), None)
# the page the palette toggle is flipped on: the first with a video poster (it has a dark variant too)
TOGGLE_PAGE = next((url for url, found in VARIANT_PAGES.items() if any("poster" in f for f in found.values())),
                   VARIANTS_PAGE)


# --- a phone: no sideways scrolling, a scroll cue on every wide box -------------------------------------

# pages with wide tables and the widest equations: each has at least one box that scrolls sideways at
# 390 px (checked, so the cue check has something to check)
WIDE_BOX_PAGES = ("adam/", "preconditioning/", "sgd-momentum/", "rmsprop/")
# the pages checked at a phone's width: every page with figure variants, and the wide-box pages
PHONE_PAGES = list(dict.fromkeys([*VARIANT_PAGES, *WIDE_BOX_PAGES]))
# every box that scrolls sideways (wide display math, wide tables) at a phone's width
SIDEWAYS = """() => [...document.querySelectorAll('article div.arithmatex, article .md-typeset__scrollwrap')]
  .filter((el) => el.scrollWidth > el.clientWidth + 1)
  .map((el) => ({ what: el.className, cue: getComputedStyle(el).backgroundImage.includes('radial-gradient') }))"""
# two animation frames: resize observers and resize handlers have run, the layout has settled
TWO_FRAMES = "() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))"


def check_a_phone_never_scrolls_sideways_and_wide_boxes_show_a_scroll_cue(page, url: str) -> None:
    """On `page` (`url` loaded in light mode): narrowed to a phone's 390 px, the page does not scroll
    sideways; wide tables and the widest equations scroll inside their own box, and each such box has
    the edge shadow that says more is out of view (docs/stylesheets/extra.css); a page of
    WIDE_BOX_PAGES has such a box. The viewport is 1280 px again after.

    The layout at 390 px is CSS media queries and the page's resize handlers: measured on every page
    of the site, the boxes found (their classes and cues) and the page's overflow after narrowing a
    1280 px load are those of a load at 390 px (tests/browser/test_pages.py's test_page makes this
    check on its load; before, each page had a load at 390 px of its own)."""
    assert page.evaluate(SCHEME) == "default"
    page.set_viewport_size({"width": 390, "height": 900})
    try:
        page.evaluate(TWO_FRAMES)
        boxes = page.evaluate(SIDEWAYS)
        assert all(box["cue"] for box in boxes), (url, boxes)
        overflow = page.evaluate(PAGE_OVERFLOW)
        assert overflow <= 0, f"/{url}: the page itself is {overflow} px too wide at 390 px"
        if url in WIDE_BOX_PAGES:
            assert boxes, f"nothing scrolls sideways at 390 px on /{url} (the cue check no longer checks anything)"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def record_figure_requests(page) -> list[str]:
    """The URL paths of the requests for /figures/ files `page` makes from now on (a list that grows)."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(urlsplit(request.url).path)
            if "/figures/" in request.url else None)
    return requested


def show_every_figure(page) -> None:
    """Wait until every figure's shown images have loaded, scrolling a figure into view first where
    they have not (lazy images load then; a page whose images were all loaded is not scrolled)."""
    loaded = """(k) => {
        const fig = document.querySelectorAll('figure.optimessay-figure')[k];
        const shown = [...fig.querySelectorAll('img')].filter((img) => img.offsetParent !== null);
        return shown.every((img) => img.complete && img.naturalWidth > 0);
    }"""
    count = page.locator("figure.optimessay-figure").count()
    for k in range(count):
        if not page.evaluate(loaded, k):
            page.locator("figure.optimessay-figure").nth(k).scroll_into_view_if_needed()
            page.wait_for_function(loaded, arg=k, timeout=20000)


def shown_sources(page) -> dict:
    """figure name -> the file name of each image it shows (currentSrc), hidden ones left out."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('figure.optimessay-figure')].map((fig) => [
            fig.dataset.figure,
            [...fig.querySelectorAll('img')].filter((img) => img.offsetParent !== null)
                .map((img) => img.currentSrc.split('/').pop().split('#')[0])]))""")


def check_shows_and_fetches_only_its_own_variant(page, url: str, width: int, scheme: str,
                                                 requested: list[str]) -> None:
    """On `page` (`url` loaded at `width` px in `scheme`, `requested` recorded from before the load):
    every figure shows the variant of the width and theme, no other variant was requested, a video
    shows the poster of the theme, and the page does not scroll sideways."""
    found = VARIANT_PAGES[url]
    assert page.evaluate(SCHEME) == scheme
    show_every_figure(page)
    shown = shown_sources(page)
    fetched = {Path(path).name for path in requested}
    for name, files in found.items():
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
    overflow = page.evaluate(PAGE_OVERFLOW)
    assert overflow <= 0, f"{url} scrolls sideways by {overflow} px at {width} px"


def check_the_palette_toggle_swaps_the_pictures_and_the_poster(page, url: str, requested: list[str]) -> None:
    """On `page` (`url` loaded in light mode): the reader's toggle to dark shows every figure's dark
    variant and the dark poster, and the dark files were requested."""
    found = VARIANT_PAGES[url]
    assert page.evaluate(SCHEME) == "default"
    show_every_figure(page)
    page.locator("form[data-md-component='palette'] label:visible").first.click()  # the reader's toggle
    page.wait_for_function("() => document.body.getAttribute('data-md-color-scheme') === 'slate'")
    show_every_figure(page)
    shown = shown_sources(page)
    for name, files in found.items():
        if "png_dark" in files:
            assert shown[name] == [files["png_dark"]], (name, shown[name])
        if "poster_dark" in files:
            poster = page.locator(f'figure[data-figure="{name}"] video').get_attribute("poster")
            assert poster.endswith(files["poster_dark"]), poster
    assert any(path.endswith(".dark.png") for path in requested)


# --- annotated views ------------------------------------------------------------------------------------


def annotate_checks():
    """tests/test_annotate.py as a module (its parser and its check), not collected again here."""
    if "annotate_checks" not in sys.modules:
        spec = importlib.util.spec_from_file_location("annotate_checks", ROOT / "tests" / "test_annotate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["annotate_checks"]


OPT = "optimessay/optimizers/"
# the views whose layout is checked in the browser (page, FILE:SECTION), in light and dark mode
VIEWS = [("adam/", f"{OPT}adam.py:update"), ("schedules/", "optimessay/schedulers.py:cosineannealinglr"),
         ("sgd-momentum/", f"{OPT}sgd.py:update")]
COPIED_VIEW = ("adam/", f"{OPT}adam.py:update")  # its copy button is pressed
MATH_VIEW = ("schedules/", "optimessay/schedulers.py:steplr")  # its math is checked


def reveal_view(page, name: str):
    """The view `name` of the loaded page, opened as a reader would (a view inside a collapsed note
    or a hidden tab) and scrolled into view."""
    view = page.locator(f'.oe-annotated[data-oe-annotated="{name}"]').first
    view.evaluate("""(el) => {
        for (let d = el.closest('details'); d; d = d.parentElement.closest('details')) d.open = true;
        const block = el.closest('.tabbed-block');
        if (block) {
            const set = block.closest('.tabbed-set');
            const index = [...block.parentElement.children].indexOf(block);
            set.querySelectorAll(':scope > input')[index].click();
        }
    }""")
    view.scroll_into_view_if_needed()
    return view


GEOMETRY = """(view) => [...view.querySelectorAll('.oe-annotated__row--noted')].map((row) => {
    const code = row.querySelector('.oe-annotated__code').getBoundingClientRect();
    const note = row.querySelector('.oe-annotated__note');
    const box = note.getBoundingClientRect();
    return {codeRight: code.right, codeTop: code.top, codeBottom: code.bottom, noteLeft: box.left,
            noteTop: box.top, noteScroll: note.scrollWidth - note.clientWidth,
            codeScroll: row.querySelector('.oe-annotated__code').scrollWidth
                        - row.querySelector('.oe-annotated__code').clientWidth};
})"""
COLOURS = """(view) => {
    const probe = (value) => { const s = document.createElement('span'); s.style.color = value;
        view.appendChild(s); const c = getComputedStyle(s).color; s.remove(); return c; };
    const code = view.querySelector('.oe-annotated__code');
    return {background: getComputedStyle(code).backgroundColor,
            expectedBackground: (() => { const s = document.createElement('span');
                s.style.backgroundColor = 'var(--md-code-bg-color)'; view.appendChild(s);
                const c = getComputedStyle(s).backgroundColor; s.remove(); return c; })(),
            keyword: getComputedStyle(view.querySelector('.oe-annotated__code .k')).color,
            expectedKeyword: probe('var(--md-code-hl-keyword-color)'),
            text: getComputedStyle(view.querySelector('.oe-annotated__note')).color,
            expectedText: probe('var(--md-typeset-color)')};
}"""


def check_notes_beside_their_code_at_1280_under_it_at_390(page, path: str, name: str, scheme: str) -> None:
    """On `page` (`path` loaded at 1280 px in `scheme`): each note of view `name` sits to the right of
    its code line, level with it, the code takes the theme's code colours, nothing scrolls sideways;
    then narrowed to 390 px (the layout is CSS media queries only: docs/stylesheets/annotate.css)
    each note is under its line and nothing scrolls sideways. The viewport is 1280 px again after."""
    page.set_viewport_size({"width": 1280, "height": 900})
    view = reveal_view(page, name)
    assert page.evaluate(SCHEME) == scheme
    rows = view.evaluate(GEOMETRY)
    assert rows, f"{name} has no commented line"
    for row in rows:
        assert row["noteLeft"] >= row["codeRight"] - 1, f"{name}: a note overlaps its code"
        assert abs(row["noteTop"] - row["codeTop"]) <= 1, f"{name}: a note is not level with its line"
        assert row["noteScroll"] <= 0 and row["codeScroll"] <= 0, f"{name}: a note or code scrolls sideways"
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    # the theme's code colours: the code column has the code background, keywords the keyword colour
    colours = view.evaluate(COLOURS)
    assert colours["background"] == colours["expectedBackground"]
    assert colours["keyword"] == colours["expectedKeyword"]
    assert colours["text"] == colours["expectedText"]

    # a phone: the notes under their lines
    page.set_viewport_size({"width": 390, "height": 844})
    try:
        view.scroll_into_view_if_needed()
        narrow = view.evaluate(GEOMETRY)
        assert len(narrow) == len(rows)
        for row in narrow:
            assert row["noteTop"] >= row["codeBottom"] - 1, f"{name}: a note is not under its line at 390 px"
            assert row["noteScroll"] <= 0 and row["codeScroll"] <= 0, (
                f"{name}: a note or code scrolls sideways at 390 px")
        assert page.evaluate(PAGE_OVERFLOW) <= 0, f"{path} scrolls sideways at 390 px"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def check_the_copy_button_copies_the_section_exactly(page, name: str) -> None:
    """On a loaded page whose context may use the clipboard: view `name`'s copy button, pressed from
    the keyboard, copies its file's section exactly."""
    view = reveal_view(page, name)
    button = view.locator("button.oe-annotated__copy")
    assert button.get_attribute("aria-label")
    button.focus()
    page.keyboard.press("Enter")  # keyboard operable
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == "\n".join(annotate_checks().snippet_lines(*name.rsplit(":", 1)))


def check_math_in_views_is_rendered_by_katex(page, name: str) -> None:
    """On a loaded page: view `name` has its formula rendered by KaTeX, and no view of the page has
    math left as TeX or a KaTeX error."""
    view = reveal_view(page, name)
    assert view.locator(".oe-annotated__math .katex").count() == 1
    # no math left as TeX (an arithmatex element KaTeX did not fill)
    assert page.locator(".oe-annotated .arithmatex:not(:has(.katex))").count() == 0
    assert page.locator(".oe-annotated .katex-error").count() == 0


# --- URL writes (tests/browser/test_url_writes.py describes them) ----------------------------------------

LEAVE = "(path) => window.history.pushState(window.history.state, '', path)"
PLAYGROUND = "document.querySelector('.oe-playground')"
MOMENTUM_RANGE = """document.querySelector('.oe-widget[data-widget="momentum"] input[type=range]')"""


def wait_and_read_url(page) -> list[str]:
    # a timer of the page's own, due after either delay (150 ms, 250 ms): the page fires its timers in
    # the order they fall due, so a pending write has run when this one does, however loaded the machine
    page.evaluate("() => new Promise((done) => setTimeout(done, 600))")
    return page.evaluate("() => [window.location.pathname, window.location.search]")


def check_a_playground_write_pending_when_the_reader_leaves_stays_off_the_next_page(page, path: str) -> None:
    """On `page` (`path`, whose first playground it is about, loaded under prefers-reduced-motion: the
    playground does not play by itself): a pause's URL write, still pending when the URL moves to
    /comparing/ in the same task (as Material's instant navigation moves it), stays off that URL; the
    same change without leaving is written."""
    page.wait_for_function(f"() => {PLAYGROUND}?.oePlayground?.results?.length > 0")
    play = page.locator(".oe-playground button.oe-pg-play").first
    play.click()  # plays from step 0 ...
    page.wait_for_function(f"() => {PLAYGROUND}.oePlayground.playing")
    # ... paused: the step is a change of state, its URL write pending; the reader leaves in the same task
    page.evaluate(f"""(path) => {{ {PLAYGROUND}.querySelector('button.oe-pg-play').click();
                                  window.history.pushState(window.history.state, '', path); }}""", "/comparing/")
    assert wait_and_read_url(page) == ["/comparing/", ""]
    # the same change without leaving is written (so the check above is not vacuous)
    page.evaluate(LEAVE, "/" + path)
    play.click()
    page.wait_for_function(f"() => {PLAYGROUND}.oePlayground.playing")
    play.click()
    at, query = wait_and_read_url(page)
    assert at == "/" + path and "t=" in query, (at, query)


def check_a_live_figure_write_pending_when_the_reader_leaves_stays_off_the_next_page(page, path: str) -> None:
    """On `page` (`path`, with a momentum live figure, loaded): a slider's URL write, still pending when
    the URL moves to /adam/ in the same task, stays off that URL; the same change without leaving is
    written. Leaves the page at its own path, the slider two steps up."""
    page.wait_for_function("""() => document.querySelector('.oe-widget[data-widget="momentum"]')
                                  ?.dataset.widgetState === 'ready'""")
    page.evaluate(f"""(path) => {{ const range = {MOMENTUM_RANGE};
                                  range.stepUp(); range.dispatchEvent(new Event('input', {{bubbles: true}}));
                                  window.history.pushState(window.history.state, '', path); }}""", "/adam/")
    assert wait_and_read_url(page) == ["/adam/", ""]
    # the same change without leaving is written (so the check above is not vacuous)
    page.evaluate(LEAVE, "/" + path)
    page.evaluate(f"""() => {{ const range = {MOMENTUM_RANGE};
                              range.stepUp(); range.dispatchEvent(new Event('input', {{bubbles: true}})); }}""")
    at, query = wait_and_read_url(page)
    assert at == "/" + path and query.startswith("?w-momentum-"), (at, query)


# --- prefers-reduced-motion ------------------------------------------------------------------------------


def check_videos_do_not_autoplay_under_reduced_motion(page) -> None:
    """On `page` (a page with a video that autoplays when visible, loaded under prefers-reduced-motion):
    the video stays paused, checked once the page's own IntersectionObserver (figures.js, created at
    load) has seen it on screen: an observer created after it is called after it for the same change."""
    video = page.locator('video[data-autoplay="visible"]').first
    video.scroll_into_view_if_needed()
    seen = video.evaluate("""(v) => new Promise((resolve) => {
        const observer = new IntersectionObserver((entries) => {
            if (entries.some((entry) => entry.isIntersecting)) { observer.disconnect(); resolve(true); }
        }, { threshold: 0.5 });
        observer.observe(v);
        setTimeout(() => resolve(false), 10000);
    })""")
    assert seen, "the video never came half into view"
    # figures.js calls play() in its own callback, which ran before ours: paused would be false now
    assert video.evaluate("(v) => v.paused && v.currentTime === 0")
