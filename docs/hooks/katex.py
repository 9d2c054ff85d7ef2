"""MkDocs hook: serve KaTeX from the npm package as `assets/katex/` of the site.

pymdownx.arithmatex (generic mode) only wraps the math of a page in `.arithmatex` elements;
`docs/javascripts/katex.js` renders it in the browser with KaTeX's auto-render. The KaTeX files
come from `node_modules/katex/dist` (installed by `npm ci`), never from a CDN.

Only the subset the browser needs is added: katex.min.js, contrib/auto-render.min.js, the woff2
fonts, and katex.min.css rewritten so every `@font-face` names its woff2 file only (every browser
that runs the site reads woff2; the woff/ttf fallbacks would be dead links in site/).

The files are added as virtual MkDocs files (`on_files`), so `mkdocs build` and `mkdocs serve`
both serve them.
"""

from __future__ import annotations

import re
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

TARGET = "assets/katex"
SCRIPTS = ["katex.min.js", "contrib/auto-render.min.js"]
# one source in an @font-face `src:` list: url(fonts/NAME.EXT) format("FORMAT")
FONT_SOURCE = re.compile(r'url\((fonts/[^)]+)\)\s*format\("([^"]+)"\)')
FONT_SRC_LIST = re.compile(r"src:([^;}]+)")


def katex_dist(config) -> Path:
    """`node_modules/katex/dist` next to mkdocs.yml, or a build error saying how to get it."""
    dist = Path(config.config_file_path).parent / "node_modules" / "katex" / "dist"
    if not (dist / "katex.min.js").is_file():
        raise PluginError(f"KaTeX is missing ({dist / 'katex.min.js'}): run `npm ci` (or `make setup`)")
    return dist


def woff2_only(css: str) -> str:
    """Rewrite every `src:` list of KaTeX's @font-face rules to its woff2 source alone.

    `src:url(fonts/A.woff2) format("woff2"),url(fonts/A.woff) format("woff"),...`
    becomes `src:url(fonts/A.woff2) format("woff2")`.
    """

    def keep_woff2(match: re.Match) -> str:
        sources = FONT_SOURCE.findall(match.group(1))
        if not sources:
            return match.group(0)  # not a font list (no url(fonts/...)): leave it as it is
        woff2 = [path for path, fmt in sources if fmt == "woff2"]
        if len(woff2) != 1:
            raise PluginError(f"expected one woff2 source in KaTeX's @font-face, found {sources}")
        return f'src:url({woff2[0]}) format("woff2")'

    return FONT_SRC_LIST.sub(keep_woff2, css)


def on_files(files: Files, config) -> Files:
    dist = katex_dist(config)
    css = woff2_only((dist / "katex.min.css").read_text(encoding="utf-8"))
    files.append(File.generated(config, f"{TARGET}/katex.min.css", content=css))
    for name in SCRIPTS:
        files.append(File.generated(config, f"{TARGET}/{name}", abs_src_path=str(dist / name)))
    for font in sorted((dist / "fonts").glob("*.woff2")):
        files.append(File.generated(config, f"{TARGET}/fonts/{font.name}", abs_src_path=str(font)))
    # every font the rewritten CSS names must be among the files we serve
    missing = [path for path in re.findall(r"url\(([^)]+)\)", css) if not (dist / path).is_file()]
    if missing:
        raise PluginError(f"katex.min.css refers to files that are not in {dist}: {missing}")
    return files
