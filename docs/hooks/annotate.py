r"""MkDocs hook: an update rule shown as an annotated view, code on the left and its maths beside it.

## Page syntax

A line of its own (indented as much as the block it sits in: a tab, an admonition, a list item)

    !annotated[optimessay/optimizers/adam.py:update]

names a snippet section of a file, written exactly as `pymdownx.snippets` names it: the path is
looked up under the snippets extension's `base_path` (the folder of mkdocs.yml), and the section is
the text between `# --8<-- [start:update]` and `# --8<-- [end:update]` (the sections every
optimizer file has are listed in ARCHITECTURE.md; optimessay/schedulers.py has one per class,
`steplr`, `cosineannealinglr`, ...). Inside fenced code blocks the line stays as written, so a page
can show the syntax. An unknown file or section, a marker that is not alone on its line, or one that
the markdown conversion lost (inside raw HTML, say) fails the build with a message naming the page,
the file and the section.

## What is shown

The section is read from the file when the site is built (one source of truth: the view cannot
drift from the package), cut exactly as pymdownx.snippets cuts it (nested section markers dropped,
common indentation removed), and rendered as rows of two columns:

- left, the code: every line of the section except full-line comments, with its trailing comment
  removed, highlighted by Pygments with the classes pymdownx.highlight uses (so the theme's code
  colours apply, light and dark). Long lines wrap (never a horizontal scroll bar), continuing
  indented under their own line.
- right, the note of that row: the full-line comments just above its first code line, then that
  line's trailing comment. Consecutive comment lines are joined into a paragraph; an empty `#` line
  or a line starting with `- ` starts a new one. In a note, `$...$` is inline math (rendered by
  docs/hooks/katex.py at build time, which this hook's output feeds: the `<span class="arithmatex">`
  that pymdownx.arithmatex writes) and backticks are inline code; everything else is plain text,
  where the plain-text maths the package's comments are written in gets its sub/superscripts:
  `θ_{t-1}`, `g_t²`, `β2^t`, `v_{t-1}^max` show their scripts as <sub>/<sup> (β2: β, index 2), after a
  one-letter symbol (with its accents and digits) or a bracket, or when the script is braced;
  a longer word before `_` is an identifier and stays as written (`exp_avg`, `step_size`).
- a row is one commented code line followed by the uncommented code lines after it (a statement
  spread over several lines, or a block the note is about); a blank line is a row of its own.
  Comments are found with Python's tokenizer, so a `#` inside a string is code; nothing depends on
  the wording of a comment.

Above the rows: the file and section, a "copy" button that copies the section's code exactly as in
the file (the text `--8<--` would embed: code and its `#` comments, never the rendered maths), and,
when the section's first function or class has a docstring with a `$$ ... $$` block, that block as
display math (the docstring stays in the code too). On screens up to 600 px wide each note sits
under its code (docs/stylesheets/annotate.css).

The view is a `<div class="oe-annotated" data-oe-annotated="FILE:SECTION">`; each row is a
`<div class="oe-annotated__row">` holding `<pre class="oe-annotated__code">` (one
`<span class="oe-annotated__line">` per code line, its text the line exactly) and
`<div class="oe-annotated__note">`. Code and notes are left out of the search index (the index
is every page's download, see docs/hooks/search.py; the prose around a view names what it shows):
each carries `data-search-exclude` on an element that holds no element of its own kind, since
Material's indexer ends an exclusion at the first closing tag of that kind.
tests/test_annotate.py parses this markup (from
`annotated_html` and from the built site) and checks it against the file.

Order in mkdocs.yml: this hook must come before docs/hooks/katex.py, whose `on_page_content` renders
the math this hook's `on_page_content` writes.
"""

from __future__ import annotations

import ast
import io
import re
import textwrap
import tokenize
from dataclasses import dataclass, field
from html import escape
from pathlib import Path

import pygments
from mkdocs.exceptions import PluginError
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer
from pymdownx.snippets import SnippetPreprocessor

