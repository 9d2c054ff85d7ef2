r"""MkDocs hook: `!figure[NAME](Caption)` lines become `<figure>` elements, and `!num[NAME.key]`
becomes a number the package computed.

## Numbers: `!num[NAME.key]` and `!num[NAME.key:FORMAT]`

Every number a page states about an experiment is quoted from the package's own output, never
typed in: a "numbers" entry of the catalog (scripts/figures/<page>.py) is a recipe that runs the
experiment and returns a flat dict `{key: int, float or short string}`; `make figures` writes it to
`docs/figures/NAME.json` (built, keyed, stamped and verified like a figure, listed in the manifest
with kind "numbers"). A page writes, anywhere in prose, a table, an admonition, a heading or a
figure caption:

    SGD ends at loss !num[race-banana.sgd_final_loss:.3g] after !num[race-banana.steps:,d] steps,
    !num[race-banana.sgd_vs_adam:.1%] of Adam's.

and the page shows `format(value, FORMAT)` (Python's format spec: `.3g`, `,d`, `.1%`, `.2e`, ...;
without `:FORMAT`, `format(value, "")`, i.e. `str(value)`). Inside code (fenced blocks and inline
`code`) the text stays as written, so a page can show the syntax. An unknown NAME or key, a NAME
that is a figure, a FORMAT that does not apply to the value, or a `!num[...]` the markdown mangled
fails the strict build with a message naming the page, NAME and key. A page therefore cannot
disagree with the package: the number on it *is* the package's output, rebuilt when the code that
computes it changes. (Substitution happens on the page's HTML, after markdown, before the search
index: math such as `$\kappa = !num[x.kappa:g]$` gets the number as long as it is rendered after
this hook, as KaTeX in the browser is.)

## Figures: `!figure[NAME](Caption)`

A page places a figure built by `make figures` with one line of its own:

    !figure[banana-log-contour](The banana: *log* contours show the valley floor, $f(1, 1) = 0$.)

The line becomes a `<figure>` holding, for an image, `<img>` with the manifest's alt text, width,
height and `loading="lazy"`; for a video, `<video controls playsinline muted loop preload="none">`
with its poster, WebM and MP4 sources (the smaller file first: a browser plays the first it can,
and the manifest records each file's size) and a download link as fallback. `data-autoplay="visible"`
asks docs/javascripts/figures.js to play it while it is on screen (never under
prefers-reduced-motion). The caption (markdown and math allowed, converted with the site's
markdown extensions) goes into `<figcaption>`; a link in a caption is not rewritten by MkDocs, so
it must be written as the page's URL sees it. A figure without a caption, or a `!figure[...]` that
is not alone on its line, fails the build.

Paths are relative to the page's URL (`figures/x.png` on the home page, `../figures/x.png` on
`comparing/`), since MkDocs rewrites links in markdown but not in raw HTML. The figures and
`docs/figures/manifest.json` are written by `make figures` (scripts/build_figures.py); the manifest
is `{"figures": {NAME: {"kind": "image"|"video"|"numbers", "alt": str, "files": {...}, "width": int,
"height": int, "bytes": {ROLE: int}}}}` (no width/height for numbers). An unknown NAME, a missing
manifest or a missing file is a build error.
"""

from __future__ import annotations

import json
import re
from html import escape, unescape
from pathlib import Path

from markdown import Markdown
from mkdocs.exceptions import PluginError
from mkdocs.utils import get_relative_url

FIGURES_DIR = "figures"  # inside docs_dir, and so inside the site
FIGURE_LINE = re.compile(r"^(?P<indent>[ \t]*)!figure\[(?P<name>[^\]]*)\]\((?P<caption>.*)\)[ \t]*$")
FENCE = re.compile(r"^[ \t]*(```|~~~)")
KINDS = {"image": ("png",), "video": ("webm", "mp4", "poster")}

_manifest_cache: dict = {}
_numbers_cache: dict[str, dict] = {}  # NAME -> its values, read once per build
_page_figures: dict[str, list[str]] = {}  # src_uri -> the <figure> HTML of its placeholders


