"""Measures of the network after a year's response: the engine on the adjusted tables, plus shortfall.

:func:`measures_after_shock` completes the node table of the simulated flows, runs the
exposure engine on it (:func:`~supplychain.metrics.measures.measures_from_tables`) and adds
the measures only a shock has: the share of each final use's demand left unmet
(``shortfall_share``, also per element) and the exposure that counts unmet demand as
exposed (``exposed_share``).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from supplychain.schema.model import Scenario


def shortfall_measures(content: Mapping[str, Mapping[str, float]] | None, short: pd.DataFrame,
                        year: int, *, scenario: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Measure rows of a year's shortfall: ``shortfall_share`` per use node, then ``element_shortfall_share``.

    The element rows are per country and element key (``metrics.elements.element_shortfall``; ``content``:
    the scenario's element contents, :func:`~supplychain.metrics.elements.element_content`); every row's
    ``scenario`` column is ``scenario`` (the scenario's name, as :func:`measures_after_shock`'s rows). Returns the
    rows and the element shortfall table (``country``, ``commodity`` = element key, ``value``).
    """
    from supplychain.metrics.elements import element_shortfall

    e = element_shortfall(short, content) if content and len(short) else pd.DataFrame(
        columns=["country", "commodity", "value"])
    n, k = len(short), len(e)
    key = e["commodity"].to_numpy(dtype=object)

    def both(mine: Any, element: Any) -> np.ndarray[Any, np.dtype[Any]]:
        return np.concatenate([mine, element])

    rows = pd.DataFrame({
        "year": np.full(n + k, year, dtype=np.int64),
        "country": both(short["country"].to_numpy(), e["country"].to_numpy(dtype=object)),
        "commodity": both(short["commodity"].to_numpy(), key),
        "stage": both(short["stage"].to_numpy(), np.full(k, "", dtype=object)),
        "metric": np.array(["shortfall_share"] * n + ["element_shortfall_share"] * k, dtype=object),
        "value": both(short["shortfall_share"].to_numpy(dtype=float), e["value"].to_numpy(dtype=float)),
        "unit": "share",
        "basis": np.array(["t of demand"] * n + [f"t {c} contained in demand" for c in key.tolist()], dtype=object),
        "source_country": "", "partner": "", "label": "", "scenario": scenario, "variant": "",
    })
    return rows, e


def element_exposure(m: pd.DataFrame, short: pd.DataFrame) -> pd.DataFrame:
    """Rows of ``element_exposed_share`` (``metrics.elements.element_exposure``) of a year.

    ``m``: the year's measures (its ``element_dependence`` rows); ``short``: its element shortfall
    per country and element key (:func:`shortfall_measures`).
    """
    from supplychain.metrics.elements import element_exposure

    if m.empty:
        return m
    at = np.flatnonzero(m["metric"].to_numpy() == "element_dependence")
    if not at.size:
        return m.iloc[:0]
    dep = {c: m[c].to_numpy()[at] for c in m.columns}
    by_key: dict[tuple[Any, Any], float] = {}
    if len(short):
        by_key = dict(zip(zip(short["country"].tolist(), short["commodity"].tolist(), strict=True),
                          short["value"].to_numpy(dtype=float).tolist(), strict=True))
    gap = np.array([by_key.get(k, np.nan) for k in zip(dep["country"].tolist(), dep["commodity"].tolist(),
                                                         strict=True)], dtype=float)  # NaN: no element demand
    dep["metric"] = np.full(at.size, "element_exposed_share", dtype=object)
    dep["value"] = element_exposure(np.asarray(dep["value"], dtype=float), gap)
    return pd.DataFrame(dep, copy=False)


