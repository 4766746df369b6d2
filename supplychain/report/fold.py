"""Folding for legibility: plants into country pools, small flows into "Other", display values of groups.

Above ``max_nodes`` nodes, plants are folded into their country's pool for that
stage, then nodes whose every flow is a small share (< x %, x raised step by
step from 1 %) of the partner's flow of that commodity are folded into one
"Other" node per stage, kind and commodity; last, the smallest remaining nodes
(shares equal to :data:`SHARE_DIGITS` decimals taken in node-id order, so that round-off
in the tonnes does not change the picture).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

_FOLD_STEPS: Final = (0.01, 0.02, 0.05, 0.1, 0.2, 0.35)
_MAX_FOLD_SHARE: Final = 0.2
"""A node carrying this share of its commodity's tonnes or more is never folded into 'Other'."""
SHARE_DIGITS: Final = 9
"""Shares are compared to this many decimals when the smallest nodes are folded (and when the report
picks a peak year, ``report.tables``); closer ones are ties, broken by node id (the first year), so
that round-off in the tonnes (e.g. of an LP's solution) cannot change the picture."""


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
    """Edges between groups: tonnes summed per (supplier group, buyer group, commodity, status).

    Columns ``tonnes`` and ``before`` (summed; ``before`` NaN where every member's is), ``n``
    (members) and ``edge`` (the first member id in sorted order), groups in sorted order.
    """
    if not len(edges):
        return edges.assign(n=pd.Series(dtype=int))
    e = edges.assign(supplier=edges["supplier"].map(mapping), buyer=edges["buyer"].map(mapping))
    e = e[e["supplier"] != e["buyer"]]
    codes, ids = pd.factorize(e["edge"].to_numpy(), sort=True)  # the smallest code is the smallest id
    g = e.assign(edge=codes).groupby(["supplier", "buyer", "commodity", "status"], sort=True, dropna=False)
    out = g["tonnes"].sum().to_frame()
    out["before"] = _group_sums(e["before"].to_numpy(dtype=float), g.ngroup().to_numpy(), len(out))
    out["n"] = g.size()
    out["edge"] = ids[g["edge"].min().to_numpy()]
    return out.reset_index()


def _group_sums(values: np.ndarray, group: np.ndarray, n: int) -> list[float]:
    """Sum of ``values`` per group ``0 … n-1`` as ``Series.sum(min_count=1)`` gives it: NaN skipped, NaN if all are.

    Each group's members are summed in their order by NumPy, as that method does, so the last
    bits are those of summing the group on its own (pictures and folding read these sums).

    Examples
    --------
    >>> _group_sums(np.array([1.0, np.nan, 2.0, np.nan]), np.array([0, 1, 0, 1]), 2)
    [3.0, nan]
    """
    if n == 0:
        return []
    order = np.argsort(group, kind="stable")
    parts = np.split(values[order], np.cumsum(np.bincount(group, minlength=n))[:-1])
    return [float("nan") if np.isnan(p).all() else float(np.where(np.isnan(p), 0.0, p).sum()) for p in parts]


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
            key=lambda g: (round(rel[g], SHARE_DIGITS), g),
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

