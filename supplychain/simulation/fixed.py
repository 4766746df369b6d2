r"""The ``fixed`` response: trade patterns stay, blocked tonnes are lost.

Nothing is re-routed. Each node passes on the share of its baseline inflow it
still receives (DOMAIN.md, "Supply response after a shock"). With :math:`f^0_e`
the baseline tonnes of edge e = (u → v), :math:`B_e` its blocked share
(:func:`~supplychain.simulation.policies.apply_policies`) and :math:`s_u` the
supply ratio of node u (received / baseline), the simulated flow is

.. math:: f_e = f^0_e \, (1 - B_e) \, s_u .

Supply ratios:

* **market** m (a country's pool of one commodity), proportional:
  :math:`s_m = \dfrac{\sum_{e \in in(m)} f_e + g_m}{\sum_{e \in in(m)} f^0_e + g_m}`,
  with :math:`g_m = \max(0, \sum_{out} f^0 - \sum_{in} f^0)` the inflow the
  edge table does not record (unrecorded domestic supply), taken as unaffected;
* **converter** v (a facility with inputs), Leontief: activity scales to the
  scarcest input, :math:`s_v = \min_k \dfrac{\sum_{e \in in_k(v)} f_e}{\sum_{e \in in_k(v)} f^0_e}`
  over its input commodities k (a magnet plant without Dy cannot make magnets
  from NdPr alone; proportional scaling would overstate its output);
* **mine** (facility without inputs): :math:`s_v = 1`;
  Its input edges carry what it uses, :math:`s_v f^0_e` in total per input (the rest
  stays in the market);
* **use** node: delivered :math:`= \sum_{e \in in} f_e`, demand :math:`= \sum_{e \in in} f^0_e`,
  shortfall = demand − delivered.

The ratios solve :math:`s = \min(\mathbf 1, F(s))` with F monotone; it is found by
fixed-point iteration from :math:`s = \mathbf 1` on arrays (one sparse pass per
iteration: ``bincount`` for sums, ``minimum.at`` for the Leontief minimum).
The sequence decreases monotonically, so it converges to the greatest fixed
point; on an acyclic network it is exact after as many passes as the longest path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.errors import EngineError

__all__ = ["FixedResult", "NetworkIndex", "index_network", "propagate_fixed", "shortfall_frame", "shortfall_table"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

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
        node table lacks (its kind inferred from the id: ``…:use`` use, ``A:b``
        market, else facility).
    src, dst : numpy.ndarray
        Node position of each edge's supplier and buyer.
    kind : numpy.ndarray of str
        ``facility``, ``market`` or ``use`` per node.
    """

    nodes: pd.DataFrame
    src: IntArray
    dst: IntArray
    kind: npt.NDArray[np.str_]

    @property
    def n(self) -> int:
        """Number of nodes."""
        return len(self.nodes)


def _kind_from_id(node: str) -> str:
    if node.endswith(":use"):
        return "use"
    return "market" if ":" in node else "facility"


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
    cols = ["node", "kind", "country", "commodity", "stage"]
    known = pd.DataFrame(columns=cols) if nodes is None else nodes
    ids = pd.Index(known["node"].astype(str))
    ends = pd.unique(pd.concat([edges["supplier"], edges["buyer"]], ignore_index=True).astype(str))
    missing = [x for x in ends if x not in ids]
    if missing:
        extra = pd.DataFrame({
            "node": missing,
            "kind": [_kind_from_id(x) for x in missing],
            "country": [x.split(":")[0] if ":" in x else "" for x in missing],
            "commodity": [x.split(":")[1] if ":" in x else "" for x in missing],
        })
        known = pd.concat([known, extra], ignore_index=True)
        ids = pd.Index(known["node"].astype(str))
    known = known.reset_index(drop=True)
    src = np.asarray(ids.get_indexer(pd.Index(edges["supplier"].astype(str))), dtype=np.intp)
    dst = np.asarray(ids.get_indexer(pd.Index(edges["buyer"].astype(str))), dtype=np.intp)
    kind = np.asarray(known["kind"].astype(str).to_numpy(), dtype=np.str_)
    return NetworkIndex(nodes=known, src=src, dst=dst, kind=kind)


@dataclass(frozen=True)
class FixedResult:
    """Outcome of :func:`propagate_fixed`.

    Attributes
    ----------
    tonnes : numpy.ndarray
        Simulated tonnes per edge (edge-table order).
    ratio : numpy.ndarray
        Supply ratio s per node (node order of ``index.nodes``).
    index : NetworkIndex
        The node/edge positions used.
    iterations : int
        Fixed-point passes.
    """

    tonnes: FloatArray
    ratio: FloatArray
    index: NetworkIndex
    iterations: int


