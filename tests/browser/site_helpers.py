"""What the site tests share besides fixtures: where the built site is, and its list of pages."""

from __future__ import annotations

import importlib.util
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# OPTIMESSAY_SITE_DIR points the tests at another build (e.g. one in a temporary folder)
SITE = Path(os.environ.get("OPTIMESSAY_SITE_DIR", ROOT / "site")).resolve()
LOCAL_HOST = "127.0.0.1"


def site_pages() -> list[str]:
    """Every page of the built site as a path below its root ('' for the home page, 'adam/', ...),
    in the order of sitemap.xml (MkDocs lists every page there); [] when there is no build."""
    sitemap = SITE / "sitemap.xml"
    if not sitemap.is_file():
        return []
    urls = re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", sitemap.read_text(encoding="utf-8"))
    prefix = os.path.commonprefix(urls) if len(urls) > 1 else urls[0] if urls else ""
    prefix = prefix[: prefix.rfind("/") + 1]  # the site_url: up to the last slash they share
    return [url[len(prefix):] for url in urls]


def page_html(path: str) -> str:
    """The built HTML of the page at `path` ('' is the home page)."""
    return (SITE / path / "index.html").read_text(encoding="utf-8")


def load_script(name: str):
    """Import scripts/NAME.py as a module (scripts/ is not a package)."""
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before exec: dataclasses look their module up
        spec.loader.exec_module(module)
    return sys.modules[name]


def by_page(programs: list[tuple[str, str]]) -> dict[str, list[tuple[str, str]]]:
    """``[("PAGE:NAME", code), ...]`` grouped by PAGE, in order (one test per page, one interpreter each)."""
    pages: dict[str, list[tuple[str, str]]] = {}
    for program_id, code in programs:
        pages.setdefault(program_id.split(":")[0], []).append((program_id, code))
    return pages
