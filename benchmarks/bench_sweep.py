"""Benchmark of Monte Carlo sweeps (``supplychain.uncertainty``).

Three cases, each with 1 and 2 local worker processes, side by side with the
naive baseline that rebuilds everything per sample (patch the scenario, build the
tables, compute every measure: ``fast=False``):

1. exposure-only sampling (``mode="exposure"``) on the bundled world
   (``scenarios/baseline_2024.yaml``, 2024–2030);
2. exposure-only sampling on a synthetic *scenario* of 10,000 facilities
   (:func:`synthetic_scenario`: mines → four conversion stages, 20 countries, every
   country market trading with the others; trade flows and mine output uncertain);
3. rebalance sampling (``mode="rebalance"``) on the 1,000- and 10,000-facility
   synthetic scenarios and on the bundled world with the US–Japan framework:
   :func:`supplychain.api.simulate` per sample.

Only one-year exposure sweeps have a compiled path (case 2); the bundled world's years
after its base year carry the base year's trade pattern, so case 1 runs per sample too,
and the per-sample cases run a few samples only.

Samples per second count the sampling run itself (``info["wall_seconds"]``: from the
first chunk sent to the last result back, worker start-up included); the one-off
preparation (central run, compiling, checking the fast path against the per-sample
path) is reported separately. Run::

    .venv/bin/python benchmarks/bench_sweep.py                 # everything (~10 min)
    .venv/bin/python benchmarks/bench_sweep.py --cases world   # one case
    .venv/bin/python benchmarks/bench_sweep.py --quick         # small sample counts

Goals: ≥ 500 samples/s exposure-only on 10k facilities; for the bundled scenarios,
``docs/performance.md`` (issue 23).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np

from supplychain.io.load import load
from supplychain.schema.countries import ISO_COUNTRIES
from supplychain.schema.model import Scenario
from supplychain.uncertainty.montecarlo import SweepResult, run_sweep

REPO = Path(__file__).resolve().parent.parent
STAGES = ("ore", "oxide", "metal", "magnet", "product")


def synthetic_scenario(
    n_facilities: int, *, n_countries: int = 20, n_stages: int = 5, trade_share: float = 0.3, seed: int = 0
) -> Scenario:
    """A balanced synthetic world of ``n_facilities`` facilities as a validated scenario.

    Stage 0 facilities are mines; each later stage converts the previous stage's
    commodity with yield 1. Every country market of a stage exports ``trade_share``
    of its output to the other countries (flows between country markets, ±20 %
    uniform); converters take 95 % of what their market holds (the rest goes to
    final use), so a sample that raises or lowers a trade flow is re-balanced by
    the allocation rules. Mine output is uncertain for one mine in ten (±10 %).
    """
    rng = np.random.default_rng(seed)
    countries = sorted(ISO_COUNTRIES)[:n_countries]  # real codes: country codes are checked everywhere
    weights = 1.0 / np.arange(1, n_countries + 1) ** 1.1
    weights /= weights.sum()
    per_stage = n_facilities // n_stages
    commodities = {f"c{s}": {"name": f"commodity {s}", "stage": STAGES[min(s, len(STAGES) - 1)]}
                   for s in range(n_stages)}  # fmt: skip
    processes = {f"p{s}": {"inputs": {f"c{s - 1}": 1.0}, "outputs": {f"c{s}": 1.0}} for s in range(1, n_stages)}
    facilities: dict[str, Any] = {}
    flows: dict[str, Any] = {}
    out_by_country = np.zeros(n_countries)
    for s in range(n_stages):
        where = rng.choice(n_countries, size=per_stage, p=weights)
        if s == 0:
            prod = rng.lognormal(5.0, 1.0, per_stage)
        else:
            # what each country's market holds after trade, 95 % of it converted here
            held = out_by_country.copy()
            exports = trade_share * out_by_country
            share = rng.dirichlet(np.ones(n_countries - 1), size=n_countries)
            for i, c in enumerate(countries):
                others = [j for j in range(n_countries) if j != i]
                for j, w in zip(others, share[i], strict=True):
                    t = float(exports[i] * w)
                    if t <= 1e-6:
                        continue
                    held[i] -= t
                    held[j] += t
                    flows[f"t{s - 1}_{c}_{countries[j]}"] = {
                        "supplier": c, "buyer": countries[j], "commodity": f"c{s - 1}", "year": 2024,
                        "tonnes": {"dist": "uniform", "low": round(0.8 * t, 6), "high": round(1.2 * t, 6),
                                   "value": round(t, 6)},
                    }  # fmt: skip
            # countries without a converter of this stage keep their material (final use)
            present = np.bincount(where, minlength=n_countries) > 0
            held = np.where(present, held, 0.0)
            w = rng.random(per_stage) + 0.1
            total_w = np.bincount(where, weights=w, minlength=n_countries)
            prod = 0.95 * held[where] * w / total_w[where]
        out_by_country = np.bincount(where, weights=prod, minlength=n_countries)
        for k in range(per_stage):
            fid = f"f{s}_{k}"
            entry: dict[str, Any] = {"name": fid, "country": countries[where[k]],
                                     "kind": "mine" if s == 0 else "manufacturer"}  # fmt: skip
            p = float(prod[k])
            if s == 0:
                entry["output"] = "c0"
                entry["production"] = {2024: {"dist": "uniform", "low": 0.9 * p, "high": 1.1 * p, "value": p}
                                       if k % 10 == 0 else p}  # fmt: skip
            else:
                entry["process"] = f"p{s}"
                entry["production"] = {2024: p}
            facilities[fid] = entry
    data = {
        "scenario": {"name": f"synthetic {n_facilities}", "base_year": 2024, "horizon": 2024,
                     "source_country": countries[0]},
        "commodities": commodities,
        "processes": processes,
        "facilities": facilities,
        "flows": flows,
        "countries": {},
    }
    return Scenario.model_validate(data)


def timed_sweep(sc: Scenario, **kwargs: Any) -> tuple[SweepResult, float]:
    t0 = time.perf_counter()
    r = run_sweep(sc, cache=False, quiet=True, **kwargs)
    return r, time.perf_counter() - t0


def row(case: str, how: str, workers: int, r: SweepResult, total: float) -> dict[str, Any]:
    return {
        "case": case,
        "how": how,
        "workers": workers,
        "samples": r.n,
        "measures": r.values.shape[1],
        "samples_per_s": r.n / r.info["wall_seconds"],
        "sampling_s": r.info["wall_seconds"],
        "prepare_s": r.info.get("prepare_seconds", float("nan")),
        "total_s": total,
        "model": r.info["model"],
        "fast_path": r.info["fast_path"],
    }


def bench_case(case: str, sc: Scenario, *, mode: str, samples: int, naive: int, **kwargs: Any) -> list[dict[str, Any]]:
    out = []
    for workers in (1, 2):
        r, total = timed_sweep(sc, samples=samples, seed=1, mode=mode, workers=workers, **kwargs)
        out.append(row(case, "compiled" if r.info["fast_path"] == "used" else "per sample", workers, r, total))
        print(_fmt(out[-1]), flush=True)
    if naive:
        for workers in (1, 2):
            r, total = timed_sweep(sc, samples=naive, seed=1, mode=mode, workers=workers, fast=False, **kwargs)
            out.append(row(case, "naive (rebuild per sample)", workers, r, total))
            print(_fmt(out[-1]), flush=True)
    return out


def _fmt(r: dict[str, Any]) -> str:
    return (f"| {r['case']} | {r['how']} | {r['workers']} | {r['samples']:,} | {r['measures']:,} | "
            f"{r['samples_per_s']:,.1f} | {r['sampling_s']:.2f} | {r['prepare_s']:.1f} |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", nargs="*",
                        default=["world", "synthetic10k", "rebalance1k", "rebalance10k", "worldrebalance"])
    parser.add_argument("--quick", action="store_true", help="small sample counts (a smoke run)")
    args = parser.parse_args()
    q = args.quick
    print(f"# bench_sweep on {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}")  # fmt: skip
    print("| case | how | workers | samples | measures | samples/s | sampling s | prepare s |")
    print("|---|---|---|---|---|---|---|---|")
    if "world" in args.cases:
        world = load(REPO / "scenarios" / "baseline_2024.yaml")
        bench_case("bundled world, exposure", world, mode="exposure", samples=4 if q else 20,
                   naive=2 if q else 4)  # fmt: skip
    if "synthetic10k" in args.cases:
        t0 = time.perf_counter()
        syn = synthetic_scenario(10_000)
        print(f"(synthetic 10k scenario: {len(syn.facilities):,} facilities, {len(syn.flows):,} flows, "
              f"made in {time.perf_counter() - t0:.1f} s)")  # fmt: skip
        bench_case("10k synthetic, exposure", syn, mode="exposure", samples=500 if q else 10_000,
                   naive=2 if q else 4)  # fmt: skip
    if "rebalance1k" in args.cases:
        syn1k = synthetic_scenario(1_000, n_countries=10)
        bench_case("1k synthetic, rebalance", syn1k, mode="rebalance", samples=4 if q else 40,
                   naive=0, measures=["traced_share", "shortfall_share"])  # fmt: skip
    if "worldrebalance" in args.cases:
        framework = load(REPO / "scenarios" / "us_japan_framework.yaml")
        bench_case("bundled world (us_japan_framework.yaml, 2024–2030), rebalance", framework, mode="rebalance",
                   samples=2 if q else 20, naive=0)  # fmt: skip
    if "rebalance10k" in args.cases:
        syn10k = synthetic_scenario(10_000)
        bench_case("10k synthetic, rebalance", syn10k, mode="rebalance", samples=2 if q else 10,
                   naive=0, measures=["traced_share", "shortfall_share"])  # fmt: skip


if __name__ == "__main__":
    main()
