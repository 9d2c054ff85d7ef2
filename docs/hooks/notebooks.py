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

Executed notebooks are cached (`on_files`, `on_pre_page`), replacing mkdocs-jupyter's own execution
and cache (which is keyed on the notebook file alone and serves stale output after a change in the
package). A notebook's entry in `.cache/notebooks/` is found by a hash of the notebook file, the
Python version, mkdocs-jupyter's conversion options and the versions of the libraries that convert
a notebook to HTML (mkdocs-jupyter, nbconvert, ...); it holds the converted page and what the
kernel had imported when the notebook finished: this project's source files (every module in
`sys.modules` whose file lies in the project, outside the virtual environment), each with its
SHA-256, and the installed distributions those modules came from, with their versions (the
`NAME-VERSION.dist-info` folders pip writes). The entry is used only while every one of those files
still has that hash and every one of those versions is still installed; otherwise the notebook
runs again. On a build that
has several notebooks to run, they run at the same time, one kernel each (`execute_all`). Only the
notebooks mkdocs-jupyter's `execute: true` asks for are run; its `allow_errors` and `kernel_name`
apply.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from importlib import metadata
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

    return set_styles_aside(SCRIPT.sub(drop_cdn_loader, html), page)


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


def trim_styles(output: str) -> str:
    """The page with its stylesheets purged (`purge_css`) and unused custom properties dropped."""
    classes = {name for attribute in re.findall(r'class="([^"]*)"', output) for name in attribute.split()}
    output = STYLE.sub(lambda m: m.group(1) + purge_css(m.group(2), classes) + m.group(3), output)
    return drop_unused_properties(output)


def on_post_page(output: str, page, config) -> str:
    if not is_notebook(page):
        return output
    # trimming takes seconds; its result depends on the page alone, so it is kept by the page's hash
    key = hashlib.sha256(output.encode("utf-8")).hexdigest()[:32]
    trimmed = Path(config.config_file_path).resolve().parent / ".cache" / "notebooks" / f"trimmed-{key}.html"
    _used.add(trimmed)
    if trimmed.is_file():
        output = trimmed.read_text(encoding="utf-8")
    else:
        output = trim_styles(output)
        write_atomic(trimmed, output)
    return extract_images(output, Path(page.file.abs_dest_path).parent)


# nbconvert's <style> blocks (575 kB) are kept out of page.content between `on_page_content` and this
# hook's `on_page_context`, which runs after Material's search plugin has indexed page.content:
# parsing them costs the indexer seconds.
STYLE_PLACEHOLDER = re.compile(r'<style data-optimessay-style="(\d+)"></style>')
_styles: dict[str, list[str]] = {}


def set_styles_aside(html: str, page) -> str:
    kept = _styles[page.file.src_uri] = []

    def aside(match: re.Match) -> str:
        kept.append(match.group(0))
        return f'<style data-optimessay-style="{len(kept) - 1}"></style>'

    return STYLE.sub(aside, html)


def on_page_context(context, page, config, nav):
    """Material's search plugin has indexed page.content (plugins run before hooks): styles go back."""
    kept = _styles.pop(page.file.src_uri, [])
    if kept:
        page.content = STYLE_PLACEHOLDER.sub(lambda m: kept[int(m.group(1))], page.content)
    return context


# --- Executed notebooks, cached on what they depend on, run in parallel -------------------------

log = logging.getLogger("mkdocs.hooks.notebooks")
CACHE_FORMAT = 1  # bump when an entry's layout changes
# the options of mkdocs-jupyter that change the converted page
CONVERSION_OPTIONS = ("execute", "kernel_name", "theme", "allow_errors", "show_input", "no_input", "no_prompt",
                      "remove_tag_config", "highlight_extra_classes", "include_requirejs", "custom_mathjax_url",
                      "toc_depth")
# run in the kernel after the notebook's own cells: the files of every module it imported
LIST_MODULES = ("import json as _j, sys as _s\n"
                "print('OPTIMESSAY-MODULES' + _j.dumps(sorted({getattr(_m, '__file__', None) or ''"
                " for _m in list(_s.modules.values())} - {''})))")
MODULES_MARK = "OPTIMESSAY-MODULES"
CONVERTERS = ("mkdocs-jupyter", "nbconvert", "nbformat", "pygments", "mistune", "jupytext")

_executed: dict[str, Path] = {}  # notebook src_uri -> its cache entry (a folder) for this build
_used: set[Path] = set()  # trimmed pages used by this build (the entries are _executed's values)


def jupyter_options(config) -> dict:
    plugin = config.plugins.get("mkdocs-jupyter")
    if plugin is None:
        raise PluginError("docs/hooks/notebooks.py needs the mkdocs-jupyter plugin")
    return plugin.config


