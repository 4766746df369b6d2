"""What the compiled rebalance path prepares: the model's extra edges, mappings and checks.

Helpers of :mod:`supplychain.uncertainty.shockpath`: which sampled quantities it
can take (:func:`check_supported`), the edges a sample's tables may have beyond
the central run's (:func:`potential_edges`), how the exposure kernel's edges map
onto the LP's (:func:`model_positions`), the producer/consumer roles that decide
the LP's re-routing candidates (:func:`market_roles`), and the shortfall rows a
sweep must be ready to report (:func:`with_shortfall_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sps

from supplychain.schema.model import Scenario
from supplychain.simulation.candidates import role_masks
from supplychain.simulation.rebalance import RebalanceModel
from supplychain.uncertainty.kernel import ExposureKernel
from supplychain.uncertainty.models import MeasureFilter
from supplychain.uncertainty.paths import Unsupported, is_relevant
from supplychain.uncertainty.sampling import SamplingSpec

__all__ = [
    "RESPONSE_SECTIONS",
    "check_supported",
    "incidence",
    "market_roles",
    "model_positions",
    "potential_edges",
    "with_shortfall_rows",
]


RESPONSE_SECTIONS = ("policies", "agreements", "commodities")
"""Sampled quantities here act on the response only: re-evaluated per sample from the patched scenario."""


def check_supported(scenario: Scenario, spec: SamplingSpec, years: Sequence[int]) -> None:
    """Raise :class:`Unsupported` when a sampled quantity is one the compiled path cannot patch.

    The path patches what :class:`ExposureKernel` patches (flows, imports, facility
    output, demand) on arrays, and re-evaluates the policy effects and investment
    capacities of each sample whose policy, agreement or commodity quantities are
    sampled (:data:`RESPONSE_SECTIONS`). Stockpiles and the capacities of existing
    facilities are taken at their central values, so sampling them needs the
    per-sample path. Governance indicators and ownership stakes change no metric
    the path computes.
    """
    for p in spec:
        if p.kind != "quantity":
            continue
        path = p.path
        section = path[0]
        if section == "stockpiles":
            msg = f"the compiled rebalance path takes stockpiles at their central values; {p.name} is sampled"
            raise Unsupported(msg)
        if (section == "facilities" and len(path) > 2
                and path[2] in ("capacity", "capacity_changes", "commissioning_year", "ramp_up_years")
                and any(is_relevant(scenario, path, y) for y in years)):
            msg = f"the compiled rebalance path takes facility capacities at their central values; {p.name} is sampled"
            raise Unsupported(msg)


def potential_edges(world: Scenario, tables: Sequence[tuple[pd.DataFrame, pd.DataFrame]],
               kernels: Sequence[ExposureKernel]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes and edges a sample's tables may have that the central tables lack (zero baseline).

    The allocation rules of a sample can draw a stock, build one, or leave a
    residual final use that the central run does not; the model carries these
    edges (``RebalanceModel(extra_edges=...)``, which do not change its re-routing
    candidates) so that such a sample needs no model of its own. Allocation
    routes between markets are candidates already (:func:`model_positions`).
    """
    have_edges = set().union(*(set(e["edge"].astype(str)) for _, e in tables))
    have_nodes = set().union(*(set(n["node"].astype(str)) for n, _ in tables))
    stage = {k: c.stage for k, c in world.commodities.items()}
    rows: dict[str, dict[str, Any]] = {}
    new_nodes: dict[str, dict[str, Any]] = {}
    for k in kernels:
        for eid, (sup, buy, kind, com) in zip(k.edge_ids, k.edge_ends, strict=True):
            if eid in have_edges or eid in rows or kind == "trade":
                continue
            sc, bc = sup.split(":")[0], buy.split(":")[0]
            rows[eid] = {"edge": eid, "entity": eid, "supplier": sup, "buyer": buy, "supplier_country": sc,
                         "buyer_country": bc, "commodity": com, "stage": stage.get(com, ""), "tonnes": 0.0,
                         "kind": kind}
            for nd, c in ((sup, sc), (buy, bc)):
                if nd not in have_nodes and nd not in new_nodes:
                    tail = nd.rsplit(":", 1)[-1]
                    new_nodes[nd] = {"node": nd, "kind": tail if tail in ("use", "stock") else "market",
                                     "country": c, "commodity": com, "capacity": np.nan, "primary": 0.0}
    edge_cols = ["edge", "entity", "supplier", "buyer", "supplier_country", "buyer_country", "commodity", "stage",
                 "tonnes", "kind"]
    node_cols = ["node", "kind", "country", "commodity", "capacity", "primary"]
    return (pd.DataFrame(list(new_nodes.values()), columns=node_cols),
            pd.DataFrame(list(rows.values()), columns=edge_cols))


