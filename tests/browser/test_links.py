"""A link check over the built site/, no browser needed.

Every `href`, `src`, `poster` and `srcset` of every HTML file (raw HTML too: `<video><source src>`,
which `mkdocs build --strict` does not check), and every `url(...)` of every CSS file, must name a
file inside site/. Nothing may load from another origin: the only absolute http(s) URLs allowed
are plain `<a>` links (a reader's choice to leave) and `<link rel="canonical">` (not a load).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlsplit

import pytest
from site_helpers import SITE

URL_ATTRIBUTES = {"href", "src", "poster", "srcset", "data"}
NOT_FILES = ("#", "mailto:", "data:", "javascript:", "blob:", "about:", "tel:")
CSS_URL = re.compile(r"""url\(\s*(['"]?)([^'")]+)\1\s*\)""")


class References(HTMLParser):
    """Collects (tag, attribute, value, rel) for every URL-valued attribute of a document."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        rel = (attributes.get("rel") or "").lower()
        for name, value in attrs:
            if name not in URL_ATTRIBUTES or value is None:
                continue
            values = [part.strip().split(" ")[0] for part in value.split(",")] if name == "srcset" else [value]
            self.found += [(tag, name, v.strip(), rel) for v in values if v.strip()]


def site_url_of(file: Path) -> str:
    """The URL path at which the server serves `file` ('/adam/index.html' -> '/adam/index.html')."""
    return "/" + file.relative_to(SITE).as_posix()


def target_file(reference: str, base_url: str) -> Path | None:
    """The file in site/ that `reference` (as written in the page at `base_url`) resolves to."""
    path = unquote(urlsplit(urljoin(base_url, reference)).path)
    target = SITE / path.lstrip("/")
    if path.endswith("/") or target.is_dir():
        target = target / "index.html"
    return target


def check_reference(problems, where, tag, attribute, value, rel, base_url):
    if value.startswith(NOT_FILES):
        return
    scheme = urlsplit(value).scheme
    if scheme in ("http", "https") or value.startswith("//"):
        if not (tag == "a" and attribute == "href") and "canonical" not in rel:
            problems.append(f"{where}: <{tag} {attribute}={value!r}> loads from another origin")
        return
    if scheme:
        problems.append(f"{where}: <{tag} {attribute}={value!r}>: unexpected URL scheme")
        return
    target = target_file(value, base_url)
    if not target.is_file():
        problems.append(f"{where}: <{tag} {attribute}={value!r}> -> {target.relative_to(SITE)} is missing")


def test_site_is_built(site_root):
    assert (site_root / "index.html").is_file() and (site_root / "sitemap.xml").is_file()


def test_every_html_reference_resolves(site_root):
    problems, checked = [], 0
    for file in sorted(site_root.rglob("*.html")):
        parser = References()
        parser.feed(file.read_text(encoding="utf-8"))
        base_url = "http://site" + site_url_of(file)
        for tag, attribute, value, rel in parser.found:
            check_reference(problems, file.relative_to(site_root), tag, attribute, value, rel, base_url)
            checked += 1
    assert checked > 0
    assert problems == [], f"{len(problems)} broken or external references:\n" + "\n".join(problems[:50])


def test_every_css_url_resolves(site_root):
    problems = []
    for file in sorted(site_root.rglob("*.css")):
        base_url = "http://site" + site_url_of(file)
        for _, value in CSS_URL.findall(file.read_text(encoding="utf-8")):
            check_reference(problems, file.relative_to(site_root), "css", "url", value, "", base_url)
    assert problems == [], "\n".join(problems[:50])


@pytest.mark.parametrize("reference, expected", [
    ("../figures/a.png", "figures/a.png"),
    ("figures/a.png", "adam/figures/a.png"),
    ("/assets/x.js", "assets/x.js"),
    ("../", "index.html"),
    ("./#section", "adam/index.html"),
])
def test_target_file_resolves_like_a_browser(reference, expected):
    """The resolver itself: relative to the page's directory URL, as a browser resolves it."""
    assert target_file(reference, "http://site/adam/index.html") == SITE / expected
