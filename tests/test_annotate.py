"""The annotated view (docs/hooks/annotate.py) agrees with the files it shows.

The view is parsed back from its HTML (as the hook returns it, and as a real MkDocs build writes it)
and compared with the section as pymdownx.snippets embeds it, split into code and comments here by
Python's tokenizer independently of the hook: the code column is every non-comment line of the
section with its trailing comment removed, in order, nothing more; the notes hold every comment of
the section, in order, each beside the line it is written on (a trailing comment) or the next code
line (full-line comments); the copy button copies the section exactly. A marker naming an unknown
file or section fails the build naming the page, the file and the section.
tests/browser/test_annotate_site.py runs the same check on every view of the built site.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import re
import sys
import tokenize
from html.parser import HTMLParser
from pathlib import Path

import markdown
import pytest
from mkdocs.exceptions import PluginError

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures_annotate"
SECTION_START = re.compile(r"--8<-- \[start:([a-z][-_0-9a-z]*)\]")


def load_hook():
    if "optimessay_annotate_hook" not in sys.modules:
        spec = importlib.util.spec_from_file_location("optimessay_annotate_hook", ROOT / "docs/hooks/annotate.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["optimessay_annotate_hook"]


annotate = load_hook()


# --- the reference: the section as snippets embeds it, and its comments by the tokenizer ---------


def snippet_lines(file: str, section: str, base: Path = ROOT) -> list[str]:
    """The section's lines exactly as the site's `--8<--` embeds them (pymdownx.snippets itself)."""
    md = markdown.Markdown(extensions=["pymdownx.snippets"], extension_configs={"pymdownx.snippets": {
        "base_path": [str(base)], "check_paths": True, "dedent_subsections": True}})
    return md.preprocessors["snippet"].run([f'--8<-- "{file}:{section}"'])


@functools.lru_cache(maxsize=64)
def file_comments(text: str) -> dict[int, int]:
    """{0-based line: column} of every comment of a file's text, by Python's tokenizer. Kept per text
    (a file holds many sections; tokenizing it once per section was a fifth of these tests' CPU)."""
    comments = {}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0] - 1] = token.start[1]
    return comments


def reference(file: str, section: str, lines: list[str], base: Path = ROOT) -> list[tuple[str | None, str | None]]:
    """(code, comment) per line of the section: code None for a full-line comment, comment None
    without one. Comments are found by tokenizing the whole file (valid Python, unlike a section
    that ends inside a bracket) and mapped to the section's dedented lines."""
    text = (base / file).read_text(encoding="utf-8")
    comments = file_comments(text)
    source = text.split("\n")
    start = next(i for i, line in enumerate(source) if f"--8<-- [start:{section}]" in line)
    numbers = []  # the file's line number of each line of the section
    for number in range(start + 1, len(source)):
        if f"--8<-- [end:{section}]" in source[number]:
            break
        if not re.search(r"--8<-- \[(start|end):", source[number]):
            numbers.append(number)
    assert len(numbers) == len(lines), f"{file}:{section}: the section has {len(numbers)} lines, shown {len(lines)}"
    out = []
    for number, line in zip(numbers, lines, strict=True):
        shift = len(source[number]) - len(line)  # the indentation snippets removed
        assert source[number][shift:] == line
        column = comments.get(number)
        if column is None:
            out.append((line.rstrip(), None))
        else:
            code = line[:column - shift].rstrip()
            out.append((code or None, line[column - shift:].lstrip("#").strip()))
    return out


def words(text: str) -> str:
    """Text compared as shown: whitespace runs as one space; plain-text scripts as the view shows them
    (`θ_{t-1}` and `θ_t-1` alike: the view writes θ<sub>t-1</sub>, read back as `θ_t-1`; `β1`, shown
    as β<sub>1</sub>, read back as `β_1`, alike)."""
    text = re.sub(r"([_^])\{([^{}]*)\}", r"\1\2", " ".join(text.split()))
    return re.sub(r"([\u0391-\u03a9\u03b1-\u03c9])_(\d+)", r"\1\2", text)


# --- parsing a view back from HTML --------------------------------------------------------------


