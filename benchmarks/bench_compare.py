"""Benchmark of ``compare``: the variants of a scenario solved year by year, against one by one.

``compare`` (and the report's runs) simulate several variants on one compiled LP
(:class:`~supplychain.simulation.run.Simulator`). :meth:`~supplychain.simulation.run.Simulator.run_many`
solves them year by year, every variant of a year and then the next year, so each
solve starts from the same year with other toggles. The naive baseline, what
``compare`` did before 26 November 2026, runs the variants one by one
(:meth:`~supplychain.simulation.run.Simulator.run` after ``run``): a variant's first
year starts from the last variant's last year, its later years from its own previous
year. Both are timed in the same run, on two cases:

* the bundled scenarios with variants (``scenarios/*.yaml``), ``base`` and every
  variant, 2024–2030, the monolithic model: simplex iterations and LP seconds summed
  over the solves (the LPs are small: a solve takes milliseconds); the two orders'
  measures are compared (largest difference printed);
* the 10k instance of the performance goal (``bench_rebalance.py --chains 5``: 5 chains
  of 2,000 nodes, 157k edges): a base ban (:func:`bench_rebalance.random_shock`) and
  ``--variants`` variants, each lifting one banned country's exports
  (:func:`bench_rebalance.lift_one_ban`), over ``--years`` years whose pattern grows
  2 % a year (:func:`bench_rebalance.grown_year`), solved in both orders by blocks on
  ``--threads`` threads and by the monolithic model; every optimum is compared between
  the orders (largest relative difference printed).

Run::

    .venv/bin/python benchmarks/bench_compare.py
    .venv/bin/python benchmarks/bench_compare.py --sizes 2000 --years 3 --variants 2   # quick
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_rebalance import GROWTH, grown_year, lift_one_ban, next_year, prepare  # noqa: E402

from supplychain.io.load import load  # noqa: E402
from supplychain.simulation.blocks import BlockRebalance  # noqa: E402
from supplychain.simulation.run import Simulator  # noqa: E402

ORDERS = ("one by one (naive)", "year by year")
KEYS = ["variant", "year", "country", "commodity", "metric", "partner", "source_country"]


def bundled(paths: list[Path]) -> None:
    """Both orders on each bundled scenario with variants: iterations and LP seconds of all the solves."""
    print(f"{'scenario':<28} {'order':<20} {'variants':>8} {'iterations':>10} {'LP s':>7} {'wall s':>7}  "
          "iterations per variant")
    for path in paths:
        sc = load(path)
        if not sc.variants:
            continue
        runs: list[tuple[str | None, None]] = [(None, None), *((v, None) for v in sorted(sc.variants))]
        values: list[pd.Series] = []
        for order in ORDERS:
            sim = Simulator(sc)
            sim.model()  # built once, not timed
            t0 = time.perf_counter()
            outs = [sim.run(variant=v) for v, _ in runs] if order == ORDERS[0] else sim.run_many(runs)
            wall = time.perf_counter() - t0
            per = [int(o.solver["iterations"].sum()) for o in outs]
            secs = sum(float(o.solver["seconds"].sum()) for o in outs)
            values.append(pd.concat([o.measures for o in outs]).set_index(KEYS)["value"].astype(float))
            print(f"{path.name:<28} {order:<20} {len(runs):>8} {sum(per):>10} {secs:>7.3f} {wall:>7.2f}  {per}",
                  flush=True)
        both = pd.concat(values, axis=1, keys=ORDERS, join="outer")
        only = int(both.isna().any(axis=1).sum() - both.isna().all(axis=1).sum())
        worst = float(np.nanmax(np.abs(both[ORDERS[0]] - both[ORDERS[1]]))) if len(both) else 0.0
        print(f"  measures: {len(both)} rows, {only} in one order only; largest difference {worst:.1e}", flush=True)


def synthetic(n: int, chains: int, years: int, variants: int, threads: int) -> None:
    """Both orders on the synthetic instance: ``variants + 1`` runs of ``years`` years each."""
    nodes, edges, model, shocks, *_ = prepare(n, 1, "weighted", chains)
    rng = np.random.default_rng(n + 3)
    base = shocks[0]
    runs = [base, *(lift_one_ban(rng, model, base) for _ in range(variants))]
    grown = [grown_year(model, nodes, edges, (1.0 + GROWTH) ** k - 1.0) for k in range(years)]
    for name in (f"blocks on {threads} threads", "monolithic"):
        objs: dict[str, dict[tuple[int, int], float]] = {}
        for order in ORDERS:
            solver: Any = BlockRebalance(model, threads=threads) if name != "monolithic" else model
            solver.solve(next_year(base, grown[0]), warm=False)  # a compiled model
            pairs = [(i, k) for i in range(len(runs)) for k in range(years)] if order == ORDERS[0] \
                else [(i, k) for k in range(years) for i in range(len(runs))]
            secs: list[float] = []
            objs[order] = {}
            t0 = time.perf_counter()
            for i, k in pairs:
                sol = solver.solve(next_year(runs[i], grown[k]), warm=True)
                secs.append(sol.seconds)
                objs[order][i, k] = sol.objectives["weighted"]
            total = time.perf_counter() - t0
            print(f"{n} nodes, {chains} chains, {len(edges)} edges, {name}; {order:<20} {len(runs)} runs x {years} "
                  f"years in {total:.2f} s; per solve median {statistics.median(secs):.3f} s "
                  f"({min(secs):.3f}-{max(secs):.3f})", flush=True)
        a, b = (np.array([objs[o][key] for key in sorted(objs[o])]) for o in ORDERS)
        worst = float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(a))))
        print(f"  largest relative difference of an optimum between the orders over {len(a)} solves: {worst:.1e}",
              flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000])
    ap.add_argument("--chains", type=int, default=5)
    ap.add_argument("--years", type=int, default=7, help="years per run (2024-2030: 7)")
    ap.add_argument("--variants", type=int, default=3, help="variants after the base run")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-bundled", action="store_true", help="skip the bundled scenarios")
    args = ap.parse_args()
    if not args.no_bundled:
        bundled(sorted((HERE.parent / "scenarios").glob("*.yaml")))
    for n in args.sizes:
        synthetic(n, args.chains, args.years, args.variants, args.threads)


if __name__ == "__main__":
    main()
