"""The copy-paste guarantee: optimizer and scheduler code shown on the site runs and equals torch.

Code blocks are read from the built HTML (what a reader copies, after snippets were expanded).
A block counts when it was embedded from the package (every line of it is a line of optimessay's
source: pasted teaching code, like the seed notebook's buggy RMSprop, does not count) and it
defines a class named like a torch.optim optimizer or lr_scheduler. Each such block runs in a fresh
interpreter with torch alone (tests/browser/copy_paste_check.py), preceded by the blocks of the same
page that define names it uses (a scheduler class needs the `base` section shown before it). The
programs of one page run in one fresh interpreter (torch imported once, a namespace per program:
copy_paste_check.py --json); each program is checked and reported on its own.
"""

from __future__ import annotations

import ast
import builtins
import functools
import re
from html import unescape

import pytest
from site_helpers import ROOT, SITE, by_page, page_html, site_pages

CHECKER = ROOT / "tests" / "browser" / "copy_paste_check.py"
CODE_BLOCK = re.compile(r'<div class="language-python highlight"[^>]*>.*?<code>(.*?)</code>', re.DOTALL)
# an annotated view (docs/hooks/annotate.py): its copy button copies its section exactly
ANNOTATED_COPY = re.compile(r'<div class="oe-annotated" [^>]*>.*?\bdata-clipboard-text="([^"]*)"', re.DOTALL)
ANNOTATION_MARKER = re.compile(r"\s*# \(\d+\)!?\s*$")  # Material's code annotations: `# (1)!`
SNIPPET_MARKER = re.compile(r"--8<--")
OPTIMIZERS = {"SGD", "RMSprop", "Adam", "AdamW", "Adagrad"}
SCHEDULERS = {"LambdaLR", "StepLR", "MultiStepLR", "ConstantLR", "LinearLR", "ExponentialLR",
              "CosineAnnealingLR", "OneCycleLR", "SequentialLR"}


def code_blocks(html: str) -> list[str]:
    """The text of every Python code block and annotated view of a page, as its copy button gives it."""
    blocks = []
    for body in CODE_BLOCK.findall(html):
        text = unescape(re.sub(r"<[^>]+>", "", body))
        blocks.append("\n".join(ANNOTATION_MARKER.sub("", line).rstrip() for line in text.splitlines()))
    blocks += [unescape(text) for text in ANNOTATED_COPY.findall(html)]
    return blocks


def package_lines() -> set[str]:
    """Every line of optimessay's source, stripped (snippet marker lines excluded)."""
    lines = set()
    for file in (ROOT / "optimessay").rglob("*.py"):
        lines |= {line.strip() for line in file.read_text(encoding="utf-8").splitlines()
                  if not SNIPPET_MARKER.search(line)}
    return lines


def is_embedded(block: str, source_lines: set[str]) -> bool:
    return all(line.strip() in source_lines for line in block.splitlines() if line.strip())


def top_level_names(tree: ast.Module) -> set[str]:
    """Names a block binds at module level (classes, functions, imports, assignments)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in node.names}
        elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def free_names(tree: ast.Module) -> set[str]:
    """Names a block reads but binds nowhere (an over-approximation of what it binds). One walk of the
    tree (collecting the suite's tests walked each of ~30 trees four times: ~0.5 s of CPU per worker)."""
    loaded, bound = set(), set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Name):
            (loaded if isinstance(n.ctx, ast.Load) else bound).add(n.id)
        elif isinstance(n, ast.arguments):
            bound |= {a.arg for a in [*n.posonlyargs, *n.args, *n.kwonlyargs, n.vararg, n.kwarg] if a}
        elif isinstance(n, (ast.ClassDef, ast.FunctionDef, ast.ExceptHandler)) and n.name:
            bound.add(n.name)
    bound |= top_level_names(tree)
    return loaded - bound - set(dir(builtins))


def programs() -> list[tuple[str, str]]:
    """(id, program) for every embedded optimizer/scheduler block, with the blocks it needs."""
    source_lines = package_lines()
    found, seen = [], set()
    free = functools.cache(free_names)  # a page's tree is read by each block that needs it
    for path in site_pages():
        if (SITE / path / (path.rstrip("/").split("/")[-1] + ".ipynb")).is_file():
            continue  # notebook pages: learners' cells, not embedded code
        blocks = [b for b in code_blocks(page_html(path)) if is_embedded(b, source_lines)]
        trees = []
        for block in blocks:
            try:
                trees.append(ast.parse(block))
            except SyntaxError:
                trees.append(None)  # a fragment (e.g. a method alone): never run on its own
        for i, (block, tree) in enumerate(zip(blocks, trees, strict=True)):
            defines = top_level_names(tree) if tree else set()
            classes = sorted(defines & (OPTIMIZERS | SCHEDULERS))
            if not classes:
                continue
            # prepend the page's blocks (before or after) that bind the names this one needs
            needed, prelude = free(tree), []
            for j, (other, other_tree) in enumerate(zip(blocks, trees, strict=True)):
                if j != i and other_tree and needed & top_level_names(other_tree) and other not in prelude:
                    prelude.append(other)
                    needed |= free(other_tree)
            program = "\n\n".join([*prelude, block])
            if program not in seen:
                seen.add(program)
                found.append((f"{path.strip('/') or 'home'}:{'+'.join(classes)}", program))
    return found


PROGRAMS = programs()


def test_the_site_embeds_every_optimizer_and_scheduler():
    """Each optimizer and scheduler of the package is shown, whole and runnable, on some page."""
    names = {name for program_id, _ in PROGRAMS for name in program_id.split(":")[1].split("+")}
    assert OPTIMIZERS - names == set(), f"optimizers no page shows as embedded code: {sorted(OPTIMIZERS - names)}"
    assert SCHEDULERS - names == set(), f"schedulers no page shows as embedded code: {sorted(SCHEDULERS - names)}"


PAGES = by_page(PROGRAMS)


@pytest.mark.parametrize("page_id", sorted(PAGES) or ["(no site/: run `make site` first)"])
def test_embedded_code_runs_alone_and_equals_torch(page_id, program_server):
    if page_id not in PAGES:  # fail, never skip, when there is nothing to check
        pytest.fail(f"no embedded optimizer or scheduler code found in {SITE}: run `make site` first")
    programs = [{"id": program_id, "code": program} for program_id, program in PAGES[page_id]]
    answer = program_server.run({"kind": "copy", "checker": str(CHECKER), "programs": programs}, timeout=600)
    results = answer["result"]
    assert results is not None, f"the checker returned nothing:\n{answer['error']}{program_server.stderr_tail()}"
    assert sorted(results) == sorted(p["id"] for p in programs), answer["error"]
    failed = {program["id"]: (f"{results[program['id']]['output'][-3000:]}\n--- code ---\n{program['code'][:1500]}")
              for program in programs if not results[program["id"]]["ok"]}
    assert failed == {}, "the copied code does not match torch.optim:\n" + "\n\n".join(
        f"=== {program_id}\n{text}" for program_id, text in failed.items())
    assert answer["status"] == 0 and not answer["error"], answer["error"] + program_server.stderr_tail()
