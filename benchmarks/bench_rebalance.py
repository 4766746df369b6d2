"""Benchmark of the re-routing LP (``supplychain.simulation.rebalance``).

On a synthetic layered network (ore → oxide → metal → magnet, every converter
with yield 1 so that the same instance is also a pure min-cost-flow problem):

* build the LP once (arrays → CSC → ``passModel``);
* solve it cold after a random export ban (all four lexicographic levels);
* re-solve it warm for another random ban (bounds and costs changed only);
* solve the equivalent single-objective min-cost flow with
  ``networkx.network_simplex`` (shortfall priced at 10⁶ per tonne of demand share,
  tariffs as edge costs) for comparison.

Run::

    .venv/bin/python benchmarks/bench_rebalance.py            # 10k nodes (~160k edges) and 100k nodes
    .venv/bin/python benchmarks/bench_rebalance.py --sizes 10000 --repeat 5
    .venv/bin/python benchmarks/bench_rebalance.py --sizes 2000 --blocks   # block-by-block solve

The independent blocks of the LP (connected components of the constraint matrix,
``supplychain.simulation.blocks``) are counted and reported for every instance:
the layered instance is a single block (converters tie the layers together,
trade with 75 partners ties the countries), so solving block by block cannot
help here; ``--blocks`` times :class:`~supplychain.simulation.blocks.BlockRebalance`
anyway and checks its optima against the monolithic model.

Goals: 10k nodes ≤ 1 s cold, ≤ 0.15 s warm; 100k nodes ≤ 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from supplychain.simulation.blocks import BlockRebalance, constraint_blocks
from supplychain.simulation.rebalance import RebalanceModel, YearInputs

LAYERS = ("ore", "oxide", "metal", "magnet")


def layered_network(n_nodes: int, *, degree: int = 75, per_country: int = 3, seed: int = 0
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A balanced layered supply network of about ``n_nodes`` nodes and 16 edges per node.

    Per country and layer: one market, one use node and ``per_country`` facilities
    (mines on the ore layer, converters with yield 1 from the previous layer above).
    Each producing market exports ~30 % of its output to ``degree`` random partners;
    each market passes half of what it holds to the next layer's converters and the
    rest to final use.
    """
    rng = np.random.default_rng(seed)
    k = max(4, n_nodes // (len(LAYERS) * (2 + per_country)))
    countries = np.array([f"K{i:05d}" for i in range(k)])
    d = min(degree, k - 1)
    node_rows: list[pd.DataFrame] = []
    edge_rows: list[pd.DataFrame] = []
    prod = np.zeros(k)
    for li, c in enumerate(LAYERS):
        mk = np.char.add(np.char.add(countries, ":"), c)
        use = np.char.add(mk, ":use")
        fac_c = np.repeat(countries, per_country)
        fac = np.char.add(np.char.add(fac_c, f"_{c}_"), np.tile(np.arange(per_country).astype(str), k))
        if li == 0:
            out = rng.uniform(50, 500, size=fac.size) * (rng.random(fac.size) < 0.5)
        else:
            share = rng.dirichlet(np.ones(per_country), size=k).ravel()
            out = np.repeat(prod, per_country) * share
            edge_rows.append(pd.DataFrame({
                "edge": np.char.add("in.", fac), "supplier": np.char.add(np.char.add(fac_c, ":"), LAYERS[li - 1]),
                "buyer": fac, "supplier_country": fac_c, "buyer_country": fac_c, "commodity": LAYERS[li - 1],
                "tonnes": out, "kind": "input"}))
        cap = out * rng.uniform(1.0, 1.5, size=fac.size) + rng.uniform(0, 20, size=fac.size)
        node_rows.append(pd.DataFrame({"node": fac, "kind": "facility", "country": fac_c, "commodity": c,
                                       "capacity": cap}))
        node_rows.append(pd.DataFrame({"node": mk, "kind": "market", "country": countries, "commodity": c,
                                       "capacity": np.nan}))
        node_rows.append(pd.DataFrame({"node": use, "kind": "use", "country": countries, "commodity": c,
                                       "capacity": np.nan}))
        edge_rows.append(pd.DataFrame({
            "edge": np.char.add("supply.", fac), "supplier": fac, "buyer": np.char.add(np.char.add(fac_c, ":"), c),
            "supplier_country": fac_c, "buyer_country": fac_c, "commodity": c, "tonnes": out, "kind": "supply"}))
        p = np.bincount(np.repeat(np.arange(k), per_country), weights=out, minlength=k)
        # exports: 30 % of production to d partners
        src = np.repeat(np.arange(k), d)
        dst = (src + 1 + np.concatenate([rng.choice(k - 1, size=d, replace=False) for _ in range(k)])) % k
        w = rng.dirichlet(np.ones(d), size=k).ravel()
        t = 0.3 * p[src] * w
        keep = t > 0
        src, dst, t = src[keep], dst[keep], t[keep]
        edge_rows.append(pd.DataFrame({
            "edge": np.char.add(np.char.add(np.char.add(f"trade.{c}.", countries[src]), "."), countries[dst]),
            "supplier": mk[src], "buyer": mk[dst], "supplier_country": countries[src], "buyer_country": countries[dst],
            "commodity": c, "tonnes": t, "kind": "trade"}))
        held = p - np.bincount(src, weights=t, minlength=k) + np.bincount(dst, weights=t, minlength=k)
        nxt = 0.5 * held if li < len(LAYERS) - 1 else np.zeros(k)
        edge_rows.append(pd.DataFrame({
            "edge": np.char.add("use.", mk), "supplier": mk, "buyer": use, "supplier_country": countries,
            "buyer_country": countries, "commodity": c, "tonnes": held - nxt, "kind": "use"}))
        prod = nxt
    nodes = pd.concat(node_rows, ignore_index=True)
    edges = pd.concat(edge_rows, ignore_index=True)
    edges["stage"] = edges["commodity"]
    edges = edges[edges["tonnes"] > 0].reset_index(drop=True)
    return nodes, edges


def random_shock(rng: np.random.Generator, model: RebalanceModel, base: YearInputs, share: float = 0.1) -> YearInputs:
    """Ban all exports of a random 10 % of countries; a 20 % tariff-like cost on 5 % of trade edges."""
    e = model.edges
    countries = e["supplier_country"].unique()
    banned = rng.choice(countries, size=max(1, int(share * len(countries))), replace=False)
    trade = (e["kind"] == "trade").to_numpy()
    blocked = np.where(trade & e["supplier_country"].isin(banned).to_numpy(), 1.0, 0.0)
    cost = np.where(trade & (rng.random(len(e)) < 0.05), 100.0, 0.0)
    return replace(base, blocked=blocked, cost=cost)


def network_simplex_time(model: RebalanceModel, inp: YearInputs) -> tuple[float, float]:
    """Solve the same re-routing as one min-cost flow with networkx; return (seconds, Σ shortfall share).

    Yields are 1 in this instance, so the LP is a pure min-cost flow: a super source S
    supplies Σ demand; S → mine (capacity K, cost 0) is primary supply; S → use node
    (capacity D, cost ⌊10⁶/D⌋) is shortfall; a converter v is an arc v#in → v of
    capacity K; trade arcs carry the blocked caps and the costs; markets may dump
    surplus back to S at no cost. Weights and capacities are rounded to integers
    (network simplex needs exact arithmetic).
    """
    import networkx as nx

    g = nx.DiGraph()
    ids = model.nodes["node"].astype(str).to_numpy()
    demand = inp.demand
    total = 0
    for u, dem in zip(ids[model.uses], demand, strict=True):
        di = round(dem)
        if di <= 0:
            continue
        g.add_node(u, demand=di)
        g.add_edge("S", u, capacity=di, weight=round(10**6 / max(dem, 1.0)))
        total += di
    e = model.edges
    converters = set(e.loc[e["kind"] == "input", "buyer"].astype(str))
    for f, kv in zip(ids[model.facilities], inp.capacity, strict=True):
        g.add_edge(f + "#in", f, capacity=round(kv), weight=0)
        if f not in converters:
            g.add_edge("S", f + "#in", capacity=round(kv), weight=0)
    f0 = inp.baseline
    ub = np.where(inp.blocked > 0, (1 - inp.blocked) * f0, np.inf)
    for s, b, k, u, c in zip(e["supplier"].astype(str), e["buyer"].astype(str), e["kind"], ub, inp.cost,
                             strict=True):
        attrs: dict[str, Any] = {"weight": round(c)}
        if np.isfinite(u):
            attrs["capacity"] = round(u)
        g.add_edge(s, b + "#in" if k == "input" else b, **attrs)
    for mkt in ids[model.markets]:
        g.add_edge(mkt, "S", weight=0)
    g.nodes["S"]["demand"] = 0  # S's outflow returns through the dump arcs or ends in use demand
    g.nodes["S"]["demand"] = -total
    t1 = time.perf_counter()
    _, flow = nx.network_simplex(g)
    solve = time.perf_counter() - t1
    short = sum(flow["S"].get(u, 0) / max(d, 1.0) for u, d in zip(ids[model.uses], demand, strict=True))
    return solve, short


def bench(n: int, repeat: int, objective: str, with_nx: bool, blocks: bool = False) -> dict[str, Any]:
    rng = np.random.default_rng(n)
    t0 = time.perf_counter()
    nodes, edges = layered_network(n)
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = RebalanceModel(nodes, edges, reroute=False, objective=objective,  # type: ignore[arg-type]
                           cold_solver="ipm")
    build = time.perf_counter() - t0
    n_blocks, col_block, _ = constraint_blocks(model)
    biggest = int(np.bincount(col_block).max())
    base = model.year_inputs(nodes, edges)
    shocks = [random_shock(rng, model, base) for _ in range(repeat + 1)]
    solver: Any = model
    if blocks:
        solver = BlockRebalance(model)
        ref = RebalanceModel(nodes, edges, reroute=False, objective=objective,  # type: ignore[arg-type]
                             cold_solver="ipm")
    cold, warm, warm_small = [], [], []
    for s in shocks[:repeat]:
        sol = solver.solve(s, warm=False)
        cold.append(sol.seconds)
        if blocks:
            want = ref.solve(s, warm=False).objectives
            worst = max(abs(sol.objectives[k] - v) / max(1.0, abs(v)) for k, v in want.items())
            print(f"  blocks vs monolithic: largest relative difference of a level's optimum {worst:.1e}")
    for s in shocks[1:]:
        warm.append(solver.solve(s, warm=True).seconds)  # another random ban, from the last basis
        warm_small.append(solver.solve(replace(s, demand=s.demand * 1.02), warm=True).seconds)  # next "year"
    out: dict[str, Any] = {
        "objective": objective, "nodes": len(model.nodes), "edges": len(edges),
        "lp_cols": model._h.getNumCol(), "lp_rows": model._h.getNumRow(), "blocks": n_blocks,
        "largest_block_cols": biggest, "solver": "blocks" if blocks else "monolithic",
        "generate_s": gen, "build_s": build,
        "cold_s": statistics.median(cold), "warm_new_ban_s": statistics.median(warm),
        "warm_next_year_s": statistics.median(warm_small),
    }
    if with_nx:
        out["nx_simplex_s"], _ = network_simplex_time(model, shocks[0])
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--objective", nargs="+", default=["weighted", "lexicographic"])
    ap.add_argument("--lex-max", type=int, default=20_000, help="largest size to run the lexicographic LP on")
    ap.add_argument("--no-nx", action="store_true", help="skip networkx network_simplex")
    ap.add_argument("--nx-max", type=int, default=20_000, help="largest size to run network_simplex on")
    ap.add_argument("--blocks", action="store_true", help="solve block by block (supplychain.simulation.blocks)")
    args = ap.parse_args()
    rows = []
    for n in args.sizes:
        for i, obj in enumerate(args.objective):
            if obj == "lexicographic" and n > args.lex_max:
                continue
            r = bench(n, args.repeat, obj, with_nx=i == 0 and not args.no_nx and n <= args.nx_max, blocks=args.blocks)
            rows.append(r)
            line = (f"{obj:>13} n={r['nodes']:>7} edges={r['edges']:>8} LP {r['lp_cols']}x{r['lp_rows']} "
                    f"blocks {r['blocks']} (largest {r['largest_block_cols']} cols)  "
                    f"build {r['build_s']:.2f}s  cold {r['cold_s']:.2f}s  warm(new ban) {r['warm_new_ban_s']:.2f}s  "
                    f"warm(next year) {r['warm_next_year_s']:.2f}s  "
                    f"speed-up x{r['cold_s'] / r['warm_next_year_s']:.1f}")
            if "nx_simplex_s" in r:
                line += f"  networkx {r['nx_simplex_s']:.2f}s"
            print(line, flush=True)
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