def installed_distributions() -> set[str]:
    """The `NAME-VERSION.dist-info` (and `.egg-info`) folder names on sys.path: what pip installed,
    with versions (listing folders is fast; reading every distribution's metadata takes a second)."""
    installed = set()
    for folder in sys.path:
        try:
            installed |= {name for name in os.listdir(folder or ".") if name.endswith((".dist-info", ".egg-info"))}
        except OSError:
            continue
    return installed


def imported_distributions(module_files: list[str]) -> list[str]:
    """The dist-info folder names of the installed distributions that provide the imported modules."""
    provides = metadata.packages_distributions()  # top-level import name -> distribution names
    tops = set()
    for name in module_files:
        parts = Path(name).parts
        if "site-packages" in parts:
            below = parts[parts.index("site-packages") + 1:]
            tops.add(below[0].removesuffix(".py").split(".")[0] if below else "")
    wanted = {dist.lower().replace("-", "_") for top in tops for dist in provides.get(top, [])}
    return sorted(folder for folder in installed_distributions()
                  if folder.split("-", 1)[0].lower() in wanted)


def entry_key(notebook: Path, options: dict) -> str:
    digest = hashlib.sha256(f"format {CACHE_FORMAT}\n{platform.python_implementation()} {sys.version}\n".encode())
    digest.update(notebook.read_bytes())
    for name in CONVERSION_OPTIONS:
        digest.update(f"\n{name}={options.get(name)!r}".encode())
    for converter in CONVERTERS:  # they make the page from the executed notebook
        digest.update(f"\n{converter}=={metadata.version(converter)}".encode())
    return digest.hexdigest()[:32]


