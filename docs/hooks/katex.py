"""MkDocs hook: math is rendered with KaTeX when the site is built; no KaTeX JavaScript is shipped.

What is rendered, and how (the same HTML that KaTeX's auto-render produced in the browser before):

- pymdownx.arithmatex (generic mode) wraps math as `<span class="arithmatex">\\(...\\)</span>` and
  `<div class="arithmatex">\\[...\\]</div>` (pages, figure captions, mkdocstrings' docstrings);
- notebook pages (mkdocs-jupyter) keep the `$...$`, `$$...$$`, `\\(...\\)` and `\\[...\\]` of their
  markdown cells as text inside `.jp-RenderedMarkdown`; code, `pre` and input areas are left alone.

The text is split at the delimiters exactly as KaTeX's auto-render splits it (`split_at_delimiters`,
a port of contrib/auto-render/splitAtDelimiters.ts: the first left delimiter in list order, the
right one found outside braces and past backslash escapes), and each formula becomes
`<span>` + `katex.renderToString(tex, {displayMode})` + `</span>`, which is what auto-render's
`katex.render(tex, span)` left in the page. tests/browser/test_pages.py compares every page with the
browser's rendering of the site before this hook existed.

Rendering runs `node` once per build, on the formulas no earlier build rendered: each page's math
is replaced by placeholders in `on_page_content`, every new formula of the build is rendered in one
call in `on_env` (after all pages are converted, before any is written), and the placeholders are
filled in `on_post_page`. Rendered formulas are kept in `.cache/katex/KATEX_VERSION.json`, keyed
on the TeX and the display mode, so a rebuild (or `mkdocs serve` after an edit) starts no `node`.
A formula KaTeX cannot parse fails the build, naming the page and the formula.

Assets: KaTeX comes from `node_modules/katex/dist` (the version pinned by package-lock.json, installed
by `npm ci`), never from a CDN. The site serves katex.min.css, rewritten so every `@font-face` names
its woff2 file only, and the woff2 fonts; docs/overrides/main.html links the stylesheet on the pages
that have math (`page.katex` is set here), inside the container that instant navigation swaps.
The math is marked `data-search-exclude`: Material's search index (which every page downloads)
would otherwise hold KaTeX's HTML or the raw TeX.
"""

from __future__ import annotations

import json
import re
import subprocess
from html import escape, unescape
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

from optimessay.files import write_atomic

TARGET = "assets/katex"
# one source in an @font-face `src:` list: url(fonts/NAME.EXT) format("FORMAT")
FONT_SOURCE = re.compile(r'url\((fonts/[^)]+)\)\s*format\("([^"]+)"\)')
FONT_SRC_LIST = re.compile(r"src:([^;}]+)")

# the delimiters the browser-side renderer used (docs/javascripts/katex.js before build-time math)
ARITHMATEX = [("\\(", "\\)", False), ("\\[", "\\]", True)]
NOTEBOOK = [("$$", "$$", True), ("$", "$", False), *ARITHMATEX]
# auto-render's defaults, and the classes the site's renderer ignored
IGNORED_TAGS = {"script", "noscript", "style", "textarea", "pre", "code", "option"}
IGNORED_CLASSES = {"jp-InputArea", "highlight", "highlight-ipynb"}

