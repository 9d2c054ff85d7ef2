"""The build itself: `make site` (`mkdocs build --strict`) ran on the current sources, built every
page of the nav, and a notebook page never shows stale output (docs/hooks/notebooks.py's cache).

The strict build runs once, in `make site`, before pytest (the Makefile's `test` target): these
tests check its result instead of building a second time.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from mkdocs_builds import run_mkdocs
from site_helpers import ROOT, site_pages

# what the site is built from: a change to any of these after the build makes site/ stale
SOURCES = ["mkdocs.yml", "docs/**/*.md", "docs/**/*.ipynb", "docs/hooks/*.py", "docs/overrides/**/*",
           "docs/javascripts/**/*", "docs/stylesheets/**/*", "docs/playground/**/*", "optimessay/**/*.py",
           "docs/figures/manifest.json"]


class ConfigLoader(yaml.SafeLoader):
    """Reads mkdocs.yml without MkDocs (its !relative and !ENV tags become None)."""


ConfigLoader.add_multi_constructor("!", lambda loader, suffix, node: None)


def mkdocs_config() -> dict:
    return yaml.load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"), Loader=ConfigLoader)  # noqa: S506


def nav_files(nav) -> list[str]:
    """The documentation files the nav names, in order (nested sections flattened)."""
    files = []
    for item in nav:
        value = next(iter(item.values())) if isinstance(item, dict) else item
        files += nav_files(value) if isinstance(value, list) else [value]
    return files


def page_path(doc_file: str) -> str:
    """'index.md' -> '', 'adam.md' -> 'adam/', 'exercises.ipynb' -> 'exercises/' (directory URLs)."""
    stem = doc_file.rsplit(".", 1)[0]
    return "" if stem == "index" else stem.removesuffix("/index") + "/"


def test_site_was_built_after_its_sources(site_root):
    built = (site_root / "sitemap.xml").stat().st_mtime
    newer = [str(f.relative_to(ROOT)) for pattern in SOURCES for f in ROOT.glob(pattern)
             if f.is_file() and f.stat().st_mtime > built]
    assert newer == [], f"site/ is older than {newer[:10]}: run `make site` first"


def test_every_nav_page_is_built(site_root):
    files = nav_files(mkdocs_config()["nav"])
    assert len(files) >= 10
    built = set(site_pages())
    for doc_file in files:
        path = page_path(doc_file)
        assert path in built and (site_root / path / "index.html").is_file(), f"{doc_file} was not built"
        if doc_file.endswith(".ipynb"):  # the notebook itself is downloadable next to its page
            assert json.loads((site_root / path / Path(doc_file).name).read_text())["cells"]


def notebook_site(tmp_path: Path) -> Path:
    """A site of one notebook that prints `value_module.VALUE`, built with the site's mkdocs-jupyter
    options and docs/hooks/notebooks.py (which runs and caches the notebooks)."""
    jupyter = next(p["mkdocs-jupyter"] for p in mkdocs_config()["plugins"]
                   if isinstance(p, dict) and "mkdocs-jupyter" in p)
    docs = tmp_path / "docs"
    docs.mkdir()
    notebook = {"cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                           "source": "import value_module\nprint('value is', value_module.VALUE)"}],
                "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    (docs / "nb.ipynb").write_text(json.dumps(notebook))
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump({
        "site_name": "stale test", "nav": [{"Notebook": "nb.ipynb"}],
        "plugins": [{"mkdocs-jupyter": jupyter}], "hooks": [str(ROOT / "docs" / "hooks" / "notebooks.py")]}))
    return tmp_path


def build_notebook_site(project: Path) -> str:
    """Build it (strict); the build's log."""
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "PYTHONPATH": str(project)}
    result = run_mkdocs(["build", "--strict"], cwd=project, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stderr


@pytest.mark.slow  # three builds, two of them run a kernel (~13 s): started first under xdist
def test_notebook_output_is_never_stale(tmp_path):
    """Build a notebook that prints a module's value, change the module, build again: the page
    must show the new value (mkdocs-jupyter's own cache ignores everything but the notebook file).
    A third build with nothing changed takes the page from the cache (docs/hooks/notebooks.py), and
    the cache entry goes stale once a library the notebook imported is no longer at its version."""
    project = notebook_site(tmp_path)
    page = tmp_path / "site" / "nb" / "index.html"
    for value, expect_hit in (("first", False), ("second", False), ("second", True)):
        (tmp_path / "value_module.py").write_text(f"VALUE = {value!r}\n")
        log = build_notebook_site(project)
        assert f"value is {value}" in page.read_text()
        assert ("notebook cache hit: nb.ipynb" in log) == expect_hit, log[-2000:]
        assert ("executed 1 notebook(s)" in log) == (not expect_hit), log[-2000:]
    # the entry records the installed distributions the kernel imported from, with their versions:
    # once one of those versions is no longer installed (an upgrade), the entry is stale
    entry = next((tmp_path / ".cache" / "notebooks").glob("*/depends.json")).parent
    distributions = json.loads((entry / "depends.json").read_text())["distributions"]
    assert any(name.startswith("ipykernel-") for name in distributions), distributions
    hook = load_notebooks_hook()
    installed = hook.installed_distributions()
    assert hook.is_fresh(entry, installed)
    upgraded = {name for name in installed if not name.startswith("ipykernel-")} | {"ipykernel-999.0.dist-info"}
    assert not hook.is_fresh(entry, upgraded)


def load_notebooks_hook():
    import importlib.util

    spec = importlib.util.spec_from_file_location("notebooks_hook", ROOT / "docs" / "hooks" / "notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def front_matter(doc_file: Path) -> dict:
    """The YAML front matter of a markdown page ({} when it has none)."""
    text = doc_file.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return {}
    return yaml.safe_load(text[4:text.index("\n---", 4)]) or {}


def test_only_playground_pages_load_the_playground(site_root):
    """`playground: true` in a page's front matter loads docs/playground/playground.{css,js}
    (through docs/overrides/main.html), and no other page loads them."""
    pages = [f for f in nav_files(mkdocs_config()["nav"]) if f.endswith(".md")]
    with_playground = 0
    for doc_file in pages:
        wanted = bool(front_matter(ROOT / "docs" / doc_file).get("playground"))
        html = (site_root / page_path(doc_file) / "index.html").read_text(encoding="utf-8")
        has_script = bool(re.search(r'<script type="module" src="[./]*playground/playground\.js">', html))
        has_style = bool(re.search(r'<link rel="stylesheet" href="[./]*playground/playground\.css">', html))
        assert has_script == has_style == wanted, f"{doc_file}: playground: {wanted}, script {has_script}"
        with_playground += wanted
    assert with_playground >= 1, "no page has `playground: true`"


def test_every_animation_of_the_catalog_is_within_the_size_budget(site_root):
    """Issue 5's budget, on the real figures (tests/test_plots.py checks only a small test race):
    each MP4, WebM and poster of a video figure, as the built site serves it, is at most 300 KB."""
    manifest = json.loads((ROOT / "docs" / "figures" / "manifest.json").read_text(encoding="utf-8"))["figures"]
    videos = {name: entry for name, entry in manifest.items() if entry["kind"] == "video"}
    assert videos, "the manifest lists no animation"
    over = {file: size for entry in videos.values() for file in entry["files"].values()
            if (size := (site_root / "figures" / file).stat().st_size) > 300 * 1024}
    assert over == {}, f"animation files over 300 KB: {over}"


def test_every_image_of_the_site_has_alt_text(site_root):
    """Figures get the catalog's alt text (docs/hooks/figures.py); notebook plots get theirs from
    optimessay.plots.show. nbconvert fills a missing alt with a placeholder that says nothing."""
    missing = []
    for html_file in sorted(site_root.rglob("*.html")):
        for tag in re.findall(r"<img\b[^>]*>", html_file.read_text(encoding="utf-8")):
            alt = re.search(r'\balt="([^"]*)"', tag)
            if not alt or len(alt.group(1).strip()) < 10 or "No description has been provided" in alt.group(1):
                missing.append(f"{html_file.relative_to(site_root)}: {tag[:120]}")
    assert missing == [], "images without a real alt text:\n" + "\n".join(missing)


def test_every_video_lists_its_smaller_source_first(site_root):
    """Issue 15: a browser plays the first <source> it can play, so the smaller file comes first."""
    videos = 0
    for page in site_root.rglob("*.html"):
        for video in re.findall(r"<video\b.*?</video>", page.read_text(encoding="utf-8"), re.S):
            sources = re.findall(r'<source src="([^"]+)"', video)
            sizes = [(page.parent / src).resolve().stat().st_size for src in sources]
            assert len(sizes) == 2 and sizes == sorted(sizes), f"{page.relative_to(site_root)}: {video[:200]}"
            videos += 1
    assert videos, "no <video> on the site: nothing was checked"


def test_every_page_has_one_h1(site_root):
    """One title per page: included tables (the benchmark files the verification page embeds) and
    notebooks bring no heading of their own at the top level."""
    counts = {
        path.relative_to(site_root).as_posix(): len(re.findall(r"<h1[\s>]", path.read_text(encoding="utf-8")))
        for path in sorted(site_root.rglob("index.html"))
    }
    assert counts and {p: n for p, n in counts.items() if n != 1} == {}
