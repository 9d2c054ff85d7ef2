"""The figures of the site, one module per page (scripts/catalog.py gathers them into one registry).

``scripts/figures/<page>.py`` holds the recipes and the catalog entries (``FIGURES = [...]``) of the
figures that page places, beside each other; ``_shared.py`` holds the ``Figure`` entry and the helpers
several pages use. Modules whose name starts with ``_`` are helpers, every other module is a page.
Import helpers relatively and by name (``from ._shared import Figure, _walk``): the build follows
those imports to key each figure on every helper it calls.
"""
