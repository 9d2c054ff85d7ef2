"""How long each live figure (docs/widgets/, issue 13) takes to answer one move of a control, in Chromium.

`python scripts/bench_widgets.py` (after `make site`; part of `make bench`) serves the built site on
127.0.0.1, opens every page whose HTML has an `oe-widget` in Debian's headless Chromium (1280 x 900),
waits for its widgets to mount and, for every widget and every one of its controls (range sliders,
checkboxes, selects), drives the control through VALUES values (a slider: evenly spaced positions from
its minimum to its maximum and back; a checkbox: toggled; a select: its options in turn), each by
setting the element's value and dispatching the event a reader's move dispatches ("input" for a
range, "change" otherwise). Every interaction is timed inside the page, from just before the event
to just after reading one canvas pixel back (Chromium rasterizes a canvas lazily; the read-back puts
the drawing inside the time): the reader's cost of one move. The widget's own `root.oeWidget.lastUpdateMs`
(its update function alone) is recorded too. Each control gets WARMUP untimed moves first (JIT); the
widget's first update at mount is reported separately (it includes compiling the code).

A fixed pure-JS workload (the baseline) is timed after every move, so the load of a shared machine
can be read off the table and each widget's cost is also given as a ratio to it (the project's rule:
ratios against a baseline timed in the same run). The table (per widget: interactions, median, 95th
percentile and worst of the interaction time, the median of the widget's own update time, the 95th
percentile against the 16 ms frame budget, the baseline's median and the ratio) is printed and
written to docs/bench/widgets.md (temporary file, then rename).
"""

from __future__ import annotations

import os
import platform
import re
import sys
import time
from pathlib import Path

from bench_pages import CHROMIUM, CHROMIUM_ARGS, serve  # the same browser and server as the page weights

from optimessay.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
SITE = Path(os.environ.get("OPTIMESSAY_SITE_DIR", ROOT / "site")).resolve()
OUTPUT = ROOT / "docs" / "bench" / "widgets.md"
BUDGET_MS = 16.0
VALUES = 50
WARMUP = 5

SETTLED = """() => [...document.querySelectorAll('.oe-widget')]
    .every((r) => r.dataset.widgetState === 'ready' || r.dataset.widgetState === 'failed')"""

# In the page: every control of widget `index`, driven through `values` values each.
MEASURE = """async ([index, values, warmup]) => {
  const root = document.querySelectorAll('.oe-widget')[index];
  const canvases = [...root.querySelectorAll('canvas')];
  const flush = () => { for (const c of canvases) if (c.width && c.height) c.getContext('2d').getImageData(0, 0, 1, 1); };
  const controls = [...root.querySelectorAll('input[type=range], input[type=checkbox], select')]
    .filter((e) => !e.disabled && e.getClientRects().length > 0);
  const firstUpdate = root.oeWidget ? root.oeWidget.lastUpdateMs : NaN;
  const moves = (e) => {
    if (e.type === 'range') {
      const lo = Number(e.min), hi = Number(e.max);
      const out = [];
      for (let i = 0; i < values; i++) {
        const u = (i % 25) / 24;  // up and back: 0 .. 1, then 0 .. 1 again
        out.push(() => { e.value = String(lo + (hi - lo) * (Math.floor(i / 25) % 2 ? 1 - u : u)); e.dispatchEvent(new Event('input', { bubbles: true })); });
      }
      return out;
    }
    if (e.type === 'checkbox') {
      return Array.from({ length: values }, () => () => { e.checked = !e.checked; e.dispatchEvent(new Event('change', { bubbles: true })); });
    }
    const options = [...e.options].map((o) => o.value);
    return Array.from({ length: values }, (_, i) => () => { e.value = options[(i + 1) % options.length]; e.dispatchEvent(new Event('change', { bubbles: true })); });
  };
  // the baseline, timed after every move: a fixed pure-JS workload, so the load of a shared machine,
  // which inflates both alike, can be read off (ratio = move / baseline)
  const baselineWork = () => { let acc = 0; for (let i = 1; i <= 200000; i++) acc += Math.sqrt(i) * 1e-9; return acc; };
  const baseline = [];
  const interaction = [];
  const own = [];
  const perControl = [];
  for (const e of controls) {
    const list = moves(e);
    for (let i = 0; i < warmup; i++) { list[i % list.length](); flush(); }
    const mine = [];
    for (const move of list) {
      const t0 = performance.now();
      move();
      flush();
      const dt = performance.now() - t0;
      mine.push(dt);
      interaction.push(dt);
      if (root.oeWidget) own.push(root.oeWidget.lastUpdateMs);
      const b0 = performance.now();
      if (baselineWork() < 0) throw new Error('unreachable');
      baseline.push(performance.now() - b0);
      await new Promise((resolve) => setTimeout(resolve, 0));  // let the page breathe between moves
    }
    perControl.push({ id: e.id, type: e.type, samples: mine });
  }
  return { name: root.dataset.widget, state: root.dataset.widgetState, controls: controls.length,
           firstUpdate, interaction, own, perControl, baseline };
}"""


