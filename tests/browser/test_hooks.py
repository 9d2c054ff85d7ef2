"""The MkDocs hooks of docs/hooks/, each against a small site of its own (no built site/ needed).

- figures.py: `!figure[NAME](Caption)` -> <figure> with paths relative to each page, <video> markup,
  captions with markdown and math, figures inside admonitions, code fences left alone, and clear
  build errors for an unknown NAME or a missing manifest;
- katex.py: the stylesheet keeps only woff2 fonts, and every font it names is served;
- notebooks.py: the CSS trimming keeps what can match and drops what cannot.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from site_helpers import ROOT

HOOKS = ROOT / "docs" / "hooks"


def load_hook(name: str):
    spec = importlib.util.spec_from_file_location(f"hook_{name}", HOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_site(tmp_path: Path, pages: dict[str, str], manifest: dict | None) -> Path:
    """A minimal MkDocs project using the figures hook; returns its folder."""
    docs = tmp_path / "docs"
    (docs / "figures").mkdir(parents=True)
    for name, text in pages.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    if manifest is not None:
        (docs / "figures" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        for entry in manifest["figures"].values():
            for file in entry["files"].values():
                (docs / "figures" / file).write_bytes(b"not really a picture")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: hook test\n"
        f"hooks: [{HOOKS / 'figures.py'}]\n"
        "exclude_docs: figures/manifest.json\n"
        "markdown_extensions: [admonition, md_in_html, {pymdownx.arithmatex: {generic: true}}]\n",
        encoding="utf-8",
    )
    return tmp_path


def build(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q"], cwd=project,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})


MANIFEST = {"figures": {
    "bowl": {"kind": "image", "alt": 'A round bowl, "seen" from above.', "files": {"png": "bowl.png"},
             "width": 600, "height": 450},
    "race": {"kind": "video", "alt": "Optimizers racing.", "width": 640, "height": 480,
             "files": {"mp4": "race.mp4", "webm": "race.webm", "poster": "race.png"}},
}}


def test_figures_become_figure_elements_with_page_relative_paths(tmp_path):
    project = make_site(tmp_path, {
        "index.md": "# Home\n\n!figure[race](Watch the *race*: $x_t$ (and $y_t$) converge.)\n",
        "deep/page.md": ("# Deep\n\n!figure[bowl](A bowl.)\n\n"
                         "```\n!figure[nonexistent](inside a code fence: left as it is)\n```\n\n"
                         "!!! note\n\n    !figure[bowl](Inside an admonition.)\n"),
    }, MANIFEST)
    result = build(project)
    assert result.returncode == 0, result.stderr
    home = (project / "site" / "index.html").read_text()
    deep = (project / "site" / "deep" / "page" / "index.html").read_text()

    # the video on the home page: paths without ../, the attributes the site relies on
    assert ('<video controls playsinline muted loop preload="none" data-autoplay="visible" '
            'poster="figures/race.png" width="640" height="480" aria-label="Optimizers racing.">') in home
    assert '<source src="figures/race.webm" type="video/webm">' in home
    assert '<source src="figures/race.mp4" type="video/mp4">' in home
    assert '<a href="figures/race.mp4">' in home
    # the caption is markdown with math
    assert "<figcaption>Watch the <em>race</em>: " in home
    assert r'<span class="arithmatex">\(x_t\)</span>' in home

    # the image two directories down: ../../figures/, alt text escaped, lazy, sized
    assert ('<img src="../../figures/bowl.png" alt="A round bowl, &quot;seen&quot; from above." '
            'width="600" height="450" loading="lazy">') in deep
    assert deep.count("<figure ") == 2  # the admonition's figure too
    assert '<div class="admonition note">' in deep and "<figcaption>Inside an admonition.</figcaption>" in deep
    assert "<p><figure" not in deep  # a block of its own, not inside a paragraph
    assert "nonexistent" in deep and "OptimessayFigure" not in deep


def test_an_unknown_figure_fails_the_build_naming_it(tmp_path):
    project = make_site(tmp_path, {"index.md": "# Home\n\n!figure[no-such-figure](A caption.)\n"}, MANIFEST)
    result = build(project)
    assert result.returncode != 0
    assert "no-such-figure" in result.stderr and "make figures" in result.stderr


def test_a_missing_manifest_fails_the_build_naming_the_figure(tmp_path):
    project = make_site(tmp_path, {"index.md": "# Home\n\n!figure[bowl](A caption.)\n"}, None)
    result = build(project)
    assert result.returncode != 0
    assert "bowl" in result.stderr and "run `make figures`" in result.stderr


@pytest.mark.parametrize("line, message", [
    ("!figure[bowl]()", "figure 'bowl' has no caption"),
    ("Text before !figure[bowl](A bowl.) on the same line", "not a figure line"),
    ("!figure[bowl](A caption that goes on\nto a second line.)", "not a figure line"),
])
def test_a_malformed_figure_line_fails_the_build(tmp_path, line, message):
    project = make_site(tmp_path, {"index.md": f"# Home\n\n{line}\n\nInline code `!figure[x](y)` is fine.\n"},
                        MANIFEST)
    result = build(project)
    assert result.returncode != 0 and message in result.stderr


def test_katex_stylesheet_names_only_woff2_fonts_that_exist():
    katex = load_hook("katex")
    one = ('@font-face{font-family:KaTeX_AMS;src:url(fonts/A.woff2) format("woff2"),'
           'url(fonts/A.woff) format("woff"),url(fonts/A.ttf) format("truetype")}')
    assert katex.woff2_only(one) == '@font-face{font-family:KaTeX_AMS;src:url(fonts/A.woff2) format("woff2")}'
    dist = ROOT / "node_modules" / "katex" / "dist"
    css = katex.woff2_only((dist / "katex.min.css").read_text())
    fonts = set(katex.re.findall(r"url\(([^)]+)\)", css))
    assert fonts and all(font.endswith(".woff2") and (dist / font).is_file() for font in fonts)
    assert len(fonts) == len(list((dist / "fonts").glob("*.woff2")))


@pytest.mark.parametrize("css, kept", [
    (".jp-Cell{a:1}.jp-FileBrowser{b:2}", ".jp-Cell{a:1}"),
    (".jp-Cell,.jp-Menu{a:1}", ".jp-Cell{a:1}"),
    (".jp-Cell:not(.jp-Menu, .jp-Dialog){a:1}", ".jp-Cell:not(.jp-Menu, .jp-Dialog){a:1}"),
    ("@media (max-width:10px){.jp-Cell{a:1}.jp-Menu{b:2}}@media print{.jp-Menu{c:3}}",
     "@media (max-width:10px){.jp-Cell{a:1}}"),
    (':root{--x:1}.md-typeset__scrollwrap{m:0}.jp-Menu::after{content:"}"}', ":root{--x:1}.md-typeset__scrollwrap{m:0}"),
    ("@keyframes spin{from{a:0}to{a:1}}", "@keyframes spin{from{a:0}to{a:1}}"),
])
def test_notebook_css_keeps_only_rules_that_can_match(css, kept):
    notebooks = load_hook("notebooks")
    assert notebooks.purge_css(css, {"jp-Cell"}) == kept


def test_notebook_css_drops_custom_properties_nothing_reads():
    notebooks = load_hook("notebooks")
    assert notebooks.declarations("a: 1; b: url(data:x;y) ; c: 'p;q'") == ["a: 1", " b: url(data:x;y) ", " c: 'p;q'"]
    page = ('<style>.w{--used: red;--icon: url(data:image/svg+xml;base64,AAA);--chain: var(--icon)}'
            '.w p{color: var(--used)}</style><p style="x">')
    assert notebooks.drop_unused_properties(page) == "<style>.w{--used: red}.w p{color: var(--used)}</style><p style=\"x\">"


def test_notebook_output_images_become_files(tmp_path):
    notebooks = load_hook("notebooks")
    png = b"\x89PNG\r\n\x1a\n fake image bytes"
    encoded = notebooks.base64.b64encode(png).decode()
    html = f'<div class="jp-OutputArea-output"><img alt="plot" src="data:image/png;base64,{encoded}"></div>'
    out = notebooks.extract_images(html, tmp_path / "page")
    name = f"output-{notebooks.hashlib.sha1(png).hexdigest()[:12]}.png"
    assert out == f'<div class="jp-OutputArea-output"><img alt="plot" loading="lazy" src="{name}"></div>'
    assert (tmp_path / "page" / name).read_bytes() == png


def test_long_code_listings_stay_out_of_the_search_index():
    search = load_hook("search")
    short = '<div class="language-python highlight"><pre><span></span><code>x = 1\n</code></pre></div>'
    long = '<div class="language-python highlight"><pre><span></span><code>' + "x\n" * 40 + "</code></pre></div>"
    cell = '<div class="highlight-ipynb hl-python"><pre>' + "y\n" * 40 + "</pre></div>"
    assert search.exclude_long_blocks(short) == short
    assert search.exclude_long_blocks(long).startswith('<div class="language-python highlight" data-search-exclude>')
    assert search.exclude_long_blocks(cell).startswith('<div class="highlight-ipynb hl-python" data-search-exclude>')
