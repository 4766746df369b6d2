r"""The ``fixed`` response: trade patterns stay, blocked tonnes are lost to their buyers.

Nothing is re-routed. Each node passes on the share of its baseline inflow it
still receives (docs/domain.md, "Supply response after a shock"), **shared over the edges
still permitted**: a country is never short of what it stopped exporting. The rule, in one
sentence an analyst can check: *a seller (a market, or a plant per output commodity) shares
what it has over the buyers it may still sell to, each at most its baseline tonnes, and what
none of them takes is not made.* With :math:`f^0_e` the baseline tonnes of edge
e = (u → v) and :math:`B_e` its blocked share
(:func:`~supplychain.simulation.policies.apply_policies`), the simulated flow is

.. math:: f_e = f^0_e \, (1 - B_e) \, \sigma_u ,

:math:`\sigma_u` the share of its permitted baseline sales that seller u can serve.

Supply ratios:

* **market** m (a country's pool of one commodity), proportional over what its buyers may
  still take:
  :math:`\sigma_m = \min\Bigl(1, \dfrac{\sum_{e \in in(m)} f_e + g_m}{\sum_{e \in in(m)} f^0_e + g_m
  - \sum_{e \in out(m)} f^0_e B_e}\Bigr)`,
  with :math:`g_m = \max(0, \sum_{out} f^0 - \sum_{in} f^0)` the inflow the
  edge table does not record (unrecorded domestic supply), taken as unaffected (a difference
  within :data:`BALANCE_TOL` of the sums is round-off, :func:`beyond_round_off`). Without
  blocked sales this is the received share of the baseline inflow; with China's magnet exports
  banned, the magnets they took stay in China's market for its own users;
* **converter** v (a facility with inputs), Leontief: activity scales to the
  scarcest input, :math:`s_v = \min_k \dfrac{\sum_{e \in in_k(v)} f_e}{\sum_{e \in in_k(v)} f^0_e}`
  over its input commodities k (a magnet plant without Dy cannot make magnets
  from NdPr alone; proportional scaling would overstate its output);
* **mine** (facility without inputs): :math:`s_v = 1`.
  A converter's input edges carry what it uses, :math:`s_v f^0_e` in total per input (the
  rest stays in the market). A facility makes :math:`M_{vk} = s_v O^0_{vk}` of output k
  (:math:`O^0_{vk}` its baseline output) and shares it over its permitted output edges,
  :math:`\sigma_{vk} = \min(1, M_{vk} / \sum_{e \in out_k(v)} f^0_e (1 - B_e))`;
* **use** node: delivered :math:`= \sum_{e \in in} f_e`, demand :math:`= \sum_{e \in in} f^0_e`,
  shortfall = demand − delivered.

The ratios solve :math:`s = \min(\mathbf 1, F(s))` with F monotone; it is found by
fixed-point iteration from :math:`s = \mathbf 1` on arrays (one sparse pass per
iteration: ``bincount`` for sums, ``minimum.reduceat`` for the Leontief minimum).
The sequence decreases monotonically, so it converges to the greatest fixed
point; on an acyclic network it is exact after as many passes as the longest path.

**What nobody takes is not made** (curtailment, the backward pass). A blocked export
leaves its supplier's market with material no buyer takes. With fixed patterns the
buyers of a node take the share :math:`\rho` of what reaches them, found by a second
monotone fixed point from :math:`\rho = \mathbf 1` on the forward flows :math:`f`
(:func:`curtail`):

* sinks (use, surplus and stock nodes) take all: :math:`\rho = 1`;
* market m takes from each inflow the share it passes on,
  :math:`\rho_m = \min\bigl(1, \sum_{e \in out(m)} f_e \rho_{b(e)} / (\sum_{e \in in(m)} f_e + g_m)\bigr)`;
* facility v runs at the share its most wanted output is taken,
  :math:`\rho_v = \max_k \sum_{e \in out_k(v)} f_e \rho_{b(e)} / M_{vk}`
  (joint products: a separation plant that sells its NdPr makes the other oxides too; a
  plant whose export is blocked is curtailed by what it can no longer sell, never below
  what its permitted buyers take).

Every edge then carries what its buyer takes, :math:`f_e \rho_{b(e)}`; facility v
makes :math:`\rho_v M_{vk}` of output k, and what of it no buyer takes,
:math:`\rho_v M_{vk} - \sum_{out_k(v)} f \rho_{b(e)}`, is **unsold** output
(reported, never dropped). Shortfalls are those of the forward pass: taking less never
leaves a buyer short.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.errors import EngineError

__all__ = [
    "BALANCE_TOL",
    "FixedResult",
    "NetworkIndex",
    "beyond_round_off",
    "curtail",
    "index_network",
    "propagate_fixed",
    "shortfall_frame",
    "shortfall_table",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

BALANCE_TOL = 1e-9
"""Differences of baseline sums up to this share of the sums are round-off (:func:`beyond_round_off`)."""

SHORTFALL_COLUMNS = [
    "node", "country", "commodity", "stage", "demand_t", "delivered_t", "shortfall_t", "shortfall_share",
]


@dataclass(frozen=True)
class NetworkIndex:
    """Integer positions of an edge table's endpoints.

    Attributes
    ----------
    nodes : pandas.DataFrame
        Node table (rows in index order), completed with any endpoint the
        node table lacks (its kind inferred from the id,
        :func:`~supplychain.graph.build.node_kind`).
    src, dst : numpy.ndarray
        Node position of each edge's supplier and buyer.
    kind : numpy.ndarray of str
        ``facility``, ``market``, ``use``, ``surplus`` or ``stock`` per node.
    """

    nodes: pd.DataFrame
    src: IntArray
    dst: IntArray
    kind: npt.NDArray[np.str_]

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)


def index_network(nodes: pd.DataFrame | None, edges: pd.DataFrame) -> NetworkIndex:
    """Map edge endpoints to node positions.

    Parameters
    ----------
    nodes : pandas.DataFrame or None
        Node table (``node``, ``kind``, ``country``, ``commodity`` …); may be None.
    edges : pandas.DataFrame
        Edge table with ``supplier`` and ``buyer``.

    Returns
    -------
    NetworkIndex
    """
    from supplychain.graph.build import node_kind

    cols = ["node", "kind", "country", "commodity", "stage"]
    known = pd.DataFrame(columns=cols) if nodes is None else nodes
    pos = {str(x): i for i, x in enumerate(known["node"].tolist())}
    sup = [str(x) for x in edges["supplier"].tolist()]
    buy = [str(x) for x in edges["buyer"].tolist()]
    missing = list(dict.fromkeys(x for x in sup + buy if x not in pos))
    if missing:
        extra = pd.DataFrame({
            "node": missing,
            "kind": [node_kind(x) for x in missing],
            "country": [x.split(":")[0] if ":" in x else "" for x in missing],
            "commodity": [x.split(":")[1] if ":" in x else "" for x in missing],
        })
        pos.update((x, len(known) + i) for i, x in enumerate(missing))
        known = pd.concat([known, extra], ignore_index=True)
    known = known.reset_index(drop=True)
    src = np.fromiter((pos[x] for x in sup), dtype=np.intp, count=len(sup))
    dst = np.fromiter((pos[x] for x in buy), dtype=np.intp, count=len(buy))
    kind = np.array([str(k) for k in known["kind"].tolist()], dtype=np.str_)
    return NetworkIndex(nodes=known, src=src, dst=dst, kind=kind)


@dataclass(frozen=True)
class FixedResult:
    r"""Outcome of :func:`propagate_fixed`.

    Attributes
    ----------
    tonnes : numpy.ndarray
        Simulated tonnes per edge (edge-table order): what each buyer takes.
    ratio : numpy.ndarray
        Supply ratio per node (node order of ``index.nodes``): :math:`\sigma_m` of a market (the
        share of its permitted baseline sales it serves), the activity :math:`s_v` of a facility.
    index : NetworkIndex
        The node/edge positions used.
    iterations : int
        Fixed-point passes (forward and backward).
    unsold : numpy.ndarray
        Output made and taken by no buyer, per edge-table position of the facility's
        output edges summed per (facility, commodity) and put on the first such edge
        (0 elsewhere; :func:`curtail`).
    arrived : numpy.ndarray
        Forward flow per edge, :math:`f_e` (plus any ``extra``): what reached each buyer, before a
        converter takes only what it uses and before the backward pass (what a plant would have
        received; :func:`~supplychain.simulation.stocks.plant_gaps`).
    """

    tonnes: FloatArray
    ratio: FloatArray
    index: NetworkIndex
    iterations: int
    unsold: FloatArray
    arrived: FloatArray


def propagate_fixed(
    nodes: pd.DataFrame | None,
    edges: pd.DataFrame,
    blocked_share: FloatArray | None = None,
    *,
    tol: float = 1e-13,
    max_iter: int | None = None,
    extra: FloatArray | None = None,
) -> FixedResult:
    r"""Propagate blocked tonnes down the chain with fixed trade patterns.

    Parameters
    ----------
    nodes : pandas.DataFrame or None
        Node table of the year.
    edges : pandas.DataFrame
        Edge table of the year (``supplier``, ``buyer``, ``commodity``, ``tonnes``).
    blocked_share : numpy.ndarray, optional
        :math:`B_e` per edge (default 0 everywhere).
    tol : float
        Convergence tolerance on the supply ratios.
    max_iter : int, optional
        Largest number of passes (default: number of nodes + 1000).
    extra : numpy.ndarray, optional
        Tonnes :math:`x_e` per edge arriving on top of the forward flow, :math:`f_e + x_e`, from no
        seller of the network: an intermediate stock released into its holder's plants
        (:meth:`~supplychain.simulation.run.Simulator._propagate`). A plant's activity then counts them
        with its other inputs.

    Returns
    -------
    FixedResult

    Raises
    ------
    EngineError
        The iteration did not converge (a loop passing nearly all its material).

    Notes
    -----
    See the module docstring for the equations.

    Examples
    --------
    A chain CN market → US market → US use, 40 % of the trade edge blocked:

    >>> e = pd.DataFrame({"edge": ["t", "u"], "supplier": ["CN:x", "US:x"], "buyer": ["US:x", "US:x:use"],
    ...                   "commodity": ["x", "x"], "tonnes": [100.0, 100.0]})
    >>> propagate_fixed(None, e, np.array([0.4, 0.0])).tonnes.tolist()
    [60.0, 60.0]

    A mine supplying 100 t to its market, 70 t of which go abroad: when the export is
    blocked, the mine makes only the 30 t its own country takes.

    >>> e = pd.DataFrame({"edge": ["s", "x", "u"], "supplier": ["mine", "AU:x", "AU:x"],
    ...                   "buyer": ["AU:x", "JP:x", "AU:x:use"], "commodity": ["x"] * 3,
    ...                   "tonnes": [100.0, 70.0, 30.0]})
    >>> propagate_fixed(None, e, np.array([0.0, 1.0, 0.0])).tonnes.tolist()
    [30.0, 0.0, 30.0]
    """
    idx = index_network(nodes, edges)
    n = idx.n
    f0 = edges["tonnes"].to_numpy(dtype=float)
    b = np.zeros(len(edges)) if blocked_share is None else np.asarray(blocked_share, dtype=float)
    x = np.zeros(len(edges)) if extra is None else np.asarray(extra, dtype=float)
    passed = f0 * (1.0 - b)
    is_market = idx.kind == "market"
    is_fac = idx.kind == "facility"
    in0 = np.bincount(idx.dst, weights=f0, minlength=n)
    out0 = np.bincount(idx.src, weights=f0, minlength=n)
    gap = np.where(is_market, beyond_round_off(out0 - in0, np.maximum(out0, in0)), 0.0)
    # a market shares its supply over what its buyers may still take: D_m − Σ_out f⁰ B
    keep = in0 + gap - np.bincount(idx.src, weights=f0 - passed, minlength=n)
    # Leontief groups: (facility, input commodity) for edges into facilities
    into_fac = is_fac[idx.dst]
    com_code = np.asarray(pd.factorize(np.array([str(c) for c in edges["commodity"].tolist()], dtype=object))[0],
                          dtype=np.intp)
    gcodes, gfac = _facility_groups(idx.dst, com_code, into_fac)
    ng = len(gfac)
    gbase = np.bincount(gcodes, weights=f0[into_fac], minlength=ng)
    e_fac = np.flatnonzero(into_fac)
    has_inputs = np.zeros(n, dtype=bool)
    has_inputs[gfac[gbase > 0]] = True
    leontief = is_fac & has_inputs
    order, starts, owner = _by_owner(gfac, np.arange(ng))
    # output groups: (facility, output commodity); a facility shares its output s_v O⁰_vk over the permitted edges
    from_fac = is_fac[idx.src]
    ocodes, ofac = _facility_groups(idx.src, com_code, from_fac)
    made0 = np.bincount(ocodes, weights=f0[from_fac], minlength=len(ofac))
    permitted = np.bincount(ocodes, weights=passed[from_fac], minlength=len(ofac))
    spread = np.divide(made0, permitted, out=np.ones(len(ofac)), where=permitted > 0)
    fed, based = keep > 0, gbase > 0
    s = np.ones(n)
    limit = max_iter if max_iter is not None else n + 1000
    it = 0
    while True:
        it += 1
        flow = _forward(passed, s, idx.src, from_fac, ocodes, ofac, spread) + x
        got = np.bincount(idx.dst, weights=flow, minlength=n)
        node_ratio = np.divide(got + gap, keep, out=np.ones(n), where=fed)
        new = np.where(is_fac, 1.0, np.minimum(1.0, node_ratio))
        if ng:
            gsum = np.bincount(gcodes, weights=flow[e_fac], minlength=ng)
            gratio = np.divide(gsum, gbase, out=np.ones(ng), where=based)
            fac_ratio = np.ones(n)
            fac_ratio[owner] = np.minimum(1.0, np.minimum.reduceat(gratio[order], starts))
            new = np.where(leontief, fac_ratio, new)
        delta = float(np.max(np.abs(new - s))) if n else 0.0
        s = new
        if delta <= tol:
            break
        if it >= limit:
            msg = (
                f"the fixed response did not converge after {it} passes (last change {delta:.2e}); "
                "a loop in the network passes almost all of its material"
            )
            raise EngineError(msg)
    tonnes = _forward(passed, s, idx.src, from_fac, ocodes, ofac, spread) + x
    arrived = tonnes.copy()
    if ng:
        # a converter takes only what it uses: each input edge scaled by s_v / r_k (Σ over group = s_v Σ f⁰)
        gsum = np.bincount(gcodes, weights=tonnes[e_fac], minlength=ng)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(gsum > 0, s[gfac] * gbase / np.where(gsum > 0, gsum, 1.0), 0.0)
        scale = np.where(has_inputs[gfac], np.minimum(1.0, scale), 1.0)
        tonnes[e_fac] = tonnes[e_fac] * scale[gcodes]
    made = np.where(from_fac, f0 * s[idx.src], tonnes)  # what each facility output edge stands for of s_v O⁰_vk
    taken, unsold, back = curtail(idx, tonnes, com_code, gap, made=made, tol=tol, max_iter=limit)
    return FixedResult(tonnes=taken, ratio=s, index=idx, iterations=it + back, unsold=unsold, arrived=arrived)


def _forward(passed: FloatArray, s: FloatArray, src: IntArray, from_fac: npt.NDArray[np.bool_], ocodes: IntArray,
             ofac: IntArray, spread: FloatArray) -> FloatArray:
    r"""Forward flows :math:`f^0_e (1 - B_e) \sigma_{u(e)}` for the ratios ``s`` (module docstring).

    A facility's output edges carry :math:`\sigma_{vk} = \min(1, s_v O^0_{vk} / P_{vk})` (``spread`` =
    :math:`O^0_{vk} / P_{vk}` per output group), every other edge its supplier's ratio.
    """
    flow = passed * s[src]
    flow[from_fac] = passed[from_fac] * np.minimum(1.0, s[ofac] * spread)[ocodes]
    return flow


def beyond_round_off(diff: npt.NDArray[Any], scale: npt.NDArray[Any]) -> FloatArray:
    """Return ``max(0, diff)``, with differences up to :data:`BALANCE_TOL` × ``scale`` as 0.

    A market whose baseline inflows and outflows balance gets ``out − in`` of 10⁻¹⁴ t to
    10⁻⁸ t from the table builder's floating-point sums and scalings. Taken as unrecorded
    supply it is a spurious flow: in ``fixed``, Korea's magnet market under a full Chinese ban
    passed on 9.2·10⁻⁹ t of it (1.3·10⁻¹² of its 6,966 t) after every inflow was gone; in the
    LP, a column HiGHS warns about ("excessively small bounds"). Both responses use this rule.

    Examples
    --------
    >>> beyond_round_off(np.array([9.2e-9, 5.0, -3.0]), np.array([6965.7, 100.0, 10.0])).tolist()
    [0.0, 5.0, 0.0]
    """
    out: FloatArray = np.where(diff > BALANCE_TOL * scale, diff, 0.0).astype(np.float64)
    return out


def _by_owner(owner: IntArray, rows: IntArray) -> tuple[IntArray, IntArray, IntArray]:
    """Sort ``rows`` (group positions) by ``owner[row]`` for ``ufunc.reduceat``: the order, run starts, run owners."""
    order = rows[np.argsort(owner[rows], kind="stable")]
    owned = owner[order]
    starts = np.flatnonzero(np.r_[True, owned[1:] != owned[:-1]]) if owned.size else np.zeros(0, dtype=np.intp)
    return order, starts, owned[starts]


def _facility_groups(node: IntArray, commodity: IntArray, mask: npt.NDArray[np.bool_]) -> tuple[IntArray, IntArray]:
    """Group the ``mask`` edges by (facility ``node[e]``, commodity): each edge's group and each group's facility."""
    ncom = int(commodity.max()) + 1 if commodity.size else 1
    key = node[mask].astype(np.int64) * ncom + commodity[mask].astype(np.int64)
    codes, uniq = pd.factorize(key)
    return np.asarray(codes, dtype=np.intp), (np.asarray(uniq, dtype=np.int64) // ncom).astype(np.intp)


def curtail(
    index: NetworkIndex,
    flows: FloatArray,
    commodity: IntArray,
    unrecorded: FloatArray,
    *,
    made: FloatArray | None = None,
    tol: float = 1e-13,
    max_iter: int = 10_000,
) -> tuple[FloatArray, FloatArray, int]:
    r"""Cut every flow to what its buyer takes (the backward pass, module docstring).

    Parameters
    ----------
    index : NetworkIndex
        Node positions of the edges.
    flows : numpy.ndarray
        Forward flows :math:`f_e` (what reaches each buyer).
    commodity : numpy.ndarray
        Commodity code per edge (facility outputs are grouped per commodity).
    unrecorded : numpy.ndarray
        :math:`g_m` per node (inflow of a market the edge table does not record).
    made : numpy.ndarray, optional
        Per facility output edge, the output it stands for, :math:`s_v f^0_e`: summed per
        (facility, commodity) it is what the facility makes, :math:`M_{vk} = s_v O^0_{vk}`,
        blocked edges included (default ``flows``: a facility makes what it ships).
    tol : float
        Convergence tolerance on the take ratios.
    max_iter : int
        Largest number of passes.

    Returns
    -------
    taken : numpy.ndarray
        :math:`f_e \rho_{b(e)}` per edge.
    unsold : numpy.ndarray
        Unsold output per edge position: for each (facility, commodity) with output,
        what it makes of the output less what its buyers take,
        :math:`\rho_v M_{vk} - \sum_{e \in out_k(v)} f_e \rho_{b(e)}` (:math:`M_{vk}` from ``made``),
        on the first of its output edges, 0 elsewhere.
    iterations : int
        Passes made.

    Raises
    ------
    EngineError
        No convergence (a loop that passes on almost all of its material).

    Examples
    --------
    A separation plant makes 10 t of NdPr and 40 t of other oxides; its NdPr buyer takes
    all, the other oxides' export (40 t) is blocked. The plant keeps running for the
    NdPr, so 40 t of other oxides are unsold:

    >>> e = pd.DataFrame({"supplier": ["sep", "sep", "CN:ndpr", "CN:other"],
    ...                   "buyer": ["CN:ndpr", "CN:other", "CN:ndpr:use", "JP:other"]})
    >>> idx = index_network(None, e)
    >>> taken, unsold, _ = curtail(idx, np.array([10.0, 40.0, 10.0, 0.0]), np.array([0, 1, 0, 1]),
    ...                            np.zeros(idx.n))
    >>> taken.tolist(), unsold.tolist()
    ([10.0, 0.0, 10.0, 0.0], [0.0, 40.0, 0.0, 0.0])
    """
    n = index.n
    src, dst, kind = index.src, index.dst, index.kind
    is_market = kind == "market"
    is_fac = kind == "facility"
    inflow = np.bincount(dst, weights=flows, minlength=n) + unrecorded
    out_fac = is_fac[src]
    gcode, gfac = _facility_groups(src, commodity, out_fac)
    ng = len(gfac)
    gout = np.bincount(gcode, weights=(flows if made is None else made)[out_fac], minlength=ng)
    order, starts, owner = _by_owner(gfac, np.flatnonzero(gout > 0))
    has_out = np.zeros(n, dtype=bool)
    has_out[owner] = True
    selling = is_fac & has_out
    buying = is_market & (inflow > 0)
    rho = np.ones(n)
    it = 0
    while True:
        it += 1
        taken = flows * rho[dst]
        passed = np.bincount(src, weights=taken, minlength=n)
        new = np.where(buying, np.minimum(1.0, np.divide(passed, inflow, out=np.ones(n), where=buying)), 1.0)
        if order.size:
            gtaken = np.bincount(gcode, weights=taken[out_fac], minlength=ng)
            fac_rho = np.zeros(n)
            fac_rho[owner] = np.maximum(0.0, np.maximum.reduceat(gtaken[order] / gout[order], starts))
            new = np.where(selling, fac_rho, new)
        delta = float(np.max(np.abs(new - rho))) if n else 0.0
        rho = new
        if delta <= tol:
            break
        if it >= max_iter:
            msg = (f"the fixed response's curtailment did not converge after {it} passes (last change "
                   f"{delta:.2e}); a loop in the network passes almost all of its material")
            raise EngineError(msg)
    taken = flows * rho[dst]
    unsold = np.zeros(len(flows))
    if ng:
        output = rho[gfac] * gout
        sold = np.bincount(gcode, weights=taken[out_fac], minlength=ng)
        left = np.maximum(0.0, output - sold)
        left[left <= 1e-9 * np.maximum(1.0, output)] = 0.0
        first = np.full(ng, -1, dtype=np.intp)
        pos = np.flatnonzero(out_fac)
        first[gcode[::-1]] = pos[::-1]
        unsold[first] = left
    return taken, unsold, it


def shortfall_table(
    index: NetworkIndex,
    edges: pd.DataFrame,
    tonnes: FloatArray,
    demand: FloatArray | None = None,
) -> pd.DataFrame:
    """Demand, delivered tonnes and shortfall at each use node.

    Parameters
    ----------
    index : NetworkIndex
        Node positions.
    edges : pandas.DataFrame
        Edge table (baseline ``tonnes`` define demand unless ``demand`` is given).
    tonnes : numpy.ndarray
        Simulated tonnes per edge.
    demand : numpy.ndarray, optional
        Demand per node (node order); default: baseline inflow of each use node.

    Returns
    -------
    pandas.DataFrame
        ``node``, ``country``, ``commodity``, ``stage``, ``demand_t``, ``delivered_t``,
        ``shortfall_t`` = max(0, demand − delivered), ``shortfall_share`` = shortfall / demand (NaN
        without demand).
    """
    n = index.n
    use = index.kind == "use"
    if demand is None:
        demand = np.bincount(index.dst, weights=edges["tonnes"].to_numpy(dtype=float), minlength=n).astype(np.float64)
    assert demand is not None
    got = np.bincount(index.dst, weights=tonnes, minlength=n)
    pos = np.flatnonzero(use)
    d = demand[pos]
    short = np.maximum(0.0, d - got[pos])
    short[np.abs(short) < 1e-9 * np.maximum(1.0, d)] = 0.0
    return shortfall_frame(index.nodes, pos, d, np.minimum(got[pos], d), short)


def shortfall_frame(nodes: pd.DataFrame, rows: IntArray, demand: FloatArray, delivered: FloatArray,
                    shortfall: FloatArray) -> pd.DataFrame:
    """Build the shortfall table of both supply responses, one row per use node (``rows`` of ``nodes``).

    ``shortfall_share`` = shortfall / demand, NaN (n/a) where there is no demand
    (:func:`supplychain.metrics.exposure.shortfall_share`).
    """
    from supplychain.metrics.exposure import shortfall_share

    share = shortfall_share(shortfall, demand)

    def text(col: str) -> npt.NDArray[np.object_]:
        if col not in nodes:
            return np.full(len(rows), "", dtype=object)
        return np.array([str(x) for x in nodes[col].to_numpy()[rows].tolist()], dtype=object)

    return pd.DataFrame({
        "node": text("node"),
        "country": text("country"),
        "commodity": text("commodity"),
        "stage": text("stage"),
        "demand_t": demand,
        "delivered_t": delivered,
        "shortfall_t": shortfall,
        "shortfall_share": share,
    })