def quantile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def widget_pages() -> list[str]:
    sitemap = SITE / "sitemap.xml"
    urls = re.findall(r"<loc>\s*([^<\s]+)\s*</loc>", sitemap.read_text(encoding="utf-8"))
    prefix = os.path.commonprefix(urls) if len(urls) > 1 else ""
    prefix = prefix[: prefix.rfind("/") + 1]
    paths = [url[len(prefix):] for url in urls]
    return [p for p in paths if 'class="oe-widget"' in (SITE / p / "index.html").read_text(encoding="utf-8")]


def measure() -> dict:
    from playwright.sync_api import sync_playwright

    if not (SITE / "index.html").is_file():
        raise SystemExit(f"{SITE} has no index.html: run `make site` first")
    pages = widget_pages()
    if not pages:
        raise SystemExit(f"no page of {SITE} has a live figure (.oe-widget)")
    results = []
    with serve(SITE) as site_url, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        for path in pages:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            errors = []
            page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
            page.goto(site_url + path)
            page.wait_for_function(SETTLED, timeout=30000)
            for index in range(page.locator(".oe-widget").count()):
                r = page.evaluate(MEASURE, [index, VALUES, WARMUP])
                r["page"] = path
                results.append(r)
            page.close()
            if errors:
                raise SystemExit(f"{path}: console errors: {errors}")
        version = browser.version
        browser.close()
    return {"widgets": results, "browser": version}


def table(r: dict, load: tuple[float, float, float]) -> str:
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    cpu = platform.processor() or platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    lines = [  # no heading: the verification page embeds the table under its own
        f"Measured {stamp} by `scripts/bench_widgets.py` on: {cpu}, {os.cpu_count()} logical cores, load average "
        f"{load[0]:.1f} at the start (a shared machine); Chromium {r['browser']} (headless, software rendering), "
        "1280 x 900.",
        "",
        f"Every widget of the built site, every control driven through {VALUES} values ({WARMUP} untimed moves "
        "first). An interaction is timed inside the page from the event a reader's move dispatches to one pixel "
        "of each canvas read back (the drawing is inside the time); *own update* is the widget's "
        "`root.oeWidget.lastUpdateMs` (its update function alone); *first update* is its update at mount "
        f"(compiling included). The frame budget is {BUDGET_MS:g} ms.",
        "",
        "A fixed pure-JS workload (200,000 square roots) is timed after every move: on an idle machine it "
        "takes about the same time in every run, so its median beside each widget shows how much the shared "
        "machine's load inflated that widget's times, and *median / baseline* is the widget's cost in "
        "units of it, which the load affects much less than the milliseconds.",
        "",
        "| page | widget | controls | interactions | median (ms) | 95th percentile (ms) | worst (ms) | "
        "own update, median (ms) | first update (ms) | p95 / 16 ms | baseline, median (ms) | median / baseline |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    over = []
    for w in r["widgets"]:
        if w["state"] != "ready" or not w["interaction"]:
            lines.append(f"| {w['page']} | {w['name']} | {w['controls']} | 0 | | | | | | not measured ({w['state']}) | | |")
            over.append(w["name"])
            continue
        med, p95, worst = (quantile(w["interaction"], q) for q in (0.5, 0.95, 1.0))
        own = [v for v in w["own"] if v == v]  # NaN: the widget does not time itself
        own_med = f"{quantile(own, 0.5):.2f}" if own else "n/a"
        first = f"{w['firstUpdate']:.1f}" if w["firstUpdate"] == w["firstUpdate"] else "n/a"
        base = quantile(w["baseline"], 0.5)
        lines.append(f"| {w['page']} | {w['name']} | {w['controls']} | {len(w['interaction'])} | {med:.2f} | "
                     f"{p95:.2f} | {worst:.1f} | {own_med} | {first} | {p95 / BUDGET_MS:.2f} | {base:.2f} | "
                     f"{med / base:.2f} |")
        if p95 > BUDGET_MS:
            over.append(w["name"])
    all_times = [t for w in r["widgets"] for t in w["interaction"]]
    all_base = [t for w in r["widgets"] for t in w.get("baseline", [])]
    lines += [""]
    if all_base:
        lines.append(f"The baseline over the whole run: fastest {min(all_base):.2f} ms, median {quantile(all_base, 0.5):.2f} ms, "
                     f"95th percentile {quantile(all_base, 0.95):.2f} ms (the spread is the machine's load).")
        lines.append("")
    if all_times:
        lines.append(f"All {len(all_times)} interactions of {len(r['widgets'])} widgets: median "
                     f"{quantile(all_times, 0.5):.2f} ms, 95th percentile {quantile(all_times, 0.95):.2f} ms. "
                     + (f"Over the {BUDGET_MS:g} ms budget at the 95th percentile: {', '.join(over)}."
                        if over else f"Every widget is within the {BUDGET_MS:g} ms budget at the 95th percentile."))
    # the slowest control of each widget over budget, to say where the time goes
    for w in r["widgets"]:
        if w["name"] in over and w.get("perControl"):
            worst = max(w["perControl"], key=lambda c: quantile(c["samples"], 0.95))
            lines.append(f"- {w['name']}: slowest control `{worst['id']}` ({worst['type']}), 95th percentile "
                         f"{quantile(worst['samples'], 0.95):.2f} ms.")
    lines.append("")
    return "\n".join(lines)


def main() -> int:
    load = os.getloadavg()
    result = measure()
    text = table(result, load)
    print(text)
    write_atomic(OUTPUT, text)
    print(f"wrote {OUTPUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