def with_shortfall_rows(catalogue: pd.DataFrame, model: RebalanceModel, world: Scenario, years: Sequence[int],
                         select: MeasureFilter) -> pd.DataFrame:
    """Add a ``shortfall_share`` row for every use node of the model and year the filter keeps.

    A sample's tables can have a final use the central run lacks (a residual use
    when a sample leaves a market with more than it converts); its row must be in
    the catalogue for the sample to report it.
    """
    if select.metrics and "shortfall_share" not in select.metrics:
        return catalogue
    uses = model.nodes.iloc[model.uses]
    stage = {k: c.stage for k, c in world.commodities.items()}
    rows = pd.DataFrame({
        "country": uses["country"].astype(str).to_numpy(), "commodity": uses["commodity"].astype(str).to_numpy(),
    })
    rows["stage"] = rows["commodity"].map(stage).fillna("")
    frames = [rows.assign(year=y) for y in years]
    extra = select.apply(pd.concat(frames, ignore_index=True).assign(
        metric="shortfall_share", source_country="", partner="", unit="share", basis="t of demand"))
    keys = [c for c in catalogue.columns if c not in ("unit", "basis")]
    out = pd.concat([catalogue, extra[catalogue.columns]], ignore_index=True)
    out["year"] = out["year"].astype("int64")
    return out.drop_duplicates(subset=keys, keep="first").reset_index(drop=True)


def incidence(pairs: Sequence[tuple[int, int]], n_rows: int, n_cols: int) -> Any:
    """Return a sparse 0/1 matrix with a one at each ``(row, column)`` pair."""
    rows = np.array([e for e, _ in pairs], dtype=np.int64)
    cols = np.array([m for _, m in pairs], dtype=np.int64)
    return sps.csr_matrix((np.ones(len(pairs)), (rows, cols)), shape=(n_rows, n_cols))


def model_positions(model: RebalanceModel, edge_ids: Sequence[str]) -> np.ndarray:
    """Model position of each kernel edge (−1: none).

    An allocation edge ``alloc.<k>.<from>.<to>`` that the central tables do not have
    maps onto the model's re-routing candidate between the same two markets (the
    same LP column: the LP treats every edge alike but for its baseline tonnes).
    """
    pos = model.edge_positions(list(edge_ids))
    e = model.edges
    by_key = {key: i for i, key in enumerate(zip(e["supplier"].astype(str), e["buyer"].astype(str),
                                                   e["commodity"].astype(str), strict=True))}
    for j in np.flatnonzero(pos < 0).tolist():
        parts = edge_ids[j].split(".")
        if len(parts) == 4 and parts[0] == "alloc":
            _, k, cj, ci = parts
            pos[j] = by_key.get((f"{cj}:{k}", f"{ci}:{k}", k), -1)
    return pos


def market_roles(world: Scenario, kernel: ExposureKernel, markets: dict[str, int]
                 ) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Kernel edge → market pairs of the *producer* and *consumer* roles (:func:`role_masks`).

    The roles decide the LP's re-routing candidates (:func:`candidate_edges`); a
    sample whose roles differ from the central run's would get other candidates, so
    it is computed per sample (exact) instead. ``markets`` numbers the markets (new
    ones are added).
    """
    def country(node: str) -> str:
        return node.split(":")[0] if ":" in node else world.facilities[node].country

    sup = pd.Series([e[0] for e in kernel.edge_ends], dtype=object)
    buy = pd.Series([e[1] for e in kernel.edge_ends], dtype=object)
    prod_b, prod_s, cons_b, cons_s = role_masks(sup, buy, sup.map(country), buy.map(country))

    def pairs(*sides: tuple[np.ndarray, pd.Series]) -> list[tuple[int, int]]:
        out = []
        for mask, nodes in sides:
            for e in np.flatnonzero(mask).tolist():
                out.append((e, markets.setdefault(str(nodes.iloc[e]), len(markets))))
        return sorted(out)

    return pairs((prod_b, buy), (prod_s, sup)), pairs((cons_b, buy), (cons_s, sup))
