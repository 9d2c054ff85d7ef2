"""The complete programs on the essay's pages run, and print what their comments say.

A Python block of a page that starts with an `import` is a program a reader copies and runs as it
is (blocks embedded from the package are checked by test_copy_paste.py; fragments such as the
pitfalls' wrong-and-right loops are not programs). Each runs with a fresh namespace; the programs of
one page run in one child process of program_server.py (forked from an interpreter that has imported
torch, so torch is imported once per worker, not once per page), with this checkout first on the
path. One test per page, so xdist spreads them over its workers (the networks page's program trains
two of its experiments at 6 epochs and is still the longest). A `print(...)` line whose comment ends in `: N`
(N a whole number, e.g. `# P = I: 346`) must print exactly N; a program whose last line is a comment
`# SomeError: message` must raise that error with that message.
"""

from __future__ import annotations

import re

import pytest
from site_helpers import ROOT, by_page

DOCS = ROOT / "docs"
FENCE = re.compile(r"^( *)```python\n(.*?)^\1```", re.DOTALL | re.MULTILINE)
CLAIM = re.compile(r"^print\(.*#.*:\s*(-?\d+)\s*$")
RAISES = re.compile(r"^# (\w+Error: .+)$")


def programs() -> list[tuple[str, str]]:
    """(where, code) of every complete program on the pages (docs/*.md)."""
    found = []
    for page in sorted(DOCS.glob("*.md")):
        text = page.read_text(encoding="utf-8")
        for match in FENCE.finditer(text):
            code = "\n".join(line[len(match.group(1)):] for line in match.group(2).splitlines())
            if "--8<--" not in code and re.match(r"(import|from) ", code.lstrip()):
                found.append((f"{page.name}:{text.count(chr(10), 0, match.start()) + 1}", code))
    return found


PROGRAMS = programs()


PAGES = by_page(PROGRAMS)


def test_the_pages_have_programs():
    assert len(PROGRAMS) >= 5, f"expected the pages' programs, found {[where for where, _ in PROGRAMS]}"


def page_param(page_file: str):
    """A page whose programs train networks (optimessay.networks: about ten seconds of CPU) is `slow`: started first."""
    trains = any("optimessay.networks" in code for _, code in PAGES[page_file])
    return pytest.param(page_file, marks=[pytest.mark.slow] if trains else [])


@pytest.mark.parametrize("page_file", [page_param(p) for p in sorted(PAGES)] or ["(no program found in docs/*.md)"])
def test_every_program_on_the_page_runs_and_prints_what_it_claims(page_file, program_server):
    if page_file not in PAGES:  # fail, never skip, when there is nothing to check
        pytest.fail(f"no complete program found in {DOCS}/*.md")
    found = PAGES[page_file]
    answer = program_server.run({"kind": "page", "root": str(ROOT), "programs": [code for _, code in found]},
                                timeout=300)
    assert answer["status"] == 0 and not answer["error"], answer["error"] + program_server.stderr_tail()
    results = answer["result"]
    failed = {}
    for (where, code), r in zip(found, results, strict=True):
        raises = RAISES.match(code.strip().splitlines()[-1])
        if raises and (r["ok"] or raises.group(1) not in r["stdout"]):
            failed[where] = f"should raise {raises.group(1)!r}: {r['stdout'][-600:]}"
        elif not raises and not r["ok"]:
            failed[where] = r["stdout"][-600:]
    assert failed == {}, f"programs on the pages that do not do what the page says: {failed}"
    for (where, code), r in zip(found, results, strict=True):
        prints = [line for line in code.splitlines() if line.startswith("print(")]
        printed = r["stdout"].splitlines()
        for line, output in zip(prints, printed, strict=False):
            claim = CLAIM.match(line)
            if claim:
                assert output.strip() == claim.group(1), f"{where}: `{line.strip()}` printed {output!r}"