MARKER_LINE = re.compile(r"^(?P<indent>[ \t]*)!annotated\[(?P<file>[^\]:]+):(?P<section>[^\]]+)\][ \t]*$")
FENCE = re.compile(r"^[ \t]*(```|~~~)")
PLACEHOLDER = re.compile(r"(?:<p>\s*)?OptimessayAnnotated(\d+)Placeholder(?:\s*</p>)?")
CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.DOTALL)  # code may show the syntax itself
STRAY_MARKER = re.compile(r"!annotated(\[|<a\b)")
SECTION_NAME = re.compile(r"^[a-z][-_0-9a-z]*$")  # what pymdownx.snippets accepts as a section name
INLINE = re.compile(r"`([^`]+)`|\$([^$\s](?:[^$]*[^$\s])?)\$")  # `code` or $math$ (no space inside the $)
DISPLAY_MATH = re.compile(r"\$\$(.+?)\$\$", re.DOTALL)
BULLET = re.compile(r"^[-*] ")
# plain-text maths in a comment (θ_{t-1}, g_t², β2^t, v_{t-1}^max): a symbol (one letter, its
# accents, its digits; or a closing bracket) and its sub/superscripts; a longer word before `_`
# (exp_avg, step_size) is an identifier, left alone unless the script is braced (eta_{t-1})
COMBINING = "\u0300-\u036f"
SCRIPTED = re.compile(rf"(?<![\w{COMBINING}])([^\W\d_][{COMBINING}]*\d*|\))((?:[_^](?:\{{[^{{}}]+\}}|[A-Za-z0-9]+))+)")
SCRIPT = re.compile(r"([_^])(?:\{([^{}]+)\}|([A-Za-z0-9]+))")
GREEK_INDEX = re.compile(r"(?<!\w)([\u0391-\u03a9\u03b1-\u03c9])(\d+)(?!\w)")  # β1 -> β with a subscript 1
BRACED_SCRIPT = re.compile(rf"(?<=[\w{COMBINING})])([_^])\{{([^{{}}]+)\}}")


class AnnotatedError(ValueError):
    """A marker names a file or section that cannot be shown (the message says which and why)."""


@dataclass
class Line:
    """One line of the section: `code` (trailing comment removed, right-stripped) and `comment`.

    kind "code": a line of code, with its trailing comment or None; "comment": a full-line comment
    (`code` is None); "blank": an empty line (`code` is "", `comment` None). `continues`: the line
    is not the first of its statement (a bracket or a string left open above it).
    """

    kind: str
    code: str | None
    comment: str | None
    continues: bool = False


@dataclass
class Row:
    """A row of the view: `notes` (paragraphs of comment text) beside `code`, the lines they are
    written on, and `more`, the uncommented lines after them (up to the next commented line)."""

    notes: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    more: list[str] = field(default_factory=list)


# --- reading a section --------------------------------------------------------------------------


def base_paths(config) -> list[Path]:
    """Where pymdownx.snippets looks files up (its `base_path`), else the folder of mkdocs.yml."""
    options = (config.mdx_configs or {}).get("pymdownx.snippets", {})
    paths = options.get("base_path") or [Path(config.config_file_path).parent]
    return [Path(p) for p in ([paths] if isinstance(paths, (str, Path)) else paths)]


def resolve(bases: list[Path], file: str) -> Path:
    for base in bases:
        path = Path(base) / file
        if path.is_file():
            return path
    raise AnnotatedError(f"no file {file!r} (looked in {', '.join(str(b) for b in bases)})")


def section_names(text: str) -> list[str]:
    names = []
    for line in text.split("\n"):
        match = SnippetPreprocessor.RE_SNIPPET_SECTION.match(line) if "8<-" in line else None
        if match and match.group("type") == "start" and match.group("name") not in names:
            names.append(match.group("name"))
    return names


