"""Page weight and largest contentful paint of every page of the built site, in Chromium.

`python scripts/bench_pages.py` (after `make site`; part of `make bench`) serves site/ on 127.0.0.1
as a static host serves it (text compressed with gzip when the browser asks for it: HTML, CSS, JS,
JSON, XML, SVG), and opens each page in Debian's Chromium with an empty cache:

- **first load**: the page as a reader opens it (1280x900 window, motion allowed: a video that is
  half on screen starts), then every lazy image loaded as if the reader scrolled to the end, and the
  fonts; every response counted (search index and sitemap included) by the bytes that crossed the
  wire, and by kind;
- **after every video has played**: then each video of the page is played until its whole file is
  in, and those bytes are added;
- **LCP**: the largest contentful paint of the first load (PerformanceObserver), median of three
  fresh loads, and the element it was.

Budgets (issue 15): first load <= 600 kB, after every video has played <= 1,000 kB, both counted as
transferred. The table also gives the uncompressed bytes (what a host that does not compress would
send). It is printed and written to docs/bench/pages.md; the exit status is 1 when a page is over.

tests/browser/test_pages.py measures the first load with the same `page_weight` function and the
same server (`GzipHandler`), and fails over budget.
"""

from __future__ import annotations

import functools
import gzip
import os
import re
import statistics
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from optimessay.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("OPTIMESSAY_SITE_DIR", ROOT / "site")).resolve()
OUTPUT = ROOT / "docs" / "bench" / "pages.md"
BUDGET_BYTES = 600_000  # first load, transferred
BUDGET_AFTER_VIDEOS = 1_000_000  # after every video of the page has played, transferred
LCP_LOADS = 3
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 900}
# Playwright's resource types -> the columns of the table
KINDS = {"document": "html", "stylesheet": "css", "script": "js", "font": "fonts", "image": "images",
         "media": "video"}
COLUMNS = ["html", "css", "js", "fonts", "images", "video", "other"]
COMPRESSED_TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".mjs": "text/javascript",
                    ".json": "application/json", ".xml": "application/xml", ".svg": "image/svg+xml",
                    ".ipynb": "application/x-ipynb+json", ".txt": "text/plain", ".map": "application/json"}

# make every image eager, wait until each is decoded (or failed) and every font is in
LOAD_EVERYTHING = """async () => {
  // every image a reader scrolling to the end would see: not those the page hides (the other
  // theme's variant of a figure is display:none, so a browser never fetches it while it is lazy)
  const images = [...document.images].filter((img) => img.getClientRects().length > 0);
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.decode().catch(() => null)));
  await document.fonts.ready;
}"""
# play every video of the page until its whole file is buffered (or 60 s passed); the reached times
PLAY_EVERY_VIDEO = """async () => {
  const videos = [...document.querySelectorAll('video')];
  const done = (v) => v.readyState >= 4 && v.buffered.length > 0 && Number.isFinite(v.duration)
    && v.buffered.end(v.buffered.length - 1) >= v.duration - 0.05;
  for (const video of videos) {
    video.muted = true;
    video.preload = 'auto';
    video.scrollIntoView();
    await video.play().catch(() => null);
    const start = performance.now();
    while (!done(video) && performance.now() - start < 60000) await new Promise((r) => setTimeout(r, 100));
  }
  return videos.map((v) => (done(v) ? v.currentSrc : 'NOT LOADED: ' + v.currentSrc));
}"""
# the largest contentful paint so far: [time in ms, the element]
LCP = """() => new Promise((resolve) => {
  new PerformanceObserver((list) => {
    const last = list.getEntries().at(-1);
    const el = last.element;
    const name = el ? el.tagName.toLowerCase() + (el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/)[0] : '') : (last.url || '?');
    resolve([last.startTime, name]);
  }).observe({ type: 'largest-contentful-paint', buffered: true });
  setTimeout(() => resolve([null, 'none']), 5000);
})"""


