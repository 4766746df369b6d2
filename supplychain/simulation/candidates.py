"""The edges of the re-routing LP besides the observed ones, and the facilities' yields.

:func:`facility_yields` calibrates each facility's input and output coefficients per tonne
of reference output (:func:`recipe_yields` for a facility without base-year output);
:func:`plant_capacity` is the capacity :math:`K_v` a plant runs at most in the LP (what an offtake
is cut to, :func:`~supplychain.simulation.agreements.offtake_floors`, and what validation warns of);
:func:`candidate_edges` completes the edge set: completion edges of
facilities, re-routing candidates from every producing to every consuming market of a
commodity (:func:`role_masks`), committed offtake routes (``docs/rebalance.md``, "Edges").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.graph.sums import group_sums
from supplychain.schema.model import Facility, Process

__all__ = ["EDGE_COLUMNS", "candidate_edges", "facility_yields", "plant_capacity", "recipe_yields", "role_masks"]

EDGE_COLUMNS = ["edge", "supplier", "buyer", "supplier_country", "buyer_country", "commodity", "stage", "kind"]


# ------------------------------------------------------------------- yields
def plant_capacity(capacity: npt.ArrayLike, baseline_output: npt.ArrayLike) -> npt.NDArray[np.float64]:
    r"""Return a plant's capacity in the re-routing LP, :math:`K_v = \max(\text{capacity}_v, \text{output}_v)`.

    The one rule, used by the LP's year inputs
    (:meth:`~supplychain.simulation.lpinputs.YearInputBuilder.inputs_from_arrays`) and by validation's
    offtake warning (:func:`~supplychain.schema.references.check_offtake_capacity`): a plant may run at its
    capacity that year (commissioning, ramp-up, steps, closure:
    :func:`~supplychain.graph.build.capacity_in_year`) or at its baseline output of its reference commodity
    when that is larger (the data's own figure is feasible); an unknown capacity (NaN) leaves it its baseline
    output, no spare capacity.

    Parameters
    ----------
    capacity : array_like
        :math:`\text{capacity}_v`, tonnes of reference output (NaN: unknown).
    baseline_output : array_like
        The plant's baseline output of its reference commodity that year.

    Returns
    -------
    numpy.ndarray
        :math:`K_v`, elementwise.

    Examples
    --------
    >>> plant_capacity([100.0, 100.0, float("nan"), 0.0], [150.0, 40.0, 50.0, 0.0]).tolist()
    [150.0, 100.0, 50.0, 0.0]
    """
    cap = np.asarray(capacity, dtype=np.float64)
    out = np.asarray(baseline_output, dtype=np.float64)
    k: npt.NDArray[np.float64] = np.where(np.isnan(cap), out, np.maximum(np.nan_to_num(cap), out))
    return k


def recipe_yields(facility: Facility | None, processes: Mapping[str, Process],
                  reference: str) -> tuple[dict[str, float], dict[str, float]]:
    r"""Return a facility's outputs and inputs per tonne of its reference output, from its recipe.

    With a process: :math:`y_k = \text{outputs}_k / \text{outputs}_r` and
    :math:`c_k = \text{inputs}_k / \text{outputs}_r` (central values, ``r`` the process's reference
    output); without one, one tonne of its ``output`` (else ``reference``) per tonne of activity, no
    inputs. The one reading of a recipe's yields: :func:`facility_yields` for a facility without
    base-year output, validation's offtake warning for every plant
    (:func:`~supplychain.schema.references.check_offtake_capacity`).

    Parameters
    ----------
    facility : Facility or None
        The facility (``None``: unknown, one tonne of ``reference``).
    processes : mapping
        The scenario's processes.
    reference : str
        The facility's reference commodity, used when it has neither process nor ``output``.

    Returns
    -------
    tuple of dict
        Outputs and inputs, commodity → tonnes per tonne of reference output.

    Examples
    --------
    >>> p = Process.model_validate({"inputs": {"ore": 4}, "outputs": {"oxide": 2, "by": 0.5}})
    >>> f = Facility.model_validate({"name": "P", "country": "AU", "kind": "separation", "process": "sep"})
    >>> recipe_yields(f, {"sep": p}, "oxide")
    ({'oxide': 1.0, 'by': 0.25}, {'ore': 2.0})
    """
    proc = processes.get(facility.process) if facility is not None and facility.process is not None else None
    if proc is None:
        return {facility.output if facility is not None and facility.output is not None else reference: 1.0}, {}
    base = proc.outputs[proc.reference_output].central
    return ({k: q.central / base for k, q in proc.outputs.items()},
            {k: q.central / base for k, q in proc.inputs.items()})


def facility_yields(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    facilities: Mapping[str, Facility] | None = None,
    processes: Mapping[str, Process] | None = None,
) -> pd.DataFrame:
    r"""Input and output coefficients per tonne of each facility's reference output.

    Parameters
    ----------
    nodes : pandas.DataFrame
        Node table; facility rows give the reference output in ``commodity``.
    edges : pandas.DataFrame
        Base-year edge table.
    facilities, processes : mapping, optional
        Scenario entities, for facilities without base-year output.

    Returns
    -------
    pandas.DataFrame
        ``facility``, ``commodity``, ``role`` (``input`` | ``output``), ``coef``.

    Notes
    -----
    Calibration: a facility with base-year output of its reference commodity r
    gets the observed ratios, :math:`y_k = \sum_{out_k} f^0 / \sum_{out_r} f^0`
    and :math:`c_k = \sum_{in_k} f^0 / \sum_{out_r} f^0`, so the baseline is a
    feasible point of the LP (and the ``fixed`` response, which scales observed
    flows, is one too). Other facilities use their process:
    :math:`c_k = \text{inputs}_k / \text{outputs}_r`, :math:`y_k = \text{outputs}_k / \text{outputs}_r`;
    a mine makes one tonne of its output per tonne of activity. Commodities seen
    on a facility's edges but not in its recipe get coefficient 0 (the edge is
    closed).
    """
    facilities = facilities or {}
    processes = processes or {}
    is_fac = nodes["kind"].astype(str).to_numpy() == "facility"
    ref = dict(zip(nodes["node"].astype(str).to_numpy()[is_fac].tolist(),
                   nodes["commodity"].astype(str).to_numpy()[is_fac].tolist(), strict=True))
    t = edges["tonnes"].to_numpy(dtype=float).tolist()
    com = edges["commodity"].astype(str).tolist()

    def sums(ends: list[str]) -> dict[tuple[str, str], float]:
        """Σ tonnes per (facility, commodity) of the edges whose ``ends`` is a facility, sorted by key."""
        at = [i for i, f in enumerate(ends) if f in ref]
        return dict(sorted(group_sums([(ends[i], com[i]) for i in at], [t[i] for i in at]).items()))

    outs = sums(edges["supplier"].astype(str).tolist())
    ins = sums(edges["buyer"].astype(str).tolist())
    ref_out = {f: float(outs.get((f, r), 0.0)) for f, r in ref.items()}
    rows: list[tuple[str, str, str, float]] = []
    seen: set[tuple[str, str, str]] = set()

    def add(f: str, k: str, role: str, coef: float) -> None:
        if (f, k, role) not in seen:
            seen.add((f, k, role))
            rows.append((f, k, role, coef))

    calibrated = {f for f, v in ref_out.items() if v > 0}
    out_items = [(f, k, v) for (f, k), v in outs.items()]
    in_items = [(f, k, v) for (f, k), v in ins.items()]
    for f, k, v in out_items:
        if f in calibrated:
            add(f, k, "output", v / ref_out[f])
    for f, k, v in in_items:
        if f in calibrated:
            add(f, k, "input", v / ref_out[f])
    for f, r in sorted(ref.items()):
        if f in calibrated:
            continue
        outputs, inputs = recipe_yields(facilities.get(f), processes, r)
        for k, coef in outputs.items():
            add(f, k, "output", coef)
        for k, coef in inputs.items():
            add(f, k, "input", coef)
    for f, k, _ in out_items:
        add(f, k, "output", 0.0)
    for f, k, _ in in_items:
        add(f, k, "input", 0.0)
    return pd.DataFrame(rows, columns=["facility", "commodity", "role", "coef"])


# --------------------------------------------------------------- candidates
def _commodity_stage(nodes: pd.DataFrame, edges: pd.DataFrame) -> dict[str, str]:
    out: dict[str, str] = {}
    if "stage" in edges:
        for c, s in zip(edges["commodity"].astype(str), edges["stage"].astype(str), strict=True):
            out.setdefault(c, s)
    if "stage" in nodes:
        for c, s in zip(nodes["commodity"].astype(str), nodes["stage"].astype(str), strict=True):
            out.setdefault(c, s)
    return out


def role_masks(
    supplier: Sequence[Any], buyer: Sequence[Any], supplier_country: Sequence[Any], buyer_country: Sequence[Any]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Which edges make a market a *producer* or a *consumer* for the re-routing candidates.

    A market (an id with ``:`` that is not a use node) produces when a facility
    supplies it or it exports across a border, and consumes when it imports across a
    border or feeds a use node or a facility.

    Returns
    -------
    tuple of numpy.ndarray of bool
        Per edge: its buyer produces, its supplier produces, its buyer consumes, its
        supplier consumes.

    Examples
    --------
    >>> [m.tolist() for m in role_masks(["mine", "AU:ore", "AU:ore"], ["AU:ore", "JP:ore", "AU:ore:use"],
    ...                                 ["AU", "AU", "AU"], ["AU", "JP", "AU"])]
    [[True, False, False], [False, True, False], [False, True, False], [False, False, True]]
    """
    def flags(values: Sequence[Any], test: Any) -> npt.NDArray[np.bool_]:
        return np.fromiter((test(str(v)) for v in values), dtype=bool, count=len(values))

    s_fac = flags(supplier, lambda v: ":" not in v)
    b_fac = flags(buyer, lambda v: ":" not in v)
    b_use = flags(buyer, lambda v: v.endswith(":use"))
    s_mkt = ~s_fac & ~flags(supplier, lambda v: v.endswith(":use"))
    b_mkt = ~b_fac & ~b_use
    cross = np.fromiter((str(a) != str(b) for a, b in zip(supplier_country, buyer_country, strict=True)), dtype=bool,
                        count=len(supplier_country))
    return b_mkt & s_fac, s_mkt & cross, b_mkt & cross, s_mkt & (b_use | b_fac)


