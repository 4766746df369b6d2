"""What a year's response did, as tables: flows (every tonne placed), stock draws and releases, unsold output.

The driver (:class:`~supplychain.simulation.run.Simulator`) hands each year's edge tonnes
after the response here: :func:`flow_frame` makes the flow rows (with
:func:`flow_status`), the stock helpers turn draws on stock edges into releases beyond the
baseline, :func:`with_sinks` and :func:`facility_unsold` place material made that no buyer
takes, :func:`utilisation` gives each facility's output against its capacity, and
:func:`gainers_table` the suppliers whose exports grew. Every tonne the response leaves
somewhere has a row, so that the flows of every market close (in = out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from supplychain.graph.sums import group_sums
from supplychain.simulation.stocks import StockLedger

if TYPE_CHECKING:
    pass

FLOW_COLUMNS = [
    "year", "edge", "entity", "supplier", "buyer", "supplier_country", "buyer_country", "commodity", "stage",
    "kind", "origin", "baseline_t", "tonnes", "change_t", "blocked_share", "cost_per_t", "status", "variant",
]
"""Columns of ``Result.flows``.

Besides the network's edges, every tonne the response leaves somewhere has a row, so that the
flows of every market close (in = out): ``kind`` ``unsold`` (material made that no buyer takes,
to ``<country>:<commodity>:unsold``; entity ``response.unsold``) and ``stock`` release rows
(``stockpiles.release.<market>``, entity ``stock_release``: stock drawn beyond the baseline)."""

TRADE_COLUMNS = ["year", "supplier_country", "buyer_country", "commodity", "kind", "baseline_t", "tonnes",
                 "blocked_share", "variant"]
"""Columns of :func:`trade_frame` (with ``variant``, added when a run's years are stacked): those of
:data:`FLOW_COLUMNS` that :func:`~supplychain.simulation.world.flow_sums` reads."""

TOL = 1e-6
"""Tonnes (and share of the baseline) below which a flow, a change or a draw is none: the LP's round-off.

A flow within this of zero is zero (``rebalance.FLOW_TOL``); one within this share of its baseline
tonnes (and within this many t) is reported as the baseline, with ``change_t`` 0 and status
``normal`` (:func:`flow_status`). HiGHS' primal feasibility tolerance is 10⁻⁷: measured
differences were 2.4·10⁻¹¹ t on a 600 t edge and 4.1·10⁻⁸ t on a 10.13 t edge."""



def flow_status(
    baseline: np.ndarray[Any, np.dtype[np.float64]],
    tonnes: np.ndarray[Any, np.dtype[np.float64]],
    blocked: np.ndarray[Any, np.dtype[np.float64]],
    deal: np.ndarray[Any, np.dtype[np.bool_]],
) -> np.ndarray[Any, np.dtype[np.object_]]:
    """Status of each edge after the response.

    ``blocked``: a baseline flow that a policy cut to nothing; ``new``: a flow
    on an edge without baseline tonnes; ``deal``: a flow an agreement exempted,
    committed or favoured; ``reduced`` / ``rerouted``: less / more than the
    baseline (re-routed material arriving on an existing edge); else ``normal``.
    Tolerance: 10⁻⁶ relative (and 10⁻⁶ t).

    Examples
    --------
    >>> flow_status(np.array([10.0, 10.0, 0.0, 10.0, 10.0]), np.array([0.0, 5.0, 3.0, 12.0, 10.0]),
    ...             np.array([1.0, 0.0, 0.0, 0.0, 0.0]), np.zeros(5, dtype=bool)).tolist()
    ['blocked', 'reduced', 'new', 'rerouted', 'normal']
    """
    tol = TOL * np.maximum(1.0, baseline)
    out = np.full(len(baseline), "normal", dtype=object)
    out[tonnes > baseline + tol] = "rerouted"
    out[tonnes < baseline - tol] = "reduced"
    out[deal & (tonnes > tol)] = "deal"
    out[(baseline <= tol) & (tonnes > tol)] = "new"
    out[deal & (tonnes > tol) & (baseline <= tol)] = "deal"
    out[(baseline > tol) & (blocked > 0) & (tonnes <= tol)] = "blocked"
    return out


def settled_tonnes(baseline: Any, tonnes: Any) -> np.ndarray[Any, np.dtype[np.float64]]:
    r"""Tonnes after the response, a flow within the LP's round-off of its baseline read as the baseline.

    :math:`x_e \leftarrow x^0_e` where :math:`|x_e - x^0_e| \le \text{TOL} \cdot \max(1, x^0_e)`
    (:data:`TOL`), else :math:`x_e`: the ``tonnes`` of :func:`flow_frame` and :func:`trade_frame`.

    Examples
    --------
    >>> settled_tonnes(np.array([600.0, 10.0]), np.array([600.0 + 2.4e-11, 12.0])).tolist()
    [600.0, 12.0]
    """
    base = np.asarray(baseline, dtype=float)
    t = np.asarray(tonnes, dtype=float)
    out: np.ndarray[Any, np.dtype[np.float64]] = np.where(np.abs(t - base) <= TOL * np.maximum(1.0, base), base, t)
    return out


def trade_frame(year: int, table: pd.DataFrame, baseline: Any, tonnes: Any, blocked: Any) -> pd.DataFrame:
    """Return the rows of :func:`flow_frame` of ``table``'s edges of ``kind`` ``trade``, in :data:`TRADE_COLUMNS` only.

    What :func:`~supplychain.simulation.world.flow_sums` reads (``Simulator(outputs="headline")``,
    for :func:`supplychain.api.compare`'s exposure note), without the other columns, the status of
    each edge or the response's rows; the values are :func:`flow_frame`'s, row for row.
    """
    at = np.flatnonzero(table["kind"].to_numpy() == "trade")
    base = np.asarray(baseline, dtype=float)[at]
    return pd.DataFrame({
        "year": np.full(len(at), year, dtype=np.int64),
        "supplier_country": table["supplier_country"].to_numpy()[at],
        "buyer_country": table["buyer_country"].to_numpy()[at],
        "commodity": table["commodity"].to_numpy()[at],
        "kind": table["kind"].to_numpy()[at],
        "baseline_t": base,
        "tonnes": settled_tonnes(base, np.asarray(tonnes, dtype=float)[at]),
        "blocked_share": np.asarray(blocked, dtype=float)[at],
    })


def flow_frame(year: int, table: pd.DataFrame, baseline: Any, tonnes: Any, blocked: Any, cost: Any,
                deal: Any, *, origin: str | None = None, unsold: Mapping[Any, float] | None = None,
                drawn: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Flow rows of the edges of ``table``, then those of :func:`_response_rows` (:data:`FLOW_COLUMNS` but ``variant``).

    ``origin``: one origin for every edge row (default the table's ``origin``, else ``observed``).
    """
    n = len(table)
    base = np.asarray(baseline, dtype=float)
    t = settled_tonnes(base, tonnes)
    b = np.asarray(blocked, dtype=float)

    def text(col: str, default: str) -> np.ndarray[Any, np.dtype[Any]]:
        return table[col].to_numpy() if col in table else np.full(n, default, dtype=object)

    cols: dict[str, Any] = {
        "year": np.full(n, year, dtype=np.int64),
        "edge": np.array([str(e) for e in table["edge"].tolist()], dtype=object),
        "entity": (np.array([str(e) for e in table["entity"].tolist()], dtype=object) if "entity" in table
                   else table["origin"].to_numpy()),
        "supplier": table["supplier"].to_numpy(),
        "buyer": table["buyer"].to_numpy(),
        "supplier_country": table["supplier_country"].to_numpy(),
        "buyer_country": table["buyer_country"].to_numpy(),
        "commodity": table["commodity"].to_numpy(),
        "stage": text("stage", ""),
        "kind": table["kind"].to_numpy(),
        "origin": np.full(n, origin, dtype=object) if origin is not None else text("origin", "observed"),
        "baseline_t": base,
        "tonnes": t,
        "change_t": t - base,
        "blocked_share": b,
        "cost_per_t": np.asarray(cost, dtype=float),
        "status": flow_status(base, t, b, np.asarray(deal, dtype=bool)),
    }
    extra = _response_rows(year, unsold or {}, drawn or {})
    if extra:
        cols = {c: np.concatenate([cols[c], extra[c]]) for c in cols}
    return pd.DataFrame(cols)


def stock_edge_draws(edges: pd.DataFrame) -> dict[str, float]:
    """Tonnes drawn per market on baseline stock edges (``C:k:stock`` → ``C:k``)."""
    sup = [str(x) for x in edges["supplier"].tolist()]
    at = [i for i, x in enumerate(sup) if x.endswith(":stock")]
    if not at:
        return {}
    t = edges["tonnes"].to_numpy(dtype=float)[at].tolist()
    return group_sums([sup[i].rsplit(":", 1)[0] for i in at], t)


def limit_stock_edges(edges: pd.DataFrame, b: np.ndarray[Any, np.dtype[np.float64]],
                      ledger: StockLedger) -> np.ndarray[Any, np.dtype[np.float64]]:
    r"""Block the part of each stock edge's baseline draw that the stock may not release this year.

    A stock edge ``C:k:stock → C:k`` drawing :math:`t` from a stock that may release
    :math:`R < t` this year (:meth:`~supplychain.simulation.stocks.StockLedger.available`:
    :math:`R = s L`, the level times the release share) loses the share :math:`x = 1 - R/t`,
    combined with the share :math:`b` already blocked as independent cuts:
    :math:`b' = 1 - (1 - b)(1 - x) = b + x - b x`. ``b`` is updated in place and returned.
    """
    levels = ledger.available()
    if not levels:
        return b
    tonnes = edges["tonnes"].to_numpy(dtype=float)
    for i, s in enumerate(str(x) for x in edges["supplier"].tolist()):
        if not s.endswith(":stock"):
            continue
        m = s.rsplit(":", 1)[0]
        t = float(tonnes[i])
        if t > 0 and m in levels and levels[m] < t:
            b[i] = b[i] + (1.0 - levels[m] / t) - b[i] * (1.0 - levels[m] / t)
    return b


def baseline_stock_gap(base: Mapping[str, float], gaps: Mapping[str, float]) -> dict[str, float]:
    """Gap a stock must fill in the fixed response: its baseline draw plus the final-use shortfall.

    ``base``: the baseline draws per market (:func:`stock_edge_draws`).
    """
    return {m: base.get(m, 0.0) + gaps.get(m, 0.0) for m in set(base) | set(gaps)}


def net_of_baseline_draw(base: Mapping[str, float], drawn: Mapping[str, float]) -> dict[str, float]:
    """Stock drawn per market beyond its baseline draw, ``max(0, drawn − base)`` (a release the response made)."""
    return {m: max(0.0, d - base.get(m, 0.0)) for m, d in drawn.items()}


def apply_stock_cover(short: pd.DataFrame, drawn: Mapping[str, float]) -> pd.DataFrame:
    """Deliver stock drawn at a final use's market against its shortfall (the fixed response's stock cover).

    Per row: ``cover = min(drawn(market), shortfall_t)`` moves from ``shortfall_t`` to
    ``delivered_t``; ``shortfall_share = shortfall_t / demand_t`` (NaN without demand:
    :func:`supplychain.metrics.exposure.shortfall_share`).
    """
    from supplychain.metrics.exposure import shortfall_share

    if not drawn:
        return short
    keys = [f"{c}:{k}" for c, k in zip(short["country"].tolist(), short["commodity"].tolist(), strict=True)]
    cover = np.array([drawn.get(k, np.nan) for k in keys], dtype=float)
    gap = short["shortfall_t"].to_numpy(dtype=float)
    cover = np.minimum(np.where(np.isnan(cover), 0.0, cover), gap)
    d = short["demand_t"].to_numpy(dtype=float)
    left = gap - cover
    return short.assign(delivered_t=short["delivered_t"].to_numpy(dtype=float) + cover, shortfall_t=left,
                        shortfall_share=shortfall_share(left, d))


def simulated_nodes(nodes: pd.DataFrame, edges: pd.DataFrame, tonnes: Any, draws: Mapping[str, float]) -> pd.DataFrame:
    """Node table after the response: primary production = simulated output of primary producers."""
    primary = nodes["primary"].to_numpy(dtype=float) if "primary" in nodes else np.zeros(len(nodes))
    primary = np.where(np.isnan(primary), 0.0, primary)
    t = np.asarray(tonnes, dtype=float)
    ids = [str(i) for i in nodes["node"].tolist()]
    kind = np.array([str(k) for k in nodes["kind"].tolist()], dtype=object)
    into = {str(b) for b in edges["buyer"].to_numpy()[t > 0].tolist()}
    primary_fac = (kind == "facility") & np.array([i not in into and (p > 0 or "." in i)
                                                   for i, p in zip(ids, primary.tolist(), strict=True)], dtype=bool)
    sel = np.flatnonzero(primary_fac | (kind == "stock"))
    chosen = {ids[i] for i in sel.tolist()}
    sup = [str(s) for s in edges["supplier"].tolist()]
    out_of = [i for i, s in enumerate(sup) if s in chosen]  # edges out of the chosen nodes: their output
    out = group_sums([sup[i] for i in out_of], t[out_of].tolist())
    primary[sel] = _lookup(out, [ids[i] for i in sel.tolist()])
    release = [m for m, d in draws.items() if d > TOL]
    at = {node: i for i, node in enumerate(ids)}
    for m in release:  # a stock node that is there adds the draw to its primary
        if f"{m}:stock" in at:
            primary[at[f"{m}:stock"]] += draws[m]
    nodes = nodes.assign(primary=primary)
    new = [m for m in release if f"{m}:stock" not in at]
    if new:  # a draw from a market without a stock node: the node, with the draw as its primary
        extra = pd.DataFrame({
            "node": [f"{m}:stock" for m in new], "kind": "stock",
            "country": [m.split(":")[0] for m in new], "commodity": [m.split(":")[1] for m in new],
            "primary": [draws[m] for m in new],
        })
        nodes = pd.concat([nodes, extra], ignore_index=True)
    return nodes.reset_index(drop=True)


def deliver_draws(edges: pd.DataFrame, tonnes: Any, drawn: Mapping[str, float]) -> np.ndarray[Any, np.dtype[Any]]:
    """Add what a response draws from a market's stock to that market's final-use edges.

    ``drawn`` is the final use's part of each release (the holder's plants' part is on their
    input edges already: :meth:`Simulator._propagate`, and in ``rebalance`` the LP's re-solve).
    The stock covers its own market's final use (:meth:`Simulator._fixed_response`, and in
    ``rebalance`` what is left short after the re-routing:
    :meth:`~supplychain.simulation.stocks.StockRoutes.record`); the draw is split over the
    market's use edges by their shortfall, so each use edge carries what its use node gets.
    """
    t = np.array(tonnes, dtype=float)
    if not drawn:
        return t
    sup = np.array([str(s) for s in edges["supplier"].tolist()], dtype=object)
    is_use = np.array([str(b).endswith(":use") for b in edges["buyer"].tolist()], dtype=bool)
    gap = np.maximum(0.0, edges["tonnes"].to_numpy(dtype=float) - t)
    for m, d in drawn.items():
        sel = np.flatnonzero(is_use & (sup == m))
        g = gap[sel]
        if d > TOL and sel.size and g.sum() > 0:
            t[sel] += np.minimum(g, d * g / g.sum())
    return t


def facility_unsold(edges: pd.DataFrame, unsold: Any) -> dict[tuple[str, str, str], float]:
    """Unsold output of the ``fixed`` response per (facility, country, commodity) (:func:`curtail`)."""
    u = np.asarray(unsold, dtype=float)
    at = np.flatnonzero(u > TOL)
    out: dict[tuple[str, str, str], float] = {}
    if not at.size:
        return out
    cols = [edges[c].to_numpy()[at].tolist() for c in ("supplier", "supplier_country", "commodity")]
    for s, c, k, x in zip(*cols, u[at].tolist(), strict=True):
        key = (str(s), str(c), str(k))
        out[key] = out.get(key, 0.0) + x
    return out


def unsold_by_facility(unsold: Mapping[tuple[str, str, str], float]) -> dict[str, float]:
    """Sum :func:`facility_unsold` per facility."""
    out: dict[str, float] = {}
    for (f, _, _), t in unsold.items():
        out[f] = out.get(f, 0.0) + t
    return out


def _response_rows(year: int, unsold: Mapping[Any, float], drawn: Mapping[str, float]) -> dict[str, Any]:
    """Flow rows of what the response leaves: unsold material and stock released beyond the baseline.

    ``unsold`` is keyed by market id (the LP: a market's unsold column) or by
    (facility, country, commodity) (``fixed``: output no buyer takes). With them every
    market's flows close.
    """
    rows = []
    for key, t in sorted(unsold.items(), key=lambda kv: str(kv[0])):
        if t <= TOL:
            continue
        if isinstance(key, tuple):
            supplier, country, commodity = key
        else:
            supplier, (country, commodity) = key, key.split(":", 1)
        rows.append({"edge": f"unsold.{supplier}.{commodity}" if isinstance(key, tuple) else f"unsold.{key}",
                     "entity": "response.unsold", "supplier": supplier, "buyer": f"{country}:{commodity}:unsold",
                     "supplier_country": country, "buyer_country": country, "commodity": commodity,
                     "kind": "unsold", "tonnes": t, "status": "unsold"})
    for m, d in sorted(drawn.items()):
        if d <= TOL:
            continue
        country, commodity = m.split(":", 1)
        rows.append({"edge": f"stockpiles.release.{m}", "entity": "stock_release", "supplier": f"{m}:stock",
                     "buyer": m, "supplier_country": country, "buyer_country": country, "commodity": commodity,
                     "kind": "stock", "tonnes": d, "status": "stock"})
    if not rows:
        return {}
    n = len(rows)
    tonnes = np.array([r["tonnes"] for r in rows], dtype=float)
    fill: dict[str, Any] = {"year": np.full(n, year, dtype=np.int64), "stage": np.full(n, "", dtype=object),
                            "origin": np.full(n, "response", dtype=object), "baseline_t": np.zeros(n),
                            "tonnes": tonnes, "change_t": tonnes.copy(), "blocked_share": np.zeros(n),
                            "cost_per_t": np.zeros(n)}
    return {c: fill[c] if c in fill else np.array([r[c] for r in rows], dtype=object) for c in FLOW_COLUMNS[:-1]}


def with_sinks(nodes: pd.DataFrame, unsold: Sequence[tuple[Any, Any, Any]]) -> pd.DataFrame:
    """Add the response's unsold sinks (``<market>:unsold``, kind ``unsold``) to a year's node table.

    ``unsold``: (buyer, buyer country, commodity) of the year's unsold flow rows.
    """
    if not unsold:
        return nodes
    known = set(nodes["node"].tolist())
    first: dict[Any, tuple[Any, Any]] = {}
    for b, c, k in unsold:
        if b not in first and b not in known:
            first[b] = (c, k)
    if not first:
        return nodes
    extra = pd.DataFrame({"node": list(first), "kind": "unsold", "country": [c for c, _ in first.values()],
                          "commodity": [k for _, k in first.values()], "primary": 0.0})
    return pd.concat([nodes, extra], ignore_index=True)


def add_release_edges(edges: pd.DataFrame, draws: Mapping[str, float]) -> pd.DataFrame:
    """Add a ``stockpiles.release.<market>`` stock edge per market that drew more than :data:`TOL` beyond baseline."""
    rows = [
        {"edge": f"stockpiles.release.{m}", "entity": "stock_release", "supplier": f"{m}:stock", "buyer": m,
         "supplier_country": m.split(":")[0], "buyer_country": m.split(":")[0], "commodity": m.split(":")[1],
         "stage": "", "tonnes": d, "kind": "stock", "origin": "stock"}
        for m, d in sorted(draws.items()) if d > TOL
    ]
    if not rows:
        return edges
    return pd.concat([edges, pd.DataFrame(rows)], ignore_index=True)


def _lookup(sums: Mapping[str, float], ids: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """``sums[i]`` for each id, 0 where missing or NaN (``ids.map(sums).fillna(0)``)."""
    v = np.array([sums.get(i, np.nan) for i in ids], dtype=float)
    return np.where(np.isnan(v), 0.0, v)


def utilisation(year: int, nodes: pd.DataFrame, edges: pd.DataFrame, tonnes: Any,
                 off_capacity: Mapping[str, float], capacity: Mapping[str, float] | None = None,
                 unsold: Mapping[str, float] | None = None) -> pd.DataFrame:
    """Capacity, output and its change per facility: ``curtailed_t`` = baseline − output where it fell.

    ``output_t`` is the reference output shipped; ``unsold_t`` what the facility made beyond
    that (``fixed``: joint products nobody takes; the LP reports unsold material at markets).
    """
    at = np.flatnonzero(np.array([str(k) == "facility" for k in nodes["kind"].tolist()], dtype=bool))

    def col(name: str) -> list[str]:
        return [str(x) for x in nodes[name].to_numpy()[at].tolist()]

    ids = col("node")
    fcom = col("commodity")
    t = np.asarray(tonnes, dtype=float)
    ref = dict(zip(ids, fcom, strict=True))
    sup = [str(s) for s in edges["supplier"].tolist()]
    is_ref = [i for i, (s, c) in enumerate(zip(sup, (str(c) for c in edges["commodity"].tolist()), strict=True))
              if ref.get(s) == c]
    ref_sup = [sup[i] for i in is_ref]
    out = group_sums(ref_sup, t[is_ref].tolist())
    out0 = group_sums(ref_sup, edges["tonnes"].to_numpy(dtype=float)[is_ref].tolist())
    cap = nodes["capacity"].to_numpy(dtype=float)[at] if "capacity" in nodes else np.full(len(at), np.nan)
    if capacity is not None:
        cap = np.array([capacity.get(i, c) for i, c in zip(ids, cap.tolist(), strict=True)], dtype=float)
    if off_capacity:
        cap = np.array([off_capacity.get(i, c) for i, c in zip(ids, cap.tolist(), strict=True)], dtype=float)
    o = _lookup(out, ids)
    o0 = _lookup(out0, ids)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(cap > 0, o / cap, np.nan)
    return pd.DataFrame({
        "year": year, "facility": np.array(ids, dtype=object), "country": np.array(col("country"), dtype=object),
        "commodity": np.array(fcom, dtype=object),
        "facility_kind": np.array(col("facility_kind"), dtype=object) if "facility_kind" in nodes else "",
        "capacity_t": cap, "baseline_t": o0, "output_t": o, "utilisation": u,
        "spare_t": np.where(np.isnan(cap), np.nan, np.maximum(0.0, cap - o)),
        "curtailed_t": np.where(o0 - o > TOL * np.maximum(1.0, o0), o0 - o, 0.0),
        "unsold_t": _lookup(dict(unsold or {}), ids),
    })


def gainers_table(flows: pd.DataFrame) -> pd.DataFrame:
    """Suppliers whose cross-border deliveries grew, per year, variant, country and commodity.

    Per key (year, variant, supplier country, commodity) of the cross-border flows, summed as pandas'
    group sums (:func:`~supplychain.graph.sums.group_sums`): ``gain_t`` = Σ ``tonnes`` − Σ ``baseline_t``,
    kept where it exceeds 10⁻⁶ × max(1, Σ ``baseline_t``).

    Returns
    -------
    pandas.DataFrame
        ``year``, ``variant``, ``supplier_country``, ``commodity``, ``baseline_t``, ``tonnes``,
        ``gain_t`` (> 0), ``buyers`` (countries receiving more), largest gain first.
    """
    cols = ["year", "variant", "supplier_country", "commodity", "baseline_t", "tonnes", "gain_t", "buyers"]
    if flows.empty:
        return pd.DataFrame(columns=cols)
    sc = flows["supplier_country"].to_numpy()
    tr = np.flatnonzero(sc != flows["buyer_country"].to_numpy())
    keys = list(zip(*(flows[c].to_numpy()[tr].tolist() for c in cols[:4]), strict=True))
    base = group_sums(keys, flows["baseline_t"].to_numpy(dtype=float)[tr].tolist())
    tonnes = group_sums(keys, flows["tonnes"].to_numpy(dtype=float)[tr].tolist())
    up: dict[Any, set[str]] = {}
    buyer = flows["buyer_country"].to_numpy()[tr].tolist()
    for k, b, c in zip(keys, buyer, flows["change_t"].to_numpy(dtype=float)[tr].tolist(), strict=True):
        if c > TOL:
            up.setdefault(k, set()).add(str(b))
    rows = []
    for k in sorted(base):
        gain = tonnes[k] - base[k]
        if gain > TOL * max(1.0, base[k]):
            rows.append((k, base[k], tonnes[k], gain, ",".join(sorted(up.get(k, ())))))
    rows.sort(key=lambda r: (r[0][0], -r[3]))
    return pd.DataFrame({
        "year": np.array([r[0][0] for r in rows], dtype=flows["year"].to_numpy().dtype),
        "variant": np.array([r[0][1] for r in rows], dtype=object),
        "supplier_country": np.array([r[0][2] for r in rows], dtype=object),
        "commodity": np.array([r[0][3] for r in rows], dtype=object),
        "baseline_t": np.array([r[1] for r in rows], dtype=float),
        "tonnes": np.array([r[2] for r in rows], dtype=float),
        "gain_t": np.array([r[3] for r in rows], dtype=float),
        "buyers": np.array([r[4] for r in rows], dtype=object if rows else float),  # empty: as pandas makes it
    })

