r"""Which input limits a converter's output: coverage of each input and the binding one.

A magnet plant needs NdPr metal *and* Dy and Tb oxide in fixed proportions; under a
ban on heavy rare earths the Dy, a few kilograms a tonne, stops the line while the
metal piles up. Per country ``c`` and multi-input process ``p`` (all of the country's
plants running ``p`` together):

* requirement at capacity of input ``k``: :math:`R_k = \sum_{v} a_{p,k} \, K_v / o_p`,
  ``K_v`` the plant's capacity in tonnes of the reference output (its production where
  no capacity is known), ``o_p`` the reference output's coefficient and ``a_{p,k}``
  the input coefficient;
* available input: :math:`A_k` = everything that flows into the country's market of
  ``k`` in the year (domestic output, imports, stock draws) less what the market sends
  abroad (its exports are not its plants' to use);
* coverage :math:`C_k = A_k / R_k`; the **binding input** is :math:`\arg\min_k C_k`,
  and output is limited below capacity when :math:`\min_k C_k < 1` (the plants can
  make at most :math:`\min_k C_k \cdot \sum_v K_v`).

Read on a simulated network (:meth:`supplychain.api.Result.tables` and the year's
:attr:`~supplychain.api.Result.utilisation`) this names what
cut a plant's output after a shock; on a baseline network, the thinnest input. When
several inputs tie within :data:`TIE`, all of them are binding.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.schema.model import Scenario

__all__ = ["BINDING_COLUMNS", "TIE", "binding_inputs", "input_coverage"]

TIE = 1e-6
"""Relative difference of coverage under which two inputs bind together."""

BINDING_COLUMNS = ["country", "process", "output", "input", "capacity", "production", "required",
                   "available", "coverage", "binding"]
"""Columns of :func:`binding_inputs`."""


def input_coverage(required: npt.ArrayLike, available: npt.ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Coverage of each input and which inputs bind.

    Parameters
    ----------
    required, available : array_like, shape (k,) or (k, S)
        ``R_k`` and ``A_k`` of the ``k`` inputs of one country × process (a trailing
        sample axis is allowed).

    Returns
    -------
    coverage : ndarray
        ``C_k = A_k / R_k`` (``inf`` where nothing is required).
    binding : ndarray of bool
        True for the input(s) with the smallest coverage (ties within :data:`TIE`).

    Examples
    --------
    A line for 1,000 t of magnets needs 300 t metal and 7.5 t Dy oxide; 900 t metal and
    1.5 t Dy oxide arrive: coverage 3.0 and 0.2, Dy binds (at most 200 t of magnets).

    >>> c, b = input_coverage([300.0, 7.5], [900.0, 1.5])
    >>> c.round(3).tolist(), b.tolist()
    ([3.0, 0.2], [False, True])
    """
    r = np.asarray(required, dtype=np.float64)
    a = np.asarray(available, dtype=np.float64)
    cov = np.divide(a, r, out=np.full(np.broadcast_shapes(r.shape, a.shape), np.inf), where=r > 0)
    low = cov.min(axis=0, keepdims=True)
    binding = np.isfinite(cov) & (cov <= low * (1 + TIE) + 1e-12)
    return cov, binding


def binding_inputs(
    scenario: Scenario, edges: pd.DataFrame, plants: pd.DataFrame, weight: str = "tonnes"
) -> pd.DataFrame:
    """Coverage of every input of every multi-input process, per country (thin pandas wrapper).

    Parameters
    ----------
    scenario : Scenario
        Gives each facility's country and process, and the process coefficients.
    edges : DataFrame
        Edges of one year (``buyer`` and the ``weight`` column): baseline
        (:func:`~supplychain.graph.build_tables`) or simulated (:meth:`supplychain.api.Result.tables`).
    plants : DataFrame
        ``facility``, ``capacity`` and ``output`` of the same year, in the unit of each
        facility's reference output: a baseline table's facilities (``capacity``
        and ``production``, capacity = production where unknown), or the year's rows
        of :attr:`supplychain.api.Result.utilisation` after a simulation.
    weight : str
        Column of ``edges`` with the quantities: ``"tonnes"`` in the baseline tables,
        ``"simulated"`` (or ``"baseline"``) in :meth:`~supplychain.api.Result.tables`.

    Returns
    -------
    DataFrame
        :data:`BINDING_COLUMNS`, one row per country × process × input, for countries
        with capacity of the process in the year (``capacity``, ``production`` in the
        unit of the reference ``output``; ``required``, ``available`` in each input's unit).
    """
    inflow = edges.groupby(edges["buyer"].astype(str))[weight].sum()
    if "buyer_country" in edges and "supplier_country" in edges:  # what a market sends abroad is not its plants'
        abroad = edges[edges["buyer_country"].astype(str) != edges["supplier_country"].astype(str)]
        inflow = inflow.sub(abroad.groupby(abroad["supplier"].astype(str))[weight].sum(), fill_value=0.0)
    cap_of = dict(zip(plants["facility"].astype(str), plants["capacity"].astype(float), strict=True))
    out_of = dict(zip(plants["facility"].astype(str), plants["output"].astype(float), strict=True))
    groups: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for fid, fac in sorted(scenario.facilities.items()):
        proc = scenario.processes.get(fac.process or "")
        cap = cap_of.get(fid, 0.0)
        if proc is None or len(proc.inputs) < 2 or not cap > 0:
            continue
        groups.setdefault((fac.country, str(fac.process)), []).append((cap, out_of.get(fid, 0.0)))
    rows = []
    for (country, pid), caps in sorted(groups.items()):
        proc = scenario.processes[pid]
        ref = proc.reference_output
        capacity = sum(c for c, _ in caps)
        activity = capacity / proc.outputs[ref].central
        names = list(proc.inputs)
        required = np.array([proc.inputs[k].central * activity for k in names])
        available = np.array([float(inflow.get(f"{country}:{k}", 0.0)) for k in names])
        cov, binding = input_coverage(required, available)
        rows += [{"country": country, "process": pid, "output": ref, "input": k, "capacity": capacity,
                  "production": sum(p for _, p in caps), "required": required[i], "available": available[i],
                  "coverage": cov[i], "binding": bool(binding[i])} for i, k in enumerate(names)]
    return pd.DataFrame(rows, columns=BINDING_COLUMNS)