def read_section(bases: list[Path], file: str, section: str) -> list[str]:
    """The section's lines as pymdownx.snippets embeds them (markers dropped, dedented)."""
    path = resolve(bases, file)
    text = path.read_text(encoding="utf-8")
    if not SECTION_NAME.match(section):
        raise AnnotatedError(f"{section!r} is not a snippet section name (lower case letters, digits, - and _)")
    lines, inside, found = [], False, False
    for line in text.split("\n"):
        match = SnippetPreprocessor.RE_SNIPPET_SECTION.match(line) if "8<-" in line else None
        if match and match.group("escape"):  # an escaped marker is text: ;--8<-- shows as --8<--
            line = (match.group("pre") + match.group("escape").replace(";", "", 1) + match.group("inline_marker")
                    + match.group("section") + match.group("post"))
        elif match and match.group("name") == section:
            if match.group("type") == "start":
                inside = found = True
                continue
            if inside:
                break
            raise AnnotatedError(f"{file}: section {section!r} ends before it starts")
        elif match:
            continue  # another section's marker inside this one: not shown, as in snippets
        if inside:
            lines.append(line)
    if not found:
        names = section_names(text)
        raise AnnotatedError(f"{file} has no section {section!r} (its sections: {', '.join(names) or 'none'})")
    if not any(line.strip() for line in lines):
        raise AnnotatedError(f"{file}: section {section!r} is empty")
    return textwrap.dedent("\n".join(lines)).split("\n")


# --- comments: which part of each line is code, which is comment --------------------------------


def comment_text(token: str) -> str:
    """`# text` -> `text`: the hashes (`#`, `##`, ...) and the spaces around the text removed."""
    return token.lstrip("#").strip()


