"""Graphviz pictures of the supply network, coloured by traced China share.

:func:`to_dot` turns one year's node and edge tables (or their networkx view)
into a :class:`graphviz.Digraph`; :func:`render` writes it as ``.svg``, ``.png``
or ``.dot``. The picture is meant for a briefing reader:

* **Stages read left to right.** One column band per stage, in the order ore →
  oxide → metal → magnet → product, then final use/demand. Inside a stage the
  plants come first, then the country pools ("markets") that only export, then
  the pools that import from other pools, each as a ``rank=same`` column (so a
  stage is at most three columns wide; a re-export between importers is drawn
  inside its column without pulling the layout apart).
* **Colour = exposure.** Nodes are filled by their traced China share (DOMAIN.md
  measure 3: the share of a node's material mined or processed in China at any
  upstream stage) on a six-step yellow → dark-red scale whose breaks include the
  25 % policy target; a legend explains colours and line styles.
* **Width = tonnes.** Edge pen width grows with the square root of tonnes
  (so a flow 4× larger is drawn 2× wider), clamped to 0.8–8 pt. Flows are
  labelled with k-formatted tonnes; beyond 40 flows only the ones that changed,
  are 5 % of the largest flow or bring a quarter of their buyer's supply are
  (every flow keeps a tooltip with its tonnes).
* **Status = line style.** Blocked flows are dashed blue (drawn at their
  baseline width so the loss is visible), reduced flows light blue, re-routed
  (increased) flows purple, deal-enabled and new flows bold green.
* **Legible at any size.** Above ``max_nodes`` nodes, plants are folded into
  their country's pool for that stage ("US · NdPr oxide, incl. 2 plants"), then
  nodes whose every flow is a small share (< x %, x raised step by step from 1 %)
  of the partner's flow of that commodity are folded into one "Other" node per
  stage, kind and commodity.

Before/after
------------
With ``compare_to`` (the baseline graph) or an edge table that carries baseline
tonnes and a ``status`` column (``Result.flows``), the picture is a **diff view**:
one network, drawn at the simulated state, with every change marked (blocked,
reduced, re-routed, new, deal) and node labels reading ``before → after``. We
chose this over two pictures side by side: the eye does not have to find the
same node twice, and the changes are exactly what is highlighted. The untouched
baseline is drawn by calling :func:`to_dot` on the baseline alone.
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import graphviz
import networkx as nx
import numpy as np
import pandas as pd
import pycountry

from supplychain.errors import SupplyChainError
from supplychain.io.atomic import atomic_write
from supplychain.report.escape import Html, clean_text, dot_quote, format_attrs, html_text, shorten
from supplychain.schema.types import STAGES

if TYPE_CHECKING:
    from supplychain.schema.model import Scenario

__all__ = [
    "SHARE_BINS",
    "STATUS_STYLES",
    "GraphvizNotFoundError",
    "RenderError",
    "ShareBin",
    "country_name",
    "format_change",
    "format_share",
    "format_tonnes",
    "names_of",
    "render",
    "render_bytes",
    "share_bin",
    "to_dot",
]

GraphLike = Any
"""A ``networkx.MultiDiGraph`` (nodes and edges carrying the table columns) or a ``(nodes, edges)`` pair."""


# ----------------------------------------------------------------- colour scale
@dataclass(frozen=True)
class ShareBin:
    """One step of the traced-share colour scale: shares in ``[low, high)`` (the last step includes 1)."""

    low: float
    """Lower bound (inclusive)."""
    high: float
    """Upper bound (exclusive, except for the last bin)."""
    fill: str
    """Fill colour (hex)."""
    font: str
    """Text colour that reads on ``fill``."""
    label: str
    """Legend text."""


SHARE_BINS: Final[tuple[ShareBin, ...]] = (
    ShareBin(0.00, 0.05, "#ffffb2", "#222222", "0–5 %"),
    ShareBin(0.05, 0.25, "#fed976", "#222222", "5–25 %"),
    ShareBin(0.25, 0.50, "#feb24c", "#222222", "25–50 %"),
    ShareBin(0.50, 0.75, "#fd8d3c", "#222222", "50–75 %"),
    ShareBin(0.75, 0.95, "#e31a1c", "#ffffff", "75–95 %"),
    ShareBin(0.95, 1.00, "#99000d", "#ffffff", "95–100 %"),
)
"""Six sequential steps (ColorBrewer YlOrRd); the 25 % break matches the policy target."""

NO_DATA_FILL: Final = "#ffffff"
"""Fill of a node whose traced share is unknown."""


def share_bin(share: float) -> ShareBin | None:
    """Return the colour step of a traced share, or ``None`` when the share is unknown (NaN).

    Examples
    --------
    >>> share_bin(0.3).label
    '25–50 %'
    >>> share_bin(1.0).label
    '95–100 %'
    >>> share_bin(float("nan")) is None
    True
    """
    if share is None or not math.isfinite(share):
        return None
    s = min(max(share, 0.0), 1.0)
    for b in SHARE_BINS:
        if b.low <= s < b.high:
            return b
    return SHARE_BINS[-1]


# ------------------------------------------------------------------- line styles
@dataclass(frozen=True)
class _EdgeStyle:
    color: str
    style: str
    legend: str
    sample: str


STATUS_STYLES: Final[Mapping[str, _EdgeStyle]] = {
    "normal": _EdgeStyle("#525252", "solid", "flow (width ∝ √tonnes)", "━━━"),
    "blocked": _EdgeStyle("#2166ac", "dashed", "blocked (baseline width)", "╺ ╺ ╺"),
    "reduced": _EdgeStyle("#4292c6", "solid", "reduced", "━━━"),
    "rerouted": _EdgeStyle("#762a83", "solid", "re-routed / increased", "━━━"),
    "deal": _EdgeStyle("#1a9850", "bold", "enabled by a deal", "━━━"),
    "new": _EdgeStyle("#1a9850", "bold", "new flow (new capacity)", "━━━"),
}
"""Colour, Graphviz style and legend text per flow status (``Result.flows.status``)."""

_STAGE_TITLES: Final = {
    "ore": "Ore & concentrate",
    "oxide": "Separated oxides",
    "metal": "Metal & alloy",
    "magnet": "Magnets",
    "product": "Products",
    "use": "Final use",
}
_BOX: Final = '<TD FIXEDSIZE="TRUE" WIDTH="18" HEIGHT="8"></TD>'
_SHAPE_KEY: Final = (
    (f'<TABLE STYLE="rounded" BORDER="1" CELLBORDER="0" CELLPADDING="1"><TR>{_BOX}</TR></TABLE>', "mine or plant"),
    (f'<TABLE BORDER="1" CELLBORDER="0" CELLPADDING="1"><TR>{_BOX}</TR></TABLE>', "country pool (output + imports)"),
    (
        '<TABLE BORDER="1" CELLBORDER="1" CELLPADDING="0" CELLSPACING="2"><TR>'
        '<TD FIXEDSIZE="TRUE" WIDTH="14" HEIGHT="5"></TD></TR></TABLE>',
        "final demand",
    ),
    (
        f'<TABLE STYLE="dashed" BORDER="1" CELLBORDER="0" CELLPADDING="1"><TR>{_BOX}</TR></TABLE>',
        "'Other' (small, folded)",
    ),
)
_FONT: Final = "Helvetica"
_MIN_PEN: Final = 0.8
_MAX_PEN: Final = 8.0
_FOLD_STEPS: Final = (0.01, 0.02, 0.05, 0.1, 0.2, 0.35)
_LABEL_ALL: Final = 40
"""Up to this many drawn flows every flow is labelled with its tonnes."""
_LABEL_SHARE: Final = 0.25
"""Beyond :data:`_LABEL_ALL` flows, label a flow that brings this share of its buyer's inflow …"""
_LABEL_OF_MAX: Final = 0.05
"""… or is this share of the largest flow drawn."""
_MAX_TRADE_DEPTH: Final = 1
"""Pools are drawn in at most two columns per stage: those that only export, and those that import."""
_MAX_FOLD_SHARE: Final = 0.2
"""A node carrying this share of its commodity's tonnes or more is never folded into 'Other'."""


