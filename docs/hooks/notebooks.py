"""MkDocs hook: notebook pages (mkdocs-jupyter) run this checkout's code and load nothing remote.

Kernel environment (`on_config`): the notebooks' kernels inherit the environment of `mkdocs`. The
repository root goes first on PYTHONPATH, so `import optimessay` in a notebook runs the code of this
working tree (installed or not, never a stale copy), and MPLBACKEND is set to the inline backend
(an inherited `MPLBACKEND=Agg` would silently drop every plot from the executed notebooks).

Remote scripts (`on_page_content`):
nbconvert's HTML template loads MathJax and mermaid from cdnjs.cloudflare.com. This site renders
math with its own KaTeX (docs/javascripts/katex.js, which also handles the $...$ of notebook
markdown cells) and has no mermaid diagrams, so those loaders are removed (mkdocs-jupyter leaves
the MathJax one as `<script src="">` when no URL is configured). Any other script that
names an http(s) URL is a build error: the built site must work offline.

Page weight (`on_post_page`): nbconvert inlines JupyterLab's whole stylesheet (575 kB) and every plot
as base64 into each notebook page. The stylesheet keeps only rules that can match the page and the
custom properties something reads (about 20 kB remain); plots become PNG files next to the page.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from pathlib import Path

from mkdocs.exceptions import PluginError

from optimessay.files import write_atomic

SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL | re.IGNORECASE)
CDN_LOADERS = ("mathjax", "mermaid")  # what nbconvert's template loads from a CDN
EMPTY_SRC = re.compile(r"""<script\b[^>]*\bsrc=(""|'')""", re.IGNORECASE)  # the MathJax loader, url unset
REMOTE = re.compile(r"https?://", re.IGNORECASE)


INLINE_BACKEND = "module://matplotlib_inline.backend_inline"


def on_config(config):
    root = str(Path(config.config_file_path).resolve().parent)
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and p != root]
    os.environ["PYTHONPATH"] = os.pathsep.join([root, *paths])
    os.environ["MPLBACKEND"] = INLINE_BACKEND
    return config


def is_notebook(page) -> bool:
    return page.file.src_uri.endswith(".ipynb")


def on_page_content(html: str, page, config, files) -> str:
    if not is_notebook(page):
        return html

    def drop_cdn_loader(match: re.Match) -> str:
        script = match.group(0)
        if any(name in script.lower() for name in CDN_LOADERS) or EMPTY_SRC.match(script):
            return ""
        if REMOTE.search(script):
            raise PluginError(f"{page.file.src_uri}: a script of the notebook page loads from the web: "
                              f"{script[:200]!r}")
        return script

    return SCRIPT.sub(drop_cdn_loader, html)


# --- Page weight (1): nbconvert inlines JupyterLab's whole stylesheet (575 kB) into every notebook
# page. Almost all of it styles JupyterLab's application (file browser, menus, dialogs), never a
# static notebook. `on_post_page` keeps only the rules that can match something on the page.

CLASS = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
STYLE = re.compile(r"(<style[^>]*>)(.*?)(</style>)", re.DOTALL | re.IGNORECASE)
CONDITIONAL_AT_RULES = ("@media", "@supports", "@layer", "@container")
ALWAYS_KEPT_CLASSES = ("md-",)  # Material adds some classes from JavaScript (md-typeset__scrollwrap)


def css_blocks(css: str) -> list[tuple[str, str | None]]:
    """Top-level items of a stylesheet: (selector or at-rule prelude, body), body None for `@x ...;`.

    Braces inside strings do not count; comments are dropped.
    """
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.DOTALL)
    items, depth, start, prelude_end, quote, i = [], 0, 0, 0, None, 0
    while i < len(css):
        char = css[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "{":
            if depth == 0:
                prelude_end = i
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                items.append((css[start:prelude_end].strip(), css[prelude_end + 1:i]))
                start = i + 1
        elif char == ";" and depth == 0:
            items.append((css[start:i].strip(), None))
            start = i + 1
        i += 1
    return items


def split_selectors(selector_list: str) -> list[str]:
    """`a, b:not(.x, .y)` -> ['a', 'b:not(.x, .y)']: commas inside parentheses stay."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(selector_list):
        depth += (char == "(") - (char == ")")
        if char == "," and depth == 0:
            parts.append(selector_list[start:i])
            start = i + 1
    return [*parts, selector_list[start:]]


