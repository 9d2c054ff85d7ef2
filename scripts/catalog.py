"""Every figure and every measured number of the site, declared once: the registry of the per-page
modules in scripts/figures/.

`make figures` (scripts/build_figures.py) loads this file and builds every entry of ``FIGURES``: it
calls ``entry.recipe(**entry.params)``; a recipe returns a matplotlib Figure (kind "image"), an
:class:`optimessay.animate.Race` (kind "video") or a flat dict of numbers (kind "numbers"). Pages
place a figure with ``!figure[NAME](Caption.)``; the alt text is what a screen reader says instead of
the picture, so it states what the picture shows, not what to conclude. Pages quote a number with
``!num[NAME.key]`` or ``!num[NAME.key:FORMAT]`` (docs/hooks/figures.py).

Layout: one module per docs page, named after the page (``docs/sgd-momentum.md`` ->
``scripts/figures/sgd_momentum.py``), holding the recipes and the entries of the figures that page
places, beside each other; ``scripts/figures/_shared.py`` holds ``Figure`` and the helpers several
pages use (``_walk``, ``_run``, ``CONTESTANTS``, ``_tuned_lr``, ``_contestant_runs``, ``_landscape``,
``_quadratic``, ``sweep_heatmap``, ``SEED_START``, ``SEED_SGD``). A figure that several pages show
is declared once, in the module of the page that explains it (race-banana: comparing; Home reuses it).

Adding a page's figures: create ``scripts/figures/<page>.py``; nothing else to edit (every module
of scripts/figures/ whose name does not start with ``_`` is a page, picked up in alphabetical order)::

    \"\"\"The figures of the Newton page (docs/newton.md): their recipes and catalog entries.\"\"\"

    from __future__ import annotations

    from ._shared import Figure, _quadratic, _run


    def newton_steps(kappa, steps):
        from optimessay import plots, style, trajectory

        land = _quadratic(kappa, 30)
        walk = trajectory.newton(land, steps=steps)
        return plots.plot_trajectories(land, [_run(walk, "Newton", style.color("newton"))])


    FIGURES = [
        Figure("newton-steps", "image", "Alt text: what the picture shows, at least 60 characters.",
               newton_steps, {"kappa": 25, "steps": 3}),
    ]

Adding numbers a page states (every number about an experiment comes from the package this way, so
the page cannot disagree with it): a recipe that returns a flat dict ``{key: int, float or short
string}`` (keys are identifiers; call float()/int() on tensors), declared with ``Numbers``::

    from ._shared import Numbers


    def newton_numbers(kappa):
        from optimessay import trajectory

        walk = trajectory.newton(_quadratic(kappa, 30), steps=1)
        return {"kappa": kappa, "loss_after_one_step": float(walk.losses[1])}


    FIGURES = [..., Numbers("newton-numbers", "Newton's first step on a quadratic.", newton_numbers, {"kappa": 25})]

and on docs/newton.md: ``after one step the loss is !num[newton-numbers.loss_after_one_step:.2e]``.
`make figures` writes docs/figures/newton-numbers.json (keyed, stamped and verified like a figure);
an unknown name or key, or a format that does not fit the value, fails the site build.

Rules for recipes: import the package and matplotlib *inside* the recipe (so this file imports fast,
the build decides what is stale without loading torch, and a missing module fails only the figures
that need it); fix every seed; put every number that shapes a picture in ``params``. Import helpers
relatively and by name (``from ._shared import _walk``, or ``from . import _shared`` and then
``_shared._walk``): the build follows those imports. A helper only one page uses lives in that
page's module; move it to ``_shared.py`` when a second page needs it (moving it unchanged rebuilds
nothing: keys name helpers, not the file they are in).

The build keys each figure on its entry and on the source of its recipe and of every helper the
recipe calls, in whichever module: editing one recipe rebuilds one figure, editing a shared helper
rebuilds the figures that use it.

A recipe returns one figure, drawn in the light style; the build makes its dark variant and, for a
figure with a landscape (``plots.draw_landscape``), its narrow variant for phones (panels stacked in
one column, legends below, text at full size) from copies of it. So: draw with the style's colours
(``style.color(...)``, the constants of ``optimessay.style``), which have dark counterparts; tag an
artist whose colour must stay the same in both themes (a mark on a colour map) with
``artist.set_gid(plots.KEEP_GID)``; keep formatters and scales picklable (module-level functions, no
lambdas), or the figure gets no narrow variant.

This file stays importable by path as before (tests/test_vectors.py reads ``CONTESTANTS`` and calls
``_tuned_lr``): every top-level name of ``_shared.py`` is also a name of this module.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

FIGURES_DIR = Path(__file__).resolve().parent / "figures"


def _import_pages():
    """Import scripts/figures/ as the package ``<this module's name>.figures``, afresh.

    A fresh import each time this file is loaded: a catalog loaded again after an edit (or another
    checkout's catalog in the same process) never reuses page modules imported earlier."""
    package = f"{__name__}.figures"
    for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[name]
    importlib.invalidate_caches()
    spec = importlib.util.spec_from_file_location(package, FIGURES_DIR / "__init__.py",
                                                  submodule_search_locations=[str(FIGURES_DIR)])
    module = importlib.util.module_from_spec(spec)
    sys.modules[package] = module
    spec.loader.exec_module(module)
    shared = importlib.import_module(f"{package}._shared")
    pages = {}
    for path in sorted(FIGURES_DIR.glob("*.py")):
        if path.stem.startswith("_"):
            continue
        page = importlib.import_module(f"{package}.{path.stem}")
        if not isinstance(getattr(page, "FIGURES", None), list):
            raise SystemExit(f"{path}: a page module must define FIGURES = [...] (its catalog entries)")
        pages[path.stem] = page
    return shared, pages


_shared, PAGES = _import_pages()  # PAGES: page module name -> module
globals().update({name: value for name, value in vars(_shared).items() if not name.startswith("__")})

FIGURES = [entry for page in PAGES.values() for entry in page.FIGURES]
