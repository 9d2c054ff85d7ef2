"""MkDocs hook: a rebuild (`make site` with nothing changed, `mkdocs serve` after an edit) reuses the
work whose inputs did not change, so it takes seconds, and its pages are byte for byte those of a
build without these caches (tests/test_rebuild_cache.py builds both and compares every file).

- **Highlighted code** (`.cache/build/highlight.json`): Pygments' `highlight(code, lexer, formatter)`
  is a pure function of the code, the lexer's class, options and filters and the formatter's class
  and options. Every highlighting of a build goes through it (pymdownx.highlight for the pages' code
  blocks, mkdocstrings' signatures on the API reference, docs/hooks/annotate.py), so `on_config`
  puts a memo in front of it, keyed on all of that and on the versions of Pygments and
  pymdown-extensions. An argument that has no stable text form (an object without its own repr)
  makes the call uncached: a miss, never a wrong hit.
- **Compiled templates** (`.cache/build/jinja/`): Jinja compiles every template (Material's and
  mkdocstrings') on each build; its bytecode cache keeps the compiled code under the template's
  name and file and a checksum of its source (Jinja's own `FileSystemBytecodeCache`, which also
  checks its bytecode format and Python's version), one folder per environment and per versions of
  the libraries that set the environment up (see `template_cache`).
- The search index's entries are cached by docs/hooks/search.py, the notebooks by notebooks.py,
  the math by katex.py.

`OPTIMESSAY_BUILD_CACHE=0` turns these caches (and search.py's) off: nothing is read or written.
Highlighted code this build did not use is dropped at its end (the file holds one build's worth).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from importlib import metadata
from pathlib import Path

import pygments
import pymdownx.highlight
from jinja2 import FileSystemBytecodeCache

from optimessay.files import write_atomic

CACHE_FORMAT = 1  # bump when an entry's layout or key changes


def enabled() -> bool:
    return os.environ.get("OPTIMESSAY_BUILD_CACHE", "1") != "0"


def cache_folder(config) -> Path:
    return Path(config.config_file_path).resolve().parent / ".cache" / "build"


# --- highlighted code ------------------------------------------------------------------------

def stable_text(value) -> str | None:
    """A text that names `value` exactly, or None when its repr is the default one (an address)."""
    text = repr(value)
    return None if " at 0x" in text or " object at " in text else text


def call_key(code: str, lexer, formatter) -> str | None:
    parts = [f"format {CACHE_FORMAT}", f"pygments {pygments.__version__}",
             f"pymdown-extensions {metadata.version('pymdown-extensions')}"]
    for thing in (lexer, formatter):
        kind = type(thing)
        options = stable_text(sorted(getattr(thing, "options", {}).items()))
        if options is None:
            return None
        parts += [f"{kind.__module__}.{kind.__qualname__}", options]
    for item in getattr(lexer, "filters", []):
        text = stable_text(sorted(vars(item).items()))
        if text is None:
            return None
        parts.append(f"{type(item).__module__}.{type(item).__qualname__} {text}")
    parts.append(code)
    return hashlib.sha256("\n\0".join(parts).encode("utf-8")).hexdigest()[:40]


class HighlightMemo:
    """Stands in for `pygments.highlight` (the function of the same signature)."""

    def __init__(self, original):
        self.original = original
        self.entries: dict[str, str] = {}  # loaded from disk
        self.used: dict[str, str] = {}  # hit or computed by this build
        self.on = False

    def __call__(self, code, lexer, formatter, outfile=None):
        key = call_key(code, lexer, formatter) if self.on and outfile is None else None
        if key is None:
            return self.original(code, lexer, formatter, outfile)
        html = self.used.get(key)
        if html is None:
            html = self.entries.get(key)
            if html is None:
                html = self.original(code, lexer, formatter)
            self.used[key] = html
        return html


def highlight_memo() -> HighlightMemo:
    """This build's memo in front of Pygments' own function (`mkdocs serve` loads the hooks again
    on each rebuild: the memo of an earlier load is replaced, never wrapped)."""
    current = pymdownx.highlight.highlight
    memo = HighlightMemo(getattr(current, "original", current))
    pymdownx.highlight.highlight = memo
    pygments.highlight = memo  # docs/hooks/annotate.py calls pygments.highlight
    return memo


_memo: HighlightMemo | None = None


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def on_config(config):
    global _memo
    _memo = highlight_memo()
    _memo.on = enabled()
    _memo.entries = read_json(cache_folder(config) / "highlight.json") if _memo.on else {}
    _template_folders.clear()
    return config


_template_folders: set[Path] = set()  # used by this build
TEMPLATE_LIBRARIES = ("jinja2", "mkdocs", "mkdocs-material", "mkdocstrings", "mkdocstrings-python")


def template_cache(config, role: str) -> FileSystemBytecodeCache:
    """Jinja's cache keeps a template's code under its name and file and checks its source's
    checksum; the code also depends on the environment's settings (autoescape, extensions), so each
    environment (`role`) and each set of versions of the libraries that make it has its own folder."""
    versions = " ".join(f"{name}=={metadata.version(name)}" for name in TEMPLATE_LIBRARIES)
    tag = hashlib.sha256(f"{CACHE_FORMAT} {role} {versions}".encode()).hexdigest()[:16]
    folder = cache_folder(config) / "jinja" / f"{role}-{tag}"
    folder.mkdir(parents=True, exist_ok=True)
    _template_folders.add(folder)
    return FileSystemBytecodeCache(str(folder))


def on_env(env, config, files):
    if enabled():
        env.bytecode_cache = template_cache(config, "theme")
    return env


AUTODOC = re.compile(r"^::: ", re.MULTILINE)  # a mkdocstrings block (the API reference)


def on_page_markdown(markdown: str, page, config, files):
    """mkdocstrings makes its handler (and the handler's Jinja environment) on the first block it
    meets; a page with a block gets it here instead, a moment earlier, to give it the cache."""
    plugin = config.plugins.get("mkdocstrings")
    if enabled() and plugin is not None and AUTODOC.search(markdown):
        handler = plugin.handlers.get_handler(plugin.handlers.get_handler_name({}))
        if handler.env.bytecode_cache is None:
            handler.env.bytecode_cache = template_cache(config, "mkdocstrings")
    return markdown


def on_post_build(config):
    memo = _memo
    if memo is not None and memo.on and memo.used != memo.entries:
        write_atomic(cache_folder(config) / "highlight.json", json.dumps(memo.used, sort_keys=True))
    templates = cache_folder(config) / "jinja"
    if _template_folders and templates.is_dir():  # older libraries' (or layouts') compiled templates go
        for path in templates.iterdir():
            if path not in _template_folders:
                try:
                    if path.is_dir():
                        shutil.rmtree(path)
                    else:
                        path.unlink(missing_ok=True)
                except OSError:  # another build is writing there: the next build removes it
                    pass
