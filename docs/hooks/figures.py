"""MkDocs hook: `!figure[NAME](Caption)` lines become `<figure>` elements.

A page places a figure built by `make figures` with one line of its own:

    !figure[banana-log-contour](The banana: *log* contours show the valley floor, $f(1, 1) = 0$.)

The line becomes a `<figure>` holding, for an image, `<img>` with the manifest's alt text, width,
height and `loading="lazy"`; for a video, `<video controls playsinline muted loop preload="none">`
with its poster, WebM and MP4 sources and a download link as fallback. `data-autoplay="visible"`
asks docs/javascripts/figures.js to play it while it is on screen (never under
prefers-reduced-motion). The caption (markdown and math allowed, converted with the site's
markdown extensions) goes into `<figcaption>`; a link in a caption is not rewritten by MkDocs, so
it must be written as the page's URL sees it. A figure without a caption, or a `!figure[...]` that
is not alone on its line, fails the build.

Paths are relative to the page's URL (`figures/x.png` on the home page, `../figures/x.png` on
`comparing/`), since MkDocs rewrites links in markdown but not in raw HTML. The figures and
`docs/figures/manifest.json` are written by `make figures` (scripts/build_figures.py); the manifest
is `{"figures": {NAME: {"kind": "image"|"video", "alt": str, "files": {...}, "width": int,
"height": int}}}`. An unknown NAME, a missing manifest or a missing file is a build error.
"""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path

from markdown import Markdown
from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

FIGURES_DIR = "figures"  # inside docs_dir, and so inside the site
FIGURE_LINE = re.compile(r"^(?P<indent>[ \t]*)!figure\[(?P<name>[^\]]*)\]\((?P<caption>.*)\)[ \t]*$")
FENCE = re.compile(r"^[ \t]*(```|~~~)")
KINDS = {"image": ("png",), "video": ("webm", "mp4", "poster")}

_manifest_cache: dict = {}
_page_figures: dict[str, list[str]] = {}  # src_uri -> the <figure> HTML of its placeholders


def on_pre_build(config) -> None:
    """Read the manifest afresh on every build (`make serve` rebuilds after `make figures`)."""
    _manifest_cache.clear()
    _page_figures.clear()


def load_manifest(docs_dir: Path, name: str) -> dict:
    """The `figures` table of docs/figures/manifest.json (cached for one build)."""
    path = docs_dir / FIGURES_DIR / "manifest.json"
    if "figures" not in _manifest_cache:
        if not path.is_file():
            raise PluginError(f"figure '{name}': {path} does not exist: run `make figures`")
        try:
            _manifest_cache["figures"] = json.loads(path.read_text(encoding="utf-8"))["figures"]
        except (ValueError, KeyError) as error:
            raise PluginError(f"{path} is not a figure manifest ({error!r}): run `make figures`") from error
    return _manifest_cache["figures"]


def figure_entry(docs_dir: Path, name: str, page_path: str) -> dict:
    """The manifest entry of figure NAME, checked: known kind, alt text, size, files on disk."""
    figures = load_manifest(docs_dir, name)
    if name not in figures:
        raise PluginError(f"{page_path}: unknown figure '{name}' (not in {FIGURES_DIR}/manifest.json): "
                          f"declare it in scripts/catalog.py and run `make figures`")
    entry = figures[name]
    kind = entry.get("kind")
    if kind not in KINDS:
        raise PluginError(f"figure '{name}': kind {kind!r}, expected one of {sorted(KINDS)}")
    for key in ("alt", "width", "height"):
        if not entry.get(key):
            raise PluginError(f"figure '{name}': the manifest has no {key!r}: run `make figures`")
    files = entry.get("files", {})
    for role in KINDS[kind]:
        if role not in files:
            raise PluginError(f"figure '{name}' ({kind}): the manifest lists no {role!r} file")
        if not (docs_dir / FIGURES_DIR / files[role]).is_file():
            raise PluginError(f"figure '{name}': {FIGURES_DIR}/{files[role]} is missing: run `make figures`")
    return entry