# --------------------------------------------------------------------- formats
def format_tonnes(tonnes: float, unit: str = "t") -> str:
    """Format tonnes compactly: ``850 t``, ``1.3k t``, ``45k t``, ``1.2M t``.

    Examples
    --------
    >>> [format_tonnes(x) for x in (0, 0.04, 7.25, 850, 1294, 45455, 1_250_000)]
    ['0 t', '<0.1 t', '7.2 t', '850 t', '1.3k t', '45k t', '1.2M t']
    """
    if tonnes is None or not math.isfinite(tonnes):
        return "–"
    a = abs(tonnes)
    if a == 0:
        text = "0"
    elif a < 0.05:
        text = "<0.1"
    elif a < 10:
        text = f"{tonnes:.1f}"
    elif a < 1000:
        text = f"{tonnes:.0f}"
    elif a < 9950:
        text = f"{tonnes / 1e3:.1f}k"
    elif a < 999_500:
        text = f"{tonnes / 1e3:.0f}k"
    else:
        text = f"{tonnes / 1e6:.1f}M"
    return f"{text} {unit}"


def format_change(before: float, after: float, unit: str = "t") -> str:
    """Format a change of tonnes with the unit once: ``9.5k → 2.5k t``.

    Examples
    --------
    >>> format_change(9500, 2500)
    '9.5k → 2.5k t'
    """
    a = format_tonnes(before, unit).removesuffix(f" {unit}")
    b = format_tonnes(after, unit)
    return f"{a} → {b}"


def format_share(share: float) -> str:
    """Format a share in [0, 1] as a whole percentage (``<1%`` and ``>99%`` at the ends).

    Examples
    --------
    >>> [format_share(x) for x in (0.0, 0.004, 0.254, 0.996, 1.0)]
    ['0%', '<1%', '25%', '>99%', '100%']
    >>> format_share(float("nan"))
    'n/a'
    """
    if share is None or not math.isfinite(share):
        return "n/a"
    if 0 < share < 0.005:
        return "<1%"
    if 0.995 <= share < 1:
        return ">99%"
    return f"{share * 100:.0f}%"


# ------------------------------------------------------------- input handling
_AFTER_COLS: Final = ("simulated_t", "tonnes_simulated", "simulated_tonnes", "simulated", "tonnes")
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
    """One row per node id with ``kind, country, commodity, stage, name, primary``."""
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
    return out.sort_values("node", kind="stable").reset_index(drop=True)


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
    out: dict[str, float] = {}
    for k, v in traced.items():
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = math.nan
        out[str(k)] = f
    return out


# --------------------------------------------------------------------- folding
@dataclass
class _Group:
    """A node as drawn: one table node, or several folded together."""

    id: str
    kind: str
    country: str
    commodity: str
    stage: str
    name: str
    members: list[str] = field(default_factory=list)
    rep: str | None = None
    """Member whose traced share and throughput stand for the group (a country pool)."""
    other: bool = False


def _node_throughput(nodes: pd.DataFrame, edges: pd.DataFrame, col: str) -> dict[str, float]:
    """Tonnes through each node in its own commodity: max(in + primary, out)."""
    own = nodes.set_index("node")["commodity"]
    e = edges[[col, "supplier", "buyer", "commodity"]].copy()
    e[col] = e[col].fillna(0.0)
    inflow = e[e["commodity"].to_numpy() == own.reindex(e["buyer"]).to_numpy()].groupby("buyer")[col].sum()
    outflow = e[e["commodity"].to_numpy() == own.reindex(e["supplier"]).to_numpy()].groupby("supplier")[col].sum()
    prim = nodes.set_index("node")["primary"].astype(float)
    out: dict[str, float] = {}
    for n in nodes["node"]:
        out[n] = max(float(inflow.get(n, 0.0)) + float(prim.get(n, 0.0)), float(outflow.get(n, 0.0)))
    return out


