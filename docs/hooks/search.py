"""MkDocs hook: long code listings stay out of the search index.

Every page downloads the whole search index on its first load (Material's search worker fetches
search/search_index.json), so the index counts against each page's weight. Whole-file listings
(the `all` snippet sections a reader copies, 100-300 lines each) and long notebook cells would be
most of it, and searching them adds little: the prose around them names the same functions. A code
block longer than MAX_INDEXED_LINES gets Material's `data-search-exclude` attribute; shorter ones
stay searchable.
"""

from __future__ import annotations

import re

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


def on_page_content(html: str, page, config, files) -> str:
    return exclude_long_blocks(html)