def can_match(selector: str, classes: set[str]) -> bool:
    """False when the selector needs a class that no element of the page has.

    Classes inside :not(...) are ignored (their absence does not stop a match).
    """
    positive = re.sub(r":not\([^()]*\)", "", selector)
    return all(name in classes or name.startswith(ALWAYS_KEPT_CLASSES) for name in CLASS.findall(positive))


def purge_css(css: str, classes: set[str]) -> str:
    """The rules of `css` that can match an element whose classes are among `classes`."""
    kept = []
    for prelude, body in css_blocks(css):
        if body is None:
            kept.append(prelude + ";")
        elif prelude.lower().startswith(CONDITIONAL_AT_RULES):
            inner = purge_css(body, classes)
            if inner:
                kept.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@"):
            kept.append(f"{prelude}{{{body}}}")  # @font-face, @keyframes, ...: kept as they are
        else:
            selectors = [s for s in split_selectors(prelude) if can_match(s, classes)]
            if selectors:
                kept.append(",".join(selectors) + "{" + body + "}")
    return "".join(kept)


def declarations(body: str) -> list[str]:
    """`a: 1; b: url(data:x;y)` -> ['a: 1', 'b: url(data:x;y)']: semicolons inside () or quotes stay."""
    parts, depth, quote, start = [], 0, None, 0
    for i, char in enumerate(body):
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "()":
            depth += 1 if char == "(" else -1
        elif char == ";" and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    return [part for part in [*parts, body[start:]] if part.strip()]


def drop_properties(css: str, unused: set[str]) -> str:
    """`css` without the declarations of the custom properties (`--name: ...`) in `unused`."""
    kept = []
    for prelude, body in css_blocks(css):
        if body is None:
            kept.append(prelude + ";")
        elif prelude.startswith("@") and "{" in body:
            kept.append(f"{prelude}{{{drop_properties(body, unused)}}}")
        else:
            body = ";".join(d for d in declarations(body) if d.split(":", 1)[0].strip() not in unused)
            kept.append(f"{prelude}{{{body}}}")
    return "".join(kept)


VAR_USE = re.compile(r"var\(\s*(--[\w-]+)")
VAR_DEFINITION = re.compile(r"[{;]\s*(--[\w-]+)\s*:")


def drop_unused_properties(page_html: str) -> str:
    """Remove custom properties no `var()` of the page reads (JupyterLab's ~80 kB of icon data URIs,
    its colour palette); repeated, since dropping one can leave another unused."""
    while True:
        styles = "".join(m.group(2) for m in STYLE.finditer(page_html))
        unused = set(VAR_DEFINITION.findall(styles)) - set(VAR_USE.findall(page_html))
        if not unused:
            return page_html
        page_html = STYLE.sub(lambda m, unused=unused: m.group(1) + drop_properties(m.group(2), unused) + m.group(3),
                              page_html)


# --- Output images: nbconvert inlines every plot as a base64 data URI (a third larger than the PNG,
# and never cached). `on_post_page` writes each to a file next to the page and links it, lazily.

DATA_IMAGE = re.compile(r'<img([^>]*?)\ssrc="data:image/(png|jpeg|gif|webp);base64,([^"]+)"')


def extract_images(page_html: str, folder: Path) -> str:
    """Replace each data-URI <img> by a file `output-<hash>.<ext>` in `folder` (the page's own)."""

    def to_file(match: re.Match) -> str:
        attributes, kind, encoded = match.groups()
        data = base64.b64decode(encoded)
        name = f"output-{hashlib.sha1(data).hexdigest()[:12]}.{'jpg' if kind == 'jpeg' else kind}"
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / name, data)
        lazy = "" if "loading=" in attributes else ' loading="lazy"'
        return f'<img{attributes}{lazy} src="{name}"'

    return DATA_IMAGE.sub(to_file, page_html)


def on_post_page(output: str, page, config) -> str:
    if not is_notebook(page):
        return output
    classes = {name for attribute in re.findall(r'class="([^"]*)"', output) for name in attribute.split()}
    output = STYLE.sub(lambda m: m.group(1) + purge_css(m.group(2), classes) + m.group(3), output)
    output = drop_unused_properties(output)
    return extract_images(output, Path(page.file.abs_dest_path).parent)
