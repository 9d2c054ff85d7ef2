// Mounts the live figures (issue 13): every `<div class="oe-widget" data-widget="NAME">` on the page
// is built by `mount(root)` of docs/widgets/NAME.js, loaded on demand. Runs on first load and after
// every instant navigation of Material (document$), and never mounts a root twice. A widget that
// fails shows a role=alert message in its root and the error is rethrown (the console shows it).
// Loaded as an ES module on pages with `widgets: true` in their front matter (docs/overrides/main.html).

const NAME = /^[a-z0-9][a-z0-9-]*$/;

function fail(root, name, error) {
  const p = document.createElement("p");
  p.className = "oe-w-failed";
  p.setAttribute("role", "alert");
  p.textContent = `The live figure "${name}" could not start: ${error && error.message ? error.message : error}`;
  root.replaceChildren(p);
  root.dataset.widgetState = "failed";
}

/** Mount one widget root (a promise; rejects, after showing the alert, when the widget fails). */
export async function mountOne(root) {
  if (root.dataset.widgetState) return; // mounted, mounting or failed already
  const name = root.dataset.widget || "";
  root.dataset.widgetState = "loading";
  try {
    if (!NAME.test(name)) throw new RangeError(`data-widget="${name}": expected a widget name (lower-case letters, digits, '-')`);
    const module = await import(`./${name}.js`);
    if (typeof module.mount !== "function") throw new TypeError(`docs/widgets/${name}.js exports no mount(root)`);
    await module.mount(root);
    root.dataset.widgetState = "ready";
  } catch (error) {
    fail(root, name, error);
    throw error;
  }
}

/**
 * Mount every widget on the page not mounted yet. Each failure stays its own unhandled rejection
 * (no Promise.all: that would report only the first), so the console names every failing widget.
 */
export function mountAll() {
  for (const root of document.querySelectorAll(".oe-widget[data-widget]")) mountOne(root);
}

if (window.document$ && typeof window.document$.subscribe === "function") {
  window.document$.subscribe(() => mountAll()); // Material: first load and every instant navigation
} else {
  mountAll();
}
