/*
 * Render the page's math with KaTeX (served from the site itself: assets/katex/).
 *
 * pymdownx.arithmatex (generic mode) wraps math as <span class="arithmatex">\(...\)</span> and
 * <div class="arithmatex">\[...\]</div>; notebook pages (mkdocs-jupyter) keep the $...$ and
 * $$...$$ of their markdown cells. Material's `document$` observable emits on the first load and
 * after every instant navigation, so math is rendered on every page a reader reaches.
 * throwOnError: false shows a bad formula in red (`.katex-error`) instead of breaking the page;
 * the site tests fail on any `.katex-error`.
 */
(function () {
  "use strict";

  const ARITHMATEX = [
    { left: "\\(", right: "\\)", display: false },
    { left: "\\[", right: "\\]", display: true },
  ];
  const NOTEBOOK = [
    { left: "$$", right: "$$", display: true },
    { left: "$", right: "$", display: false },
    ...ARITHMATEX,
  ];

  function render(element, delimiters) {
    window.renderMathInElement(element, {
      delimiters: delimiters,
      throwOnError: false,
      ignoredClasses: ["jp-InputArea", "highlight", "highlight-ipynb"],
    });
  }

  function renderPage() {
    document.querySelectorAll(".arithmatex").forEach((el) => render(el, ARITHMATEX));
    document.querySelectorAll(".jupyter-wrapper .jp-RenderedMarkdown").forEach((el) => render(el, NOTEBOOK));
    // tells tests (and anyone) that this page's math has been through KaTeX
    document.documentElement.dataset.mathRendered = location.pathname;
  }

  document$.subscribe(renderPage);
})();
