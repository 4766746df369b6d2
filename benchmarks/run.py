"""Run every benchmark with the commands whose figures are in ``docs/performance.md``.

Each benchmark runs in its own process, one after another (they would compete for
the two CPUs of the development machine), and prints its figures side by side with
its naive baseline. ``make bench`` runs this script.

Run from the repository root::

    .venv/bin/python benchmarks/run.py            # the documented runs (each prints its time)
    .venv/bin/python benchmarks/run.py --quick    # a smoke run of each script (~2 min)
    .venv/bin/python benchmarks/run.py --only rebalance
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

FULL: dict[str, list[list[str]]] = {
    "engine": [["bench_engine.py"]],
    "yaml": [["bench_yaml.py"]],
    "sweep": [["bench_sweep.py"]],
    "rebalance": [
        ["bench_rebalance.py", "--sizes", "10000", "--chains", "50", "--repeat", "5",
         "--objective", "weighted", "lexicographic", "--solvers", "monolithic", "blocks", "blocks-2threads",
         "--fold", "both"],
        ["bench_rebalance.py", "--sizes", "10000", "--chains", "5", "--repeat", "5",
         "--objective", "weighted", "lexicographic", "--solvers", "blocks-2threads", "--fold", "ab"],
        ["bench_rebalance.py", "--sizes", "10000", "--chains", "5", "--repeat", "5",
         "--objective", "weighted", "lexicographic", "--solvers", "monolithic", "blocks", "blocks-2threads",
         "--fold", "both"],
        ["bench_rebalance.py", "--sizes", "100000", "--chains", "50", "--repeat", "3",
         "--objective", "weighted", "lexicographic", "--lex-max", "100000", "--no-nx", "--solvers", "blocks-2threads",
         "--fold", "both"],
        ["bench_rebalance.py", "--cold-study", "2000", "--objective", "weighted", "lexicographic"],
        ["bench_rebalance.py", "--sizes", "2000", "--repeat", "5",
         "--objective", "weighted", "lexicographic", "--solvers", "monolithic", "--fold", "ab"],
        ["bench_rebalance.py", "--sizes", "2000", "10000", "--repeat", "3",
         "--objective", "weighted", "lexicographic", "--solvers", "monolithic", "--fold", "both"],
    ],
    "compare": [["bench_compare.py"]],
    "trade": [["bench_trade_import.py"]],
    "minerals": [["bench_minerals.py", "--repeat", "3"]],
}
"""The commands of ``docs/performance.md``, by benchmark."""

QUICK: dict[str, list[list[str]]] = {
    "engine": [["bench_engine.py", "--case", "100k", "--no-baseline"]],
    "yaml": [["bench_yaml.py"]],
    "sweep": [["bench_sweep.py", "--quick"]],
    "rebalance": [
        ["bench_rebalance.py", "--sizes", "2000", "--chains", "10", "--repeat", "2",
         "--objective", "weighted", "lexicographic", "--solvers", "monolithic", "blocks"],
        ["bench_rebalance.py", "--sizes", "2000", "--chains", "2", "--repeat", "2",
         "--objective", "weighted", "--solvers", "blocks", "--fold", "ab"],
    ],
    "compare": [["bench_compare.py", "--no-bundled", "--sizes", "2000", "--years", "3", "--variants", "2"]],
    "trade": [["bench_trade_import.py", "--rows", "200000", "--comtrade-rows", "50000"]],
    "minerals": [["bench_minerals.py", "--repeat", "1"]],
}
"""Small runs of the same scripts: they check that every benchmark still runs."""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a small run of each benchmark")
    ap.add_argument("--only", nargs="+", choices=sorted(FULL), help="run only these benchmarks")
    args = ap.parse_args()
    plan = QUICK if args.quick else FULL
    failed = []
    for name in args.only or list(plan):
        for argv in plan[name]:
            cmd = [sys.executable, str(HERE / argv[0]), *argv[1:]]
            print(f"\n$ {' '.join(['python', 'benchmarks/' + argv[0], *argv[1:]])}", flush=True)
            t0 = time.perf_counter()
            if subprocess.run(cmd, check=False).returncode != 0:
                failed.append(name)
            print(f"({name}: {time.perf_counter() - t0:.0f} s)", flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
