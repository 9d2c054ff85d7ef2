"""Page weight of every page of the built site: what a reader's browser downloads on a first visit.

`python scripts/bench_pages.py` (after `make site`; part of `make bench`) serves site/ on 127.0.0.1,
opens each page in Debian's Chromium with an empty cache, scrolls nothing but loads every lazy image
(as if the reader scrolled to the end), waits for the fonts, and sums the body sizes of every
response by kind: the HTML, its CSS, its JavaScript, fonts, images (a video's poster counts here),
and other fetches (the search index, the sitemap read by instant navigation). Videos are
`preload="none"`: the browser runs with prefers-reduced-motion, so no video starts and only their
posters count. The budget (1.5 MB per page) applies to uncompressed bytes (the local server does not
gzip); the table also gives what a host that gzips text would send. It goes to docs/bench/pages.md.

tests/browser/test_pages.py measures with the same `page_weight` function and fails over budget.
"""

from __future__ import annotations

import functools
import gzip
import os
import re
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from optimessay.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("OPTIMESSAY_SITE_DIR", ROOT / "site")).resolve()
OUTPUT = ROOT / "docs" / "bench" / "pages.md"
BUDGET_BYTES = 1_500_000  # 1.5 MB per page, first load
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
# Playwright's resource types -> the columns of the table
KINDS = {"document": "html", "stylesheet": "css", "script": "js", "font": "fonts", "image": "images"}
COLUMNS = ["html", "css", "js", "fonts", "images", "other"]

# make every image eager, wait until each is decoded (or failed) and every font is in
LOAD_EVERYTHING = """async () => {
  const images = [...document.images];
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  await document.fonts.ready;
}"""


@dataclass
class Weight:
    """Bytes one page downloads on a first visit, by kind; `media` (video data) is kept apart."""

    path: str
    bytes_by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    media: int = 0
    requests: int = 0
    compressed: int = 0  # the same bytes as a host that gzips text (HTML, CSS, JS, JSON) sends them

    @property
    def total(self) -> int:
        return sum(self.bytes_by_kind.values())


def page_weight(page, url: str, path: str = "") -> Weight:
    """Open `url` in `page` (a fresh context: empty cache) and measure its first-load weight.

    Leaves the page loaded, so a caller can go on checking it.
    """
    finished = []

    def record(request):
        finished.append(request)

    page.on("requestfinished", record)
    page.goto(url, wait_until="load")
    page.evaluate(LOAD_EVERYTHING)
    page.wait_for_load_state("networkidle")
    page.remove_listener("requestfinished", record)
    weight = Weight(path)
    for request in finished:
        if not request.url.startswith(("http://", "https://")):
            continue  # data: URIs are part of the HTML already
        size = request.sizes()["responseBodySize"]
        weight.requests += 1
        if request.resource_type == "media":
            weight.media += size
            continue
        weight.bytes_by_kind[KINDS.get(request.resource_type, "other")] += size
        response = request.response()
        is_text = response and response.header_value("content-type") and re.match(
            r"(text/|application/(json|javascript|xml))", response.header_value("content-type"))
        weight.compressed += len(gzip.compress(response.body(), 6)) if is_text else size
    return weight


def site_pages(site: Path) -> list[str]:
    """Every page path of the built site ('' is the home page), in the order of sitemap.xml."""
    urls = re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", (site / "sitemap.xml").read_text(encoding="utf-8"))
    prefix = os.path.commonprefix(urls) if len(urls) > 1 else urls[0]
    prefix = prefix[: prefix.rfind("/") + 1]
    return [url[len(prefix):] for url in urls]


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002
        pass


@contextmanager
def serve(site: Path):
    """The site on http://127.0.0.1:PORT/ (a free port) while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def kb(n: int) -> str:
    return f"{n / 1000:,.0f}"


def table(weights: list[Weight]) -> str:
    """The markdown table of docs/bench/pages.md."""
    lines = [
        "| page | HTML | CSS | JS | fonts | images | other | **total** | of budget | gzipped | requests |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for w in weights:
        cells = [kb(w.bytes_by_kind[k]) for k in COLUMNS]
        name = f"`/{w.path}`"
        lines.append(f"| {name} | {' | '.join(cells)} | **{kb(w.total)}** | "
                     f"{w.total / BUDGET_BYTES:.0%} | {kb(w.compressed)} | {w.requests} |")
    heaviest = max(weights, key=lambda w: w.total)
    return (
        "First-load weight of each page in kB (1 kB = 1000 bytes), measured by `scripts/bench_pages.py` "
        "in headless Chromium with an empty cache: the HTML and everything it loads, every lazy image "
        "included; videos are `preload=\"none\"`, so only their posters count (under images). "
        "The budget applies to the uncompressed sizes; *gzipped* is what a host that compresses text "
        "(HTML, CSS, JS, the search index) sends. Budget: "
        f"{kb(BUDGET_BYTES)} kB per page; the heaviest page is `/{heaviest.path}` at "
        f"{kb(heaviest.total)} kB ({heaviest.total / BUDGET_BYTES:.0%} of the budget).\n\n"
        + "\n".join(lines) + "\n"
    )


def main() -> int:
    from playwright.sync_api import sync_playwright
    from tqdm import tqdm

    if not (SITE / "sitemap.xml").is_file():
        print(f"{SITE} has no sitemap.xml: run `make site` first", file=sys.stderr)
        return 1
    weights = []
    with serve(SITE) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path in tqdm(site_pages(SITE), desc="pages", unit="page"):
            context = browser.new_context(reduced_motion="reduce")
            weights.append(page_weight(context.new_page(), base + path, path))
            context.close()
        browser.close()
    text = table(weights)
    print(text)
    write_atomic(OUTPUT, text)
    over = [w.path for w in weights if w.total > BUDGET_BYTES]
    if over:
        print(f"pages over the {kb(BUDGET_BYTES)} kB budget: {over}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
