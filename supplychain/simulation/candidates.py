"""The edges of the re-routing LP besides the observed ones, and the facilities' yields.

:func:`facility_yields` calibrates each facility's input and output coefficients per tonne
of reference output; :func:`candidate_edges` completes the edge set: completion edges of
facilities, re-routing candidates from every producing to every consuming market of a
commodity (:func:`role_masks`), committed offtake routes (``docs/rebalance.md``, "Edges").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.schema.model import Facility, Process

__all__ = ["EDGE_COLUMNS", "candidate_edges", "facility_yields", "role_masks"]

EDGE_COLUMNS = ["edge", "supplier", "buyer", "supplier_country", "buyer_country", "commodity", "stage", "kind"]


# ------------------------------------------------------------------- yields
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
    fac = nodes[nodes["kind"].astype(str) == "facility"]
    ref = dict(zip(fac["node"].astype(str), fac["commodity"].astype(str), strict=True))
    t = edges["tonnes"].to_numpy(dtype=float)
    sup = edges["supplier"].astype(str).to_numpy()
    buy = edges["buyer"].astype(str).to_numpy()
    com = edges["commodity"].astype(str).to_numpy()
    out_df = pd.DataFrame({"facility": sup, "commodity": com, "t": t})
    out_df = out_df[out_df["facility"].isin(ref)]
    in_df = pd.DataFrame({"facility": buy, "commodity": com, "t": t})
    in_df = in_df[in_df["facility"].isin(ref)]
    outs = out_df.groupby(["facility", "commodity"], sort=True)["t"].sum()
    ins = in_df.groupby(["facility", "commodity"], sort=True)["t"].sum()
    ref_out = {f: float(outs.get((f, r), 0.0)) for f, r in ref.items()}
    rows: list[tuple[str, str, str, float]] = []
    seen: set[tuple[str, str, str]] = set()

    def add(f: str, k: str, role: str, coef: float) -> None:
        if (f, k, role) not in seen:
            seen.add((f, k, role))
            rows.append((f, k, role, coef))

    calibrated = {f for f, v in ref_out.items() if v > 0}
    out_items: list[tuple[str, str, float]] = [
        (str(f), str(k), float(v)) for (f, k), v in zip(outs.index.tolist(), outs.to_numpy(), strict=True)
    ]
    in_items: list[tuple[str, str, float]] = [
        (str(f), str(k), float(v)) for (f, k), v in zip(ins.index.tolist(), ins.to_numpy(), strict=True)
    ]
    for f, k, v in out_items:
        if f in calibrated:
            add(f, k, "output", v / ref_out[f])
    for f, k, v in in_items:
        if f in calibrated:
            add(f, k, "input", v / ref_out[f])
    for f, r in sorted(ref.items()):
        if f in calibrated:
            continue
        ent = facilities.get(f)
        proc = processes.get(ent.process) if ent is not None and ent.process is not None else None
        if proc is not None:
            r = proc.reference_output
            base = proc.outputs[r].central
            for k, q in proc.outputs.items():
                add(f, k, "output", q.central / base)
            for k, q in proc.inputs.items():
                add(f, k, "input", q.central / base)
        else:
            add(f, ent.output if ent is not None and ent.output is not None else r, "output", 1.0)
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
    supplier: pd.Series, buyer: pd.Series, supplier_country: pd.Series, buyer_country: pd.Series
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
    """
    s = supplier.astype(str)
    b = buyer.astype(str)
    s_mkt = (s.str.contains(":") & ~s.str.endswith(":use")).to_numpy()
    b_mkt = (b.str.contains(":") & ~b.str.endswith(":use")).to_numpy()
    cross = (supplier_country.astype(str) != buyer_country.astype(str)).to_numpy()
    s_fac = (~s.str.contains(":")).to_numpy()
    b_fac = (~b.str.contains(":")).to_numpy()
    b_use = b.str.endswith(":use").to_numpy()
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
      feeding a use node or a facility) in another country, ``reroute.<k>.<from>.<to>``.
    """
    stage = _commodity_stage(nodes, edges)
    fac = nodes[nodes["kind"].astype(str) == "facility"]
    country = dict(zip(fac["node"].astype(str), fac["country"].astype(str), strict=True))
    sup = edges["supplier"].astype(str)
    buy = edges["buyer"].astype(str)
    com = edges["commodity"].astype(str)
    have_out = set(zip(sup, com, strict=True))
    have_in = set(zip(buy, com, strict=True))
    new: list[dict[str, Any]] = []
    for f, k, role in zip(yields["facility"], yields["commodity"], yields["role"], strict=True):
        c = country.get(f, "")
        market = f"{c}:{k}"
        if role == "output" and (f, k) not in have_out:
            new.append({"edge": f"supply.{f}.{k}", "supplier": f, "buyer": market, "supplier_country": c,
                        "buyer_country": c, "commodity": k, "kind": "supply", "origin": "completion"})
        elif role == "input" and (f, k) not in have_in:
            new.append({"edge": f"input.{f}.{k}", "supplier": market, "buyer": f, "supplier_country": c,
                        "buyer_country": c, "commodity": k, "kind": "input", "origin": "completion"})
    comp = pd.DataFrame(new, columns=[*EDGE_COLUMNS, "origin"])
    allx = pd.concat([edges.assign(origin="observed"), comp], ignore_index=True)
    pairs = set(
        zip(allx["supplier"].astype(str), allx["buyer"].astype(str), allx["commodity"].astype(str), strict=True)
    )
    extra: list[dict[str, Any]] = []
    for eid, s, b, sc, bc, k in offtakes:
        if (s, b, k) not in pairs:
            pairs.add((s, b, k))
            extra.append({"edge": eid, "supplier": s, "buyer": b, "supplier_country": sc, "buyer_country": bc,
                          "commodity": k, "kind": "trade", "origin": "offtake"})
    if reroute:
        s_all = allx["supplier"].astype(str)
        b_all = allx["buyer"].astype(str)
        prod_b, prod_s, cons_b, cons_s = role_masks(s_all, b_all, allx["supplier_country"], allx["buyer_country"])
        producers = pd.concat([b_all[prod_b], s_all[prod_s]]).drop_duplicates()
        consumers = pd.concat([b_all[cons_b], s_all[cons_s]]).drop_duplicates()
        p = pd.DataFrame({"supplier": producers.to_numpy()})
        q = pd.DataFrame({"buyer": consumers.to_numpy()})
        for df, col, cc in ((p, "supplier", "supplier_country"), (q, "buyer", "buyer_country")):
            parts = df[col].str.split(":", n=1, expand=True)
            df[cc] = parts[0] if len(df) else pd.Series(dtype=str)
            df["commodity"] = parts[1] if len(df) else pd.Series(dtype=str)
        cand = p.merge(q, on="commodity")
        cand = cand[cand["supplier_country"] != cand["buyer_country"]]
        key = pd.Series(list(zip(cand["supplier"], cand["buyer"], cand["commodity"], strict=True)), dtype=object)
        cand = cand[~key.isin(pairs).to_numpy()]
        cand = cand.assign(
            edge="reroute." + cand["commodity"] + "." + cand["supplier_country"] + "." + cand["buyer_country"],
            kind="trade",
            origin="reroute",
        )
        extra.extend(cand.to_dict("records"))  # type: ignore[arg-type]
    out = pd.concat([comp, pd.DataFrame(extra, columns=[*EDGE_COLUMNS, "origin"])], ignore_index=True)
    out["stage"] = out["commodity"].map(stage).fillna("")
    return out[[*EDGE_COLUMNS, "origin"]].reset_index(drop=True)