def file_hash(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def is_fresh(entry: Path, installed: set[str]) -> bool:
    """The entry has a page, every source file it recorded still has the recorded hash, and every
    distribution the kernel imported from is still installed at the recorded version."""
    try:
        record = json.loads((entry / "depends.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not (entry / "page.json").is_file() and not (entry / "executed.ipynb").is_file():
        return False
    if not set(record.get("distributions", [])) <= installed:
        return False
    return all(file_hash(Path(path)) == sha for path, sha in record["files"].items())


def project_sources(files: list[str], root: Path) -> dict[str, str]:
    """{path: sha256} of the imported files that belong to the project (not to the environment)."""
    environment = {Path(p).resolve() for p in {sys.prefix, sys.base_prefix, *sys.path} if "-packages" in p
                   or p in (sys.prefix, sys.base_prefix)}
    found = {}
    for name in files:
        path = Path(name).resolve()
        if not path.is_file() or root not in path.parents:
            continue
        if any(place == path or place in path.parents for place in environment) or "site-packages" in path.parts:
            continue
        found[str(path)] = file_hash(path)
    return found


def execute_one(notebook: str, executed: str, kernel_name: str, allow_errors: bool) -> None:
    """Run in a child process: execute `notebook`, write it to `executed` and the imported files
    (one per line) to `executed`.modules."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(notebook, as_version=4)
    probe = nbformat.v4.new_code_cell(LIST_MODULES)
    nb.cells.append(probe)
    client = NotebookClient(nb, kernel_name=kernel_name, allow_errors=allow_errors, timeout=None,
                            resources={"metadata": {"path": str(Path(notebook).parent)}})
    client.execute()
    nb.cells.pop()
    text = "".join(out.get("text", "") for out in probe.get("outputs", []) if out.get("output_type") == "stream")
    modules = json.loads(text[text.index(MODULES_MARK) + len(MODULES_MARK):].strip())
    write_atomic(executed, nbformat.writes(nb))
    write_atomic(executed + ".modules", "\n".join(modules))


PORT_RACE = "zmq.error.ZMQError: Address already in use"  # a kernel that could not bind its ports


def execute_all(jobs: list[tuple[Path, Path]], options: dict, root: Path) -> None:
    """Execute each (notebook, entry folder) at the same time, one child process and kernel each."""
    started = time.perf_counter()

    def start(notebook: Path, entry: Path):
        log_file = tempfile.TemporaryFile()
        child = subprocess.Popen(
            [sys.executable, __file__, "--execute", str(notebook), str(entry / "executed.ipynb"),
             options.get("kernel_name") or "python3", "1" if options.get("allow_errors") else "0"],
            stdout=log_file, stderr=subprocess.STDOUT)
        return child, log_file

    def finish(child, log_file) -> str:
        child.wait()
        log_file.seek(0)
        output = log_file.read().decode("utf-8", "replace")
        log_file.close()
        return output

    running = []
    for notebook, entry in jobs:
        entry.mkdir(parents=True, exist_ok=True)
        for old in ("page.json", "depends.json", "executed.ipynb"):
            (entry / old).unlink(missing_ok=True)
        running.append((notebook, entry, *start(notebook, entry)))
    failed = []
    for notebook, entry, child, log_file in running:
        output = finish(child, log_file)
        if child.returncode != 0 and PORT_RACE in output:
            # two kernels started at once picked the same free port (jupyter_client chooses the ports,
            # the kernel binds them later): the notebook never ran; run it again, now alone
            log.info("%s: its kernel lost a port race with another kernel; running it again", notebook.name)
            child, log_file = start(notebook, entry)
            output = finish(child, log_file)
        if child.returncode != 0:
            failed.append(f"{notebook.name} failed to run:\n{output[-3000:]}")
            continue
        modules = (entry / "executed.ipynb.modules").read_text(encoding="utf-8").splitlines()
        record = {"notebook": str(notebook), "files": project_sources(modules, root),
                  "distributions": imported_distributions(modules)}
        record["files"][str(notebook.resolve())] = file_hash(notebook)
        write_atomic(entry / "depends.json", json.dumps(record, indent=1, sort_keys=True))
    if failed:
        raise PluginError("\n".join(failed))
    log.info("executed %d notebook(s) in parallel in %.1f s: %s", len(jobs), time.perf_counter() - started,
             ", ".join(n.name for n, _ in jobs))


def on_files(files, config):
    """Find each notebook's cache entry; run the notebooks whose entry is missing or stale."""
    _executed.clear()
    _used.clear()
    options = jupyter_options(config)
    notebooks = [f for f in files.documentation_pages() if f.src_uri.endswith(".ipynb")]
    if not notebooks:
        return files
    root = Path(config.config_file_path).resolve().parent
    cache = root / ".cache" / "notebooks"
    installed = installed_distributions()
    stale = []
    for file in notebooks:
        entry = cache / entry_key(Path(file.abs_src_path), options)
        _executed[file.src_uri] = entry
        if not is_fresh(entry, installed):
            stale.append((Path(file.abs_src_path), entry))
        else:
            log.info("notebook cache hit: %s", file.src_uri)
    if stale and options.get("execute"):
        execute_all(stale, options, root)
    elif stale:  # not executed: the notebook as it is, depending on itself alone
        for notebook, entry in stale:
            entry.mkdir(parents=True, exist_ok=True)
            write_atomic(entry / "executed.ipynb", notebook.read_bytes())
            write_atomic(entry / "depends.json", json.dumps({"files": {str(notebook.resolve()): file_hash(notebook)}}))
            (entry / "page.json").unlink(missing_ok=True)
    return files


def on_pre_page(page, config, files):
    """Render a notebook page from its cache entry (converted once, then kept) instead of running it."""
    entry = _executed.get(page.file.src_uri)
    if entry is None:
        return page
    options = jupyter_options(config)

    def render(self, config, files):
        from mkdocs.structure.toc import get_toc
        from mkdocs_jupyter import convert
        from mkdocs_jupyter.plugin import _get_nb_toc_tokens

        page_file = entry / "page.json"
        if page_file.is_file():
            cached = json.loads(page_file.read_text(encoding="utf-8"))
        else:
            executed = str(entry / "executed.ipynb")
            content = convert.nb2html(
                executed, execute=False, kernel_name=options["kernel_name"], theme=options["theme"],
                allow_errors=options["allow_errors"], show_input=options["show_input"],
                no_input=options["no_input"], no_prompt=options["no_prompt"],
                remove_tag_config=options["remove_tag_config"],
                highlight_extra_classes=options["highlight_extra_classes"],
                include_requirejs=options["include_requirejs"], custom_mathjax_url=options["custom_mathjax_url"])
            toc_tokens, title = _get_nb_toc_tokens(executed, options["toc_depth"])
            cached = {"content": content, "toc_tokens": toc_tokens, "title": title}
            write_atomic(page_file, json.dumps(cached))
        self.content = cached["content"]
        self.toc = get_toc(cached["toc_tokens"])
        if cached["title"] is not None and not options["ignore_h1_titles"]:
            self.title = cached["title"]

    page.render = render.__get__(page, type(page))
    return page


def on_post_build(config):
    """Entries and trimmed pages this build did not use are dropped (an edited notebook leaves its
    old entry behind), so the cache holds one entry per notebook."""
    cache = Path(config.config_file_path).resolve().parent / ".cache" / "notebooks"
    if not _executed or not cache.is_dir():
        return
    keep = set(_executed.values()) | _used
    for path in cache.iterdir():
        if path not in keep and (path.name.startswith("trimmed-") or (path / "depends.json").exists()):
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)


if __name__ == "__main__" and sys.argv[1:2] == ["--execute"]:
    notebook_path, executed_path, kernel, allow = sys.argv[2:6]
    execute_one(notebook_path, executed_path, kernel, allow == "1")
