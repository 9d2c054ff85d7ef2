"""MkDocs hook: long code listings stay out of the search index.

Every page downloads the whole search index on its first load (Material's search worker fetches
search/search_index.json), so the index counts against each page's weight. Whole-file listings
(the `all` snippet sections a reader copies, 100-300 lines each) and long notebook cells would be
most of it, and searching them adds little: the prose around them names the same functions. A code
block longer than MAX_INDEXED_LINES gets Material's `data-search-exclude` attribute; shorter ones
stay searchable.

Notebook pages: every code cell (`<div class="jp-Cell jp-CodeCell ...">`: its source and its output,
printed numbers and plots) is left out whatever its length (see `set_cells_aside`); the notebooks'
markdown cells stay searchable. Math is left out by docs/hooks/katex.py (KaTeX's markup or the raw TeX would be indexed).

Indexing takes a second of every build (Material's parser walks each page's HTML, KaTeX's markup
included), so a page's entries are cached (`.cache/build/search/`, see `cached_indexing`) under a
hash of everything Material reads to make them: the page's HTML at that moment, its URL, title,
table of contents and front matter, and Material's version. `OPTIMESSAY_BUILD_CACHE=0` turns the
cache off (docs/hooks/build_cache.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from importlib import metadata
from pathlib import Path

from optimessay.files import write_atomic

MAX_INDEXED_LINES = 15
# a highlighted block of a page (<div class="language-xxx highlight">) or of a notebook's input cell
# (<div class="highlight-ipynb hl-python">), up to the end of its <pre>
CODE_BLOCK = re.compile(r'<div class="([^"]*\bhighlight(?:-ipynb)?\b[^"]*)">(.*?</pre>)', re.DOTALL)


def exclude_long_blocks(html: str) -> str:
    def mark(match: re.Match) -> str:
        if match.group(2).count("\n") <= MAX_INDEXED_LINES:
            return match.group(0)
        return f'<div class="{match.group(1)}" data-search-exclude>{match.group(2)}'

    return CODE_BLOCK.sub(mark, html)


# Notebook code cells are nested <div>s, and Material's indexer ends an exclusion at the first
# closing tag of the excluded element's kind (it compares elements by tag name), so an attribute on
# the cell would leave most of it indexed. Instead the cells are set aside while the indexer reads
# page.content (Material's `on_page_context`) and put back in this hook's `on_page_context`, which
# runs after it (MkDocs runs hooks after the plugins).
NOTEBOOK_CODE_CELL = re.compile(r'<div class="jp-Cell jp-CodeCell\b[^"]*"[^>]*>')
DIV_TAG = re.compile(r"<div\b[^>]*>|</div\s*>", re.IGNORECASE)
CELL_PLACEHOLDER = re.compile(r'<div data-optimessay-cell="(\d+)"></div>')
_cells: dict[str, list[str]] = {}


def end_of_element(html: str, start: int) -> int:
    """The index just past the </div> that closes the <div> opening at `start`."""
    depth = 0
    for tag in DIV_TAG.finditer(html, start):
        depth += -1 if tag.group(0).startswith("</") else 1
        if depth == 0:
            return tag.end()
    raise ValueError(f"unclosed <div> at {html[start:start + 120]!r}")


def set_cells_aside(html: str, kept: list[str]) -> str:
    """`html` with each notebook code cell replaced by a placeholder; the cells go to `kept`."""
    out, position = [], 0
    while (match := NOTEBOOK_CODE_CELL.search(html, position)) is not None:
        end = end_of_element(html, match.start())
        out += [html[position:match.start()], f'<div data-optimessay-cell="{len(kept)}"></div>']
        kept.append(html[match.start():end])
        position = end
    return "".join([*out, html[position:]])


def on_page_content(html: str, page, config, files) -> str:
    html = exclude_long_blocks(html)
    if page.file.src_uri.endswith(".ipynb"):
        html = set_cells_aside(html, _cells.setdefault(page.file.src_uri, []))
    return html


def on_page_context(context, page, config, nav):
    """Material's search plugin has indexed page.content (plugins run before hooks): the cells go back."""
    kept = _cells.pop(page.file.src_uri, [])
    if kept:
        page.content = CELL_PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], page.content)
    return context


# --- Cached indexing ----------------------------------------------------------------------------

SEARCH_CACHE_FORMAT = 1  # bump when an entry's layout or key changes
_used_entries: set[Path] = set()


def toc_text(items) -> list:
    return [[item.id, item.url, item.title, item.level, toc_text(item.children)] for item in items]


def index_key(page) -> str:
    """Everything `SearchIndex.add_entry_from_context` reads of the page, and Material's version."""
    meta = page.meta or {}
    about = {"format": SEARCH_CACHE_FORMAT, "material": metadata.version("mkdocs-material"),
             "url": page.url, "title": str(page.title), "meta_title": str(meta.get("title")),
             "tags": repr(meta.get("tags")), "search": repr(meta.get("search")), "toc": toc_text(page.toc)}
    digest = hashlib.sha256(json.dumps(about, sort_keys=True).encode("utf-8"))
    digest.update(b"\0" + page.content.encode("utf-8"))
    return digest.hexdigest()[:40]


def cached_indexing(index, folder: Path):
    """`index.add_entry_from_context`, reading a page's entries from `folder` when they are there."""
    original = index.add_entry_from_context

    def add_entry_from_context(page):
        entry = folder / f"{index_key(page)}.json"
        _used_entries.add(entry)
        try:
            index.entries.extend(json.loads(entry.read_text(encoding="utf-8")))
            return
        except (OSError, ValueError):
            pass
        before = len(index.entries)
        original(page)
        write_atomic(entry, json.dumps(index.entries[before:]))

    return add_entry_from_context


def search_cache(config) -> Path:
    return Path(config.config_file_path).resolve().parent / ".cache" / "build" / "search"


def on_config(config):
    _used_entries.clear()
    plugin = config.plugins.get("material/search") or config.plugins.get("search")
    index = getattr(plugin, "search_index", None)
    if os.environ.get("OPTIMESSAY_BUILD_CACHE", "1") != "0" and index is not None:
        index.add_entry_from_context = cached_indexing(index, search_cache(config))
    return config


def on_post_build(config):
    """Entries no page of this build used are dropped."""
    folder = search_cache(config)
    if _used_entries and folder.is_dir():
        for path in folder.glob("*.json"):
            if path not in _used_entries:
                path.unlink(missing_ok=True)
