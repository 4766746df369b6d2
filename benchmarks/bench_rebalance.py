"""Benchmark of the re-routing LP (``supplychain.simulation.rebalance``).

On a synthetic layered network (ore → oxide → metal → magnet, every converter
with yield 1 so that the same instance is also a pure min-cost-flow problem):

* build the LP once (arrays → CSC → ``passModel``);
* solve it cold after a random export ban (all four lexicographic levels);
* re-solve it warm for another random ban (bounds and costs changed only), for the
  next year of that ban (the whole pattern +2 %, demand with it, as a simulated year is
  built: :func:`next_year`) and, with ``--solvers``, for one ban toggled off and on
  again (the change of a ``compare`` variant) and for demand +2 % on the same pattern
  (:func:`demand_only`, the "next year" of the benchmark before 26 November 2026);
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

Second instance family, ``--chains K`` (default 1: the layered network above):
:func:`chain_network`, K independent commodity chains of ``n // K`` nodes each,
every chain a layered network of its own (own commodities ore→oxide→metal→magnet,
own markets, use nodes and facilities; per country and layer the same market, use
node and 3 facilities; trade with up to 75 partners) over countries drawn from one
shared pool of 200 names, so that a country's export ban hits every chain it trades
in. This is the shape of the issue's reference figures (one LP per independent
commodity chain). K = 50 is the number of mineral commodities on the USGS 2022 List
of Critical Minerals, one chain per mineral; it was chosen before any timing. At
100k nodes a chain has 2,000 nodes (100 countries, 75 partners: ~16 edges per node,
as the layered network); at 10k a chain has 200 nodes, i.e. 10 countries, whose
markets all trade with each other: ~3 edges per node, the most a chain of that size
can have in this shape. ``--solvers`` times several solvers side by side on the same
instance and the same shocks (monolithic, block by block, block by block without
re-use of unchanged blocks, block by block on 2 threads) and checks every optimum of
a block solver against the monolithic one; on the chain instance it adds *warm (one
chain)*, the bans of one chain re-drawn (a ban on one mineral)::

    .venv/bin/python benchmarks/bench_rebalance.py --sizes 10000 --chains 50 --objective weighted \
        --solvers monolithic blocks blocks-noreuse blocks-2threads

``--fold on|off|both|ab`` builds the LP with facility flows folded into their activities
(``RebalanceModel(fold=True)``, the default: ``supplychain.simulation.fold``), as
formulated (``off``), or both, timed one after the other in the same run on the same
shocks (``both``) or interleaved shock by shock (``ab``: every shock solved by the folded
and the unfolded model back to back, in alternating order, so that a slow spell of the
machine hits both; the optima are compared too)::

    .venv/bin/python benchmarks/bench_rebalance.py --sizes 10000 --chains 5 --objective weighted \
        --solvers blocks-2threads --fold ab

``--cold-solver`` picks HiGHS' method for the first level of a solve from scratch
(default ``choose``, dual simplex, as ``RebalanceModel``; ``ipm``: interior point +
crossover). ``--cold-study N`` solves one N-node layered chain (N = 2000: one block of
the 100k chain instance) from scratch under several HiGHS settings and counts the
edge flows the optimum moves (the study is in the history of ``docs/performance.md``:
``git log -p docs/performance.md``).

Goals: 10k nodes ≤ 1 s cold, ≤ 0.15 s warm; 100k nodes ≤ 10 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from supplychain.simulation.blocks import BlockRebalance, constraint_blocks
from supplychain.simulation.highs import PERTURB
from supplychain.simulation.rebalance import RebalanceModel, YearInputs

LAYERS = ("ore", "oxide", "metal", "magnet")


def layered_network(n_nodes: int, *, degree: int = 75, per_country: int = 3, seed: int = 0,
                    countries: Sequence[str] | None = None, layers: Sequence[str] = LAYERS,
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A balanced layered supply network of about ``n_nodes`` nodes and 16 edges per node.

    Per country and layer: one market, one use node and ``per_country`` facilities
    (mines on the ore layer, converters with yield 1 from the previous layer above).
    Each producing market exports ~30 % of its output to ``degree`` random partners;
    each market passes half of what it holds to the next layer's converters and the
    rest to final use. ``countries`` and ``layers`` only rename (default: ``K00000``…
    and :data:`LAYERS`); the random draws are the same.
    """
    rng = np.random.default_rng(seed)
    if countries is None:
        k = max(4, n_nodes // (len(layers) * (2 + per_country)))
        countries = [f"K{i:05d}" for i in range(k)]
    countries = np.asarray(countries, dtype=str)
    k = len(countries)
    d = min(degree, k - 1)
    node_rows: list[pd.DataFrame] = []
    edge_rows: list[pd.DataFrame] = []
    prod = np.zeros(k)
    for li, c in enumerate(layers):
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
                "edge": np.char.add("in.", fac), "supplier": np.char.add(np.char.add(fac_c, ":"), layers[li - 1]),
                "buyer": fac, "supplier_country": fac_c, "buyer_country": fac_c, "commodity": layers[li - 1],
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
        nxt = 0.5 * held if li < len(layers) - 1 else np.zeros(k)
        edge_rows.append(pd.DataFrame({
            "edge": np.char.add("use.", mk), "supplier": mk, "buyer": use, "supplier_country": countries,
            "buyer_country": countries, "commodity": c, "tonnes": held - nxt, "kind": "use"}))
        prod = nxt
    nodes = pd.concat(node_rows, ignore_index=True)
    edges = pd.concat(edge_rows, ignore_index=True)
    edges["stage"] = edges["commodity"]
    edges = edges[edges["tonnes"] > 0].reset_index(drop=True)
    return nodes, edges


def chain_network(n_nodes: int, chains: int, *, countries: int = 200, seed: int = 0
                  ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``chains`` independent commodity chains of ``n_nodes // chains`` nodes each (about ``n_nodes`` in all).

    Chain ``i`` is :func:`layered_network` of its share of the nodes (seed ``seed + i``)
    with its own commodities ``ore{i}`` → ``oxide{i}`` → ``metal{i}`` → ``magnet{i}`` and
    so its own markets, use nodes and facilities. Its countries are drawn from one
    pool of ``countries`` names shared by all chains (about the number of countries in
    the world), so a ban of a country's exports hits every chain it trades in, as a
    real export ban hits several minerals.
    """
    rng = np.random.default_rng(seed)
    pool = np.array([f"K{i:05d}" for i in range(countries)])
    m = n_nodes // chains
    parts = []
    for i in range(chains):
        k = max(4, m // (len(LAYERS) * (2 + 3)))  # as layered_network with per_country=3
        names = pool if k >= countries else np.sort(rng.choice(pool, size=k, replace=False))
        parts.append(layered_network(m, seed=seed + i, countries=names.tolist(),
                                     layers=tuple(f"{c}{i:02d}" for c in LAYERS)))
    nodes = pd.concat([p[0] for p in parts], ignore_index=True)
    edges = pd.concat([p[1] for p in parts], ignore_index=True)
    return nodes, edges


def one_chain_shock(rng: np.random.Generator, model: RebalanceModel, s: YearInputs, share: float = 0.1
                    ) -> YearInputs:
    """``s`` with the bans of one random commodity chain re-drawn (its trade edges only; costs unchanged).

    The other chains' bounds and costs are those of ``s``: the case of a ban on one mineral.
    """
    e = model.edges
    chain = e["commodity"].astype(str).str[-2:].to_numpy()
    pick = rng.choice(np.unique(chain))
    countries = e["supplier_country"].unique()
    banned = rng.choice(countries, size=max(1, int(share * len(countries))), replace=False)
    mine = (e["kind"] == "trade").to_numpy() & (chain == pick)
    blocked = s.blocked.copy()
    blocked[mine] = np.where(e["supplier_country"].isin(banned).to_numpy()[mine], 1.0, 0.0)
    return replace(s, blocked=blocked)


def lift_one_ban(rng: np.random.Generator, model: RebalanceModel, s: YearInputs) -> YearInputs:
    """``s`` with the export ban of one random banned country lifted (a deal exempting it); all else equal.

    The variant a ``compare`` run toggles: one policy switched, the rest of the scenario as it was.
    """
    sup = model.edges["supplier_country"].to_numpy()
    lifted = rng.choice(np.unique(sup[s.blocked > 0]))
    return replace(s, blocked=np.where(sup == lifted, 0.0, s.blocked))


def random_shock(rng: np.random.Generator, model: RebalanceModel, base: YearInputs, share: float = 0.1) -> YearInputs:
    """Ban all exports of a random 10 % of countries; a 20 % tariff-like cost on 5 % of trade edges."""
    e = model.edges
    countries = e["supplier_country"].unique()
    banned = rng.choice(countries, size=max(1, int(share * len(countries))), replace=False)
    trade = (e["kind"] == "trade").to_numpy()
    blocked = np.where(trade & e["supplier_country"].isin(banned).to_numpy(), 1.0, 0.0)
    cost = np.where(trade & (rng.random(len(e)) < 0.05), 100.0, 0.0)
    return replace(base, blocked=blocked, cost=cost)


GROWTH = 0.02
"""Growth of the synthetic world from one year to the next (every flow of the pattern)."""


def grown_year(model: RebalanceModel, nodes: pd.DataFrame, edges: pd.DataFrame, growth: float = GROWTH
               ) -> YearInputs:
    r"""The policy-free inputs of the next year: every baseline flow ``× (1 + growth)``.

    As :func:`~supplychain.api.simulate` builds a year: from that year's
    balanced graph (:mod:`supplychain.graph.allocate` closes every year's flows), so that
    :meth:`~supplychain.simulation.rebalance.RebalanceModel.year_inputs` gives demand
    :math:`D_u` = the baseline inflow of each use node and the capacities
    :math:`K_v = \max(\text{capacity}_v, \text{baseline output}_v)` of the grown pattern.
    """
    return model.year_inputs(nodes, edges.assign(tonnes=edges["tonnes"].to_numpy(dtype=float) * (1.0 + growth)))


def next_year(s: YearInputs, grown: YearInputs) -> YearInputs:
    """The shock ``s`` (its bans and costs) a year on: on ``grown``, the next year's graph (:func:`grown_year`)."""
    return replace(grown, blocked=s.blocked, cost=s.cost)


def demand_only(s: YearInputs, growth: float = GROWTH) -> YearInputs:
    """``s`` with demand ``× (1 + growth)`` on the same baseline pattern: a harder case than :func:`next_year`.

    Inputs a simulated year never has (demand above the pattern's inflow of each use
    node, which :meth:`~supplychain.simulation.rebalance.RebalanceModel.year_inputs`
    makes equal): all of the growth must be met off the baseline. Timed beside the next
    year for comparison with the figures of the sessions before 26 November 2026, when
    it was the benchmark's "next year".
    """
    return replace(s, demand=s.demand * (1.0 + growth))


def block_solver(name: str, model: RebalanceModel) -> Any:
    """The solver ``name`` of :data:`SOLVERS` over ``model`` (``monolithic``: the model itself)."""
    if name == "monolithic":
        return model
    return BlockRebalance(model, reuse=name != "blocks-noreuse", threads=2 if name == "blocks-2threads" else 1)


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


def instance(n: int, chains: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The layered network (``chains == 1``) or :func:`chain_network` of ``chains`` chains."""
    return layered_network(n) if chains == 1 else chain_network(n, chains)


def prepare(n: int, repeat: int, objective: str, chains: int, cold_solver: str = "choose",
            cold_start: str = "baseline", fold: bool = True,
            ) -> tuple[pd.DataFrame, pd.DataFrame, RebalanceModel, list[YearInputs], float, float, int, int]:
    """Build an instance, its model and ``repeat + 1`` random shocks (the same for every solver of a run).

    Returns nodes, edges, the model, the shocks, generation and build seconds, the number of
    independent blocks and the columns of the largest.
    """
    rng = np.random.default_rng(n)
    t0 = time.perf_counter()
    nodes, edges = instance(n, chains)
    gen = time.perf_counter() - t0
    t0 = time.perf_counter()
    model = RebalanceModel(nodes, edges, reroute=False, objective=objective,  # type: ignore[arg-type]
                           cold_solver=cold_solver, cold_start=cold_start, fold=fold)  # type: ignore[arg-type]
    build = time.perf_counter() - t0
    n_blocks, col_block, _ = constraint_blocks(model)
    biggest = int(np.bincount(col_block).max())
    base = model.year_inputs(nodes, edges)
    shocks = [random_shock(rng, model, base) for _ in range(repeat + 1)]
    return nodes, edges, model, shocks, gen, build, n_blocks, biggest


def bench(n: int, repeat: int, objective: str, with_nx: bool, blocks: bool = False, chains: int = 1,
          cold_solver: str = "choose") -> dict[str, Any]:
    nodes, edges, model, shocks, gen, build, n_blocks, biggest = prepare(n, repeat, objective, chains, cold_solver)
    grown = grown_year(model, nodes, edges)
    solver: Any = model
    if blocks:
        solver = BlockRebalance(model)
        ref = RebalanceModel(nodes, edges, reroute=False, objective=objective,  # type: ignore[arg-type]
                             cold_solver=cold_solver)
    cold, warm, warm_small = [], [], []
    for s in reversed(shocks[:repeat]):  # ends with shocks[0]: every warm "new ban" differs from the last solve
        sol = solver.solve(s, warm=False)
        cold.append(sol.seconds)
        if blocks:
            want = ref.solve(s, warm=False).objectives
            worst = max(abs(sol.objectives[k] - v) / max(1.0, abs(v)) for k, v in want.items())
            print(f"  blocks vs monolithic: largest relative difference of a level's optimum {worst:.1e}")
    for s in shocks[1:]:
        warm.append(solver.solve(s, warm=True).seconds)  # another random ban, from the last basis
        warm_small.append(solver.solve(next_year(s, grown), warm=True).seconds)
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


SOLVERS = ("monolithic", "blocks", "blocks-noreuse", "blocks-2threads")


def bench_solvers(n: int, repeat: int, objective: str, with_nx: bool, chains: int, solvers: Sequence[str],
                  cold_solver: str = "choose", cold_start: str = "baseline", fold: bool = True) -> list[dict[str, Any]]:
    """Time several solvers on the same instance and the same shocks; one row per solver.

    The shocks are those of :func:`bench`. After each new ban, *warm (demand +2 % only)*
    (:func:`demand_only`) is timed from the ban's optimum and the ban re-solved (untimed)
    before its next year. On the chain instance each round ends with
    *warm (one chain)*: the last shock with the bans of one random chain re-drawn (the
    other chains' LPs unchanged). Each round then toggles one ban (*warm (toggle one ban)*:
    :func:`lift_one_ban` of the last shock, then the last shock again, both timed): the
    change a ``compare`` variant makes. Every optimum of a block solver is compared with the
    monolithic model's for the same inputs when ``monolithic`` is among ``solvers``.
    """
    nodes, edges, model, shocks, gen, build, n_blocks, biggest = prepare(n, repeat, objective, chains, cold_solver,
                                                                         cold_start, fold)
    grown = grown_year(model, nodes, edges)
    one_rng = np.random.default_rng(n + 1)
    one = [one_chain_shock(one_rng, model, next_year(s, grown)) for s in shocks[1:]] if chains > 1 \
        else []
    last = one or [next_year(s, grown) for s in shocks[1:]]  # the last solve of each round
    toggle_rng = np.random.default_rng(n + 2)
    lifted = [lift_one_ban(toggle_rng, model, s) for s in last]
    ref: list[dict[str, float]] | None = None
    rows: list[dict[str, Any]] = []
    for name in solvers:
        t0 = time.perf_counter()
        solver = block_solver(name, model)
        extra = time.perf_counter() - t0
        objs: list[dict[str, float]] = []
        cold, warm, warm_small, warm_one, redone, warm_toggle, warm_demand = [], [], [], [], [], [], []
        for s in reversed(shocks[:repeat]):  # ends with shocks[0]: every warm "new ban" differs from the last solve
            sol = solver.solve(s, warm=False)
            cold.append(sol.seconds)
            objs.append(sol.objectives)
        for i, s in enumerate(shocks[1:]):
            sol = solver.solve(s, warm=True)  # another random ban, from the last basis
            warm.append(sol.seconds)
            objs.append(sol.objectives)
            sol = solver.solve(demand_only(s), warm=True)  # the harder case, then back to the ban's optimum
            warm_demand.append(sol.seconds)
            objs.append(sol.objectives)
            objs.append(solver.solve(s, warm=True).objectives)
            sol = solver.solve(next_year(s, grown), warm=True)
            warm_small.append(sol.seconds)
            objs.append(sol.objectives)
            if one:
                sol = solver.solve(one[i], warm=True)  # a ban on one mineral
                warm_one.append(sol.seconds)
                objs.append(sol.objectives)
                redone.append(getattr(solver, "last_solved", n_blocks))
            for inp in (lifted[i], last[i]):  # one ban toggled off, then on again
                sol = solver.solve(inp, warm=True)
                warm_toggle.append(sol.seconds)
                objs.append(sol.objectives)
        if name == "monolithic":
            ref = objs
        elif ref is not None:
            worst = max(abs(o[k] - v) / max(1.0, abs(v)) for o, r in zip(objs, ref, strict=True) for k, v in r.items())
            print(f"  {name} vs monolithic: largest relative difference of a level's optimum over "
                  f"{len(objs)} solves {worst:.1e}", flush=True)
        r: dict[str, Any] = {
            "objective": objective, "cold_solver": cold_solver, "fold": fold, "chains": chains,
            "nodes": len(model.nodes),
            "edges": len(edges),
            "lp_cols": model._h.getNumCol(), "lp_rows": model._h.getNumRow(), "blocks": n_blocks,
            "largest_block_cols": biggest, "solver": name, "generate_s": gen, "build_s": build + extra,
            "cold_s": statistics.median(cold), "warm_new_ban_s": statistics.median(warm),
            "warm_next_year_s": statistics.median(warm_small),
            "warm_toggle_s": statistics.median(warm_toggle),
            "warm_demand_only_s": statistics.median(warm_demand),
        }
        if one:
            r["warm_one_chain_s"] = statistics.median(warm_one)
            r["one_chain_blocks_resolved"] = statistics.median(redone)
        rows.append(r)
        line = (f"{objective:>13} {name:>15} cold={cold_solver} fold={'on' if fold else 'off'} chains={chains} "
                f"n={r['nodes']:>7} "
                f"edges={r['edges']:>8} "
                f"LP {r['lp_cols']}x{r['lp_rows']} blocks {n_blocks} (largest {biggest} cols)  "
                f"build {r['build_s']:.2f}s  cold {r['cold_s']:.3f}s  warm(new ban) {r['warm_new_ban_s']:.3f}s  "
                f"warm(next year) {r['warm_next_year_s']:.3f}s  warm(toggle one ban) {r['warm_toggle_s']:.3f}s  "
                f"warm(demand +2 % only) {r['warm_demand_only_s']:.3f}s")
        if one:
            line += (f"  warm(one chain) {r['warm_one_chain_s']:.3f}s "
                     f"({r['one_chain_blocks_resolved']:g} blocks re-solved)")
        # what re-using the compiled model buys: cold time over warm time
        r["speedup_new_ban"] = r["cold_s"] / r["warm_new_ban_s"]
        r["speedup_next_year"] = r["cold_s"] / r["warm_next_year_s"]
        line += (f"  speed-up of warm starts x{r['speedup_new_ban']:.1f} (new ban), "
                 f"x{r['speedup_next_year']:.1f} (next year)")
        r["cold_range_s"] = (min(cold), max(cold))
        r["warm_new_ban_range_s"] = (min(warm), max(warm))
        r["warm_next_year_range_s"] = (min(warm_small), max(warm_small))
        r["warm_toggle_range_s"] = (min(warm_toggle), max(warm_toggle))
        r["warm_demand_only_range_s"] = (min(warm_demand), max(warm_demand))
        line += (f"  ranges: cold {min(cold):.3f}-{max(cold):.3f}s, new ban {min(warm):.3f}-{max(warm):.3f}s, "
                 f"next year {min(warm_small):.3f}-{max(warm_small):.3f}s, "
                 f"toggle {min(warm_toggle):.3f}-{max(warm_toggle):.3f}s, "
                 f"demand only {min(warm_demand):.3f}-{max(warm_demand):.3f}s")
        print(line, flush=True)
    if with_nx and rows:
        rows[0]["nx_simplex_s"], _ = network_simplex_time(model, shocks[0])
        print(f"  networkx network_simplex {rows[0]['nx_simplex_s']:.2f}s", flush=True)
    return rows


def bench_fold_ab(n: int, repeat: int, objective: str, chains: int, solver: str) -> list[dict[str, Any]]:
    """Time the folded and the unfolded model on the same shocks, interleaved; one row per model.

    Each shock is solved by both models back to back (the order alternating from shock to
    shock), the bench's sequence otherwise: ``repeat`` solves from scratch, then per shock a
    warm new ban and a warm next year. Every optimum of the folded model is compared with the
    unfolded one's (largest relative difference of a level printed).
    """
    nodes, edges, folded, shocks, _gen, _build, _nb, _big = prepare(n, repeat, objective, chains)
    grown = grown_year(folded, nodes, edges)
    plain = RebalanceModel(nodes, edges, reroute=False, objective=objective, fold=False)  # type: ignore[arg-type]
    pair: list[Any] = [folded, plain]
    if solver != "monolithic":
        pair = [block_solver(solver, m) for m in pair]
    times: list[dict[str, list[float]]] = [{"cold": [], "new ban": [], "next year": []} for _ in pair]
    worst = 0.0

    def both(k: int, kind: str, inp: YearInputs, warm: bool) -> None:
        nonlocal worst
        order = (0, 1) if k % 2 == 0 else (1, 0)
        sols = {}
        for i in order:
            sols[i] = pair[i].solve(inp, warm=warm)
            times[i][kind].append(sols[i].seconds)
        a, b = sols[0].objectives, sols[1].objectives
        worst = max([worst, *(abs(a[key] - v) / max(1.0, abs(v)) for key, v in b.items())])

    for k, s in enumerate(reversed(shocks[:repeat])):
        both(k, "cold", s, warm=False)
    for k, s in enumerate(shocks[1:]):
        both(k, "new ban", s, warm=True)
        both(k + 1, "next year", next_year(s, grown), warm=True)
    print(f"  folded vs unfolded: largest relative difference of a level's optimum {worst:.1e}", flush=True)
    rows = []
    for label, t, m in (("on", times[0], folded), ("off", times[1], plain)):
        r: dict[str, Any] = {"objective": objective, "chains": chains, "nodes": len(m.nodes), "solver": solver,
                             "fold": label, "lp_cols": m._h.getNumCol(), "lp_rows": m._h.getNumRow()}
        parts = []
        for kind, v in t.items():
            r[f"{kind}_s"] = statistics.median(v)
            parts.append(f"{kind} {statistics.median(v):.3f}s ({min(v):.3f}-{max(v):.3f})")
        print(f"{objective:>13} {solver:>15} fold={label:<3} LP {r['lp_cols']}x{r['lp_rows']}  " + "  ".join(parts),
              flush=True)
        rows.append(r)
    return rows


COLD_SETTINGS: tuple[tuple[str, str, str, dict[str, Any], int, bool], ...] = (
    ("dual simplex, folded LP, baseline basis (default)", "choose", "baseline", {}, 3, True),
    ("dual simplex, LP as formulated (fold=False), baseline basis", "choose", "baseline", {}, 3, False),
    ("dual simplex, LP as formulated, HiGHS' slack basis", "choose", "slack", {}, 3, False),
    ("dual simplex, LP as formulated, slack basis, presolve on", "choose", "slack", {"presolve": "on"}, 3, False),
    ("dual simplex, folded, HiGHS' cost perturbation on every level", "choose", "baseline", {PERTURB: 1.0}, 3, True),
    ("dual simplex, folded, Devex pricing", "choose", "baseline", {"simplex_dual_edge_weight_strategy": 1}, 3, True),
    ("interior point + crossover, folded", "ipm", "baseline", {}, 3, True),
    ("dual simplex, folded, HiGHS' default dual tolerance 1e-7", "choose", "baseline",
     {"dual_feasibility_tolerance": 1e-7}, 1, True),
)
"""Cold-start settings of :func:`cold_study`: label, ``cold_solver``, ``cold_start``, HiGHS options, shocks
solved, whether the LP is folded (``RebalanceModel(fold=...)``)."""


def cold_study(n: int, objective: str) -> pd.DataFrame:
    """Solve one chain of ``n`` nodes (the layered network) from scratch under each of :data:`COLD_SETTINGS`.

    Reports, per shock, the seconds and simplex/IPM iterations of the solve, the edges whose
    ban removed flow and the edges whose optimal flow differs from the baseline: how much
    of the network a from-scratch solve has to move.
    """
    nodes, edges = layered_network(n)
    rows = []
    for label, cold_solver, cold_start, options, n_shocks, fold in COLD_SETTINGS:
        model = RebalanceModel(nodes, edges, reroute=False, objective=objective,  # type: ignore[arg-type]
                               cold_solver=cold_solver, options=options,
                               cold_start=cold_start, fold=fold)  # type: ignore[arg-type]
        rng = np.random.default_rng(n)  # the same shocks for every setting
        base = model.year_inputs(nodes, edges)
        for k in range(n_shocks):
            s = random_shock(rng, model, base)
            sol = model.solve(s, warm=False)
            moved = np.abs(sol.tonnes - s.baseline) > 1e-9 * np.maximum(1.0, s.baseline)
            rows.append({"setting": label, "shock": k, "seconds": sol.seconds, "iterations": sol.iterations,
                         "banned_edges_with_flow": int(((s.blocked > 0) & (s.baseline > 0)).sum()),
                         "edges_moved": int(moved.sum()), "edges": len(s.baseline),
                         "objective": next(iter(sol.objectives.values()))})
            r = rows[-1]
            print(f"{label:>50} shock {k}: {r['seconds']:.3f}s {r['iterations']} iterations, "
                  f"{r['edges_moved']} of {r['edges']} edge flows moved "
                  f"({r['banned_edges_with_flow']} banned)", flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--objective", nargs="+", default=["weighted", "lexicographic"])
    ap.add_argument("--lex-max", type=int, default=20_000, help="largest size to run the lexicographic LP on")
    ap.add_argument("--no-nx", action="store_true", help="skip networkx network_simplex")
    ap.add_argument("--nx-max", type=int, default=20_000, help="largest size to run network_simplex on")
    ap.add_argument("--blocks", action="store_true", help="solve block by block (supplychain.simulation.blocks)")
    ap.add_argument("--chains", type=int, default=1,
                    help="independent commodity chains (default 1: the layered network; 50: the USGS 2022 list)")
    ap.add_argument("--solvers", nargs="+", choices=SOLVERS,
                    help="time these solvers side by side on the same instance and shocks (replaces --blocks)")
    ap.add_argument("--cold-solver", default="choose", choices=("choose", "ipm", "simplex"),
                    help="HiGHS method of the first level of a solve from scratch (default: "
                         "HiGHS' choice, dual simplex, as RebalanceModel's default)")
    ap.add_argument("--cold-start", default="baseline", choices=("baseline", "slack"),
                    help="basis of a simplex solve from scratch (RebalanceModel cold_start; with --solvers)")
    ap.add_argument("--fold", default="on", choices=("on", "off", "both", "ab"),
                    help="fold facility flows into their activities (RebalanceModel fold; with --solvers): "
                         "on (default), off (the LP as formulated), both (one after the other) or ab "
                         "(interleaved shock by shock, first solver of --solvers only)")
    ap.add_argument("--cold-study", type=int, metavar="N",
                    help="instead: solve one N-node chain from scratch under several HiGHS settings "
                         "(N = 2000 is one block of the 100k chain instance)")
    args = ap.parse_args()
    if args.cold_study:
        for obj in args.objective:
            print(cold_study(args.cold_study, obj).to_string(index=False))
        return
    if args.solvers and args.fold == "ab":
        rows = [r for n in args.sizes for obj in args.objective
                for r in bench_fold_ab(n, args.repeat, obj, args.chains, args.solvers[0])]
        print(pd.DataFrame(rows).to_string(index=False))
        return
    if args.solvers:
        rows = []
        folds = {"on": (True,), "off": (False,), "both": (True, False)}[args.fold]
        for n in args.sizes:
            for i, obj in enumerate(args.objective):
                if obj == "lexicographic" and n > args.lex_max:
                    continue
                for k, fold in enumerate(folds):
                    rows += bench_solvers(n, args.repeat, obj,
                                          with_nx=i == 0 and k == 0 and not args.no_nx and n <= args.nx_max,
                                          chains=args.chains, solvers=args.solvers, cold_solver=args.cold_solver,
                                          cold_start=args.cold_start, fold=fold)
        print(pd.DataFrame(rows).to_string(index=False))
        return
    rows = []
    for n in args.sizes:
        for i, obj in enumerate(args.objective):
            if obj == "lexicographic" and n > args.lex_max:
                continue
            r = bench(n, args.repeat, obj, with_nx=i == 0 and not args.no_nx and n <= args.nx_max, blocks=args.blocks,
                      chains=args.chains, cold_solver=args.cold_solver)
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
