"""The rebuild caches of docs/hooks/build_cache.py (highlighted code, compiled templates) and
docs/hooks/search.py (search-index entries) never change a built page.

A small site of its own (Material, its search, code blocks, a snippet, an annotated view, an API
block by mkdocstrings) is built without the caches (`OPTIMESSAY_BUILD_CACHE=0`), then with them
(filling them), then again (reading them): every built file is byte for byte the same. Then its
sources are edited (the snippet's code, a page's prose, the documented module's docstring) and the
cached rebuild must equal a build of the edited sources without the caches.
The whole site's check is in scripts/bench_rebuild.py (it compares its cached builds with one
without the caches).
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import pygments.lexers
import yaml
from mkdocs_builds import run_mkdocs
from pygments.formatters import HtmlFormatter

ROOT = Path(__file__).resolve().parent.parent
HOOKS = ROOT / "docs" / "hooks"

SNIPPET = '''\
# --8<-- [start:update]
def update(x, g, lr):
    """One step."""
    return x - lr * g  # $x \\leftarrow x - \\eta g$
# --8<-- [end:update]
'''
MODULE = '''\
"""A module documented by mkdocstrings."""


def scale(x: float, factor: float = 2.0) -> float:
    """Multiply `x` by `factor`.

    Args:
        x: the value.
        factor: the multiplier.
    """
    return x * factor
'''
INDEX = '''\
# Home

Prose about preconditioning, with `inline code`.

```python
import torch

def step(p, lr=0.1):
    return p - lr * p.grad
```

## The snippet

```python
--8<-- "demo/code.py:update"
```

## Annotated

!annotated[demo/code.py:update]
'''
API = '''\
# API

::: demo.module
'''


def make_site(root: Path) -> Path:
    (root / "docs").mkdir(parents=True)
    (root / "demo").mkdir()
    (root / "demo" / "__init__.py").write_text("")
    (root / "demo" / "code.py").write_text(SNIPPET)
    (root / "demo" / "module.py").write_text(MODULE)
    (root / "docs" / "index.md").write_text(INDEX)
    (root / "docs" / "api.md").write_text(API)
    (root / "mkdocs.yml").write_text(yaml.safe_dump({
        "site_name": "rebuild cache test",
        "site_url": "http://127.0.0.1:8000/",
        "nav": [{"Home": "index.md"}, {"API": "api.md"}],
        "theme": {"name": "material"},
        "markdown_extensions": ["toc", "pymdownx.superfences", {"pymdownx.highlight": {"pygments_lang_class": True}},
                                "pymdownx.inlinehilite", {"pymdownx.snippets": {"base_path": [str(root)],
                                                                               "check_paths": True}}],
        "plugins": ["search", {"mkdocstrings": {"handlers": {"python": {"paths": ["."]}}}}],
        "hooks": [str(HOOKS / name) for name in ("build_cache.py", "search.py", "annotate.py")],
    }))
    return root


def build(project: Path, out: Path, cache: bool) -> None:
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "OPTIMESSAY_BUILD_CACHE": "1" if cache else "0",
           "PYTHONDONTWRITEBYTECODE": "1"}
    result = run_mkdocs(["build", "--strict", "-d", str(out)], cwd=project, env=env)
    assert result.returncode == 0, result.stderr[-3000:]


def files_of(site: Path) -> dict[str, bytes]:
    return {str(p.relative_to(site)): p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file()}


def assert_same_site(expected: Path, actual: Path) -> None:
    want, got = files_of(expected), files_of(actual)
    assert sorted(want) == sorted(got)
    differing = [name for name in want if want[name] != got[name]]
    assert not differing, f"built files differ from the uncached build: {differing}"


def cache_state(project: Path) -> dict[str, int]:
    """Every cache file with its modification time."""
    folder = project / ".cache" / "build"
    return {str(p.relative_to(folder)): p.stat().st_mtime_ns for p in folder.rglob("*") if p.is_file()}


def test_cached_builds_equal_an_uncached_build_before_and_after_an_edit(tmp_path):
    """One project: built without the caches, then filling them, then reading them (all equal); then
    its sources are edited and the cached rebuild equals an uncached build of the edited sources. (The
    edit starts from the caches the filling build wrote, as a first cached build of a fresh project
    would leave them: the reading build is asserted to write nothing.)"""
    project = make_site(tmp_path / "project")
    build(project, tmp_path / "uncached", cache=False)
    assert not (project / ".cache" / "build" / "highlight.json").exists()  # off means off
    build(project, tmp_path / "filling", cache=True)
    filled = cache_state(project)
    assert "highlight.json" in filled
    assert sum(name.startswith("search/") for name in filled) == 2  # one entry per page
    assert any(name.startswith("jinja/") for name in filled)
    highlighted = json.loads((project / ".cache" / "build" / "highlight.json").read_text())
    assert len(highlighted) >= 4  # the two blocks, the annotated view, the API's signature
    build(project, tmp_path / "reading", cache=True)
    assert cache_state(project) == filled  # every entry was read, none written again
    assert_same_site(tmp_path / "uncached", tmp_path / "filling")
    assert_same_site(tmp_path / "uncached", tmp_path / "reading")
    html = (tmp_path / "reading" / "index.html").read_text()
    assert "highlight" in html and "oe-annotated" in html
    index = json.loads((tmp_path / "reading" / "search" / "search_index.json").read_text())
    assert any("preconditioning" in doc["text"] for doc in index["docs"])

    # an edit reaches the cached rebuild: the snippet's code, a page's prose, the module's docstring
    code = project / "demo" / "code.py"
    code.write_text(SNIPPET.replace("return x - lr * g", "return x - lr * g * 0.5"))
    page = project / "docs" / "index.md"
    page.write_text(INDEX.replace("Prose about preconditioning", "Prose about momentum"))
    module = project / "demo" / "module.py"
    module.write_text(MODULE.replace("Multiply `x` by `factor`.", "Scale `x` by `factor`."))
    build(project, tmp_path / "cached", cache=True)
    build(project, tmp_path / "edited-uncached", cache=False)
    assert_same_site(tmp_path / "edited-uncached", tmp_path / "cached")
    html = (tmp_path / "cached" / "index.html").read_text()
    assert "0.5" in html and "Prose about momentum" in html
    assert "Scale <code>x</code> by" in (tmp_path / "cached" / "api" / "index.html").read_text()
    index = json.loads((tmp_path / "cached" / "search" / "search_index.json").read_text())
    texts = " ".join(doc["text"] for doc in index["docs"])
    assert "momentum" in texts and "preconditioning" not in texts
    # the entries of the old page were dropped: one entry per page again
    assert len(list((project / ".cache" / "build" / "search").glob("*.json"))) == 2


def load_build_cache():
    spec = importlib.util.spec_from_file_location("build_cache_under_test", HOOKS / "build_cache.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_highlight_key_names_every_input():
    """The memo's key changes with the code, the lexer and its options, and the formatter's options;
    an option without a stable text form leaves the call uncached (None) rather than risk a hit."""
    hooks = load_build_cache()
    python = pygments.lexers.PythonLexer
    key = hooks.call_key("x = 1\n", python(), HtmlFormatter(nowrap=True))
    assert key == hooks.call_key("x = 1\n", python(), HtmlFormatter(nowrap=True))
    others = [hooks.call_key("x = 2\n", python(), HtmlFormatter(nowrap=True)),
              hooks.call_key("x = 1\n", pygments.lexers.JavascriptLexer(), HtmlFormatter(nowrap=True)),
              hooks.call_key("x = 1\n", python(stripnl=False), HtmlFormatter(nowrap=True)),
              hooks.call_key("x = 1\n", python(), HtmlFormatter(nowrap=False)),
              hooks.call_key("x = 1\n", python(), HtmlFormatter(nowrap=True, cssclass="other"))]
    assert None not in others and len({key, *others}) == 6
    assert hooks.call_key("x = 1\n", python(), HtmlFormatter(style_object=object())) is None
