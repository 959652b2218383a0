"""`make bench`: run every benchmark in its own process and collect the closing JSON lines.

Each benchmark measures its own baseline in the same run; this only gathers them.
Copy the table it prints into benchmarks/RESULTS.md with the date and the machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date

from benchmarks.common import BASE_DIR, machine

BENCHMARKS = ["ingest", "segments_refresh", "baskets", "pages", "sending", "flows"]


def main() -> int:
    results = []
    for name in sys.argv[1:] or BENCHMARKS:
        print(f"== {name}", flush=True)
        proc = subprocess.run([sys.executable, "-m", f"benchmarks.{name}"], cwd=BASE_DIR,
                              capture_output=True, text=True)
        print(proc.stdout[-4000:], flush=True)
        lines = [line for line in proc.stdout.splitlines() if line.startswith('{"benchmark"')]
        if proc.returncode != 0 or not lines:
            print(proc.stderr[-4000:], flush=True)
            results.append({"benchmark": name, "error": f"exit {proc.returncode}"})
        else:
            results.append(json.loads(lines[-1]))
    print(f"\n{date.today()} · {machine()}\n")
    print("| benchmark | seconds | baseline seconds | ratio |")
    print("|---|---|---|---|")
    for r in results:
        print(f"| {r['benchmark']} | {r.get('seconds', '-')} | {r.get('baseline_seconds', '-')} "
              f"| {r.get('ratio', r.get('error'))} |")
    return 0 if all("error" not in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
