"""The MkDocs hooks of docs/hooks/, each against a small site of its own (no built site/ needed).

- figures.py: `!figure[NAME](Caption)` -> <figure> with paths relative to each page, <video> markup
  (the smaller source first), captions with markdown and math, figures inside admonitions, code
  fences left alone, and clear build errors for an unknown NAME or a missing manifest;
  `!num[NAME.key:FORMAT]` -> the package's number in prose, tables, admonitions, headings and
  captions, never in code, and build errors naming page, NAME and key;
- katex.py: the stylesheet keeps only woff2 fonts, and every font it names is served;
- notebooks.py: the CSS trimming keeps what can match and drops what cannot.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
from pathlib import Path

import pytest
from mkdocs_builds import run_mkdocs
from site_helpers import ROOT

HOOKS = ROOT / "docs" / "hooks"


def load_hook(name: str):
    spec = importlib.util.spec_from_file_location(f"hook_{name}", HOOKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_site(tmp_path: Path, pages: dict[str, str], manifest: dict | None, numbers: dict | None = None) -> Path:
    """A minimal MkDocs project using the figures hook; returns its folder. ``numbers``: NAME -> values,
    written as the build writes them (NAME.json, listed in the manifest with kind "numbers")."""
    docs = tmp_path / "docs"
    (docs / "figures").mkdir(parents=True)
    for name, text in pages.items():
        (docs / name).parent.mkdir(parents=True, exist_ok=True)
        (docs / name).write_text(text, encoding="utf-8")
    if manifest is not None:
        manifest = {"figures": {**manifest["figures"], **{
            name: {"kind": "numbers", "alt": f"Numbers {name}.", "files": {"json": f"{name}.json"}}
            for name in numbers or {}}}}
        (docs / "figures" / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        for entry in manifest["figures"].values():
            for file in entry["files"].values():
                (docs / "figures" / file).write_bytes(b"not really a picture")
        for name, values in (numbers or {}).items():
            (docs / "figures" / f"{name}.json").write_text(json.dumps(values), encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: hook test\n"
        f"hooks: [{HOOKS / 'figures.py'}]\n"
        "exclude_docs: figures/manifest.json\n"
        "markdown_extensions: [admonition, md_in_html, tables, toc, pymdownx.superfences,\n"
        "                      {pymdownx.arithmatex: {generic: true}}]\n",
        encoding="utf-8",
    )
    return tmp_path


def build(project: Path) -> subprocess.CompletedProcess:
    """`mkdocs build --strict -q` in `project`: a process of its own, forked from a server that imported
    MkDocs once (tests/mkdocs_builds.py), not a new interpreter per build."""
    return run_mkdocs(["build", "--strict", "-q"], cwd=project, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
                      timeout=120)


MANIFEST = {"figures": {
    "bowl": {"kind": "image", "alt": 'A round bowl, "seen" from above.', "files": {"png": "bowl.png"},
             "width": 600, "height": 450},
    "race": {"kind": "video", "alt": "Optimizers racing.", "width": 640, "height": 480,
             "files": {"mp4": "race.mp4", "webm": "race.webm", "poster": "race.png"},
             "bytes": {"mp4": 500, "webm": 900, "poster": 50}},
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
    # the smaller file first (the manifest's sizes): the MP4 here
    assert ('<source src="figures/race.mp4" type="video/mp4"><source src="figures/race.webm" type="video/webm">'
            in home)
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


# --- !num[NAME.key:FORMAT] ---------------------------------------------------------------------------

RACE = {"sgd_loss": 0.0012345, "steps": 12000, "share": 0.4567, "winner": "Nesterov", "kappa": 50}


def test_numbers_are_substituted_in_prose_tables_admonitions_headings_and_captions_not_in_code(tmp_path):
    page = """# Results for κ = !num[race.kappa]

## After !num[race.steps:,d] steps

SGD ends at loss !num[race.sgd_loss:.3g] after !num[race.steps:,d] steps ({!num[race.share:.1%]}),
won by !num[race.winner], at $\\kappa = !num[race.kappa]$; raw: !num[race.sgd_loss].

| optimizer | loss |
|---|---|
| SGD | !num[race.sgd_loss:.2e] |

!!! note "Best: !num[race.winner]"

    Width !num[race.steps:>8,d] and **!num[race.kappa:d]**.

!figure[bowl](Loss !num[race.sgd_loss:.1e] at the end.)

```
!num[race.steps:,d] stays as written in a code block
```