def figure_html(name: str, entry: dict, caption_html: str, page_url: str) -> str:
    """The `<figure>` of one figure, its paths relative to the page at `page_url`."""

    def url(file: str) -> str:
        return escape(get_relative_url(f"{FIGURES_DIR}/{file}", page_url))

    files, alt = entry["files"], escape(entry["alt"])
    size = f'width="{int(entry["width"])}" height="{int(entry["height"])}"'
    if entry["kind"] == "image":
        media = f'<img src="{url(files["png"])}" alt="{alt}" {size} loading="lazy">'
    else:
        media = (
            f'<video controls playsinline muted loop preload="none" data-autoplay="visible" '
            f'poster="{url(files["poster"])}" {size} aria-label="{alt}">'
            f'<source src="{url(files["webm"])}" type="video/webm">'
            f'<source src="{url(files["mp4"])}" type="video/mp4">'
            f'<a href="{url(files["mp4"])}">Download the animation (MP4)</a>: {alt}'
            f"</video>"
        )
    kind = escape(entry["kind"])
    return (
        f'<figure class="optimessay-figure optimessay-figure--{kind}" data-figure="{escape(name)}">\n'
        f"{media}\n"
        f"<figcaption>{caption_html}</figcaption>\n"
        f"</figure>"
    )


def caption_to_html(caption: str, config) -> str:
    """Inline HTML of a caption, converted with the site's own markdown extensions (math too)."""
    converter = Markdown(extensions=config.markdown_extensions, extension_configs=config.mdx_configs)
    html = converter.convert(caption.strip())
    if html.startswith("<p>") and html.endswith("</p>") and html.count("<p>") == 1:
        html = html[len("<p>"):-len("</p>")]
    return html


def placeholder(number: int) -> str:
    """A paragraph of letters and digits only, which markdown leaves as it is."""
    return f"OptimessayFigure{number}Placeholder"


CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.DOTALL)  # code may show the syntax itself
STRAY_FIGURE = re.compile(r"!figure(\[|<a\b)")  # left in the HTML (markdown makes `[x](y)` a link)
PLACEHOLDER = re.compile(r"(?:<p>\s*)?OptimessayFigure(\d+)Placeholder(?:\s*</p>)?")


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Replace every `!figure[NAME](Caption)` line outside code fences by a placeholder paragraph.

    The placeholder becomes the `<figure>` in `on_page_content`: raw HTML written into the markdown
    would not survive indentation (a figure inside an admonition or a tab).
    """
    docs_dir = Path(config.docs_dir)
    figures = _page_figures[page.file.src_uri] = []
    lines, fence = [], None
    for line in markdown.split("\n"):
        opening = FENCE.match(line)
        if opening and fence is None:
            fence = opening.group(1)
        elif opening and line.strip().startswith(fence):
            fence = None
        match = None if fence else FIGURE_LINE.match(line)
        if not match:
            lines.append(line)
            continue
        name = match.group("name")
        if not match.group("caption").strip():
            raise PluginError(f"{page.file.src_path}: figure '{name}' has no caption: say what to look at, "
                              f"`!figure[{name}](Caption.)`")
        entry = figure_entry(docs_dir, name, page.file.src_path)
        caption = caption_to_html(match.group("caption"), config)
        figures.append(figure_html(name, entry, caption, page.url))
        # blank lines around keep the placeholder a paragraph of its own
        lines += ["", match.group("indent") + placeholder(len(figures) - 1), ""]
    return "\n".join(lines)


def on_page_content(html: str, page, config, files) -> str:
    """Put each figure where its placeholder paragraph landed."""
    figures = _page_figures.pop(page.file.src_uri, [])
    used = set()

    def figure(match: re.Match) -> str:
        number = int(match.group(1))
        if number >= len(figures):
            raise PluginError(f"{page.file.src_path}: stray figure placeholder {match.group(0)!r}")
        used.add(number)
        return figures[number]

    html = PLACEHOLDER.sub(figure, html)
    stray = STRAY_FIGURE.search(CODE.sub("", html))
    if stray:
        start = stray.start()
        raise PluginError(f"{page.file.src_path}: a `!figure[...]` that is not a figure line (it must stand "
                          f"alone on one line: `!figure[NAME](Caption.)`): {stray.string[start:start + 80]!r}")
    if len(used) != len(figures):
        lost = [number for number in range(len(figures)) if number not in used]
        raise PluginError(f"{page.file.src_path}: figures {lost} vanished in the markdown conversion "
                          f"(is a `!figure` line inside raw HTML or a code block?)")
    return html
