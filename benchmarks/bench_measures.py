"""Time the per-year measures of a simulated scenario: ``measures_after_shock`` and ``measures_from_tables``.

A simulation (both supply responses) runs once with
:func:`~supplychain.simulation.aftershock.measures_after_shock` observed (the driver's name,
:mod:`supplychain.simulation.run`), keeping the arguments of every scenario-year; then each
call is repeated and timed (CPU seconds, ``time.process_time``):

* ``measures_after_shock``: completing the node table, compiling the adjusted network
  and every measure (what a ``run``, ``compare`` or sweep sample pays per year);
* ``measures_from_tables``: the measures alone, on the network compiled once.

The first repeat warms the caches (the engine keeps the solve plan of a structure it has
compiled, as a sweep does sample after sample); ``--cold`` empties the plan cache before
every call (what a single ``run`` pays). To compare two trees, run this file with the other
tree's code first on ``PYTHONPATH`` in turn, e.g.::

    .venv/bin/python benchmarks/bench_measures.py
    PYTHONPATH=/path/to/other/checkout .venv/bin/python benchmarks/bench_measures.py
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from supplychain.api import simulate
from supplychain.io.load import load
from supplychain.metrics import measures
from supplychain.simulation import run

ROOT = Path(__file__).resolve().parent.parent


def captured(path: Path) -> tuple[list[tuple[Any, Any]], list[tuple[Any, Any]]]:
    """Arguments of every ``measures_after_shock`` and ``measures_from_tables`` call of both responses."""
    after: list[tuple[Any, Any]] = []
    tables: list[tuple[Any, Any]] = []
    orig_after, orig_tables = run.measures_after_shock, measures.measures_from_tables

    def spy_after(*a: Any, **k: Any) -> Any:
        after.append((a, k))
        return orig_after(*a, **k)

    def spy_tables(*a: Any, **k: Any) -> Any:
        tables.append((a, k))
        return orig_tables(*a, **k)

    run.measures_after_shock = spy_after
    measures.measures_from_tables = spy_tables
    try:
        scenario = load(path)
        for mode in ("fixed", "rebalance"):
            simulate(scenario, mode=mode)
    finally:
        run.measures_after_shock, measures.measures_from_tables = orig_after, orig_tables
    return after, tables


def per_call(fn: Any, calls: list[tuple[Any, Any]], repeat: int, cold: bool) -> float:
    """Median over ``repeat`` passes (after one warm-up pass) of the CPU milliseconds per call."""
    from supplychain.engine import compile as comp

    def one_pass() -> float:
        t0 = time.process_time()
        for a, k in calls:
            plans = getattr(comp, "_PLANS", None)
            if cold and plans is not None:
                plans.clear()
            fn(*a, **k)
        return 1000 * (time.process_time() - t0) / len(calls)

    one_pass()
    times = sorted(one_pass() for _ in range(repeat))
    return times[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("scenario", nargs="?", default=str(ROOT / "scenarios" / "path_to_2030.yaml"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--cold", action="store_true", help="empty the engine's plan cache before every call")
    args = parser.parse_args()
    after, tables = captured(Path(args.scenario))
    print(f"{Path(args.scenario).name}: {len(after)} scenario-years (fixed and rebalance), "
          f"median of {args.repeat}, CPU ms per call{' (plan cache emptied)' if args.cold else ''}")
    print(f"  measures_after_shock  {per_call(run.measures_after_shock, after, args.repeat, args.cold):8.2f}")
    print(f"  measures_from_tables  {per_call(measures.measures_from_tables, tables, args.repeat, args.cold):8.2f}")


if __name__ == "__main__":
    main()