Inline `!num[race.steps]` stays too, and so does `!num[no-such.key]`.
"""
    project = make_site(tmp_path, {"index.md": "# Home\n", "results.md": page}, MANIFEST, {"race": RACE})
    result = build(project)
    assert result.returncode == 0, result.stderr
    html = (project / "site" / "results" / "index.html").read_text()
    assert "SGD ends at loss 0.00123 after 12,000 steps ({45.7%})," in html
    assert "won by Nesterov, at" in html and r"\kappa = 50" in html
    assert "raw: 0.0012345." in html  # no format: str(value)
    assert "<td>1.23e-03</td>" in html  # a table cell
    assert '<p class="admonition-title">Best: Nesterov</p>' in html  # an admonition's title and body
    assert "Width   12,000 and <strong>50</strong>." in html
    assert "<figcaption>Loss 1.2e-03 at the end.</figcaption>" in html  # a figure caption
    assert "After 12,000 steps</h2>" in html and 'class="nav-link">After 12,000 steps</a>' in html  # and its TOC entry
    assert "<title>Results for κ = 50 - hook test</title>" in html  # the page title (from the H1)
    assert "!num[race.steps:,d] stays as written in a code block" in html
    assert "<code>!num[race.steps]</code>" in html and "<code>!num[no-such.key]</code>" in html
    assert html.count("!num[") == 3  # only those three, in code


def test_an_unknown_numbers_key_fails_the_strict_build_naming_page_name_and_key(tmp_path):
    project = make_site(tmp_path, {"deep/page.md": "# Page\n\nLoss !num[race.final_loss:.3g].\n"}, MANIFEST,
                        {"race": RACE})
    result = build(project)
    assert result.returncode != 0
    assert "deep/page.md: !num[race.final_loss:.3g]: numbers 'race' has no key 'final_loss'" in result.stderr
    assert "(its keys: kappa, sgd_loss, share, steps, winner)" in result.stderr


@pytest.mark.parametrize("text, message", [
    ("!num[nothing.x]", "page.md: !num[nothing.x]: unknown numbers 'nothing' (not in figures/manifest.json)"),
    ("!num[bowl.x]", "page.md: !num[bowl.x]: 'bowl' is a image figure, not numbers"),
    ("!num[race.winner:.3g]", "page.md: !num[race.winner:.3g]: the format '.3g' does not apply to race.winner = 'Nesterov'"),
    ("!num[race.sgd_loss:,d]", "page.md: !num[race.sgd_loss:,d]: the format ',d' does not apply to race.sgd_loss"),
    ("!num[race.steps:.3q]", "the format '.3q' does not apply to race.steps = 12000"),
    ("!num[race]", "page.md: !num[race]: expected !num[NAME.key] or !num[NAME.key:FORMAT]"),
    ("!num[race.steps](link)", "a `!num[...]` the markdown changed"),
    ("!num[race.steps\n:,d]", "a `!num[...]` the markdown changed"),
])
def test_bad_numbers_references_are_errors_naming_what_is_wrong(tmp_path, text, message):
    figures = load_hook("figures")
    docs = make_site(tmp_path, {}, MANIFEST, {"race": RACE}) / "docs"
    figures.on_pre_build(None)
    html = figures.Markdown().convert(text)  # the HTML the markdown conversion makes of it
    with pytest.raises(figures.PluginError) as error:
        figures.substitute_numbers(html, docs, "page.md")
    assert message in str(error.value)


def test_the_smaller_video_is_listed_first():
    figures = load_hook("figures")
    race = {k: v for k, v in MANIFEST["figures"]["race"].items() if k != "bytes"}
    for sizes, first in (({"webm": 900, "mp4": 500, "poster": 50}, "mp4"), ({"webm": 400, "mp4": 500}, "webm"),
                         ({"webm": 500, "mp4": 500}, "webm"), (None, "webm")):
        entry = {**race, "bytes": sizes} if sizes else race
        html = figures.figure_html("race", entry, "A caption.", "comparing/")
        sources = figures.re.findall(r'<source src="\.\./figures/race\.(\w+)" type="video/(\w+)">', html)
        assert [kind for kind, _ in sources] == [first, {"mp4": "webm", "webm": "mp4"}[first]], (sizes, html)
        assert all(kind == media for kind, media in sources)


def test_numbers_placed_as_a_figure_is_an_error_saying_how_to_quote_them(tmp_path):
    figures = load_hook("figures")
    docs = make_site(tmp_path, {}, MANIFEST, {"race": RACE}) / "docs"
    figures.on_pre_build(None)
    with pytest.raises(figures.PluginError, match=r"page.md: 'race' is numbers, not a figure: quote a value with "
                                                  r"!num\[race.KEY\]"):
        figures.figure_entry(docs, "race", "page.md")
