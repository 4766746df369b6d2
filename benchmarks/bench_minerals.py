"""Time what the critical-minerals work adds to the main job, against the baseline scenario in the same run.

Run: ``.venv/bin/python benchmarks/bench_minerals.py [--repeat 3]``. Prints medians of:

* the report of ``scenarios/china_controls_all_minerals.yaml`` (simulate every variant,
  rebalance, then write the report folder: what ``supplychain report scenarios/`` does per
  file) next to the same for ``scenarios/baseline_2024.yaml``;
* ``supplychain.atlas()`` on the bundled release, and ``import_usgs_mcs`` of it.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from supplychain.importers.usgs_mcs import import_usgs_mcs
from supplychain.io import load
from supplychain.minerals import atlas, bundled_release
from supplychain.report.html import run_scenario, write_report

REPO = Path(__file__).resolve().parent.parent


def median_time(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def report_of(path: Path, out: Path) -> Callable[[], object]:
    def run() -> object:
        shutil.rmtree(out, ignore_errors=True)
        scenario = load(path)
        return write_report([run_scenario(scenario, mode="rebalance", file=str(path))], out)
    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    try:
        rows = [
            ("report: baseline_2024.yaml (reference)", report_of(REPO / "scenarios/baseline_2024.yaml", tmp / "a")),
            ("report: china_controls_all_minerals.yaml", report_of(REPO / "scenarios/china_controls_all_minerals.yaml",
                                                                   tmp / "b")),
            ("atlas() on the bundled release", atlas),
            ("import usgs-mcs of the bundled release", lambda: import_usgs_mcs(bundled_release(), tmp / "m")),
        ]
        for label, fn in rows:
            print(f"{label:45s} {median_time(fn, args.repeat):7.2f} s (median of {args.repeat})", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