def on_pre_build(config) -> None:
    """Read the manifest afresh on every build (`make serve` rebuilds after `make figures`)."""
    _manifest_cache.clear()
    _numbers_cache.clear()
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
    if kind == "numbers":
        raise PluginError(f"{page_path}: '{name}' is numbers, not a figure: quote a value with !num[{name}.KEY]")
    if kind not in KINDS:
        raise PluginError(f"figure '{name}': kind {kind!r}, expected one of {sorted(KINDS)}")
    for key in ("alt", "width", "height"):
        if not entry.get(key):
            raise PluginError(f"figure '{name}': the manifest has no {key!r}: run `make figures`")
    files = entry.get("files", {})
    for role in KINDS[kind]:
        if role not in files:
            raise PluginError(f"figure '{name}' ({kind}): the manifest lists no {role!r} file")
    for role in files:  # the variants (dark, narrow) too
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
        media = image_html(files, alt, entry, url)
    else:
        sources = "".join(f'<source src="{url(files[role])}" type="video/{role}">' for role in video_order(entry))
        # with a dark poster, figures.js sets the poster of the reader's theme (and swaps it when the
        # theme changes): a poster attribute would be fetched at once, in whichever theme
        poster = (f'data-poster-light="{url(files["poster"])}" data-poster-dark="{url(files["poster_dark"])}"'
                  if "poster_dark" in files else f'poster="{url(files["poster"])}"')
        media = (
            f'<video controls playsinline muted loop preload="none" data-autoplay="visible" '
            f'{poster} {size} aria-label="{alt}">'
            f"{sources}"
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


NARROW_MEDIA = "(max-width: 600px)"  # phones: the narrow variant (380 CSS px wide, text at full size)
# Hides the other theme's <picture> (the palette toggle sets body[data-md-color-scheme]): an image
# inside a hidden <picture> is not rendered, so, being lazy, it is never fetched. On the <picture>, not
# the <img>: the site's stylesheet sets `figure.optimessay-figure img {display: block}`, which outranks
# Material's own `img[src$="#only-dark"]` rule. Every page gets it (instant navigation keeps the first
# page's <head>).
THEME_STYLE = ('<style id="optimessay-figure-themes">'
               '[data-md-color-scheme="slate"] .optimessay-figure__light,'
               'body:not([data-md-color-scheme="slate"]) .optimessay-figure__dark{display:none}'
               '</style>')


def image_html(files: dict, alt: str, entry: dict, url) -> str:
    """The `<img>` of an image figure, or, when the manifest lists its variants, one `<picture>` per
    theme, the other one hidden by `THEME_STYLE` (after `body[data-md-color-scheme]`, which the palette
    toggle sets; the `#only-light` / `#only-dark` suffixes are Material's own convention, for readers of
    the HTML); a hidden lazy image is never fetched, so a page downloads only its theme's picture. In
    each, a `<source>` gives phones the narrow variant when there is one."""
    size = f'width="{int(entry["width"])}" height="{int(entry["height"])}"'
    if "png_dark" not in files:
        return f'<img src="{url(files["png"])}" alt="{alt}" {size} loading="lazy">'
    pictures = []
    for theme, wide, narrow in (("light", "png", "png_narrow"), ("dark", "png_dark", "png_narrow_dark")):
        source = ""
        if narrow in files and entry.get("narrow_width") and entry.get("narrow_height"):
            source = (f'<source media="{NARROW_MEDIA}" srcset="{url(files[narrow])}#only-{theme}" '
                      f'width="{int(entry["narrow_width"])}" height="{int(entry["narrow_height"])}">')
        pictures.append(f'<picture class="optimessay-figure__{theme}">{source}'
                        f'<img src="{url(files[wide])}#only-{theme}" alt="{alt}" {size} loading="lazy"></picture>')
    return "".join(pictures)


def video_order(entry: dict) -> list[str]:
    """The video roles in the order to list their `<source>`s: the smaller file first, by the sizes
    the manifest records (a browser plays the first source it can, and both play everywhere the site
    runs); WebM first when the sizes are equal or unknown."""
    sizes = entry.get("bytes") or {}
    if all(isinstance(sizes.get(role), int) for role in ("webm", "mp4")):
        return sorted(("webm", "mp4"), key=lambda role: sizes[role])
    return ["webm", "mp4"]


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


NUM = re.compile(r"!num\[(?P<body>[^\]\n]*)\]")
NUM_BODY = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9_-]*)\.(?P<key>[A-Za-z_][A-Za-z0-9_]*)(?::(?P<format>.*))?",
                      re.DOTALL)
STRAY_NUM = re.compile(r"!num(\[|<a\b)")


