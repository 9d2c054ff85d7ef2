"""The annotated views on the built site (docs/hooks/annotate.py, docs/stylesheets/annotate.css).

- every optimizer page and the schedules page show the views of their update rules (EXPECTED),
  and every view of every built page shows its file's section exactly (tests/test_annotate.py's
  check, on the HTML KaTeX has rendered), and stays out of the search index: one test per page
  with views, reading the built HTML (no browser: these are facts of the HTML);
- in Chromium (tests/browser/page_checks.py, made on page loads other tests make anyway: the light
  first load of test_pages.py's test_page and the dark first visit of test_figures_screens.py): at
  1280 px each note sits to the right of its code line, at 390 px under it; nothing scrolls sideways
  (neither the page nor a note), in light and dark mode, where the code takes the theme's code
  colours (page_checks.VIEWS); the copy button copies the section exactly, and the math in a view is
  rendered by KaTeX.

These tests fail until the pages carry their `!annotated[...]` markers and mkdocs.yml lists the
hook and the stylesheet (the lead's edits). (Not named test_annotate.py: pytest refuses two test
modules of one basename, and tests/test_annotate.py is the hook's own test.)
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
import yaml
from page_checks import OPT, annotate_checks
from site_helpers import ROOT, SITE, page_html, site_pages

checks = annotate_checks()

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


def mkdocs_config() -> dict:
    """mkdocs.yml as YAML (its `!!python/name:` tags read as None): what it lists, without loading
    MkDocs' plugins and hooks (the site build, which `make test` runs first, loads and checks them)."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)


def test_mkdocs_runs_the_hook_before_katex_and_links_the_stylesheet():
    """The notes' math is arithmatex markup until docs/hooks/katex.py renders it: annotate first."""
    config = mkdocs_config()
    hooks = [Path(name).name for name in config["hooks"]]
    assert "annotate.py" in hooks, "mkdocs.yml does not list docs/hooks/annotate.py"
    assert hooks.index("annotate.py") < hooks.index("katex.py")
    assert "stylesheets/annotate.css" in [str(css) for css in config["extra_css"]]


@functools.cache
def views_of(path: str) -> tuple[dict, ...]:
    """The annotated views of the built page (none without the class name in its HTML: not parsed)."""
    html = page_html(path)
    return tuple(checks.parse_views(html)) if "oe-annotated" in html else ()


def pages_with_views() -> list[str]:
    """Every page of EXPECTED (built or not: a missing one fails), and every built page whose HTML has
    an annotated view (one test each: together, every view of the site)."""
    built = [path for path in site_pages() if "oe-annotated" in page_html(path)]
    return sorted(set(EXPECTED) | set(built))


@functools.cache
def search_texts() -> tuple[str, ...]:
    return tuple(doc["text"] for doc in json.loads((SITE / "search" / "search_index.json").read_text())["docs"])


@pytest.mark.parametrize("path", pages_with_views())
def test_the_page_shows_its_annotated_views_each_equal_to_its_file_and_out_of_the_search_index(site_root, path):
    """Each page of EXPECTED shows its views; every view of the page shows its file's section exactly;
    the index is every page's download: a view's code is not in it (the prose is)."""
    shown = [view["name"] for view in views_of(path)]
    missing = [name for name in EXPECTED.get(path, []) if name not in shown]
    assert not missing, f"{path} shows no annotated view of {missing} (add `!annotated[FILE:SECTION]` lines)"
    leaked = []
    for view in views_of(path):
        file, section = view["name"].rsplit(":", 1)
        checks.check_view(view, checks.snippet_lines(file, section))
        longest = max((line.strip() for row in view["rows"] for line in row["code"]), key=len)
        if any(longest in text for text in search_texts()):
            leaked.append(f"{view['name']}: {longest!r}")
    assert not leaked, f"code of annotated views in the search index: {leaked[:5]}"
