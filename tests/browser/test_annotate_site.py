"""The annotated views on the built site (docs/hooks/annotate.py, docs/stylesheets/annotate.css).

- every optimizer page and the schedules page show the views of their update rules (EXPECTED),
  and every view of every built page shows its file's section exactly (tests/test_annotate.py's
  check, on the HTML KaTeX has rendered);
- at 1280 px each note sits to the right of its code line, at 390 px under it; nothing scrolls
  sideways (neither the page nor a note), in light and dark mode, where the code takes the theme's
  code colours;
- the copy button copies the section exactly, and the math in a view is rendered by KaTeX.

These tests fail until the pages carry their `!annotated[...]` markers and mkdocs.yml lists the
hook and the stylesheet (the lead's edits). (Not named test_annotate.py: pytest refuses two test
modules of one basename, and tests/test_annotate.py is the hook's own test.)
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest
from site_helpers import ROOT, page_html, site_pages


def load_checks():
    """tests/test_annotate.py as a module (its parser and its check), not collected again here."""
    if "annotate_checks" not in sys.modules:
        spec = importlib.util.spec_from_file_location("annotate_checks", ROOT / "tests" / "test_annotate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["annotate_checks"]


checks = load_checks()

OPT = "optimessay/optimizers/"
SCHEDULERS = [
    "exponentiallr", "steplr", "multisteplr", "linearlr", "cosineannealinglr", "sequentiallr", "constantlr",
    "lambdalr", "onecyclelr", "multiplicativelr", "polynomiallr", "cosineannealingwarmrestarts", "cycliclr",
    "chainedscheduler", "reducelronplateau", "swalr",
]
# the views each optimizer page and the schedules page must show (page: FILE:SECTION, ...)
EXPECTED = {
    "sgd-momentum/": [f"{OPT}sgd.py:update"],
    "rmsprop/": [f"{OPT}rmsprop.py:update"],
    "adam/": [f"{OPT}adam.py:update"],
    "adagrad/": [f"{OPT}adagrad.py:update"],
    "sign-and-max-norm/": [f"{OPT}rprop.py:update", f"{OPT}rprop.py:preconditioner",
                           f"{OPT}adamax.py:update", f"{OPT}adamax.py:preconditioner"],
    "fixing-adam/": [f"{OPT}nadam.py:update", f"{OPT}radam.py:update", f"{OPT}adadelta.py:update",
                     f"{OPT}adam.py:update"],
    "memory-light/": [f"{OPT}adafactor.py:update", f"{OPT}adafactor.py:preconditioner"],
    "beyond-diagonal/": [f"{OPT}shampoo.py:update", f"{OPT}soap.py:update", f"{OPT}lbfgs.py:twoloop",
                         f"{OPT}muon.py:orthogonalize", f"{OPT}muon.py:update"],
    "schedules/": [f"optimessay/schedulers.py:{name}" for name in SCHEDULERS],
}


def test_mkdocs_runs_the_hook_before_katex_and_links_the_stylesheet():
    """The notes' math is arithmatex markup until docs/hooks/katex.py renders it: annotate first."""
    from mkdocs.config import load_config

    config = load_config(str(ROOT / "mkdocs.yml"))
    hooks = [Path(name).name for name in config["hooks"]]
    assert "annotate.py" in hooks, "mkdocs.yml does not list docs/hooks/annotate.py"
    assert hooks.index("annotate.py") < hooks.index("katex.py")
    assert "stylesheets/annotate.css" in [str(css) for css in config["extra_css"]]


def views_of(path: str) -> list[dict]:
    return checks.parse_views(page_html(path))


@pytest.mark.parametrize("path", sorted(EXPECTED))
def test_every_optimizer_and_scheduler_page_shows_its_annotated_views(site_root, path):
    shown = [view["name"] for view in views_of(path)]
    missing = [name for name in EXPECTED[path] if name not in shown]
    assert not missing, f"{path} shows no annotated view of {missing} (add `!annotated[FILE:SECTION]` lines)"


def test_every_view_on_the_site_equals_its_file(site_root):
    checked = 0
    for path in site_pages():
        for view in views_of(path):
            file, section = view["name"].rsplit(":", 1)
            checks.check_view(view, checks.snippet_lines(file, section))
            checked += 1
    assert checked >= sum(len(names) for names in EXPECTED.values())