def measures_after_shock(scenario: Scenario, nodes: pd.DataFrame, edges: pd.DataFrame, year: int,
                         source: str, variant: str = "", planned: pd.DataFrame | None = None,
                         inputs: Mapping[str, Any] | None = None,
                         metrics: Collection[str] | None = None) -> pd.DataFrame:
    """Exposure measures of the adjusted network of one year.

    The simulated edge table (tonnes after the response) and node table (primary
    production of mines and stock releases after the response) go through the
    exposure engine unchanged: :func:`supplychain.metrics.measures.measures_from_tables`.
    ``planned``: the year's baseline edge table, whose consumption is what ``exposed_share``
    counts unmet demand against (:mod:`supplychain.metrics.exposure`). ``inputs``: the scenario's
    :func:`~supplychain.metrics.measures.scenario_inputs`, when already at hand. ``metrics``: only
    these (default every one; ``measures_from_tables``).
    """
    from functools import partial

    from supplychain.engine import compile_tables
    from supplychain.metrics.exposure import consumption
    from supplychain.metrics.measures import measures_from_tables, resolve_source, scenario_inputs, source_label
    from supplychain.schema.references import problem_at

    nodes = complete_nodes(scenario, nodes)
    edges = edges.take(np.flatnonzero(edges["tonnes"].to_numpy() > 0)).reset_index(drop=True)
    universe = {str(c) for c in nodes["country"].tolist()} | set(scenario.countries) | set(scenario.regions)
    src = resolve_source(scenario, source, universe)
    cg = compile_tables(nodes, edges, locate=partial(problem_at, scenario))
    return measures_from_tables(
        nodes, edges, year=year, source=src, source_name=source_label(source),
        scenario_name=scenario.scenario.name, variant=variant, compiled=cg,
        **(inputs if inputs is not None else scenario_inputs(scenario)),
        planned=consumption(planned) if planned is not None else None, metrics=metrics,
    )


def complete_nodes(scenario: Scenario, nodes: pd.DataFrame) -> pd.DataFrame:
    """Fill the node-table columns the metrics read for nodes the LP added.

    The first row of each node; ``stage`` (when missing or empty) and ``basis`` (when
    missing) from the node's commodity, else ``""`` and ``"t"``; ``primary`` and
    ``production`` as floats, 0 when missing; ``capacity`` NaN when the column is absent;
    ``facility``, ``facility_kind`` and ``name`` as text, ``""`` when missing.
    """
    first = ~nodes["node"].duplicated().to_numpy()
    cols: dict[str, Any] = {c: nodes[c].to_numpy()[first] for c in nodes.columns}
    n = int(first.sum())
    com = [str(c) for c in cols["commodity"].tolist()]

    def filled(name: str, given: Any, default: dict[str, Any], missing: str) -> Any:
        known = [default.get(c) for c in com]
        if name in cols:
            known = [v if g else k for v, g, k in zip(cols[name].tolist(), given, known, strict=True)]
        out = np.array(known, dtype=object)
        out[pd.isna(out)] = missing
        return out

    has_stage = ~pd.isna(cols["stage"]) & (cols["stage"] != "") if "stage" in cols else np.zeros(n, dtype=bool)
    has_basis = ~pd.isna(cols["basis"]) if "basis" in cols else np.zeros(n, dtype=bool)
    cols["stage"] = filled("stage", has_stage, {k: c.stage for k, c in scenario.commodities.items()}, "")
    cols["basis"] = filled("basis", has_basis, {k: c.basis for k, c in scenario.commodities.items()}, "t")
    for col, fill in (("primary", 0.0), ("production", 0.0), ("capacity", float("nan"))):
        if col not in cols:
            cols[col] = np.full(n, fill)
        elif col != "capacity":
            values = np.asarray(cols[col], dtype=float)
            cols[col] = np.where(np.isnan(values), fill, values)
    for col in ("facility", "facility_kind", "name"):
        texts = np.asarray(cols[col], dtype=object) if col in cols else np.full(n, "", dtype=object)
        cols[col] = np.array(["" if na else str(v) for v, na in zip(texts.tolist(), pd.isna(texts).tolist(),
                                                                     strict=True)], dtype=object)
    return pd.DataFrame(cols, copy=False)
