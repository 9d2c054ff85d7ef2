/*
 * Notebook pages: the reference solutions of the exercises (cells tagged `solution`, which
 * nbconvert marks with the class `celltag_solution`) start folded, so a reader tries first.
 * The input goes into a <details> that the reader opens; the cell's output stays visible.
 * Runs on every page through Material's `document$` (first load and instant navigation).
 */
(function () {
  "use strict";

  function foldSolutions() {
    for (const cell of document.querySelectorAll(".celltag_solution")) {
      const input = cell.querySelector(".jp-Cell-inputWrapper");
      if (!input || input.parentElement.tagName === "DETAILS") continue;
      const details = document.createElement("details");
      details.className = "oe-solution";
      const summary = document.createElement("summary");
      summary.textContent = "Reference solution (open it after you have tried)";
      input.replaceWith(details);
      details.append(summary, input);
    }
  }

  document$.subscribe(foldSolutions);
})();