def split_lines(lines: list[str]) -> list[Line]:
    """Each line as code and comment, found by Python's tokenizer (a `#` in a string is code)."""
    comments: dict[int, int] = {}  # line index -> column of its comment
    continues: set[int] = set()  # lines inside a statement that started on an earlier line
    try:
        statement = None  # the line the current statement started on (None: between statements)
        for token in tokenize.generate_tokens(io.StringIO("\n".join(lines) + "\n").readline):
            first, last = token.start[0] - 1, token.end[0] - 1
            if token.type == tokenize.COMMENT:
                comments[first] = token.start[1]
            elif token.type == tokenize.NEWLINE:
                statement = None
            elif token.type in (tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                pass
            elif statement is None:
                statement = first
            if statement is not None:
                continues.update(i for i in range(first, last + 1) if i != statement)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        comments, continues = fallback_comments(lines), set()
    out = []
    for index, line in enumerate(lines):
        column = comments.get(index)
        inside = index in continues
        if column is None:
            out.append(Line("code", line.rstrip(), None, inside) if line.strip() else Line("blank", "", None, inside))
        elif not line[:column].strip():
            out.append(Line("comment", None, comment_text(line[column:]), inside))
        else:
            out.append(Line("code", line[:column].rstrip(), comment_text(line[column:]), inside))
    return out


def fallback_comments(lines: list[str]) -> dict[int, int]:
    """Comment columns by a small scanner (strings: '...', "...", triple-quoted across lines), for a
    section the tokenizer refuses (one that ends inside a bracket, say)."""
    comments, quote = {}, None
    for index, line in enumerate(lines):
        column = 0
        while column < len(line):
            if quote:
                if line.startswith("\\", column):
                    column += 2
                    continue
                if line.startswith(quote, column):
                    column += len(quote)
                    quote = None
                    continue
                column += 1
                continue
            char = line[column]
            if char == "#":
                comments[index] = column
                break
            if char in "'\"":
                quote = char * 3 if line.startswith(char * 3, column) else char
                column += len(quote)
                continue
            column += 1
        if quote and len(quote) == 1:
            quote = None  # a one-quote string ends with its line
    return comments


def build_rows(lines: list[Line]) -> list[Row]:
    """The rows of the view, in the order of the lines.

    A commented code line starts a row: its note is the full-line comments just above it, then its
    trailing comment; the lines that continue its statement without comments of their own are its
    `code` too. The uncommented statements and blank lines after it are the row's `more` (the note,
    when long, runs on beside them). Lines before the first comment form a row without a note, and
    comments after the last code line a row without code."""
    rows: list[Row] = []
    pending: list[str] = []  # full-line comments waiting for their code line
    statement = False  # whether the last line added belongs to a commented statement (row.code)
    for line in lines:
        if line.kind == "comment":
            pending.append(line.comment)
            continue
        if line.kind == "blank" and not line.continues and pending:
            pending.append("")  # a paragraph break
        notes = paragraphs(pending) + ([line.comment] if line.comment else [])
        if notes and line.kind == "code":
            rows.append(Row(notes=notes, code=[line.code]))
            pending, statement = [], True
        elif not rows:
            rows.append(Row(code=[line.code]))
            statement = True
        elif statement and line.continues:
            rows[-1].code.append(line.code)
        else:
            rows[-1].more.append(line.code)
            statement = False
    if pending:
        rows.append(Row(notes=paragraphs(pending)))
    return rows


def paragraphs(comments: list[str]) -> list[str]:
    """Comment lines joined into paragraphs: an empty comment or a `- item` line starts a new one."""
    out: list[list[str]] = []
    for text in comments:
        if not text:
            out.append([])
        elif BULLET.match(text) or not out:
            out.append([text])
        else:
            out[-1].append(text)
    return [" ".join(words) for words in out if words]


# --- HTML ---------------------------------------------------------------------------------------


def script_html(match: re.Match) -> str:
    tag = "sub" if match.group(1) == "_" else "sup"
    return f"<{tag}>{match.group(2) or match.group(3)}</{tag}>"


def text_html(text: str) -> str:
    """Plain comment text as HTML: escaped, with `x_t`, `x_{t-1}`, `x^2` as sub/superscripts and the
    digits after a Greek letter (β1) as its index."""
    html = escape(text, quote=False)
    html = SCRIPTED.sub(lambda m: m.group(1) + SCRIPT.sub(script_html, m.group(2)), html)
    html = BRACED_SCRIPT.sub(script_html, html)
    return GREEK_INDEX.sub(r"\1<sub>\2</sub>", html)


def inline_html(text: str) -> str:
    """A comment's text as HTML: `$tex$` as arithmatex's inline math, `code` as <code>, plain-text
    sub/superscripts (`θ_{t-1}`, `g_t`, `β2^t`) as <sub>/<sup>, the rest escaped."""
    out, position = [], 0
    for match in INLINE.finditer(text):
        out.append(text_html(text[position:match.start()]))
        code, tex = match.groups()
        if code is not None:
            out.append(f"<code>{escape(code, quote=False)}</code>")
        else:
            out.append(f'<span class="arithmatex">\\({escape(tex, quote=False)}\\)</span>')
        position = match.end()
    out.append(text_html(text[position:]))
    return "".join(out)


OPENING = re.compile(r'(<span class="p">[(\[{]+</span>)')
ATTRIBUTE_DOT = re.compile(r'(<span class="o">\.</span>)')


def highlighted_lines(code: list[str]) -> list[str]:
    """Each line as Pygments HTML (its spans closed within the line), lexed as one piece of Python.

    A long line may wrap after an opening bracket and before the dot of an attribute (`<wbr>`),
    rather than inside a name or after its indentation."""
    lexer = PythonLexer(stripnl=False, stripall=False, ensurenl=True)
    # looked up at call time: docs/hooks/build_cache.py puts its memo there
    html = pygments.highlight("\n".join(code) + "\n", lexer, HtmlFormatter(nowrap=True))
    html = ATTRIBUTE_DOT.sub(r"<wbr>\1", OPENING.sub(r"\1<wbr>", html))
    out = html.split("\n")
    if out and out[-1] == "":
        out.pop()
    if len(out) != len(code):  # Pygments closes its spans at every line end; anything else is a bug here
        raise AnnotatedError(f"highlighting gave {len(out)} lines for {len(code)}")
    return out


def docstring_math(lines: list[str]) -> list[str]:
    """The `$$...$$` blocks of the docstring of the section's first function or class, if any."""
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            doc = ast.get_docstring(node) or ""
            return [block.strip() for block in DISPLAY_MATH.findall(doc) if block.strip()]
    return []


def line_html(code: str, highlighted: str) -> str:
    indent = len(code) - len(code.lstrip(" "))
    return f'<span class="oe-annotated__line" style="--oe-indent:{indent}">{highlighted}</span>'


def annotated_html(lines: list[str], file: str, section: str) -> str:
    """The view of a section (its lines as `read_section` returns them)."""
    rows = build_rows(split_lines(lines))
    code = [line for row in rows for line in row.code + row.more]
    highlighted = iter(highlighted_lines(code))
    name = f"{file}:{section}"
    # the code column is as wide as 9 lines in 10 need (when the screen has room): the rest wrap
    lengths = sorted(len(line) for line in code if line.strip()) or [1]
    width = lengths[(len(lengths) - 1) * 9 // 10]
    parts = [
        f'<div class="oe-annotated" data-oe-annotated="{escape(name)}" style="--oe-code-width:{width}">',
        '<div class="oe-annotated__bar">',
        f'<span class="oe-annotated__source"><code>{escape(file)}</code> · section '
        f"<code>{escape(section)}</code></span>",
        f'<button type="button" class="md-code__button oe-annotated__copy" data-md-type="copy" '
        f'title="Copy code" aria-label="Copy the code of {escape(name)}" '
        f'data-clipboard-text="{escape(chr(10).join(lines))}"></button>',
        "</div>",
    ]
    for tex in docstring_math(lines):
        parts.append(f'<div class="oe-annotated__math"><div class="arithmatex">\\[{escape(tex, quote=False)}\\]'
                     "</div></div>")
    # data-oe-rows: an attribute after class keeps docs/hooks/search.py's code-block pattern off this div
    parts.append('<div class="oe-annotated__rows language-python highlight" data-oe-rows>')
    for row in rows:
        kind = " oe-annotated__row--noted" if row.notes else ""
        kind += " oe-annotated__row--more" if row.more else ""
        code = "".join(line_html(line, next(highlighted)) for line in row.code)
        parts.append(f'<div class="oe-annotated__row{kind}">'
                     f'<pre class="oe-annotated__code" data-search-exclude>{code}</pre>')
        if row.notes:
            parts.append('<div class="oe-annotated__note" data-search-exclude>'
                         + "".join(f"<p>{inline_html(note)}</p>" for note in row.notes) + "</div>")
        if row.more:
            more = "".join(line_html(line, next(highlighted)) for line in row.more)
            parts.append(f'<pre class="oe-annotated__code oe-annotated__more" data-search-exclude>{more}</pre>')
        parts.append("</div>")
    parts.append("</div></div>")
    return "".join(parts)


# --- MkDocs events ------------------------------------------------------------------------------

_pages: dict[str, list[str]] = {}  # src_uri -> the view HTML of each of its placeholders


def placeholder(number: int) -> str:
    """A paragraph of letters and digits only, which markdown leaves as it is."""
    return f"OptimessayAnnotated{number}Placeholder"


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Replace each `!annotated[FILE:SECTION]` line outside code fences by a placeholder paragraph
    (raw HTML written into the markdown would not survive an indented block: a tab, an admonition)."""
    views = _pages[page.file.src_uri] = []
    bases = base_paths(config)
    lines, fence = [], None
    for line in markdown.split("\n"):
        opening = FENCE.match(line)
        if opening and fence is None:
            fence = opening.group(1)
        elif opening and line.strip().startswith(fence):
            fence = None
        match = None if fence else MARKER_LINE.match(line)
        if not match:
            lines.append(line)
            continue
        file, section = match.group("file").strip(), match.group("section").strip()
        try:
            views.append(annotated_html(read_section(bases, file, section), file, section))
        except AnnotatedError as error:
            raise PluginError(f"{page.file.src_path}: !annotated[{file}:{section}]: {error}") from error
        lines += ["", match.group("indent") + placeholder(len(views) - 1), ""]
    return "\n".join(lines)


def on_page_content(html: str, page, config, files) -> str:
    """Put each view where its placeholder paragraph landed."""
    views = _pages.pop(page.file.src_uri, [])
    used = set()

    def view(match: re.Match) -> str:
        number = int(match.group(1))
        if number >= len(views):
            raise PluginError(f"{page.file.src_path}: stray annotated-view placeholder {match.group(0)!r}")
        used.add(number)
        return views[number]

    html = PLACEHOLDER.sub(view, html)
    stray = STRAY_MARKER.search(CODE.sub("", html))
    if stray:
        start = stray.start()
        raise PluginError(f"{page.file.src_path}: an `!annotated[...]` that is not alone on its line "
                          f"(write `!annotated[FILE:SECTION]` on a line of its own): "
                          f"{stray.string[start:start + 80]!r}")
    if len(used) != len(views):
        lost = [number for number in range(len(views)) if number not in used]
        raise PluginError(f"{page.file.src_path}: annotated views {lost} vanished in the markdown conversion "
                          f"(is an `!annotated` line inside raw HTML or a code block?)")
    return html