ARITHMATEX_ELEMENT = re.compile(r'<(span|div) class="arithmatex">(.*?)</\1>', re.DOTALL)
# a notebook page as a sequence of tags (script/style/comments whole) and text
TOKEN = re.compile(r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]+>", re.DOTALL | re.IGNORECASE)
TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][\w:-]*)([^>]*?)(/?)>", re.DOTALL)
CLASS_ATTRIBUTE = re.compile(r"""\bclass\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
PLACEHOLDER = re.compile(r'<span data-katex="(\d+)" data-search-exclude></span>')

RENDER_SCRIPT = r"""
const katex = require(process.argv[1]);
const formulas = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = formulas.map(([tex, display]) => {
  try {
    return { html: katex.renderToString(tex, { displayMode: display, throwOnError: true, macros: {} }) };
  } catch (error) {
    return { error: String(error.message || error) };
  }
});
process.stdout.write(JSON.stringify(out));
"""


def katex_dist(config) -> Path:
    """`node_modules/katex/dist` next to mkdocs.yml, or a build error saying how to get it."""
    dist = Path(config.config_file_path).parent / "node_modules" / "katex" / "dist"
    if not (dist / "katex.min.css").is_file():
        raise PluginError(f"KaTeX is missing ({dist / 'katex.min.css'}): run `npm ci` (or `make setup`)")
    return dist


def katex_version(dist: Path) -> str:
    return json.loads((dist.parent / "package.json").read_text(encoding="utf-8"))["version"]


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


# --- splitting text at math delimiters, as KaTeX's auto-render does ------------------------------


def find_end_of_math(delimiter: str, text: str, start: int) -> int:
    """Index of `delimiter` in `text` from `start`, outside braces and not backslash-escaped; -1."""
    index, brace_level = start, 0
    while index < len(text):
        char = text[index]
        if brace_level <= 0 and text.startswith(delimiter, index):
            return index
        if char == "\\":
            index += 1
        elif char == "{":
            brace_level += 1
        elif char == "}":
            brace_level -= 1
        index += 1
    return -1


def split_at_delimiters(text: str, delimiters) -> list[tuple[str, str, bool]]:
    """[("text", text, False) | ("math", tex, display), ...]: auto-render's splitAtDelimiters."""
    parts = []
    left = re.compile("|".join(re.escape(opening) for opening, _, _ in delimiters))
    while True:
        match = left.search(text)
        if not match:
            break
        if match.start() > 0:
            parts.append(("text", text[:match.start()], False))
            text = text[match.start():]
        opening, closing, display = next(d for d in delimiters if text.startswith(d[0]))
        end = find_end_of_math(closing, text, len(opening))
        if end == -1:
            break
        raw = text[:end + len(closing)]
        tex = raw if raw.startswith("\\begin{") else text[len(opening):end]
        parts.append(("math", tex, display))
        text = text[end + len(closing):]
    if text:
        parts.append(("text", text, False))
    return parts


# --- one build ----------------------------------------------------------------------------------

_cache: dict[str, str] = {}  # "d" or "i" + TeX -> KaTeX's HTML (loaded from and saved to disk)
_cache_state = {"path": None, "dirty": False}
_pages: dict[str, list[tuple[str, bool]]] = {}  # src_uri -> the (tex, display) of its placeholders


def cache_key(tex: str, display: bool) -> str:
    return ("d" if display else "i") + tex


def on_config(config):
    dist = katex_dist(config)
    path = Path(config.config_file_path).parent / ".cache" / "katex" / f"{katex_version(dist)}.json"
    if _cache_state["path"] != path:
        _cache.clear()
        if path.is_file():
            try:
                _cache.update(json.loads(path.read_text(encoding="utf-8")))
            except ValueError:
                pass  # a damaged cache is rebuilt
        _cache_state["path"] = path
    return config


def on_pre_build(config) -> None:
    _pages.clear()


def on_files(files: Files, config) -> Files:
    dist = katex_dist(config)
    css = woff2_only((dist / "katex.min.css").read_text(encoding="utf-8"))
    files.append(File.generated(config, f"{TARGET}/katex.min.css", content=css))
    for font in sorted((dist / "fonts").glob("*.woff2")):
        files.append(File.generated(config, f"{TARGET}/fonts/{font.name}", abs_src_path=str(font)))
    # every font the rewritten CSS names must be among the files we serve
    missing = [path for path in re.findall(r"url\(([^)]+)\)", css) if not (dist / path).is_file()]
    if missing:
        raise PluginError(f"katex.min.css refers to files that are not in {dist}: {missing}")
    return files


def math_html(text: str, delimiters, formulas: list[tuple[str, bool]]) -> str | None:
    """`text` (unescaped) as HTML with each formula replaced by a placeholder; None without math."""
    parts = split_at_delimiters(text, delimiters)
    if all(kind == "text" for kind, _, _ in parts):
        return None
    out = []
    for kind, value, display in parts:
        if kind == "text":
            out.append(escape(value, quote=False))
        else:
            out.append(f'<span data-katex="{len(formulas)}" data-search-exclude></span>')
            formulas.append((value, display))
    return "".join(out)


def replace_arithmatex(html: str, formulas: list) -> str:
    def replace(match: re.Match) -> str:
        tag, inner = match.groups()
        if "<" in inner:
            raise PluginError(f"an arithmatex element holds markup, not only TeX: {match.group(0)[:200]!r}")
        rendered = math_html(unescape(inner), ARITHMATEX, formulas)
        if rendered is None:
            return match.group(0)
        return f'<{tag} class="arithmatex" data-search-exclude>{rendered}</{tag}>'

    return ARITHMATEX_ELEMENT.sub(replace, html)


def replace_notebook_markdown(html: str, formulas: list) -> str:
    """The math of the text inside `.jp-RenderedMarkdown` elements (not in ignored tags/classes)."""
    out, stack, position = [], [], 0  # stack: (tag, inside rendered markdown, ignored)
    for token in TOKEN.finditer(html):
        text = html[position:token.start()]
        inside, ignored = stack[-1][1:] if stack else (False, False)
        if text and inside and not ignored:
            rendered = math_html(unescape(text), NOTEBOOK, formulas)
            text = text if rendered is None else rendered
        out.append(text)
        out.append(token.group(0))
        position = token.end()
        tag = TAG.match(token.group(0))
        if not tag or token.group(0).startswith(("<!", "<script", "<style", "<SCRIPT", "<STYLE")):
            continue
        closing, name, attributes, self_closing = tag.groups()
        name = name.lower()
        if closing:
            for depth in range(len(stack) - 1, -1, -1):
                if stack[depth][0] == name:
                    del stack[depth:]
                    break
        elif name not in VOID and not self_closing:
            match = CLASS_ATTRIBUTE.search(attributes)
            classes = set((next(g for g in match.groups() if g is not None) if match else "").split())
            if not inside and "jp-RenderedMarkdown" in classes:  # the element auto-render was given
                inside, ignored = True, False
            else:  # ignored tags and classes count below it (a markdown cell is in a jp-InputArea)
                ignored = ignored or name in IGNORED_TAGS or bool(classes & IGNORED_CLASSES)
            stack.append((name, inside, ignored))
    out.append(html[position:])
    return "".join(out)


def on_page_content(html: str, page, config, files) -> str:
    formulas: list[tuple[str, bool]] = []
    html = replace_arithmatex(html, formulas)
    if page.file.src_uri.endswith(".ipynb"):
        html = replace_notebook_markdown(html, formulas)
    _pages[page.file.src_uri] = formulas
    page.katex = bool(formulas)  # docs/overrides/main.html links KaTeX's stylesheet on such pages
    return html


def render(formulas: list[tuple[str, bool]], config) -> list[dict]:
    """KaTeX's HTML (or its error) for each (tex, display), in one `node` run."""
    katex = katex_dist(config).parent
    try:
        result = subprocess.run(["node", "-e", RENDER_SCRIPT, str(katex)], input=json.dumps(formulas),
                                capture_output=True, text=True, timeout=600, check=False)
    except FileNotFoundError as error:
        raise PluginError("node is missing: math is rendered by KaTeX under Node.js at build time") from error
    if result.returncode != 0:
        raise PluginError(f"rendering math with KaTeX failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def on_env(env, config, files):
    wanted = {cache_key(tex, display): (tex, display) for formulas in _pages.values()
              for tex, display in formulas}
    missing = [formula for key, formula in wanted.items() if key not in _cache]
    if missing:
        errors = []
        for (tex, display), out in zip(missing, render(missing, config), strict=True):
            if "error" in out:
                pages = [uri for uri, formulas in _pages.items() if (tex, display) in formulas]
                errors.append(f"{', '.join(pages)}: {out['error']} in {tex!r}")
            else:
                _cache[cache_key(tex, display)] = out["html"]
                _cache_state["dirty"] = True
        if errors:
            raise PluginError("KaTeX cannot render this math:\n  " + "\n  ".join(errors))
    if _cache_state["dirty"]:
        path = _cache_state["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(_cache, ensure_ascii=False, sort_keys=True))
        _cache_state["dirty"] = False
    return env


def on_post_page(output: str, page, config) -> str:
    formulas = _pages.get(page.file.src_uri, [])

    def fill(match: re.Match) -> str:
        tex, display = formulas[int(match.group(1))]
        return f"<span>{_cache[cache_key(tex, display)]}</span>"

    return PLACEHOLDER.sub(fill, output)
