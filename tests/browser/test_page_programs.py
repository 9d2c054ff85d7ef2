"""The complete programs on the essay's pages run, and print what their comments say.

A Python block of a page that starts with an `import` is a program a reader copies and runs as it
is (blocks embedded from the package are checked by test_copy_paste.py; fragments such as the
pitfalls' wrong-and-right loops are not programs). Each runs with a fresh namespace, all in one
child interpreter (torch is imported once), with this checkout first on the path. A `print(...)`
line whose comment ends in `: N` (N a whole number, e.g. `# P = I: 346`) must print exactly N; a
program whose last line is a comment `# SomeError: message` must raise that error with that message.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

from site_helpers import ROOT

DOCS = ROOT / "docs"
FENCE = re.compile(r"^( *)```python\n(.*?)^\1```", re.DOTALL | re.MULTILINE)
CLAIM = re.compile(r"^print\(.*#.*:\s*(-?\d+)\s*$")
RAISES = re.compile(r"^# (\w+Error: .+)$")
CHILD = """
import contextlib, io, json, sys, traceback
out = []
for source in json.load(sys.stdin):
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            exec(compile(source, "<page block>", "exec"), {"__name__": "__main__"})
        out.append({"ok": True, "stdout": buffer.getvalue()})
    except BaseException:
        out.append({"ok": False, "stdout": buffer.getvalue() + traceback.format_exc()})
print(json.dumps(out))
"""


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


def test_every_program_on_the_pages_runs_and_prints_what_it_claims():
    found = programs()
    assert len(found) >= 5, f"expected the pages' programs, found {[where for where, _ in found]}"
    child = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps([code for _, code in found]),
                           capture_output=True, text=True, cwd=ROOT, timeout=300,
                           env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "MPLBACKEND": "Agg"})
    assert child.returncode == 0, child.stderr
    results = json.loads(child.stdout.splitlines()[-1])
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
