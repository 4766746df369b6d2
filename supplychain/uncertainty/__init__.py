"""Uncertainty: Monte Carlo sweeps, one-at-a-time sensitivity, toggle grids, caching and scale-out.

docs/domain.md, "Uncertainty": any number may be a range or distribution and any
toggle a probability; Monte Carlo with a seeded generator gives distributions of
every measure; one-at-a-time sweeps give tornado charts of what matters most.

* :func:`find_parameters`, :func:`draw`, :func:`apply` (:mod:`~supplychain.uncertainty.sampling`)
  — the uncertain inputs of a scenario, reproducible samples of them (one random
  stream per parameter), and a scenario with one sample patched in;
* :func:`run_sweep` (:mod:`~supplychain.uncertainty.montecarlo`) → :class:`SweepResult`
  (:mod:`~supplychain.uncertainty.result`) — ``.summary()`` (P5/P50/P95, mean),
  ``.target_probability()``, ``.samples``; the samples run in chunks on an executor
  (:mod:`~supplychain.uncertainty.scheduling`) through a sweep model
  (:mod:`~supplychain.uncertainty.models`); the network is compiled once and only
  the sampled numbers are patched where the exposure measures allow it
  (:class:`~supplychain.uncertainty.kernel.ExposureKernel`: the year's layout a run evaluates,
  :mod:`supplychain.graph.layout`, evaluated on a block of samples; the traced share is the
  engine's, :func:`~supplychain.engine.batch.compile_batch`);
* :func:`one_at_a_time` → ranking and :func:`tornado_chart`, :func:`toggle_grid`
  (:mod:`~supplychain.uncertainty.sensitivity`);
* local worker processes or a Dask cluster (:mod:`~supplychain.parallel.executors`),
  a Parquet cache keyed by everything that determines the numbers
  (:mod:`~supplychain.io.cache`) and progress bars
  (:mod:`~supplychain.parallel.progress`).

Example (run from the repository root; ``tests/test_uncertainty.py`` exercises the same calls)::

    from supplychain.uncertainty import run_sweep
    r = run_sweep("scenarios/baseline_2024.yaml", samples=5000, seed=7, mode="exposure")
    r.summary().query("country == 'US' and metric == 'traced_share'")
"""

from __future__ import annotations

from supplychain.io.cache import SweepCache, cache_key
from supplychain.parallel.executors import open_executor, parse_executor
from supplychain.parallel.progress import progress_bar
from supplychain.uncertainty.montecarlo import (
    FAST_METRICS,
    SWEEP_METRICS,
    SampleError,
    SweepResult,
    run_sweep,
)
from supplychain.uncertainty.sampling import Parameter, SamplingSpec, apply, draw, find_parameters
from supplychain.uncertainty.sensitivity import (
    GridResult,
    OATResult,
    one_at_a_time,
    toggle_grid,
    tornado_chart,
)

__all__ = [
    "FAST_METRICS",
    "SWEEP_METRICS",
    "GridResult",
    "OATResult",
    "Parameter",
    "SampleError",
    "SamplingSpec",
    "SweepCache",
    "SweepResult",
    "apply",
    "cache_key",
    "draw",
    "find_parameters",
    "one_at_a_time",
    "open_executor",
    "parse_executor",
    "progress_bar",
    "run_sweep",
    "toggle_grid",
    "tornado_chart",
]