class ViewParser(HTMLParser):
    """Every `.oe-annotated` of a page: its name, copy text, and rows of (code lines, head count, note).

    Note text: text as shown, with KaTeX's output read back as `$TeX$` (from its MathML annotation)
    and arithmatex's `\\(TeX\\)` (before KaTeX) likewise, `<code>x</code>` as `` `x` ``, and
    `<sub>x</sub>`, `<sup>x</sup>` as `_x`, `^x`."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.views: list[dict] = []
        self.stack: list[tuple[str, set[str], dict]] = []
        self.line: list[str] | None = None
        self.note: list[str] | None = None
        self.skip = 0  # inside KaTeX's visible HTML (its TeX comes from the annotation)
        self.annotation: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        classes = set((attributes.get("class") or "").split())
        self.stack.append((tag, classes, attributes))
        if "oe-annotated" in classes:
            self.views.append({"name": attributes["data-oe-annotated"], "copy": None, "rows": [], "math": 0})
        elif "oe-annotated__copy" in classes:
            self.views[-1]["copy"] = attributes["data-clipboard-text"]
        elif "oe-annotated__math" in classes:
            self.views[-1]["math"] += 1
        elif "oe-annotated__row" in classes:
            self.views[-1]["rows"].append({"code": [], "head": 0, "note": None})
        elif "oe-annotated__line" in classes:
            self.line = []
        elif "oe-annotated__note" in classes:
            self.note = []
        elif self.note is not None:
            if tag == "annotation":
                self.annotation = []
            elif "katex-html" in classes or "katex-mathml" in classes:
                self.skip += 1
            elif tag == "code" and not self.skip:
                self.note.append("`")
            elif tag in ("sub", "sup") and not self.skip:
                self.note.append("_" if tag == "sub" else "^")
            elif tag == "p" and self.note:
                self.note.append(" ")

    def handle_endtag(self, tag):
        while self.stack:
            name, classes, _ = self.stack.pop()
            self.closed(name, classes)
            if name == tag:
                break

    def closed(self, tag, classes):
        if "oe-annotated__line" in classes:
            self.views[-1]["rows"][-1]["code"].append("".join(self.line))
            self.line = None
        elif "oe-annotated__code" in classes and "oe-annotated__more" not in classes:
            row = self.views[-1]["rows"][-1]
            row["head"] = len(row["code"])
        elif "oe-annotated__note" in classes:
            self.views[-1]["rows"][-1]["note"] = words("".join(self.note))
            self.note = None
        elif self.note is not None:
            if tag == "annotation":
                self.note.append(f"${''.join(self.annotation)}$")
                self.annotation = None
            elif "katex-html" in classes or "katex-mathml" in classes:
                self.skip -= 1
            elif tag == "code" and not self.skip:
                self.note.append("`")

    def handle_data(self, data):
        if self.line is not None:
            self.line.append(data)
        elif self.annotation is not None:
            self.annotation.append(data)
        elif self.note is not None and not self.skip:
            self.note.append(re.sub(r"\\\((.*?)\\\)", r"$\1$", data, flags=re.DOTALL))


def parse_views(html: str) -> list[dict]:
    parser = ViewParser()
    parser.feed(html)
    parser.close()
    return parser.views


def check_view(view: dict, lines: list[str], base: Path = ROOT) -> None:
    """The view shows `lines` (its section) exactly: code, comments and where each comment sits."""
    name = view["name"]
    file, section = name.rsplit(":", 1)
    ref = reference(file, section, lines, base)
    shown = [line for row in view["rows"] for line in row["code"]]
    expected_code = [code for code, comment in ref if code is not None or comment is None]
    assert shown == expected_code, f"{name}: the code column differs from the section"
    assert view["copy"] == "\n".join(lines), f"{name}: the copy button does not copy the section"
    notes = " ".join(row["note"] for row in view["rows"] if row["note"])
    comments = " ".join(comment for _, comment in ref if comment)
    assert words(notes) == words(comments), f"{name}: the notes are not the section's comments, in order"
    # each comment beside its line: a trailing comment in the row its line heads, a full-line
    # comment in the row of the next code line
    where = []  # (row index, index within the row's head) of each shown code line
    for index, row in enumerate(view["rows"]):
        where += [(index, position) for position in range(len(row["code"]))]
    shown_index, pending = 0, []
    for code, comment in ref:
        if code is None:
            pending.append(comment)
            continue
        row_index, position = where[shown_index]
        shown_index += 1
        if not code.strip() and not comment:
            continue  # a blank line: comments above it go beside the next code line
        row = view["rows"][row_index]
        for text in pending + ([comment] if comment else []):
            assert position < row["head"] and words(text) in (row["note"] or ""), (
                f"{name}: the comment {text!r} is not beside {code!r}")
        pending = []
    for text in pending:  # comments after the last code line: the last row's note
        assert words(text) in (view["rows"][-1]["note"] or ""), f"{name}: the comment {text!r} is missing"


def sections(path: Path) -> list[str]:
    found = []
    for name in SECTION_START.findall(path.read_text(encoding="utf-8")):
        if name not in found:
            found.append(name)
    return found


PACKAGE_SECTIONS = [
    (str(path.relative_to(ROOT)), name)
    for path in sorted((ROOT / "optimessay" / "optimizers").glob("*.py")) + [ROOT / "optimessay" / "schedulers.py"]
    for name in sections(path)
]


def test_every_optimizer_has_an_update_section_and_schedulers_several():
    names = {(Path(file).name, name) for file, name in PACKAGE_SECTIONS}
    for file in ("sgd.py", "rmsprop.py", "adam.py", "adagrad.py"):
        assert (file, "update") in names
    assert {("schedulers.py", n) for n in ("steplr", "exponentiallr", "cosineannealinglr", "onecyclelr")} <= names


@pytest.mark.parametrize(("file", "section"), PACKAGE_SECTIONS, ids=[f"{f}:{s}" for f, s in PACKAGE_SECTIONS])
def test_view_of_every_package_section_equals_the_file(file, section):
    lines = snippet_lines(file, section)
    assert annotate.read_section([ROOT], file, section) == lines
    views = parse_views(annotate.annotated_html(lines, file, section))
    assert len(views) == 1 and views[0]["name"] == f"{file}:{section}"
    check_view(views[0], lines)


# --- comment styles, on a fixture file ----------------------------------------------------------

FIXTURE = "tests/fixtures_annotate/styles.py"
FIXTURE_SECTIONS = sections(ROOT / FIXTURE)


@pytest.mark.parametrize("section", FIXTURE_SECTIONS)
def test_view_of_every_comment_style_equals_the_file(section):
    lines = snippet_lines(FIXTURE, section)
    assert annotate.read_section([ROOT], FIXTURE, section) == lines
    check_view(parse_views(annotate.annotated_html(lines, FIXTURE, section))[0], lines)


def rows_of(section: str) -> list:
    return annotate.build_rows(annotate.split_lines(snippet_lines(FIXTURE, section)))


def test_a_hash_inside_a_string_is_code():
    rows = rows_of("strings")
    code = [line for row in rows for line in row.code + row.more]
    assert '    label = "step # 1"' in code and "    other = 'x#y'" in code
    assert any("'#' in a string" in note for row in rows for note in row.notes)
    assert '    not a comment # inside a docstring' in code


def test_full_line_comments_go_beside_the_next_code_line_as_one_paragraph():
    rows = rows_of("blocks")
    noted = [row for row in rows if row.notes]
    assert noted[0].code == ["    m = beta1 * m + (1 - beta1) * g"]
    assert noted[0].notes == ["The first moment: a moving average of the gradient, over about 1/(1-β1) steps.",
                              "$m_t$"]
    assert noted[1].notes[:2] == ["Paragraph one.", "Paragraph two, after an empty comment line."]
    assert ["- a bullet", "- another"] == noted[2].notes


def test_uncommented_lines_after_a_comment_run_on_beside_it():
    rows = rows_of("blocks")
    row = next(row for row in rows if "    if amsgrad:" in row.code + row.more)
    assert "    if amsgrad:" in row.more  # not a row of its own: the note above runs on beside it
    call = next(row for row in rows if row.code and row.code[0].startswith("    total = add("))
    assert call.code == ["    total = add(", "        m,", "        v,", "    )"]  # a statement stays whole


def test_a_section_the_tokenizer_refuses_still_splits_comments():
    lines = snippet_lines(FIXTURE, "unclosed")
    split = annotate.split_lines(lines)
    assert [(line.code, line.comment) for line in split if line.kind == "code"][0] == ("x = f(1,", "the call goes on")
    check_view(parse_views(annotate.annotated_html(lines, FIXTURE, "unclosed"))[0], lines)


def test_note_markup_math_code_and_escaping():
    html = annotate.inline_html("P = 1/(√v + ε): $P_t = (\\sqrt{\\hat v_t}+\\epsilon)^{-1}$ via `sqrt_` <b> & $5")
    assert '<span class="arithmatex">\\(P_t = (\\sqrt{\\hat v_t}+\\epsilon)^{-1}\\)</span>' in html
    assert "<code>sqrt_</code>" in html and "&lt;b&gt; &amp; $5" in html


def test_plain_text_maths_gets_its_sub_and_superscripts_identifiers_do_not():
    html = annotate.inline_html("v_t ← max(v_{t-1}^max, v_t), √v̂_t / √(1 - β2^t), g_t², eta_{t-1}; "
                                "exp_avg, step_size, self._group_lrs, __init__, `lr_t`, L2")
    assert html == ("v<sub>t</sub> ← max(v<sub>t-1</sub><sup>max</sup>, v<sub>t</sub>), √v̂<sub>t</sub> / "
                    "√(1 - β<sub>2</sub><sup>t</sup>), g<sub>t</sub>², eta<sub>t-1</sub>; "
                    "exp_avg, step_size, self._group_lrs, __init__, <code>lr_t</code>, L2")


def test_the_docstring_math_heads_the_view():
    lines = snippet_lines("optimessay/schedulers.py", "steplr")
    html = annotate.annotated_html(lines, "optimessay/schedulers.py", "steplr")
    assert re.search(r'<div class="oe-annotated__math"><div class="arithmatex">\\\[\\eta_t = .*?\\\]</div>', html)


def test_highlighting_uses_pygments_classes_like_the_site():
    html = annotate.annotated_html(["def f(x):", "    return x  # the identity"], "f.py", "s")
    assert '<span class="k">def</span>' in html and '<span class="nf">f</span>' in html
    assert 'class="oe-annotated__rows language-python highlight" data-oe-rows' in html


def test_code_and_notes_stay_out_of_the_search_index():
    html = annotate.annotated_html(snippet_lines("optimessay/optimizers/adam.py", "update"),
                                   "optimessay/optimizers/adam.py", "update")
    for element in re.findall(r'<(?:pre|div) class="oe-annotated__(?:code|note)[^"]*"[^>]*>', html):
        assert element.endswith(" data-search-exclude>"), element
    # Material ends an exclusion at the first closing tag of the element's kind: none nested
    for kind, body in re.findall(r'<(pre|div) class="oe-annotated__(?:code|note)[^>]*>(.*?)</\1>', html, re.DOTALL):
        assert f"<{kind}" not in body


def test_unknown_files_and_sections_name_what_is_wrong():
    with pytest.raises(annotate.AnnotatedError, match=r"no file 'optimessay/nope\.py'"):
        annotate.read_section([ROOT], "optimessay/nope.py", "update")
    with pytest.raises(annotate.AnnotatedError, match=r"has no section 'updat' \(its sections: .*update"):
        annotate.read_section([ROOT], "optimessay/optimizers/adam.py", "updat")


# --- a real MkDocs build with the hook -----------------------------------------------------------


def build_site(tmp_path: Path, page: str):
    """Build a one-page site with this hook and the site's markdown extensions; its HTML or the error."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "index.md").write_text(page, encoding="utf-8")
    config = load_config(
        config_file=io.StringIO("site_name: t\n"), docs_dir=str(docs), site_dir=str(tmp_path / "site"),
        strict=True, hooks=[str(ROOT / "docs/hooks/annotate.py")], theme={"name": "mkdocs"},
        markdown_extensions=["admonition", "md_in_html", "pymdownx.details", "pymdownx.superfences",
                             {"pymdownx.arithmatex": {"generic": True}},
                             {"pymdownx.tabbed": {"alternate_style": True}},
                             {"pymdownx.snippets": {"base_path": [str(ROOT)], "check_paths": True,
                                                    "dedent_subsections": True}}])
    build(config)
    return (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


PAGE = """# Page

!annotated[optimessay/optimizers/adam.py:update]

=== "StepLR"

    !annotated[optimessay/schedulers.py:steplr]

??? note "Cosine"
    !annotated[optimessay/schedulers.py:cosineannealinglr]

```text
!annotated[shown/as/code.py:not-a-view]
```
"""


def test_a_build_places_every_view_even_in_tabs_and_admonitions(tmp_path):
    html = build_site(tmp_path, PAGE)
    views = parse_views(html)
    assert [view["name"] for view in views] == [
        "optimessay/optimizers/adam.py:update", "optimessay/schedulers.py:steplr",
        "optimessay/schedulers.py:cosineannealinglr"]
    for view in views:
        file, section = view["name"].split(":")
        check_view(view, snippet_lines(file, section))
    assert "!annotated[shown/as/code.py:not-a-view]" in html  # inside code: left as written
    assert "OptimessayAnnotated" not in html


@pytest.mark.parametrize(("marker", "message"), [
    ("!annotated[optimessay/optimizers/adamm.py:update]",
     r"index\.md: !annotated\[optimessay/optimizers/adamm\.py:update\]: no file 'optimessay/optimizers/adamm\.py'"),
    ("!annotated[optimessay/optimizers/adam.py:upd]",
     r"index\.md: !annotated\[optimessay/optimizers/adam\.py:upd\]: optimessay/optimizers/adam\.py has no "
     r"section 'upd'"),
    ("See !annotated[optimessay/optimizers/adam.py:update] here.",
     r"index\.md: an `!annotated\[\.\.\.\]` that is not alone on its line"),
])
def test_a_bad_marker_fails_the_build_naming_page_file_and_section(tmp_path, caplog, marker, message):
    from mkdocs.exceptions import Abort

    with pytest.raises(Abort):
        build_site(tmp_path, f"# Page\n\n{marker}\n")
    assert re.search(message, caplog.text), caplog.text


def test_the_hook_raises_a_plugin_error_directly():
    class Page:
        class file:
            src_uri = src_path = "adam.md"

    class Config:
        mdx_configs = {"pymdownx.snippets": {"base_path": [str(ROOT)]}}
        config_file_path = str(ROOT / "mkdocs.yml")

    with pytest.raises(PluginError, match=r"adam\.md: !annotated\[optimessay/x\.py:update\]: no file"):
        annotate.on_page_markdown("!annotated[optimessay/x.py:update]\n", Page, Config, None)


def test_the_check_catches_a_view_that_disagrees_with_its_file():
    """Each way a view could drift from the file makes `check_view` fail."""
    file, section = "optimessay/optimizers/adam.py", "update"
    lines = snippet_lines(file, section)
    good = annotate.annotated_html(lines, file, section)
    check_view(parse_views(good)[0], lines)
    view = parse_views(good)[0]
    noted = [row for row in view["rows"] if row["note"]]
    tampered = []
    dropped = parse_views(good)[0]
    dropped["rows"][-1]["code"].pop()  # a code line missing
    tampered.append(dropped)
    edited = parse_views(good)[0]
    edited["rows"][-1]["code"][-1] += " + 1"  # a code line changed
    tampered.append(edited)
    swapped = parse_views(good)[0]
    first, second = [index for index, row in enumerate(view["rows"]) if row["note"]][:2]
    swapped["rows"][first]["note"], swapped["rows"][second]["note"] = noted[1]["note"], noted[0]["note"]
    tampered.append(swapped)  # two notes beside the wrong lines
    silent = parse_views(good)[0]
    silent["rows"][first]["note"] = None  # a comment missing
    tampered.append(silent)
    copied = parse_views(good)[0]
    copied["copy"] = copied["copy"].replace("#", "")  # the copy button copies something else
    tampered.append(copied)
    for view in tampered:
        with pytest.raises(AssertionError):
            check_view(view, lines)
