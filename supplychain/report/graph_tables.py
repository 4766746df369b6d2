"""Input of the network pictures: node and edge tables from a graph, normalised, compared, restricted.

:func:`to_dot <supplychain.report.dot.to_dot>` accepts a networkx graph or a
``(nodes, edges)`` pair with a few spellings of the tonnes columns; the helpers
here turn either into one node table (``node, kind, country, commodity, stage,
name, primary``) and one edge table (``edge, supplier, buyer, commodity, tonnes,
before, status``), join a variant against its baseline and keep one commodity's
chain.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final

import networkx as nx
import numpy as np
import pandas as pd

from supplychain.report.dot_style import _finite

GraphLike = Any
"""A ``networkx.MultiDiGraph`` (nodes and edges carrying the table columns) or a ``(nodes, edges)`` pair."""

_AFTER_COLS: Final = ("simulated_t", "tonnes_simulated", "simulated_tonnes", "simulated", "tonnes", "quantity")
_BEFORE_COLS: Final = ("baseline_t", "tonnes_baseline", "baseline_tonnes", "baseline")


def _graph_tables(graph: GraphLike) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Node and edge DataFrames from a networkx graph or a ``(nodes, edges)`` pair."""
    if isinstance(graph, nx.Graph):
        node_rows = [{**data, "node": str(n)} for n, data in graph.nodes(data=True)]
        edge_rows: list[dict[str, Any]] = []
        if graph.is_multigraph():
            for u, v, k, data in graph.edges(keys=True, data=True):
                edge_rows.append({"edge": str(k), **data, "supplier": str(u), "buyer": str(v)})
        else:
            for u, v, data in graph.edges(data=True):
                edge_rows.append({"edge": f"{u}->{v}", **data, "supplier": str(u), "buyer": str(v)})
        return pd.DataFrame(node_rows), pd.DataFrame(edge_rows)
    if isinstance(graph, tuple) and len(graph) == 2:
        nodes, edges = graph
        if isinstance(nodes, pd.DataFrame) and isinstance(edges, pd.DataFrame):
            return nodes.copy(), edges.copy()
    msg = f"expected a networkx graph or a (nodes, edges) pair of DataFrames, got {type(graph).__name__}"
    raise TypeError(msg)


def _infer_kind(node_id: str) -> str:
    n = node_id.count(":")
    return "facility" if n == 0 else "market" if n == 1 else "use"


def _normalise_nodes(nodes: pd.DataFrame, edges: pd.DataFrame) -> pd.DataFrame:
    """One row per node id with ``kind, country, commodity, stage, name, primary, unit``.

    ``unit`` is the unit of mass of the node's commodity (the first word of its
    ``basis``: ``t``, ``kg`` …; ``t`` when the table has no basis).
    """
    if "node" not in nodes.columns:
        if nodes.index.name == "node" or (len(nodes) and not isinstance(nodes.index, pd.RangeIndex)):
            nodes = nodes.rename_axis("node").reset_index()
        else:
            nodes = nodes.assign(node=pd.Series(dtype=str))
    nodes = nodes.assign(node=nodes["node"].astype(str)).drop_duplicates("node", keep="last")
    known = set(nodes["node"])
    extra = sorted((set(edges["supplier"]) | set(edges["buyer"])) - known) if len(edges) else []
    if extra:
        nodes = pd.concat([nodes, pd.DataFrame({"node": extra})], ignore_index=True)
    out = pd.DataFrame({"node": nodes["node"].to_numpy()})
    parts = out["node"].str.split(":")
    inferred_kind = out["node"].map(_infer_kind)
    out["kind"] = _column(nodes, "kind", inferred_kind)
    out["country"] = _column(nodes, "country", parts.map(lambda p: p[0] if len(p) > 1 else ""))
    out["commodity"] = _column(nodes, "commodity", parts.map(lambda p: p[1] if len(p) > 1 else ""))
    out["stage"] = _column(nodes, "stage", pd.Series([""] * len(out)))
    out["name"] = _column(nodes, "name", pd.Series([""] * len(out)))
    prim = pd.to_numeric(nodes["primary"], errors="coerce") if "primary" in nodes.columns else None
    out["primary"] = prim.fillna(0.0).to_numpy() if prim is not None else 0.0
    basis = pd.Series(_column(nodes, "basis", pd.Series(["t"] * len(out))))
    out["unit"] = basis.map(lambda b: str(b).split(maxsplit=1)[0] if str(b).strip() else "t").to_numpy()
    return out.sort_values("node", kind="stable").reset_index(drop=True)


def commodity_unit(nodes: pd.DataFrame) -> dict[str, str]:
    """Commodity → unit of mass, read from the ``unit`` of normalised nodes (market nodes first)."""
    ordered = nodes.assign(_m=nodes["kind"].ne("market")).sort_values("_m", kind="stable")
    return {str(c): str(u) for c, u in zip(ordered["commodity"], ordered["unit"], strict=True) if c}


def _column(frame: pd.DataFrame, name: str, default: pd.Series) -> np.ndarray:
    """``frame[name]`` as strings, falling back to ``default`` where missing or empty."""
    dflt = default.astype(str).to_numpy()
    if name not in frame.columns:
        return dflt
    col = frame[name].to_numpy()
    out = np.array(
        [("" if (v is None or (isinstance(v, float) and math.isnan(v))) else str(v)) for v in col], dtype=object
    )
    return np.where(out == "", dflt, out)


