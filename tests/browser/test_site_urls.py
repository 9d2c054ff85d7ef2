"""Every page of the nav has a URL of its own.

MkDocs gives `networks.md` and `networks.ipynb` the same URL, `/networks/`, and writes both to
`site/networks/index.html` without a word, even with --strict: the second overwrites the first and
the nav shows two links to one page (it happened: the networks notebook was lost behind its page).
This checks the sources (no two pages with the same URL) and the built site (the sitemap lists each
URL once, and each nav page's built HTML is that page's: its title is the nav's).
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import yaml
from site_helpers import ROOT, SITE

DOCS = ROOT / "docs"
PAGE_SUFFIXES = (".md", ".ipynb")


def _url(relative: Path) -> str:
    """The directory URL MkDocs gives a page (use_directory_urls: true)."""
    stem = relative.with_suffix("").as_posix()
    if stem == "index" or stem.endswith("/index"):
        return stem[: -len("index")]
    return stem + "/"


def _nav_pages() -> list[tuple[str, str]]:
    """(title, file) of every page in mkdocs.yml's nav."""

    class Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml uses tags (!!python/name:...) that safe_load refuses: read them as plain strings
    Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    config = yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=Loader)
    pages = []
    for item in config["nav"]:
        (title, target), = item.items()
        assert isinstance(target, str), f"nested nav sections are not expected here: {item!r}"
        pages.append((title, target))
    return pages


def test_no_two_source_pages_share_a_url():
    urls = collections.defaultdict(list)
    for path in DOCS.rglob("*"):
        if path.suffix in PAGE_SUFFIXES and ".ipynb_checkpoints" not in path.parts:
            urls[_url(path.relative_to(DOCS))].append(path.relative_to(DOCS).as_posix())
    shared = {url: files for url, files in urls.items() if len(files) > 1}
    assert not shared, f"pages that MkDocs would write to one URL (one overwrites the other): {shared}"


def test_the_sitemap_lists_each_url_once():
    locs = re.findall(r"<loc>([^<]+)</loc>", (SITE / "sitemap.xml").read_text(encoding="utf-8"))
    repeated = [loc for loc, n in collections.Counter(locs).items() if n > 1]
    assert locs and not repeated, f"URLs listed more than once in the sitemap: {repeated}"


def test_every_nav_page_is_built_from_its_own_source():
    """A notebook's URL holds a rendered notebook, a markdown page's holds none (the two overwrite
    each other when they share a URL), and every nav entry has its own URL."""
    pages = _nav_pages()
    urls = [_url(Path(target)) for _, target in pages]
    assert len(set(urls)) == len(urls), f"nav entries sharing a URL: {sorted(u for u in urls if urls.count(u) > 1)}"
    for (title, target), url in zip(pages, urls, strict=True):
        html = (SITE / url / "index.html").read_text(encoding="utf-8")
        is_notebook = 'class="jupyter-wrapper"' in html
        assert is_notebook == target.endswith(".ipynb"), (
            f"nav {title!r} ({target}): /{url} holds {'a notebook' if is_notebook else 'no notebook'}")
