// Networks page, experiment 2: Adam's effective step lr·P layer by layer on the 8-layer MLP, at each
// recorded training step. Training a network is too slow for the browser, so the numbers are the
// figure build's (scripts/figures/networks.py, Numbers "net-layer-steps", from
// optimessay.networks.experiments.preconditioner_views): the page writes them into a table inside
// this widget's root with !num (readable without JavaScript); mount() reads that table, draws one box
// per layer (10th-90th percentile whiskers, 25th-75th box, median line) of log₁₀(lr·P) for the chosen
// step, and keeps the table in a <details> below. The ε-ceiling entries are left out of the boxes
// (as the net-views medians leave them out); their share is in the readout.
//
// root data-*: data-lr (Adam's lr), data-eps (ε).

import { el, makeWidget, sig, themeColor } from "./kit.js";

const COLUMNS = ["step", "layer", "q10", "q25", "median", "q75", "q90", "ceiling"];

/** The table's rows as numbers, grouped by step: [{step, layers: [{layer, q10, ..., ceiling}]}]. */
export function readTable(table) {
  const byStep = new Map();
  for (const tr of table.querySelectorAll("tbody tr")) {
    const cells = [...tr.querySelectorAll("td")].map((td) => Number(td.textContent.trim()));
    if (cells.length !== COLUMNS.length || !cells.every(Number.isFinite)) {
      throw new RangeError(`network widget: a table row reads "${tr.textContent.trim()}": expected ${COLUMNS.length} numbers`);
    }
    const row = Object.fromEntries(COLUMNS.map((c, i) => [c, cells[i]]));
    if (!byStep.has(row.step)) byStep.set(row.step, []);
    byStep.get(row.step).push(row);
  }
  if (byStep.size === 0) throw new RangeError("network widget: its table has no rows (the page must write the net-layer-steps numbers)");
  return [...byStep].sort((a, b) => a[0] - b[0]).map(([step, layers]) => ({ step, layers: layers.sort((a, b) => a.layer - b.layer) }));
}

export function mount(root) {
  const table = root.querySelector("table");
  if (!table) throw new RangeError("network widget: no table of numbers inside the widget's root");
  const data = readTable(table);
  const lr = Number(root.dataset.lr);
  const eps = Number(root.dataset.eps);
  if (!(lr > 0 && eps > 0)) throw new RangeError(`network widget: data-lr="${root.dataset.lr}", data-eps="${root.dataset.eps}": expected positive numbers`);
  const holder = el("details", { class: "oe-w-data" }, [el("summary", { text: "The numbers behind this figure (log₁₀ lr·P per layer)" })]);
  holder.append(table.closest(".md-typeset__scrollwrap") ?? table);
  const w = makeWidget(root, { id: "network", title: "Adam's lr·P, layer by layer, as training goes on (8-layer MLP on the digits)" });
  const snap = w.slider("snapshot", `recorded step (1 = step ${data[0].step} … ${data.length} = step ${data[data.length - 1].step})`,
    { min: 1, max: data.length, step: 1, integer: true, value: 1 });
  const plot = w.plot({ aspect: 0.55, maxHeight: 320, minHeight: 220, label: "Box plots of log10 of Adam's lr times P for each of the 8 layers at the chosen training step, with lines at SGD's lr and at the ceiling lr over epsilon" });
  const out = w.readout({ label: "Per-layer medians of lr·P" });
  root.append(holder);
  w.caption("What to try: at step 1 the early layers' boxes sit about two decades above the last layer's: P = 1/(|g| + ε) "
    + "undoes their tiny gradients, so every weight steps by about lr. Move on to later steps and the boxes line up as v̂ "
    + "averages over many gradients.");

  const lo = Math.min(Math.log10(lr), ...data.flatMap((d) => d.layers.map((l) => l.q10))) - 0.3;
  const top = Math.log10(lr / eps);
  const hi = top + 0.4;
  const n = data[0].layers.length;
  w.onUpdate(() => {
    const d = data[snap.value - 1];
    const color = themeColor("adam");
    plot.render({
      x: { min: 0.5, max: n + 0.5, label: "layer (1 = input side)" },
      y: { min: lo, max: hi, label: "log₁₀(lr·P)" },
      legend: [
        { label: `Adam, after step ${d.step}`, color, width: 6 },
        { label: "SGD: lr·P = lr", color: themeColor("sgd"), dash: [5, 4], width: 1.5 },
        { label: "ceiling lr/ε", color: "#888888", dash: [2, 3], width: 1.5 },
      ],
      draw(ctx, X, Y, th) {
        const line = (y, c, dash) => {
          ctx.strokeStyle = c;
          ctx.lineWidth = 1.5;
          ctx.setLineDash(dash);
          ctx.beginPath();
          ctx.moveTo(X(0.5), Y(y));
          ctx.lineTo(X(n + 0.5), Y(y));
          ctx.stroke();
          ctx.setLineDash([]);
        };
        line(Math.log10(lr), themeColor("sgd"), [5, 4]);
        line(top, "#888888", [2, 3]);
        const half = Math.max(3, (X(1) - X(0)) * 0.28);
        for (const l of d.layers) {
          const x = X(l.layer);
          ctx.strokeStyle = th.fg;
          ctx.lineWidth = 1;
          ctx.beginPath();
          ctx.moveTo(x, Y(l.q10));
          ctx.lineTo(x, Y(l.q25));
          ctx.moveTo(x, Y(l.q75));
          ctx.lineTo(x, Y(l.q90));
          ctx.stroke();
          ctx.fillStyle = color;
          ctx.globalAlpha = 0.75;
          ctx.fillRect(x - half, Y(l.q75), 2 * half, Y(l.q25) - Y(l.q75));
          ctx.globalAlpha = 1;
          ctx.strokeStyle = th.fg;
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(x - half, Y(l.median));
          ctx.lineTo(x + half, Y(l.median));
          ctx.stroke();
        }
      },
    });
    const medians = d.layers.map((l) => l.median);
    const ratio = 10 ** (Math.max(...medians) - Math.min(...medians));
    const first = 10 ** d.layers[0].median;
    const last = 10 ** d.layers[n - 1].median;
    const ceiling = Math.max(...d.layers.map((l) => l.ceiling));
    out.set([
      ["after training step", String(d.step), "step"],
      ["median lr·P: layer 1, layer 8", `${sig(first)}, ${sig(last)}`, "medians"],
      ["largest / smallest layer median", sig(ratio), "ratio"],
      ["most entries at the ε ceiling (one layer)", `${sig(ceiling)}%`, "ceiling"],
    ]);
    w.say(`After step ${d.step}: Adam's median lr·P is ${sig(first)} in layer 1 and ${sig(last)} in layer ${n}; `
      + `the layers' medians differ by a factor ${sig(ratio)} (SGD's lr·P is ${sig(lr)} in every layer).`);
  });
  w.start();
}
