"""A year's inputs of the re-routing LP from its tables or from arrays (:class:`YearInputs`).

Baseline flows, blocked shares, costs, offtakes, capacities, demand, unrecorded supply,
stocks, re-export limits and quotas aligned to the model's edges, facilities, users and
markets. :class:`YearInputBuilder` is a part of
:class:`~supplychain.simulation.rebalance.RebalanceModel`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.errors import EngineError
from supplychain.simulation.candidates import plant_capacity
from supplychain.simulation.fixed import beyond_round_off
from supplychain.simulation.lpdata import ModelStructure, QuotaRow, YearInputs
from supplychain.simulation.policies import PolicyEffects

__all__ = ["YearInputBuilder"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]


class YearInputBuilder(ModelStructure):
    """The year's inputs (a part of :class:`~supplychain.simulation.rebalance.RebalanceModel`)."""

    reexport_markets: IntArray
    _dom_in: Any
    _cross_out: Any
    _is_ref_out: npt.NDArray[np.bool_]
    _edge_at: dict[str, int]
    _route_at: dict[tuple[Any, Any, Any], Any] | None
    node_ids: npt.NDArray[np.object_]

    def _position(self, edge_id: str) -> int:
        pos = self.edge_positions([edge_id])[0]
        if pos < 0:
            msg = f"edge {edge_id!r} is not in the rebalance model"
            raise EngineError(msg)
        return int(pos)

    def edge_positions(self, edge_ids: Sequence[str] | pd.Series) -> IntArray:
        """Model positions of edge ids (−1 when not in the model)."""
        at = self._edge_at
        return np.fromiter((at.get(str(e), -1) for e in edge_ids), dtype=np.intp, count=len(edge_ids))

    def route_edge(self, supplier: str, buyer: str, commodity: str) -> Any:
        """Return the id of the model edge from ``supplier`` to ``buyer`` of ``commodity`` (None: no such edge)."""
        if self._route_at is None:  # read once: the model's edges do not change
            e = self.edges
            self._route_at = {(s, b, k): i for i, s, b, k in zip(e["edge"], e["supplier"], e["buyer"], e["commodity"],
                                                                  strict=True)}
        return self._route_at.get((supplier, buyer, commodity))

    def edge_table(self, edges: pd.DataFrame, pos: IntArray | None = None) -> pd.DataFrame:
        """Model edges with the year's baseline ``tonnes`` (0 for candidates and absent edges).

        When ``edges`` has an ``entity`` column, the ``entity`` each model edge comes from (its
        ``origin`` for edges outside the year). ``pos``: :meth:`edge_positions` of ``edges``, when known.
        """
        t = np.zeros(len(self.edges))
        pos = self.edge_positions(edges["edge"]) if pos is None else pos
        ok = pos >= 0
        t[pos[ok]] = edges["tonnes"].to_numpy(dtype=float)[ok]
        if "entity" not in edges:
            return self.edges.assign(tonnes=t)
        entity = self.edges["origin"].to_numpy(dtype=object, copy=True)
        entity[pos[ok]] = edges["entity"].astype(str).to_numpy()[ok]
        return self.edges.assign(tonnes=t, entity=entity)

    def year_inputs(
        self,
        nodes: pd.DataFrame,
        edges: pd.DataFrame,
        *,
        effects: PolicyEffects | None = None,
        blocked: Mapping[str, float] | None = None,
        cost: FloatArray | None = None,
        lower: Mapping[str, float] | None = None,
        stock: Mapping[str, float] | None = None,
        capacity: Mapping[str, float] | None = None,
    ) -> YearInputs:
        r"""Align one year's tables and policy effects to the model.

        Parameters
        ----------
        nodes, edges : pandas.DataFrame
            The year's node and edge tables (edges missing from the model are an error).
        effects : PolicyEffects, optional
            Policies applied to :meth:`edge_table` of this year (model edge order).
        blocked : mapping, optional
            Extra blocked shares by edge id (combined with ``effects`` as layers).
        cost : numpy.ndarray, optional
            Extra cost per model edge (USD/t), e.g. preference surcharges.
        lower : mapping, optional
            Committed minimum tonnes by edge id.
        stock : mapping, optional
            Stock available for release by market node id.
        capacity : mapping, optional
            Capacity overrides by facility id (e.g. 0 for a switched-off investment).

        Returns
        -------
        YearInputs

        Notes
        -----
        Capacity :math:`K_v = \max(\text{capacity}_v, \text{baseline output}_v)`; an unknown
        (NaN) capacity means no spare capacity (:math:`K_v` = baseline output).
        Facilities absent from the year's node table have :math:`K_v = 0`.
        """
        ne = len(self.edges)
        pos = self.edge_positions(edges["edge"])
        if np.any(pos < 0):
            missing = edges["edge"].iloc[int(np.flatnonzero(pos < 0)[0])]
            msg = f"edge {missing!r} of the year is not in the rebalance model; build it from the union of the years"
            raise EngineError(msg)
        f0 = np.zeros(ne)
        f0[pos] = edges["tonnes"].to_numpy(dtype=float)
        b = np.zeros(ne)
        c = np.zeros(ne)
        quotas: list[QuotaRow] = []
        if effects is not None:
            if len(effects.edges) != ne:
                msg = "policy effects must be computed on RebalanceModel.edge_table(edges)"
                raise EngineError(msg)
            b = effects.edges["blocked_share"].to_numpy(dtype=float).copy()
            c = effects.edges["cost_per_t"].to_numpy(dtype=float).copy()
            for q in effects.quotas:
                qp = self.edge_positions(list(q.edges))
                quotas.append(QuotaRow(q.policy, qp, np.asarray(q.weights, dtype=float), q.cap_t))
        for eid, share in (blocked or {}).items():
            p = self._position(eid)
            b[p] = b[p] + share - b[p] * share
        if cost is not None:
            c = c + cost
        lo = self.edge_values(lower or {})
        ids = self.node_ids
        capcol, present = self.facility_capacity(nodes)
        override = self.facility_values(capacity or {})
        s = np.zeros(len(self.stock_markets))
        if stock:
            for i, mid in enumerate(ids[self.stock_markets]):
                s[i] = float(stock.get(mid, 0.0))
        return self.inputs_from_arrays(f0, blocked=b, cost=c, lower=lo, capacity=capcol, present=present,
                                       capacity_override=override, stock=s, quotas=tuple(quotas))

    def edge_values(self, by_edge: Mapping[str, float]) -> FloatArray:
        """Return tonnes by edge id as an array over the model's edges (0 elsewhere; an unknown id is an error)."""
        out = np.zeros(len(self.edges))
        for eid, t in by_edge.items():
            out[self._position(eid)] += t
        return out

    def facility_values(self, by_facility: Mapping[str, float]) -> FloatArray:
        """Return values by facility id as an array over the model's facilities (NaN elsewhere)."""
        fac_ids = self.node_ids[self.facilities]
        out = np.full(len(fac_ids), np.nan)
        for fid, v in by_facility.items():
            out[fac_ids == fid] = v
        return out

    def facility_capacity(self, nodes: pd.DataFrame) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """Return a year's ``capacity`` column per model facility (NaN: unknown) and which facilities it has.

        Parameters
        ----------
        nodes : pandas.DataFrame
            The year's node table.
        """
        fac_ids = self.node_ids[self.facilities].tolist()
        at = {x: i for i, x in enumerate(nodes["node"].astype(str).tolist())}
        present = np.array([f in at for f in fac_ids], dtype=bool)
        if "capacity" not in nodes:
            return np.full(len(fac_ids), np.nan), present
        cap = nodes["capacity"].to_numpy(dtype=float)
        return np.array([cap[at[f]] if f in at else np.nan for f in fac_ids], dtype=float), present

    def inputs_from_arrays(
        self,
        baseline: FloatArray,
        *,
        blocked: FloatArray,
        cost: FloatArray,
        lower: FloatArray,
        capacity: FloatArray,
        present: npt.NDArray[np.bool_],
        capacity_override: FloatArray,
        stock: FloatArray,
        quotas: tuple[QuotaRow, ...] = (),
    ) -> YearInputs:
        r"""Derive a year's inputs from arrays already aligned to the model (:meth:`year_inputs` without pandas).

        Parameters
        ----------
        baseline : numpy.ndarray
            :math:`f^0_e` per model edge.
        blocked, cost, lower : numpy.ndarray
            :math:`B_e`, :math:`c_e`, :math:`L_e` per model edge.
        capacity : numpy.ndarray
            The year's capacity column per model facility (NaN: unknown).
        present : numpy.ndarray of bool
            Whether each model facility exists in the year.
        capacity_override : numpy.ndarray
            Capacity that replaces :math:`K_v` (NaN: none), e.g. 0 for a switched-off investment.
        stock : numpy.ndarray
            :math:`S_m` per stock market.
        quotas : tuple of QuotaRow
            Export quotas in force.

        Returns
        -------
        YearInputs
            With :math:`K_v = \max(\text{capacity}_v, \text{baseline output}_v)`
            (:func:`~supplychain.simulation.candidates.plant_capacity`), demand
            :math:`D_u` = baseline inflow of each use node, unrecorded supply
            :math:`G_m = \max(0, \text{out}^0_m - \text{in}^0_m)` and re-export limits (differences
            up to :data:`BALANCE_TOL` of the sums are round-off, taken as 0).
        """
        f0 = baseline
        n = self.index.n
        src, dst = self.index.src, self.index.dst
        out0 = np.bincount(src, weights=f0, minlength=n)
        in0 = np.bincount(dst, weights=f0, minlength=n)
        # capacity of facilities: reference-output tonnes
        ref_out = np.bincount(src[self._is_ref_out], weights=f0[self._is_ref_out], minlength=n)[self.facilities]
        k = plant_capacity(capacity, ref_out)
        k = np.where(present | (ref_out > 0), k, 0.0)
        k = np.where(np.isnan(capacity_override), k, capacity_override)
        demand = in0[self.uses]
        unrec_all = beyond_round_off(out0 - in0, np.maximum(out0, in0))
        unrec = unrec_all[self.markets]
        exp0 = np.bincount(src[self._cross_out], weights=f0[self._cross_out], minlength=n)
        dom0 = np.bincount(dst[self._dom_in], weights=f0[self._dom_in], minlength=n)
        rex = beyond_round_off(exp0 - dom0 - unrec_all, np.maximum(exp0, dom0))[self.reexport_markets]
        return YearInputs(
            baseline=f0, blocked=blocked, cost=cost, lower=lower, capacity=k, demand=demand.astype(np.float64),
            unrecorded=unrec, stock=stock, reexport=rex, quotas=quotas,
        )