def numbers_values(docs_dir: Path, name: str, where: str) -> dict:
    """The values of the numbers entry NAME (docs/figures/NAME.json through the manifest), cached."""
    if name not in _numbers_cache:
        figures = load_manifest(docs_dir, name)
        if name not in figures:
            raise PluginError(f"{where}: unknown numbers '{name}' (not in {FIGURES_DIR}/manifest.json): declare "
                              f"it in scripts/figures/<page>.py (a \"numbers\" entry) and run `make figures`")
        entry = figures[name]
        if entry.get("kind") != "numbers":
            raise PluginError(f"{where}: '{name}' is a {entry.get('kind')} figure, not numbers: place it with "
                              f"!figure[{name}](Caption.)")
        file = entry.get("files", {}).get("json")
        path = docs_dir / FIGURES_DIR / str(file)
        if not file or not path.is_file():
            raise PluginError(f"{where}: numbers '{name}': {FIGURES_DIR}/{file} is missing: run `make figures`")
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise PluginError(f"numbers '{name}': {path} is not valid JSON ({error}): run `make figures`") from error
        if not isinstance(values, dict):
            raise PluginError(f"numbers '{name}': {path} is not an object of values: run `make figures`")
        _numbers_cache[name] = values
    return _numbers_cache[name]


def format_number(docs_dir: Path, body: str, page_path: str) -> str:
    """The text `!num[BODY]` stands for, HTML-escaped (BODY as it is in the page's HTML)."""
    where = f"{page_path}: !num[{unescape(body)}]"
    match = NUM_BODY.fullmatch(body)
    if not match:
        raise PluginError(f"{where}: expected !num[NAME.key] or !num[NAME.key:FORMAT] (NAME: letters, digits, "
                          f"'-' and '_'; key: letters, digits and '_')")
    name, key = match.group("name"), match.group("key")
    spec = unescape(match.group("format") or "")
    values = numbers_values(docs_dir, name, where)
    if key not in values:
        raise PluginError(f"{where}: numbers '{name}' has no key '{key}' (its keys: {', '.join(sorted(values))}); "
                          f"is `make figures` up to date?")
    value = values[key]
    try:
        text = format(value, spec)
    except (ValueError, TypeError) as error:
        raise PluginError(f"{where}: the format '{spec}' does not apply to {name}.{key} = {value!r} "
                          f"({error})") from error
    return escape(text)


def substitute_numbers(html: str, docs_dir: Path, page_path: str, *, skip_code: bool = True) -> str:
    """Replace every `!num[...]` in ``html`` outside `<pre>` and `<code>` by its formatted value."""
    if "!num" not in html:
        return html
    pieces, last = [], 0
    for code in (CODE.finditer(html) if skip_code else ()):
        pieces.append(NUM.sub(lambda m: format_number(docs_dir, m.group("body"), page_path), html[last:code.start()]))
        pieces.append(code.group(0))
        last = code.end()
    pieces.append(NUM.sub(lambda m: format_number(docs_dir, m.group("body"), page_path), html[last:]))
    html = "".join(pieces)
    stray = STRAY_NUM.search(CODE.sub("", html) if skip_code else html)
    if stray:
        start = stray.start()
        raise PluginError(f"{page_path}: a `!num[...]` the markdown changed (write `!num[NAME.key:FORMAT]` on one "
                          f"line, not followed by `(`): {stray.string[start:start + 80]!r}")
    return html


def _numbers_in_toc(items, docs_dir: Path, page_path: str) -> None:
    for item in items:
        item.title = substitute_numbers(item.title, docs_dir, page_path, skip_code=False)
        _numbers_in_toc(item.children, docs_dir, page_path)


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
    docs_dir = Path(config.docs_dir)
    html = substitute_numbers(html, docs_dir, page.file.src_path)  # captions included: they are in place now
    _numbers_in_toc(getattr(page, "toc", None) or [], docs_dir, page.file.src_path)
    if page.title and "!num" in page.title:
        page.title = unescape(substitute_numbers(escape(page.title), docs_dir, page.file.src_path, skip_code=False))
    return html


# On a reader's first visit (no palette stored yet) Material leaves the body in the light scheme until
# its script bundle, at the end of the page, reads the system's colour scheme: the light pictures in
# view would be fetched first. This runs first thing in <body> and applies the system's scheme as the
# bundle will (the site's palette: light = "default", dark = "slate"); a stored choice still wins
# (Material's own palette script runs after it).
EARLY_SCHEME = ('<script id="optimessay-early-scheme">'
                'if(!(window.__md_get&&__md_get("__palette"))&&matchMedia("(prefers-color-scheme: dark)").matches)'
                'document.body.setAttribute("data-md-color-scheme","slate")</script>')
BODY = re.compile(r"<body\b[^>]*>")


def on_post_page(output: str, page, config) -> str:
    """Put the theme rule for the figure variants (`THEME_STYLE`) in the page's <head> and
    `EARLY_SCHEME` first in its <body>."""
    if 'id="optimessay-figure-themes"' not in output and "</head>" in output:
        output = output.replace("</head>", THEME_STYLE + "</head>", 1)
    if 'id="optimessay-early-scheme"' not in output:
        output = BODY.sub(lambda m: m.group(0) + EARLY_SCHEME, output, count=1)
    return output