def open_view(page, site_url, path: str, name: str):
    page.goto(site_url + path)
    view = page.locator(f'.oe-annotated[data-oe-annotated="{name}"]').first
    # a view inside a collapsed note or a hidden tab: open it as a reader would
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
PAGE_OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
VIEWS = [("adam/", f"{OPT}adam.py:update"), ("schedules/", "optimessay/schedulers.py:cosineannealinglr"),
         ("sgd-momentum/", f"{OPT}sgd.py:update")]


@pytest.mark.parametrize("scheme", ["default", "slate"])
@pytest.mark.parametrize(("path", "name"), VIEWS)
def test_notes_beside_their_code_at_1280_under_it_at_390_and_nothing_scrolls(page, site_url, path, name, scheme):
    """One load per view and scheme: at 1280 px, then the same page narrowed to 390 px (the layout is
    CSS media queries only: docs/stylesheets/annotate.css)."""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.emulate_media(color_scheme="dark" if scheme == "slate" else "light")
    view = open_view(page, site_url, path, name)
    assert page.evaluate("() => document.body.getAttribute('data-md-color-scheme')") == scheme
    rows = view.evaluate(GEOMETRY)
    assert rows, f"{name} has no commented line"
    for row in rows:
        assert row["noteLeft"] >= row["codeRight"] - 1, f"{name}: a note overlaps its code"
        assert abs(row["noteTop"] - row["codeTop"]) <= 1, f"{name}: a note is not level with its line"
        assert row["noteScroll"] <= 0 and row["codeScroll"] <= 0, f"{name}: a note or code scrolls sideways"
    assert page.evaluate(PAGE_OVERFLOW) <= 0
    # the theme's code colours: the code column has the code background, keywords the keyword colour
    colours = view.evaluate("""(view) => {
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
    }""")
    assert colours["background"] == colours["expectedBackground"]
    assert colours["keyword"] == colours["expectedKeyword"]
    assert colours["text"] == colours["expectedText"]

    # a phone: the notes under their lines
    page.set_viewport_size({"width": 390, "height": 844})
    view.scroll_into_view_if_needed()
    narrow = view.evaluate(GEOMETRY)
    assert len(narrow) == len(rows)
    for row in narrow:
        assert row["noteTop"] >= row["codeBottom"] - 1, f"{name}: a note is not under its line at 390 px"
        assert row["noteScroll"] <= 0 and row["codeScroll"] <= 0, f"{name}: a note or code scrolls sideways at 390 px"
    assert page.evaluate(PAGE_OVERFLOW) <= 0, f"{path} scrolls sideways at 390 px"


def test_the_copy_button_copies_the_section_exactly(page, site_url):
    name = f"{OPT}adam.py:update"
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site_url.rstrip("/"))
    view = open_view(page, site_url, "adam/", name)
    button = view.locator("button.oe-annotated__copy")
    assert button.get_attribute("aria-label")
    button.focus()
    page.keyboard.press("Enter")  # keyboard operable
    copied = page.evaluate("() => navigator.clipboard.readText()")
    assert copied == "\n".join(checks.snippet_lines(*name.rsplit(":", 1)))


def test_math_in_views_is_rendered_by_katex(page, site_url):
    view = open_view(page, site_url, "schedules/", "optimessay/schedulers.py:steplr")
    assert view.locator(".oe-annotated__math .katex").count() == 1
    # no math left as TeX (an arithmatex element KaTeX did not fill)
    assert page.locator(".oe-annotated .arithmatex:not(:has(.katex))").count() == 0
    assert page.locator(".oe-annotated .katex-error").count() == 0


def test_views_stay_out_of_the_search_index(site_root):
    """The index is every page's download: a view's code and notes are not in it (the prose is)."""
    import json

    texts = [doc["text"] for doc in json.loads((site_root / "search" / "search_index.json").read_text())["docs"]]
    leaked = []
    for path in EXPECTED:
        for view in views_of(path):
            longest = max((line.strip() for row in view["rows"] for line in row["code"]), key=len)
            if any(longest in text for text in texts):
                leaked.append(f"{view['name']}: {longest!r}")
    assert not leaked, f"code of annotated views in the search index: {leaked[:5]}"