@dataclass
class Weight:
    """Bytes one page downloads, by kind: transferred (`bytes_by_kind`) and uncompressed."""

    path: str
    bytes_by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    uncompressed: int = 0
    requests: int = 0

    @property
    def total(self) -> int:
        return sum(self.bytes_by_kind.values())

    def add(self, requests, *, uncompressed: bool = True) -> None:
        for request in requests:
            if not request.url.startswith(("http://", "https://")):
                continue  # data: URIs are part of the HTML already
            transferred = request.sizes()["responseBodySize"]  # as encoded on the wire
            self.requests += 1
            self.bytes_by_kind[KINDS.get(request.resource_type, "other")] += transferred
            if not uncompressed:
                continue
            response = request.response()
            encoding = (response.header_value("content-encoding") or "") if response else ""
            self.uncompressed += len(response.body()) if response and encoding else transferred


def page_weight(page, url: str, path: str = "", *, uncompressed: bool = True) -> Weight:
    """Open `url` in `page` (a fresh context: empty cache) and measure its first-load weight
    (`uncompressed=False`: without the uncompressed bytes, which fetch every compressed body back
    from the browser, ~0.12 s of CPU a page; tests/browser/test_pages.py reads the total only).

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
    weight.add(finished, uncompressed=uncompressed)
    return weight


def weight_after_videos(page, weight: Weight) -> tuple[Weight, list[str]]:
    """`weight` (a first load of `page`) plus what playing every video of the page downloads."""
    finished = []

    def record(request):
        finished.append(request)

    page.on("requestfinished", record)
    played = page.evaluate(PLAY_EVERY_VIDEO)
    page.wait_for_load_state("networkidle")
    page.remove_listener("requestfinished", record)
    after = Weight(weight.path, dict(weight.bytes_by_kind), weight.uncompressed, weight.requests)
    after.add(finished)
    return after, played


def largest_contentful_paint(browser, url: str) -> tuple[float | None, str]:
    """LCP of a fresh load of `url` (ms) and its element."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url, wait_until="load")
    result = page.evaluate(LCP)
    context.close()
    return result[0], result[1]


class GzipHandler(SimpleHTTPRequestHandler):
    """Serves a folder as a static host does: text is sent gzip-compressed when the browser accepts
    it (compressed once per file), anything else as it is; no logging."""

    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, **COMPRESSED_TYPES}
    _compressed: dict = {}
    _lock = threading.Lock()

    def log_message(self, format, *args):  # noqa: A002
        pass

    def do_GET(self):  # noqa: N802 (the base class's name)
        path = Path(self.translate_path(unquote(urlsplit(self.path).path)))
        if path.is_dir() and self.path.split("?")[0].endswith("/"):
            path = path / "index.html"
        kind = COMPRESSED_TYPES.get(path.suffix)
        if kind is None or not path.is_file() or "gzip" not in self.headers.get("Accept-Encoding", ""):
            return super().do_GET()
        stat = path.stat()
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._lock:
            body = self._compressed.get(key)
            if body is None:
                body = self._compressed[key] = gzip.compress(path.read_bytes(), 6, mtime=0)
        self.send_response(200)
        self.send_header("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") else ""))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        self.wfile.write(body)


def site_pages(site: Path) -> list[str]:
    """Every page path of the built site ('' is the home page), in the order of sitemap.xml."""
    urls = re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", (site / "sitemap.xml").read_text(encoding="utf-8"))
    prefix = os.path.commonprefix(urls) if len(urls) > 1 else urls[0]
    prefix = prefix[: prefix.rfind("/") + 1]
    return [url[len(prefix):] for url in urls]