def candidate_edges(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    yields: pd.DataFrame,
    *,
    reroute: bool = True,
    offtakes: Sequence[tuple[str, str, str, str, str, str]] = (),
) -> pd.DataFrame:
    """Edges the LP may use besides the observed ones.

    Parameters
    ----------
    nodes, edges : pandas.DataFrame
        Node and (union) edge tables.
    yields : pandas.DataFrame
        From :func:`facility_yields`.
    reroute : bool
        Add trade candidates (else only completion and offtake edges).
    offtakes : sequence of tuple
        ``(edge id, supplier, buyer, supplier_country, buyer_country, commodity)``
        committed routes to add when missing.

    Returns
    -------
    pandas.DataFrame
        New edges with the edge-table columns, ``kind`` ``supply``/``input``/``trade``
        and ``origin`` ``completion``/``reroute``/``offtake``.

    Notes
    -----
    * completion: a facility gets ``supply.<f>.<k>`` to its country's market for
      every output k and ``input.<f>.<k>`` from it for every input it has no edge for;
    * re-routing: for each commodity, every *producing* market (fed by a facility,
      or exporting in the baseline) → every *consuming* market (importing, or
      feeding a use node or a facility) in another country, ``reroute.<k>.<from>.<to>``
      (in order of the producers' first appearance on the edges, then the consumers').
    """
    stage = _commodity_stage(nodes, edges)
    is_fac = nodes["kind"].astype(str).to_numpy() == "facility"
    country = dict(zip(nodes["node"].astype(str).to_numpy()[is_fac].tolist(),
                       nodes["country"].astype(str).to_numpy()[is_fac].tolist(), strict=True))
    sup, buy, com, s_cty, b_cty = ([str(v) for v in edges[c].tolist()] for c in
                                   ("supplier", "buyer", "commodity", "supplier_country", "buyer_country"))
    have_out = set(zip(sup, com, strict=True))
    have_in = set(zip(buy, com, strict=True))
    rows: list[tuple[str, str, str, str, str, str, str, str]] = []  # edge, s, b, s/b country, k, kind, origin
    for f, k, role in zip(yields["facility"], yields["commodity"], yields["role"], strict=True):
        c = country.get(f, "")
        market = f"{c}:{k}"
        if role == "output" and (f, k) not in have_out:
            rows.append((f"supply.{f}.{k}", str(f), market, c, c, str(k), "supply", "completion"))
        elif role == "input" and (f, k) not in have_in:
            rows.append((f"input.{f}.{k}", market, str(f), c, c, str(k), "input", "completion"))
    all_s, all_b = sup + [r[1] for r in rows], buy + [r[2] for r in rows]  # observed and completion edges
    all_sc, all_bc = s_cty + [r[3] for r in rows], b_cty + [r[4] for r in rows]
    pairs = set(zip(all_s, all_b, com + [r[5] for r in rows], strict=True))
    for eid, s, b, sc, bc, k in offtakes:
        if (s, b, k) not in pairs:
            pairs.add((s, b, k))
            rows.append((eid, s, b, sc, bc, k, "trade", "offtake"))
    if reroute:
        prod_b, prod_s, cons_b, cons_s = role_masks(all_s, all_b, all_sc, all_bc)

        def markets(on_buyer: npt.NDArray[np.bool_], on_supplier: npt.NDArray[np.bool_]) -> list[list[str]]:
            ids = [all_b[i] for i in np.flatnonzero(on_buyer)] + [all_s[i] for i in np.flatnonzero(on_supplier)]
            return [[m, *m.split(":", 1)] for m in dict.fromkeys(ids)]  # id, country, commodity

        consumers: dict[str, list[tuple[str, str]]] = {}
        for m, c, k in markets(cons_b, cons_s):  # candidates: producers × consumers of a commodity, in order
            consumers.setdefault(k, []).append((m, c))
        for s, sc, k in markets(prod_b, prod_s):
            for b, bc in consumers.get(k, ()):
                if sc != bc and (s, b, k) not in pairs:
                    rows.append((f"reroute.{k}.{sc}.{bc}", s, b, sc, bc, k, "trade", "reroute"))
    cols = ["edge", "supplier", "buyer", "supplier_country", "buyer_country", "commodity", "kind", "origin"]
    out = pd.DataFrame(rows, columns=cols, dtype=object)
    out["stage"] = np.array([stage.get(str(r[5]), "") for r in rows], dtype=object)
    return out[[*EDGE_COLUMNS, "origin"]]
