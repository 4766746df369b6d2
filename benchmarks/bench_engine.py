"""Benchmark of the exposure engine on synthetic layered networks.

Run from the repository root::

    .venv/bin/python benchmarks/bench_engine.py                # every case, networkx baseline included
    .venv/bin/python benchmarks/bench_engine.py --case 100k    # one case (in this process)
    .venv/bin/python benchmarks/bench_engine.py --no-baseline --no-1m

Each case runs in a fresh subprocess, so its peak memory (``ru_maxrss``) is its own.
Times are medians of repeated runs (wall clock; CPU time in brackets — the machine may
be shared). Cases (``benchmarks/synthetic.py``, 6 stages, 16 edges per node, 250
countries, Zipf country sizes):

* ``100k``        100 000 nodes, 1.6 M edges, acyclic;
* ``100k-cycles`` the same with 10 % re-export edges inside a stage (loops);
* ``1m``          1 000 000 nodes, 16 M edges, acyclic.

Measured: compile (arrays → CSR + solve plan; and from string-id tables), the traced
share of every node from one source country, traced share + mining-origin shares of
every node for all 250 countries, the traced share from each of the 250 countries
(250 sources at once), in float64 and float32. The networkx baseline (100k only) builds
a ``DiGraph`` with the same input shares and runs the traced share as a pure-Python pass
in topological order (and, for origins, one numpy vector of 250 countries per node).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.synthetic import SyntheticNetwork, layered_network  # noqa: E402
from supplychain.engine import (  # noqa: E402
    compile_arrays,
    compile_tables,
    traced_share,
    traced_shares,
    weighted_origin_shares,
)

CASES: dict[str, dict[str, Any]] = {
    "100k": {"n": 100_000, "reexport": 0.0, "repeat": 7},
    "100k-cycles": {"n": 100_000, "reexport": 0.1, "repeat": 5},
    "1m": {"n": 1_000_000, "reexport": 0.0, "repeat": 3},
}


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median wall and CPU seconds of `repeat` runs (after one warm-up run), and the last result."""
    result = fn()
    walls, cpus = [], []
    for _ in range(repeat):
        result = None  # free the previous result first: peak memory is one result, not two
        w0, c0 = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus), result