def propagate_fixed(
    nodes: pd.DataFrame | None,
    edges: pd.DataFrame,
    blocked_share: FloatArray | None = None,
    *,
    tol: float = 1e-13,
    max_iter: int | None = None,
) -> FixedResult:
    """Propagate blocked tonnes down the chain with fixed trade patterns.

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
    """
    idx = index_network(nodes, edges)
    n = idx.n
    f0 = edges["tonnes"].to_numpy(dtype=float)
    b = np.zeros(len(edges)) if blocked_share is None else np.asarray(blocked_share, dtype=float)
    passed = f0 * (1.0 - b)
    is_market = idx.kind == "market"
    is_fac = idx.kind == "facility"
    in0 = np.bincount(idx.dst, weights=f0, minlength=n)
    out0 = np.bincount(idx.src, weights=f0, minlength=n)
    gap = np.where(is_market, np.maximum(0.0, out0 - in0), 0.0)
    denom = in0 + gap
    # Leontief groups: (facility, input commodity) for edges into facilities
    into_fac = is_fac[idx.dst]
    com_code, com_uniq = pd.factorize(edges["commodity"].astype(str))
    ncom = max(1, len(com_uniq))
    gkeys = idx.dst[into_fac].astype(np.int64) * ncom + np.asarray(com_code, dtype=np.int64)[into_fac]
    gcodes_raw, guniq = pd.factorize(gkeys)
    gcodes = np.asarray(gcodes_raw, dtype=np.intp)
    ng = len(guniq)
    gfac = (np.asarray(guniq, dtype=np.int64) // ncom).astype(np.intp)
    gbase = np.bincount(gcodes, weights=f0[into_fac], minlength=ng)
    e_fac = np.flatnonzero(into_fac)
    has_inputs = np.zeros(n, dtype=bool)
    has_inputs[gfac[gbase > 0]] = True
    s = np.ones(n)
    limit = max_iter if max_iter is not None else n + 1000
    it = 0
    while True:
        it += 1
        flow = passed * s[idx.src]
        got = np.bincount(idx.dst, weights=flow, minlength=n)
        new = np.ones(n)
        with np.errstate(invalid="ignore", divide="ignore"):
            node_ratio = np.where(denom > 0, (got + gap) / denom, 1.0)
        new = np.where(is_fac, 1.0, np.minimum(1.0, node_ratio))
        if ng:
            gsum = np.bincount(gcodes, weights=flow[e_fac], minlength=ng)
            with np.errstate(invalid="ignore", divide="ignore"):
                gratio = np.where(gbase > 0, gsum / gbase, 1.0)
            fac_ratio = np.ones(n)
            np.minimum.at(fac_ratio, gfac, gratio)
            new = np.where(is_fac & has_inputs, np.minimum(1.0, fac_ratio), new)
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
    tonnes = passed * s[idx.src]
    if ng:
        # a converter takes only what it uses: each input edge scaled by s_v / r_k (Σ over group = s_v Σ f⁰)
        gsum = np.bincount(gcodes, weights=tonnes[e_fac], minlength=ng)
        with np.errstate(invalid="ignore", divide="ignore"):
            scale = np.where(gsum > 0, s[gfac] * gbase / np.where(gsum > 0, gsum, 1.0), 0.0)
        scale = np.where(has_inputs[gfac], np.minimum(1.0, scale), 1.0)
        tonnes[e_fac] = tonnes[e_fac] * scale[gcodes]
    return FixedResult(tonnes=tonnes, ratio=s, index=idx, iterations=it)


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
        ``shortfall_t`` = max(0, demand − delivered), ``shortfall_share`` = shortfall / demand.
    """
    n = index.n
    use = index.kind == "use"
    if demand is None:
        demand = np.bincount(index.dst, weights=edges["tonnes"].to_numpy(dtype=float), minlength=n).astype(np.float64)
    assert demand is not None
    got = np.bincount(index.dst, weights=tonnes, minlength=n)
    pos = np.flatnonzero(use)
    nodes = index.nodes.iloc[pos]
    d = demand[pos]
    short = np.maximum(0.0, d - got[pos])
    short[np.abs(short) < 1e-9 * np.maximum(1.0, d)] = 0.0
    return shortfall_frame(nodes, d, np.minimum(got[pos], d), short)


def shortfall_frame(nodes: pd.DataFrame, demand: FloatArray, delivered: FloatArray,
                    shortfall: FloatArray) -> pd.DataFrame:
    """Build the shortfall table of both supply responses, one row per use node.

    ``shortfall_share`` = shortfall / demand (0 where there is no demand).
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(demand > 0, shortfall / demand, 0.0)
    stage = nodes["stage"] if "stage" in nodes else pd.Series([""] * len(nodes))
    return pd.DataFrame({
        "node": nodes["node"].astype(str).to_numpy(),
        "country": nodes["country"].astype(str).to_numpy(),
        "commodity": nodes["commodity"].astype(str).to_numpy(),
        "stage": stage.astype(str).to_numpy(),
        "demand_t": demand,
        "delivered_t": delivered,
        "shortfall_t": shortfall,
        "shortfall_share": share,
    })