@contextmanager
def serve(site: Path):
    """The site on http://127.0.0.1:PORT/ (a free port) while the block runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(GzipHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def kb(n: int) -> str:
    return f"{n / 1000:,.0f}"


def table(rows: list[tuple[Weight, Weight, float | None, str]]) -> str:
    """The markdown of docs/bench/pages.md: rows of (first load, after videos, LCP ms, LCP element)."""
    lines = [
        "| page | HTML | CSS | JS | fonts | images | video | other | **first load** | uncompressed "
        "| **after videos** | LCP (ms) | LCP element |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|",
    ]
    for first, after, lcp, element in rows:
        cells = [kb(first.bytes_by_kind[k]) for k in COLUMNS]
        lines.append(f"| `/{first.path}` | {' | '.join(cells)} | **{kb(first.total)}** | {kb(first.uncompressed)} | "
                     f"**{kb(after.total)}** | {lcp:,.0f} | `{element}` |" if lcp is not None else
                     f"| `/{first.path}` | {' | '.join(cells)} | **{kb(first.total)}** | {kb(first.uncompressed)} | "
                     f"**{kb(after.total)}** | - | {element} |")
    first_max = max(rows, key=lambda r: r[0].total)[0]
    after_max = max(rows, key=lambda r: r[1].total)[1]
    raw_max = max(rows, key=lambda r: r[0].uncompressed)[0]
    lcps = [r[2] for r in rows if r[2] is not None]
    over_raw = sum(r[0].uncompressed > BUDGET_BYTES for r in rows)

    def verdict(value, budget):
        return "within" if value <= budget else "**OVER**"

    summary = [
        "| measure | value | target | |",
        "|---|--:|--:|---|",
        f"| heaviest first load (transferred) | {kb(first_max.total)} kB (`/{first_max.path}`) | "
        f"<= {kb(BUDGET_BYTES)} kB | {verdict(first_max.total, BUDGET_BYTES)} |",
        f"| heaviest page after every video has played (transferred) | {kb(after_max.total)} kB "
        f"(`/{after_max.path}`) | <= {kb(BUDGET_AFTER_VIDEOS)} kB | {verdict(after_max.total, BUDGET_AFTER_VIDEOS)} |",
        f"| heaviest first load, uncompressed | {kb(raw_max.uncompressed)} kB (`/{raw_max.path}`) | "
        f"(not a target) | {over_raw} of {len(rows)} pages over {kb(BUDGET_BYTES)} kB |",
        f"| LCP, median over pages (of {LCP_LOADS} loads each) | {statistics.median(lcps):,.0f} ms | "
        f"(no target) | slowest {max(lcps):,.0f} ms |" if lcps else "| LCP | - | | |",
    ]
    return (
        "Page weight of each page in kB (1 kB = 1000 bytes), measured by `scripts/bench_pages.py` in "
        "headless Chromium with an empty cache, the site served as a static host serves it (text "
        "gzip-compressed): every response counted by the bytes transferred. *First load*: the page "
        "opened in a 1280x900 window, then every lazy image and the fonts loaded (as if the reader "
        "scrolled to the end). *After videos*: then every video of the page played until its whole file "
        "was in. *Uncompressed*: the first load's bytes as a host that does not compress would send them. "
        f"LCP: largest contentful paint of a fresh load, median of {LCP_LOADS}, on a shared 2-core "
        "machine (noisy).\n\n" + "\n".join(summary) + "\n\n" + "\n".join(lines) + "\n"
    )


def main() -> int:
    from playwright.sync_api import sync_playwright
    from tqdm import tqdm

    if not (SITE / "sitemap.xml").is_file():
        print(f"{SITE} has no sitemap.xml: run `make site` first", file=sys.stderr)
        return 1
    rows, unplayed = [], []
    with serve(SITE) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for path in tqdm(site_pages(SITE), desc="pages", unit="page"):
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            first = page_weight(page, base + path, path)
            after, played = weight_after_videos(page, first)
            unplayed += [f"/{path}: {src}" for src in played if src.startswith("NOT LOADED")]
            context.close()
            lcps = [largest_contentful_paint(browser, base + path) for _ in range(LCP_LOADS)]
            times = [t for t, _ in lcps if t is not None]
            rows.append((first, after, statistics.median(times) if times else None, lcps[-1][1]))
        browser.close()
    text = table(rows)
    print(text)
    write_atomic(OUTPUT, text)
    over = [r[0].path for r in rows if r[0].total > BUDGET_BYTES or r[1].total > BUDGET_AFTER_VIDEOS]
    if unplayed:
        print(f"videos that did not load completely: {unplayed}", file=sys.stderr)
    if over:
        print(f"pages over budget: {over}", file=sys.stderr)
    return 1 if over or unplayed else 0


if __name__ == "__main__":
    sys.exit(main())