def _aggregate_edges(edges: pd.DataFrame, mapping: Mapping[str, str]) -> pd.DataFrame:
    """Edges between groups: tonnes summed per (supplier group, buyer group, commodity, status)."""
    if not len(edges):
        return edges.assign(n=pd.Series(dtype=int))
    e = edges.assign(supplier=edges["supplier"].map(mapping), buyer=edges["buyer"].map(mapping))
    e = e[e["supplier"] != e["buyer"]]
    return (
        e.groupby(["supplier", "buyer", "commodity", "status"], sort=True, dropna=False)
        .agg(tonnes=("tonnes", "sum"), before=("before", lambda s: s.sum(min_count=1)), n=("edge", "size"),
             edge=("edge", "min"))
        .reset_index()
    )


def _small_groups(groups: Mapping[str, _Group], edges: pd.DataFrame, threshold: float) -> list[str]:
    """Return the groups whose every flow is below ``threshold`` of the partner's flow of that commodity."""
    if not len(edges):
        return []
    size = np.maximum(edges["tonnes"].to_numpy(), np.nan_to_num(edges["before"].to_numpy()))
    e = edges.assign(size=size)
    tot_in = e.groupby(["buyer", "commodity"])["size"].transform("sum")
    tot_out = e.groupby(["supplier", "commodity"])["size"].transform("sum")
    share_at_buyer = np.where(tot_in > 0, e["size"] / tot_in.where(tot_in > 0, 1.0), 0.0)
    share_at_supplier = np.where(tot_out > 0, e["size"] / tot_out.where(tot_out > 0, 1.0), 0.0)
    big: set[str] = set()
    big.update(e.loc[share_at_buyer >= threshold, "supplier"])
    big.update(e.loc[share_at_supplier >= threshold, "buyer"])
    return sorted(g for g, grp in groups.items() if not grp.other and g not in big)


def _other_key(grp: _Group) -> str:
    return f"other:{grp.kind}:{grp.stage}:{grp.commodity}"


def _fold(
    nodes: pd.DataFrame, edges: pd.DataFrame, max_nodes: int, focus: frozenset[str]
) -> tuple[dict[str, _Group], dict[str, str], list[str]]:
    """Fold nodes until at most ``max_nodes`` remain; returns groups, node → group map and notes.

    Nodes in ``focus`` countries are never folded into an "Other" node.
    """
    notes: list[str] = []
    groups: dict[str, _Group] = {}
    mapping: dict[str, str] = {}
    for row in nodes.itertuples(index=False):
        nid = str(row.node)
        groups[nid] = _Group(nid, str(row.kind), str(row.country), str(row.commodity), str(row.stage),
                             str(row.name), [nid], rep=nid)
        mapping[nid] = nid
    if len(groups) <= max_nodes:
        return groups, mapping, notes

    # 1. plants into their country's pool of their reference output
    pools: dict[str, list[str]] = {}
    for nid, grp in groups.items():
        if grp.kind == "facility":
            pools.setdefault(f"{grp.country}:{grp.commodity}", []).append(nid)
    for pool, members in sorted(pools.items()):
        if pool in groups:
            target = groups[pool]
        else:
            first = groups[members[0]]
            target = _Group(pool, "market", first.country, first.commodity, first.stage, "", [], rep=None)
            groups[pool] = target
            mapping[pool] = pool
        for m in members:
            target.members.append(m)
            del groups[m]
            mapping[m] = pool
    notes.append("plants folded into their country's pool")

    # 2. nodes whose flows are all small shares of their partners' flows
    for threshold in _FOLD_STEPS:
        if len(groups) <= max_nodes:
            break
        agg = _aggregate_edges(edges, mapping)
        small = [g for g in _small_groups(groups, agg, threshold) if groups[g].country not in focus]
        if _merge_into_other(groups, mapping, small):
            notes = [n for n in notes if not n.startswith("countries whose flows")]
            notes.append(f"countries whose flows are all under {threshold:.0%} of the partner's folded into 'Other'")

    # 3. still too many: fold the smallest nodes (share of their commodity's tonnes) into 'Other'
    if len(groups) > max_nodes:
        size_col = np.maximum(edges["tonnes"].to_numpy(), np.nan_to_num(edges["before"].to_numpy()))
        thr = _node_throughput(nodes, edges.assign(size=size_col), "size")
        size = {
            g: thr.get(grp.rep, 0.0) if grp.rep else sum(thr.get(m, 0.0) for m in grp.members)
            for g, grp in groups.items()
        }
        tot: dict[str, float] = {}
        for g, grp in groups.items():
            tot[grp.commodity] = tot.get(grp.commodity, 0.0) + size[g]
        rel = {g: size[g] / tot[grp.commodity] if tot[grp.commodity] else 0.0 for g, grp in groups.items()}
        cands = sorted(
            (g for g, grp in groups.items() if not grp.other and grp.country not in focus and rel[g] < _MAX_FOLD_SHARE),
            key=lambda g: (rel[g], g),
        )
        folded = 0
        pending: dict[str, str] = {}
        for g in cands:
            if len(groups) <= max_nodes:
                break
            key = _other_key(groups[g])
            if key in groups:
                folded += _merge_into_other(groups, mapping, [g])
            elif key in pending:
                folded += _merge_into_other(groups, mapping, [pending.pop(key), g])
            else:
                pending[key] = g
        if folded:
            notes.append("smallest remaining countries folded into 'Other'")
    return groups, mapping, notes


def _merge_into_other(groups: dict[str, _Group], mapping: dict[str, str], small: Sequence[str]) -> int:
    """Fold ``small`` groups into 'Other' groups; a lone node is never renamed 'Other'. Returns the count."""
    keys = [_other_key(groups[g]) for g in small]
    counts: dict[str, int] = {}
    for k in keys:
        counts[k] = counts.get(k, 0) + 1
    done = 0
    for g, key in zip(small, keys, strict=True):
        if key not in groups and counts[key] < 2:
            continue
        grp = groups.pop(g)
        target = groups.get(key)
        if target is None:
            kind = grp.kind if grp.kind in ("facility", "use") else "market"
            target = _Group(key, kind, "", grp.commodity, grp.stage, "", [], rep=None, other=True)
            groups[key] = target
            mapping[key] = key
        target.members.extend(grp.members)
        for m, tgt in list(mapping.items()):
            if tgt == g:
                mapping[m] = key
        done += 1
    return done