def _pick(frame: pd.DataFrame, candidates: Sequence[str]) -> str | None:
    return next((c for c in candidates if c in frame.columns), None)


def _normalise_edges(edges: pd.DataFrame, *, with_before: bool) -> pd.DataFrame:
    """Edge table with ``edge, supplier, buyer, commodity, tonnes, before, status``."""
    if not len(edges):
        return pd.DataFrame(
            {c: pd.Series(dtype=float if c in ("tonnes", "before") else object) for c in _EDGE_COLS}
        )
    for col in ("supplier", "buyer"):
        if col not in edges.columns:
            msg = f"edge table has no {col!r} column (columns: {sorted(map(str, edges.columns))})"
            raise ValueError(msg)
    after = _pick(edges, _AFTER_COLS)
    if after is None:
        msg = f"edge table has no tonnes column (looked for {', '.join(_AFTER_COLS)})"
        raise ValueError(msg)
    before = _pick(edges, _BEFORE_COLS) if with_before else None
    out = pd.DataFrame(
        {
            "supplier": edges["supplier"].astype(str).to_numpy(),
            "buyer": edges["buyer"].astype(str).to_numpy(),
            "tonnes": pd.to_numeric(edges[after], errors="coerce").fillna(0.0).to_numpy(),
        }
    )
    out["edge"] = (
        edges["edge"].astype(str).to_numpy()
        if "edge" in edges.columns
        else (out["supplier"] + "->" + out["buyer"]).to_numpy()
    )
    from_id = out["buyer"].str.split(":").map(lambda p: p[1] if len(p) > 1 else "")
    out["commodity"] = _column(edges, "commodity", from_id)
    out["before"] = (
        pd.to_numeric(edges[before], errors="coerce").fillna(0.0).to_numpy() if before is not None else np.nan
    )
    if "status" in edges.columns:
        out["status"] = _column(edges, "status", pd.Series(["normal"] * len(out)))
    elif before is not None:
        out["status"] = [_derive_status(b, a) for b, a in zip(out["before"], out["tonnes"], strict=True)]
    else:
        out["status"] = "normal"
    return out[list(_EDGE_COLS)]


_EDGE_COLS: Final = ("edge", "supplier", "buyer", "commodity", "tonnes", "before", "status")


def _derive_status(before: float, after: float) -> str:
    """Status of a flow from its baseline and simulated tonnes."""
    b = 0.0 if before is None or not math.isfinite(before) else before
    tol = 1e-6 * max(abs(b), abs(after), 1.0)
    if b > tol and after <= tol:
        return "blocked"
    if b <= tol and after > tol:
        return "new"
    if after < b - tol:
        return "reduced"
    if after > b + tol:
        return "rerouted"
    return "normal"


def _merge_compare(after: pd.DataFrame, before: pd.DataFrame) -> pd.DataFrame:
    """Outer-join simulated and baseline edges on their id; status from the tonnes unless given."""
    had_status = bool((after["status"] != "normal").any())
    a: dict[str, dict[Any, Any]] = {str(r["edge"]): r for r in after.to_dict("records")}
    b: dict[str, dict[Any, Any]] = {str(r["edge"]): r for r in before.to_dict("records")}
    rows = []
    for eid in sorted(set(a) | set(b)):
        src = a.get(eid) or b[eid]
        t_after = float(a[eid]["tonnes"]) if eid in a else 0.0
        t_before = float(b[eid]["tonnes"]) if eid in b else 0.0
        status = str(a[eid]["status"]) if (eid in a and had_status) else _derive_status(t_before, t_after)
        rows.append(
            {
                "edge": eid,
                "supplier": src["supplier"],
                "buyer": src["buyer"],
                "commodity": src["commodity"],
                "tonnes": t_after,
                "before": t_before,
                "status": status,
            }
        )
    return pd.DataFrame(rows, columns=list(_EDGE_COLS))


def _traced_map(traced: pd.Series | Mapping[str, float] | None) -> dict[str, float]:
    if traced is None:
        return {}
    return {str(k): _finite(v) for k, v in traced.items()}


def _restrict_to_commodity(
    nodes: pd.DataFrame, edges: pd.DataFrame, commodities: Sequence[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Keep the nodes of ``commodities`` and everything upstream and downstream of them."""
    present = set(nodes["commodity"])
    missing = [c for c in commodities if c not in present]
    if missing:
        have = sorted(c for c in present if c)
        what = ", ".join(repr(c) for c in missing)
        msg = f"commodity {what} is not in the graph; it has: {', '.join(have) or '(none)'}"
        raise ValueError(msg)
    seeds = set(nodes.loc[nodes["commodity"].isin(list(commodities)), "node"])
    g = nx.DiGraph()
    g.add_nodes_from(nodes["node"])
    g.add_edges_from(zip(edges["supplier"], edges["buyer"], strict=True))
    keep = set(seeds)
    for s in seeds:
        keep |= nx.ancestors(g, s) | nx.descendants(g, s)
    e = edges[edges["supplier"].isin(keep) & edges["buyer"].isin(keep)]
    return nodes[nodes["node"].isin(keep)].reset_index(drop=True), e.reset_index(drop=True)