def peak_mb() -> float:
    """Peak resident memory of this process so far, MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def networkx_baseline(net: SyntheticNetwork, at_coo: Any, in_source: np.ndarray, origin: bool) -> dict[str, Any]:
    """Straightforward networkx: DiGraph with input shares, pure-Python pass in topological order."""
    import networkx as nx

    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    g = nx.DiGraph()
    g.add_nodes_from(range(net.n_nodes))
    g.add_weighted_edges_from(zip(at_coo.col.tolist(), at_coo.row.tolist(), at_coo.data.tolist(), strict=True),
                              weight="a")
    out["nx_build_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    order = list(nx.topological_sort(g))
    out["nx_toposort_s"] = time.perf_counter() - t0
    src = in_source.tolist()
    t0 = time.perf_counter()
    t: dict[int, float] = {}
    for v in order:
        if src[v]:
            t[v] = 1.0
        else:
            t[v] = sum(d["a"] * t[u] for u, _, d in g.in_edges(v, data=True))
    out["nx_traced_pass_s"] = time.perf_counter() - t0
    out["nx_traced"] = np.array([t[v] for v in range(net.n_nodes)])
    if origin:
        inflow = net.primary + np.bincount(net.dst, weights=net.tonnes, minlength=net.n_nodes)
        pi = np.divide(net.primary, inflow, out=np.zeros(net.n_nodes), where=inflow > 0)
        t0 = time.perf_counter()
        s: dict[int, np.ndarray] = {}
        for v in order:
            vec = np.zeros(net.n_countries)
            if pi[v] > 0:
                vec[net.country[v]] = pi[v]
            for u, _, d in g.in_edges(v, data=True):
                vec += d["a"] * s[u]
            s[v] = vec
        out["nx_origin250_pass_s"] = time.perf_counter() - t0
        out["nx_origin_check"] = np.array([s[v].sum() for v in range(0, net.n_nodes, 997)])
    return out


def run_case(name: str, baseline: bool) -> dict[str, Any]:
    spec = CASES[name]
    rep = spec["repeat"]
    res: dict[str, Any] = {"case": name, "load_avg": os.getloadavg()[0]}
    t0 = time.perf_counter()
    net = layered_network(spec["n"], reexport_share=spec["reexport"], seed=1)
    res.update(nodes=net.n_nodes, edges=net.n_edges, generate_s=time.perf_counter() - t0)

    wall, cpu, cg = timed(lambda: compile_arrays(net.n_nodes, net.src, net.dst, net.tonnes, net.primary), rep)
    res.update(compile_s=wall, compile_cpu_s=cpu, levels=len(cg.levels), loops=cg.n_loops)
    loop_sizes = [lv.stop - lv.start for lv in cg.levels if lv.internal is not None]
    res["loop_levels"] = len(loop_sizes)
    if spec["n"] <= 100_000:
        nodes, edges = net.node_table(), net.edge_table()
        wall, cpu, _ = timed(lambda: compile_tables(nodes, edges), max(1, rep // 2))
        res.update(compile_tables_s=wall, compile_tables_cpu_s=cpu)
        del nodes, edges

    country = net.country[cg.order]  # per node in solve order
    source = country == 0  # the largest producing country
    wall, cpu, t = timed(lambda: traced_share(cg, source), 20 if spec["n"] <= 100_000 else 5)
    res.update(traced_s=wall, traced_cpu_s=cpu)

    prim = np.flatnonzero(cg.primary > 0)
    for dt in (np.float64, np.float32):
        tag = np.dtype(dt).name

        def both(dt: Any = dt) -> Any:
            traced_share(cg, source)
            return weighted_origin_shares(cg, prim, country[prim], np.ones(len(prim)), net.n_countries, dtype=dt)

        wall, cpu, shares = timed(both, rep)
        res[f"traced_origin250_{tag}_s"] = wall
        res[f"traced_origin250_{tag}_cpu_s"] = cpu
        rowsum = shares.sum(axis=1)[cg.inflow > 0]
        res[f"origin_rowsum_maxdev_{tag}"] = float(np.abs(rowsum - 1.0).max())
        del shares
        wall, cpu, many = timed(lambda dt=dt: traced_shares(cg, country, net.n_countries, dtype=dt), rep)
        res[f"traced_each_of_250_{tag}_s"] = wall
        res[f"traced_each_of_250_{tag}_cpu_s"] = cpu
        res[f"traced_col0_maxdev_{tag}"] = float(np.abs(many[:, 0] - t).max())
        del many
    res["peak_rss_mb"] = peak_mb()

    if baseline:
        at = cg.At.tocoo()
        at.sum_duplicates()
        # baseline works on input node numbers: map solve positions back
        order = cg.order
        rows, cols = order[at.row], order[at.col]
        coo = type(at)((at.data, (rows, cols)), shape=at.shape)
        in_src = np.zeros(net.n_nodes, dtype=bool)
        in_src[order[source]] = True
        nx_res = networkx_baseline(net, coo, in_src, origin=True)
        t_input_order = np.empty(net.n_nodes)
        t_input_order[order] = t
        res["nx_traced_maxdev"] = float(np.abs(nx_res.pop("nx_traced") - t_input_order).max())
        nx_res.pop("nx_origin_check")
        res.update(nx_res)
        res["ratio_traced_pass"] = res["nx_traced_pass_s"] / res["traced_s"]
        res["ratio_build_plus_traced"] = (res["nx_build_s"] + res["nx_toposort_s"] + res["nx_traced_pass_s"]) / (
            res["compile_s"] + res["traced_s"])
        res["ratio_origin250_f64"] = res["nx_origin250_pass_s"] / res["traced_origin250_float64_s"]
        res["peak_rss_with_baseline_mb"] = peak_mb()
    return res


def _fmt(res: dict[str, Any]) -> str:
    lines = [f"== {res['case']}: {res['nodes']:,} nodes, {res['edges']:,} edges, {res['levels']} levels, "
             f"{res['loops']} loops in {res['loop_levels']} levels (load avg {res['load_avg']:.1f})"]

    def row(label: str, key: str) -> None:
        if key in res:
            cpu = res.get(key.replace("_s", "_cpu_s")) if key.endswith("_s") else None
            extra = f"  [cpu {cpu:.4f} s]" if cpu is not None else ""
            lines.append(f"  {label:<46} {res[key]:10.4f} s{extra}")

    row("compile (arrays -> CSR + plan)", "compile_s")
    row("compile from string-id tables", "compile_tables_s")
    row("traced share, all nodes, 1 source", "traced_s")
    row("traced + origin, 250 countries, float64", "traced_origin250_float64_s")
    row("traced + origin, 250 countries, float32", "traced_origin250_float32_s")
    row("traced share from each of 250, float64", "traced_each_of_250_float64_s")
    row("traced share from each of 250, float32", "traced_each_of_250_float32_s")
    lines.append(f"  {'peak memory (ru_maxrss)':<46} {res['peak_rss_mb']:10.0f} MB")
    lines.append(f"  checks: origin rows sum to 1 within {res['origin_rowsum_maxdev_float64']:.1e} (f64), "
                 f"{res['origin_rowsum_maxdev_float32']:.1e} (f32); column 0 of the 250-source solve = "
                 f"single solve within {res['traced_col0_maxdev_float64']:.1e}")
    if "nx_build_s" in res:
        lines.append("  networkx baseline (same instance, run in full):")
        row("  nx.DiGraph build", "nx_build_s")
        row("  topological sort", "nx_toposort_s")
        row("  traced share, pure-Python pass", "nx_traced_pass_s")
        row("  origin 250, numpy vector per node", "nx_origin250_pass_s")
        lines.append(f"    traced share agrees within {res['nx_traced_maxdev']:.1e}")
        lines.append(f"    ratio traced pass (nx / engine)            {res['ratio_traced_pass']:10.0f} x")
        lines.append(f"    ratio build+sort+pass / compile+traced     {res['ratio_build_plus_traced']:10.0f} x")
        lines.append(f"    ratio origin 250 (nx+numpy / engine f64)   {res['ratio_origin250_f64']:10.0f} x")
        lines.append(f"    peak memory with the baseline              {res['peak_rss_with_baseline_mb']:10.0f} MB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", choices=sorted(CASES), help="run one case in this process")
    parser.add_argument("--json", action="store_true", help="print the result of --case as JSON")
    parser.add_argument("--no-baseline", action="store_true", help="skip the networkx baseline")
    parser.add_argument("--no-1m", action="store_true", help="skip the 1M-node case")
    args = parser.parse_args(argv)
    if args.case:
        res = run_case(args.case, baseline=not args.no_baseline and args.case == "100k")
        print(json.dumps(res) if args.json else _fmt(res))
        return 0
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, {os.cpu_count()} CPUs")
    for name in CASES:
        if name == "1m" and args.no_1m:
            continue
        cmd = [sys.executable, __file__, "--case", name, "--json"]
        if args.no_baseline:
            cmd.append("--no-baseline")
        proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
        print(_fmt(json.loads(proc.stdout.strip().splitlines()[-1])), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