# ----------------------------------------------------------------------- layout
def _stage_index(stage: str) -> int:
    return STAGES.index(stage) if stage in STAGES else len(STAGES) - 1


def _columns(groups: Mapping[str, _Group], edges: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Column of each drawn node: (stage index, sub-column); final use last."""
    col: dict[str, tuple[int, int]] = {}
    trade = nx.DiGraph()
    for g, grp in groups.items():
        if grp.kind == "use":
            col[g] = (len(STAGES), 0)
        elif grp.kind in ("facility", "stock"):
            col[g] = (_stage_index(grp.stage), 0)
        else:
            trade.add_node(g)
    for row in edges.itertuples(index=False):
        s, b = str(row.supplier), str(row.buyer)
        if s in trade and b in trade and groups[s].stage == groups[b].stage:
            trade.add_edge(s, b)
    # drop back edges (cycles such as re-exports) in a deterministic DFS, then layer by longest path
    dag = nx.DiGraph()
    dag.add_nodes_from(sorted(trade.nodes))
    state: dict[str, int] = {}
    for root in sorted(trade.nodes):
        if root in state:
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(trade.successors(root))))]
        state[root] = 1
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
                continue
            if state.get(nxt) == 1:
                continue  # back edge
            dag.add_edge(node, nxt)
            if nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(sorted(trade.successors(nxt)))))
    depth: dict[str, int] = {}
    for n in nx.lexicographical_topological_sort(dag):
        depth[n] = max((depth[p] + 1 for p in dag.predecessors(n)), default=0)
    for g in trade.nodes:
        col[g] = (_stage_index(groups[g].stage), 1 + min(depth[g], _MAX_TRADE_DEPTH))
    return col


# ---------------------------------------------------------------------- drawing
@dataclass
class _Drawn:
    """Display values of one drawn node."""

    tonnes: float
    before: float
    share: float
    share_before: float


def _display_values(
    groups: Mapping[str, _Group],
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    traced: Mapping[str, float],
    traced_before: Mapping[str, float],
    diff: bool,
) -> dict[str, _Drawn]:
    thr_after = _node_throughput(nodes, edges, "tonnes")
    thr_before = _node_throughput(nodes, edges, "before") if diff else {}

    def combine(grp: _Group, thr: Mapping[str, float], shares: Mapping[str, float]) -> tuple[float, float]:
        if grp.rep is not None and grp.rep in thr:
            return thr[grp.rep], shares.get(grp.rep, math.nan)
        tot = sum(thr.get(m, 0.0) for m in grp.members)
        known = [(thr.get(m, 0.0), shares[m]) for m in grp.members if math.isfinite(shares.get(m, math.nan))]
        w = sum(t for t, _ in known)
        if w > 0:
            share = sum(t * s for t, s in known) / w
        elif known:
            share = sum(s for _, s in known) / len(known)
        else:
            share = math.nan
        return tot, share

    out: dict[str, _Drawn] = {}
    for g, grp in groups.items():
        t, s = combine(grp, thr_after, traced)
        tb, sb = combine(grp, thr_before, traced_before) if diff else (math.nan, math.nan)
        out[g] = _Drawn(t, tb, s, sb)
    return out


_SHORT_COUNTRY: Final = {
    "CD": "DR Congo",
    "EU": "European Union",
    "GB": "United Kingdom",
    "KR": "South Korea",
    "RU": "Russia",
    "ROW": "Rest of world",
    "TW": "Taiwan",
}


def country_name(code: str, names: Mapping[str, str] | None = None) -> str:
    """Display name of a country or region code: ``names`` first, then a short common name.

    Examples
    --------
    >>> country_name("US"), country_name("VN"), country_name("ROW"), country_name("XX")
    ('United States', 'Vietnam', 'Rest of world', 'XX')
    >>> country_name("EU", {"EU": "EU-27"})
    'EU-27'
    """
    if names and code in names:
        return names[code]
    if code in _SHORT_COUNTRY:
        return _SHORT_COUNTRY[code]
    if len(code) == 2:
        c = pycountry.countries.get(alpha_2=code)
        if c is not None:
            return str(getattr(c, "common_name", None) or c.name)
    return code


def names_of(scenario: Scenario | None) -> dict[str, str]:
    """Display names of a scenario's facilities, commodities, countries, regions, groups and projects.

    Parameters
    ----------
    scenario : Scenario or None
        The scenario (``None`` gives an empty mapping).

    Returns
    -------
    dict of str to str
        Id → display name, for the ``names`` argument of :func:`to_dot` and the charts.
    """
    if scenario is None:
        return {}
    out: dict[str, str] = {}
    out.update({k: v.name for k, v in scenario.facilities.items()})
    out.update({k: v.name for k, v in scenario.commodities.items()})
    out.update({k: v.name for k, v in scenario.countries.items() if v.name})
    out.update({k: v.name for k, v in scenario.regions.items()})
    out.update({k: v.name for k, v in scenario.groups.items() if v.name})
    for aid, ag in scenario.agreements.items():
        if ag.investment is not None:
            for pid, proj in ag.investment.projects.items():
                out[f"{aid}.{pid}"] = proj.name or f"{ag.name}: {pid}"
    return out


def _display_name(grp: _Group, names: Mapping[str, str]) -> tuple[str, str]:
    """(first line, second line) of a node label, unescaped."""
    commodity = names.get(grp.commodity, grp.commodity.replace("_", " "))
    if grp.other:
        countries = sorted({m.split(":")[0] for m in grp.members if ":" in m})
        n = len(countries) or len(grp.members)
        return f"Other · {commodity}", f"{n} countr{'y' if n == 1 else 'ies'}"
    if grp.kind == "use":
        return f"{country_name(grp.country, names)}", f"demand · {commodity}"
    if grp.kind == "stock":
        return f"{country_name(grp.country, names)}", f"stock · {commodity}"
    if grp.kind == "facility":
        name = grp.name or names.get(grp.id, grp.id.replace("_", " "))
        return name, f"{grp.country} · {commodity}"
    plants = [m for m in grp.members if m != grp.id]
    line2 = commodity
    if len(plants) == 1:
        line2 += f" · incl. {names.get(plants[0], plants[0])}"
    elif plants:
        line2 += f" · incl. {len(plants)} plants"
    return country_name(grp.country, names), line2


def _node_label(first: str, second: str, d: _Drawn, diff: bool) -> Html:
    top = html_text(shorten(clean_text(first), 34))
    mid = html_text(shorten(clean_text(second), 44))
    amount = format_tonnes(d.tonnes)
    share = f"{format_share(d.share)} China"
    if diff and format_tonnes(d.before) != amount:
        amount = format_change(d.before, d.tonnes)
    if diff and _share_changed(d):
        share = f"{format_share(d.share_before)} → {format_share(d.share)} China"
    bottom = html_text(f"{amount} · {share}")
    return Html(f'<B>{top}</B><BR/><FONT POINT-SIZE="9">{mid}</FONT><BR/><FONT POINT-SIZE="9">{bottom}</FONT>')


def _share_changed(d: _Drawn) -> bool:
    a, b = d.share, d.share_before
    if math.isfinite(a) and math.isfinite(b):
        return abs(a - b) >= 0.005
    return math.isfinite(a) != math.isfinite(b)


def _pen(tonnes: float, tmax: float) -> float:
    if tmax <= 0 or not math.isfinite(tonnes):
        return _MIN_PEN
    w = _MIN_PEN + (_MAX_PEN - _MIN_PEN) * math.sqrt(max(tonnes, 0.0) / tmax)
    return round(min(max(w, _MIN_PEN), _MAX_PEN), 2)


def _edge_label(tonnes: float, before: float, status: str, diff: bool) -> str:
    if status == "blocked":
        return f"blocked · {format_tonnes(before)}" if math.isfinite(before) and before > 0 else "blocked"
    if status == "new":
        return f"new · {format_tonnes(tonnes)}"
    if status == "deal":
        return f"deal · {format_tonnes(tonnes)}"
    if diff and math.isfinite(before) and abs(before - tonnes) > 1e-9 * max(1.0, abs(before)):
        return format_change(before, tonnes)
    return format_tonnes(tonnes)


def _grid(cells: Sequence[str], ncols: int) -> str:
    """Lay out (sample, text) cell pairs row by row, ``ncols`` pairs per row."""
    rows = []
    for i in range(0, len(cells), ncols):
        rows.append("<TR>" + "".join(cells[i : i + ncols]) + "</TR>")
    return "".join(rows)


def _key_table(heading: str, body: str, colspan: int, cellpadding: int = 1) -> str:
    """Wrap key rows in a borderless table with a bold heading row."""
    return (
        f'<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="{cellpadding}">'
        f'<TR><TD COLSPAN="{colspan}" ALIGN="LEFT"><FONT POINT-SIZE="11"><B>{html_text(heading)}</B></FONT></TD></TR>'
        f"{body}</TABLE>"
    )


def _legend(diff: bool, statuses: Iterable[str], has_traced: bool) -> str:
    """Build the key: colour scale, line styles and box shapes, side by side (HTML table markup)."""
    steps = [
        f'<TD BGCOLOR="{b.fill}" BORDER="1" COLOR="#737373" WIDTH="48">'
        f'<FONT COLOR="{b.font}" POINT-SIZE="9">{html_text(b.label)}</FONT></TD>'
        for b in SHARE_BINS
    ]
    if not has_traced:
        steps.append(
            f'<TD BGCOLOR="{NO_DATA_FILL}" BORDER="1" WIDTH="48"><FONT POINT-SIZE="9">not computed</FONT></TD>'
        )
    note = html_text("share of a node's material mined or processed in China at any upstream stage")
    colour = _key_table(
        "Fill: traced China share",
        f'<TR>{"".join(steps)}</TR>'
        f'<TR><TD COLSPAN="{len(steps)}" ALIGN="LEFT"><FONT POINT-SIZE="8">{note}</FONT></TD></TR>',
        len(steps),
        cellpadding=2,
    )
    present = set(statuses)
    shown = ["normal", *(s for s in STATUS_STYLES if s != "normal" and (s in present or (diff and s == "blocked")))]
    gap = '<TD WIDTH="10"> </TD>'
    flow_cells = []
    for s in shown:
        st = STATUS_STYLES[s]
        flow_cells.append(
            f'<TD ALIGN="RIGHT"><FONT COLOR="{st.color}"><B>{html_text(st.sample)}</B></FONT></TD>'
            f'<TD ALIGN="LEFT"><FONT POINT-SIZE="9">{html_text(st.legend)}</FONT></TD>{gap}'
        )
    box_cells = [
        f'<TD>{sample}</TD><TD ALIGN="LEFT"><FONT POINT-SIZE="9">{html_text(text)}</FONT></TD>{gap}'
        for sample, text in _SHAPE_KEY
    ]
    flows = _key_table("Lines: flows", _grid(flow_cells, 2), 6)
    boxes = _key_table("Boxes", _grid(box_cells, 2), 6)
    spacer = '<TD WIDTH="24"> </TD>'
    cells = [f'<TD ALIGN="LEFT" VALIGN="TOP">{t}</TD>' for t in (colour, flows, boxes)]
    return f"<TR>{cells[0]}{spacer}{cells[1]}{spacer}{cells[2]}</TR>"


def _heading(
    title: str,
    year: int | None,
    commodity: Sequence[str],
    diff: str | None,
    names: Mapping[str, str],
    legend: str,
    notes: Sequence[str],
) -> Html:
    """Title, subtitle, key and folding notes as one HTML-like table (the graph label)."""
    sub = []
    if year is not None:
        sub.append(str(year))
    if commodity:
        sub.append("chain of " + ", ".join(names.get(c, c) for c in commodity))
    if diff:
        sub.append(diff)
    rows = [
        f'<TR><TD COLSPAN="5" ALIGN="LEFT"><FONT POINT-SIZE="18"><B>{html_text(shorten(clean_text(title), 90))}'
        "</B></FONT></TD></TR>"
    ]
    if sub:
        subtitle = html_text(" · ".join(sub))
        rows.append(f'<TR><TD COLSPAN="5" ALIGN="LEFT"><FONT POINT-SIZE="12">{subtitle}</FONT></TD></TR>')
    rows.append(legend)
    if notes:
        text = "Folded for legibility: " + "; ".join(notes) + "."
        rows.append(f'<TR><TD COLSPAN="5" ALIGN="LEFT"><FONT POINT-SIZE="9"><I>{html_text(text)}</I></FONT></TD></TR>')
    return Html('<TABLE BORDER="0" CELLSPACING="2" CELLPADDING="2">' + "".join(rows) + "</TABLE>")


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


def to_dot(
    graph: GraphLike,
    *,
    traced: pd.Series | Mapping[str, float] | None,
    title: str,
    year: int | None = None,
    commodity: str | Iterable[str] | None = None,
    compare_to: GraphLike | None = None,
    compare_traced: pd.Series | Mapping[str, float] | None = None,
    compare_label: str | None = None,
    max_nodes: int = 60,
    names: Mapping[str, str] | None = None,
    focus_countries: Iterable[str] = (),
) -> graphviz.Digraph:
    """Draw one year's supply network as a Graphviz digraph.

    Parameters
    ----------
    graph : networkx.MultiDiGraph or (DataFrame, DataFrame)
        The network: the node and edge tables of ``docs/architecture.md`` (or their
        networkx view). Edges need ``supplier``, ``buyer`` and tonnes (``tonnes``,
        or ``tonnes_simulated``/``simulated``); ``commodity`` and ``edge`` are used
        when present. An edge table with a baseline column (``tonnes_baseline``,
        ``baseline``) and a ``status`` column (``Result.flows``) is drawn as a diff.
    traced : Series or mapping or None
        Traced China share per node id, in [0, 1]; ``None`` draws every node
        uncoloured ("not computed").
    title : str
        Heading drawn above the picture (escaped).
    year : int, optional
        Year shown under the title.
    commodity : str or iterable of str, optional
        Keep only the chain of this commodity (or these): its nodes and
        everything upstream and downstream of them.
    compare_to : networkx.MultiDiGraph or (DataFrame, DataFrame), optional
        The baseline network; edges are matched by their ``edge`` id and the
        picture becomes a diff view (see the module notes).
    compare_traced : Series or mapping, optional
        Baseline traced shares, for ``before → after`` node labels.
    compare_label : str, optional
        What the "before" state is, for the subtitle (default "the baseline").
    max_nodes : int, default 60
        Fold nodes (plants into country pools, then small flows into "Other")
        until at most this many are drawn. It is a target: a node carrying 20 %
        or more of its commodity's tonnes, or in ``focus_countries``, is never
        folded into "Other", and "Other" never stands for a single node.
    names : mapping, optional
        Display names of facility and commodity ids (``{"mountain_pass":
        "Mountain Pass", "ndpr_oxide": "NdPr oxide"}``) and of country/region codes;
        a ``name`` node column wins for nodes.
    focus_countries : iterable of str, optional
        Countries whose nodes are never folded into "Other" (e.g. the countries
        named in targets).

    Returns
    -------
    graphviz.Digraph
        The picture; its ``.source`` is deterministic (nodes, edges and
        attributes sorted) and every user string in it is escaped.

    Raises
    ------
    TypeError
        If ``graph`` is neither a networkx graph nor a pair of DataFrames.
    ValueError
        If a required column is missing, ``max_nodes`` is below 4, or
        ``commodity`` is not in the graph.

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"node": ["mine", "CN:ore", "CN:ore:use"], "kind": ["facility", "market", "use"],
    ...                       "country": ["CN"] * 3, "commodity": ["ore"] * 3, "stage": ["ore"] * 3})
    >>> edges = pd.DataFrame({"edge": ["s", "u"], "supplier": ["mine", "CN:ore"],
    ...                       "buyer": ["CN:ore", "CN:ore:use"], "commodity": ["ore", "ore"], "tonnes": [10.0, 10.0]})
    >>> dot = to_dot((nodes, edges), traced={"mine": 1.0, "CN:ore": 1.0, "CN:ore:use": 1.0}, title="Toy")
    >>> '"mine" -> "CN:ore"' in dot.source
    True
    """
    if max_nodes < 4:
        msg = f"max_nodes must be at least 4, got {max_nodes}"
        raise ValueError(msg)
    names = dict(names or {})
    raw_nodes, raw_edges = _graph_tables(graph)
    edges = _normalise_edges(raw_edges, with_before=compare_to is None)
    diff = compare_to is not None or bool(edges["before"].notna().any())
    if compare_to is not None:
        base_nodes, base_edges = _graph_tables(compare_to)
        before = _normalise_edges(base_edges, with_before=False)
        edges = _merge_compare(edges, before)
        raw_nodes = pd.concat([base_nodes, raw_nodes], ignore_index=True)
    nodes = _normalise_nodes(raw_nodes, edges)
    if "name" in nodes.columns:
        for n, nm in zip(nodes["node"], nodes["name"], strict=True):
            if nm:
                names.setdefault(n, nm)
    # drop flows that are zero in both states and not marked
    size = np.maximum(edges["tonnes"].to_numpy(), np.nan_to_num(edges["before"].to_numpy()))
    edges = edges[(size > 0) | (edges["status"] != "normal")].sort_values("edge", kind="stable").reset_index(drop=True)
    chain = [commodity] if isinstance(commodity, str) else sorted(set(commodity or ()))
    if chain:
        nodes, edges = _restrict_to_commodity(nodes, edges, chain)
    traced_after = _traced_map(traced)
    traced_before = _traced_map(compare_traced) if compare_traced is not None else traced_after

    groups, mapping, notes = _fold(nodes, edges, max_nodes, frozenset(focus_countries))
    drawn_edges = _aggregate_edges(edges, mapping)
    if len(drawn_edges):  # a node without any drawn flow (a plant not built yet) only adds clutter
        linked = set(drawn_edges["supplier"]) | set(drawn_edges["buyer"])
        groups = {g: grp for g, grp in groups.items() if g in linked}
    values = _display_values(groups, nodes, edges, traced_after, traced_before, diff)
    cols = _columns(groups, drawn_edges)
    diff_text = None
    if diff:
        against = compare_label or "the baseline"
        changed = bool(len(drawn_edges)) and bool((drawn_edges["status"] != "normal").any())
        diff_text = f"changes against {against}" if changed else f"no flow changes against {against}"

    body: list[str] = []
    body.append(
        "\tgraph"
        + format_attrs(
            {
                "rankdir": "LR",
                "newrank": True,
                "splines": "spline",
                "nodesep": 0.18,
                "ranksep": 0.55,
                "pad": 0.25,
                "fontname": _FONT,
                "labelloc": "t",
                "labeljust": "l",
                "label": _heading(
                    title, year, chain, diff_text, names,
                    _legend(diff, set(drawn_edges["status"]), bool(traced_after)), notes,
                ),
                "bgcolor": "white",
                "outputorder": "edgesfirst",
            }
        )
    )
    body.append("\tnode" + format_attrs({"fontname": _FONT, "fontsize": 10, "shape": "box", "margin": "0.08,0.04"}))
    body.append("\tedge" + format_attrs({"fontname": _FONT, "fontsize": 8, "arrowsize": 0.6}))

    # stage bands: one cluster per stage, one rank=same column per sub-column
    by_stage: dict[int, dict[int, list[str]]] = {}
    for g in sorted(groups):
        si, sub = cols[g]
        by_stage.setdefault(si, {}).setdefault(sub, []).append(g)
    anchors: list[str] = []
    for si in sorted(by_stage):
        stage = STAGES[si] if si < len(STAGES) else "use"
        body.append(f"\tsubgraph {dot_quote(f'cluster_{stage}')} {{")
        body.append(
            "\t\tgraph"
            + format_attrs(
                {
                    "label": Html(f'<B>{html_text(_STAGE_TITLES.get(stage, stage))}</B>'),
                    "style": "filled,rounded",
                    "fillcolor": "#f4f4f4",
                    "color": "#e0e0e0",
                    "fontsize": 11,
                    "fontcolor": "#525252",
                    "labeljust": "c",
                }
            )
        )
        for sub in sorted(by_stage[si]):
            anchor = f"__col_{si}_{sub}"
            anchors.append(anchor)
            members = " ".join(dot_quote(m) + ";" for m in by_stage[si][sub])
            body.append(f"\t\t{{rank=same; {dot_quote(anchor)}; {members}}}")
            for g in by_stage[si][sub]:
                body.append("\t\t" + dot_quote(g) + format_attrs(_node_attrs(groups[g], values[g], names, diff)))
        body.append("\t}")
    for anchor in anchors:
        body.append("\t" + dot_quote(anchor) + format_attrs({"shape": "point", "style": "invis", "width": 0.01}))
    for left, right in itertools.pairwise(anchors):
        body.append(f"\t{dot_quote(left)} -> {dot_quote(right)}" + format_attrs({"style": "invis", "weight": 10}))

    # flows
    sizes = np.maximum(drawn_edges["tonnes"].to_numpy(), np.nan_to_num(drawn_edges["before"].to_numpy()))
    tmax = float(sizes.max()) if len(sizes) else 0.0
    labelled = _labelled(drawn_edges.assign(size=sizes))
    for row in drawn_edges.sort_values(["supplier", "buyer", "commodity", "status"]).to_dict("records"):
        sup, buy, status = str(row["supplier"]), str(row["buyer"]), str(row["status"])
        st = STATUS_STYLES.get(status, STATUS_STYLES["normal"])
        t_after, t_before = float(row["tonnes"]), float(row["before"])
        width_t = t_before if status == "blocked" and math.isfinite(t_before) else t_after
        label = _edge_label(t_after, t_before, status, diff)
        attrs: dict[str, object] = {
            "color": st.color,
            "fontcolor": st.color if status != "normal" else "#404040",
            "penwidth": _pen(width_t, tmax),
            "style": st.style if st.style != "solid" else None,
            "tooltip": f"{sup} → {buy}: {row['commodity']} · {label}",
        }
        shown = label if labelled.get((sup, buy, str(row["commodity"]), status), True) else None
        if cols[sup] >= cols[buy]:
            # a flow inside a column or against the stage order: it must not shape the ranks, and its label
            # goes on as an xlabel (dot's router fails on labelled flat edges inside clusters)
            attrs["constraint"] = False
            attrs["xlabel"] = shown
        else:
            attrs["label"] = shown
        body.append(f"\t{dot_quote(sup)} -> {dot_quote(buy)}" + format_attrs(attrs))

    dot = graphviz.Digraph(name="supplychain")
    dot.body.extend(line + "\n" for line in body)
    return dot


def _labelled(edges: pd.DataFrame) -> dict[tuple[str, str, str, str], bool]:
    """Which drawn flows get a tonnes label.

    Up to :data:`_LABEL_ALL` flows, all of them. Beyond, a flow is labelled when it
    changed (any status but ``normal``), is at least :data:`_LABEL_OF_MAX` of the
    largest flow drawn, or brings at least :data:`_LABEL_SHARE` of its buyer's
    inflow of that commodity; the others show their tonnes in the tooltip only.
    """
    keys = list(zip(edges["supplier"], edges["buyer"], edges["commodity"], edges["status"], strict=True))
    if len(edges) <= _LABEL_ALL:
        return dict.fromkeys(keys, True)
    size = edges["size"]
    in_tot = edges.groupby(["buyer", "commodity"])["size"].transform("sum")
    big = (size >= _LABEL_OF_MAX * size.max()) | (size >= _LABEL_SHARE * in_tot) | (edges["status"] != "normal")
    return dict(zip(keys, big.to_numpy(dtype=bool).tolist(), strict=True))


def _node_attrs(grp: _Group, d: _Drawn, names: Mapping[str, str], diff: bool) -> dict[str, object]:
    first, second = _display_name(grp, names)
    b = share_bin(d.share)
    fill, font = (b.fill, b.font) if b else (NO_DATA_FILL, "#222222")
    styles = ["filled"]
    if grp.kind == "facility" and not grp.other:
        styles.append("rounded")
    if grp.other:
        styles.append("dashed")
    attrs: dict[str, object] = {
        "label": _node_label(first, second, d, diff),
        "fillcolor": fill,
        "fontcolor": font,
        "color": "#404040",
        "style": ",".join(styles),
        "tooltip": _node_tooltip(grp, d, first, second),
    }
    if grp.kind == "use":
        attrs["peripheries"] = 2
    elif grp.kind == "stock":
        attrs["shape"] = "cylinder"
    return attrs


def _node_tooltip(grp: _Group, d: _Drawn, first: str, second: str) -> str:
    text = f"{first} — {second} — {format_tonnes(d.tonnes)} — traced China share {format_share(d.share)}"
    if len(grp.members) > 1:
        shown = ", ".join(grp.members[:12]) + (" …" if len(grp.members) > 12 else "")
        text += f" — includes: {shown}"
    return shorten(clean_text(text), 400)


# --------------------------------------------------------------------- render
class RenderError(SupplyChainError, RuntimeError):
    """Graphviz failed to render a picture, or the output format is not supported."""


class GraphvizNotFoundError(RenderError):
    """The Graphviz ``dot`` program is not installed."""


_FORMATS: Final = {".svg": "svg", ".png": "png", ".dot": "dot", ".gv": "dot"}


def render(dot: graphviz.Digraph | str, path: str | os.PathLike[str], *, timeout: float = 120.0) -> Path:
    """Write a picture to ``path``; the format follows the suffix (``.svg``, ``.png``, ``.dot``).

    The file is written atomically (a temporary file beside it, then renamed), so a
    failed render never leaves a half-written image.

    Parameters
    ----------
    dot : graphviz.Digraph or str
        The picture (or DOT source text).
    path : path-like
        Output file; its suffix picks the format.
    timeout : float, default 120
        Seconds to wait for ``dot``.

    Returns
    -------
    pathlib.Path
        The written path.

    Raises
    ------
    RenderError
        If the suffix is not one of ``.svg``, ``.png``, ``.dot``/``.gv``, or ``dot`` fails.
    GraphvizNotFoundError
        If an image is asked for and the ``dot`` program is not on ``PATH``.
    """
    out = Path(path)
    fmt = _FORMATS.get(out.suffix.lower())
    if fmt is None:
        msg = f"cannot tell the image format from {out.name!r}: use a .svg, .png or .dot file name"
        raise RenderError(msg)
    data = render_bytes(dot, fmt, timeout=timeout)
    return atomic_write(out, lambda tmp: tmp.write_bytes(data))


def render_bytes(dot: graphviz.Digraph | str, fmt: str, *, timeout: float = 120.0) -> bytes:
    """Render a picture in memory as ``svg``, ``png`` or ``dot`` bytes.

    Raises
    ------
    RenderError
        Unknown format, or ``dot`` failed.
    GraphvizNotFoundError
        An image is asked for and ``dot`` is not on ``PATH``.
    """
    source = dot.source if isinstance(dot, graphviz.Digraph) else str(dot)
    if fmt == "dot":
        return source.encode("utf-8")
    if fmt not in ("svg", "png"):
        msg = f"unknown image format {fmt!r}: use svg, png or dot"
        raise RenderError(msg)
    try:
        return _run_dot(source, fmt, timeout)
    except GraphvizNotFoundError:
        raise
    except RenderError as first:
        # Graphviz's spline router has known failures on some cluster layouts; retry without clusters
        # and with every flow label placed after layout, before giving up.
        try:
            return _run_dot(_simplified(source), fmt, timeout)
        except RenderError:
            raise first from None


def _outside_quotes(line: str, old: str, new: str) -> str:
    """Replace ``old`` by ``new`` where it occurs outside quoted strings and HTML-like labels."""
    out: list[str] = []
    i, quoted, depth = 0, False, 0
    while i < len(line):
        c = line[i]
        if quoted:
            out.append(c)
            if c == "\\" and i + 1 < len(line):
                out.append(line[i + 1])
                i += 1
            elif c == '"':
                quoted = False
        elif depth:
            out.append(c)
            depth += 1 if c == "<" else -1 if c == ">" else 0
        elif c == '"':
            quoted = True
            out.append(c)
        elif c == "<":
            depth = 1
            out.append(c)
        elif line.startswith(old, i):
            out.append(new)
            i += len(old)
            continue
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _simplified(source: str) -> str:
    """Rewrite DOT source for the fallback layout: plain subgraphs for clusters, xlabels for flow labels."""
    lines = []
    for line in source.splitlines(keepends=True):
        if line.startswith('\tsubgraph "cluster_'):
            line = line.replace('subgraph "cluster_', 'subgraph "stage_', 1)
        elif " -> " in line:
            line = _outside_quotes(_outside_quotes(line, " label=", " xlabel="), "[label=", "[xlabel=")
        lines.append(line)
    return "".join(lines)


def _run_dot(source: str, fmt: str, timeout: float) -> bytes:
    exe = shutil.which("dot")
    if exe is None:
        msg = (
            "the Graphviz 'dot' program is needed to draw images but was not found on PATH; "
            "install it (Debian/Ubuntu: apt-get install graphviz; macOS: brew install graphviz) "
            "or write a .dot file instead"
        )
        raise GraphvizNotFoundError(msg)
    try:
        proc = subprocess.run(
            [exe, f"-T{fmt}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        msg = f"Graphviz 'dot' did not finish within {timeout:g} s"
        raise RenderError(msg) from exc
    err = proc.stderr.decode("utf-8", "replace").strip()
    if proc.returncode != 0 or not proc.stdout or "Error:" in err or "failed" in err:
        msg = f"Graphviz 'dot' failed (exit {proc.returncode}): {err[:2000] or 'no output'}"
        raise RenderError(msg)
    return proc.stdout
