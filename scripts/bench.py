"""`make bench`: run every benchmark (scripts/bench_*.py) in turn.

Each benchmark measures ratios against a baseline timed in the same run (timings on shared machines
are noisy), prints its table and writes it to docs/bench/NAME.md, which the site's verification
page embeds.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    failed = []
    for script in sorted(HERE.glob("bench_*.py")):
        print(f"\n=== {script.stem} ===", flush=True)
        if subprocess.call([sys.executable, str(script)], cwd=HERE.parent) != 0:
            failed.append(script.stem)
    if failed:
        print(f"\nbenchmarks that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
