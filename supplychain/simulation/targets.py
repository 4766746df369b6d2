"""Targets checked per year against the measures.

A target such as "China's share of US NdFeB magnet supply ≤ 25 % by 2030" is
evaluated in every simulated year from ``by`` on (docs/domain.md, "Policies and
deals"): the measure's value, the threshold, pass/fail and the margin, positive
when passing (``max − value`` for a ceiling, ``value − min`` for a floor).
A year without the measure is reported with ``status`` ``"no data"``, and a year whose
measure is n/a — a share of nothing, such as the traced share of a market nothing reaches
(``docs/measures.md``, "A share of nothing is n/a"), or a net exporter's net import reliance
(label ``"E"``, set where the value is computed; the reason reads the label) — with
``status`` ``"n/a"`` (not evaluable); neither is ever a pass (``met`` None,
a missed target-year for ``run --check-targets``). Targets on dependence use ``exposed_share`` by default (traced tonnes
plus unmet demand, :mod:`supplychain.metrics.exposure`; ``element_exposed_share`` for
the element inside products), so a ban that starves a country fails the target; a
target that names ``traced_share`` or ``element_dependence`` (traced shares of what is
delivered) can pass with unmet demand, and its reason says so. The share of demand
left unmet is reported beside every verdict (for an element target: the
``element_shortfall_share``, the share of the element in demand left unmet); a target
with ``max_shortfall_share`` fails (status ``"fail (shortfall)"``) when more is unmet.
Every verdict carries a ``reason`` in words (:func:`verdict_reason`).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from typing import Any, Protocol

import numpy as np
import pandas as pd

from supplychain.schema.model import Target

__all__ = [
    "TARGET_COLUMNS",
    "TARGET_METRIC_ALIASES",
    "TARGET_TOLERANCE",
    "evaluate_targets",
    "shortfall_metric",
    "shortfall_too_large",
    "target_measure",
    "target_met",
    "target_metrics",
    "threshold_met",
    "verdict_metrics",
    "verdict_reason",
    "with_inputs",
]

TARGET_COLUMNS = [
    "target",
    "year",
    "country",
    "commodity",
    "metric",
    "source_country",
    "value",
    "bound",
    "threshold",
    "met",
    "margin",
    "status",
    "shortfall_share",
    "reason",
    "variant",
]
"""Columns of the targets table."""

TARGET_METRIC_ALIASES: dict[str, str] = {"direct_share": "direct_import_share"}
"""Target metric names that read another measure (read through :func:`target_measure`)."""


class _ReadsMetric(Protocol):
    """A target as written (:class:`~supplychain.schema.model.Target`) or as a sweep checks it (``TargetSpec``)."""

    @property
    def metric(self) -> str: ...


def target_measure(target: _ReadsMetric) -> str:
    """Return the measure (the measures table's ``metric``) a target reads: its ``metric`` through the aliases.

    The one place :data:`TARGET_METRIC_ALIASES` is read: the run's verdicts
    (:func:`evaluate_targets`), ``compare``'s value beside a verdict and the sweep's
    ``TargetSpec`` all find the target's row with it.

    Examples
    --------
    >>> target_measure(Target(country="US", commodity="m", metric="direct_share", max=0.5, by=2030))
    'direct_import_share'
    >>> target_measure(Target(country="US", commodity="m", max=0.5, by=2030))
    'exposed_share'
    """
    return TARGET_METRIC_ALIASES.get(target.metric, target.metric)


TARGET_TOLERANCE = 1e-12
"""Round-off allowed on a target's threshold and on its ``max_shortfall_share``."""


def shortfall_metric(metric: str) -> str:
    """Return the shortfall a target on ``metric`` reads beside it (the element's for an element metric)."""
    return "element_shortfall_share" if metric in ("element_dependence", "element_exposed_share") else "shortfall_share"


def threshold_met(value: Any, sense: str, threshold: float) -> np.ndarray:
    r"""Tell element-wise whether a measure meets a target's threshold.

    ``max``: :math:`v \le t + \varepsilon`; ``min``: :math:`v \ge t - \varepsilon`, with
    :math:`\varepsilon` = :data:`TARGET_TOLERANCE`. A NaN value (n/a) never meets it.

    Examples
    --------
    >>> threshold_met(np.array([0.2, 0.25, 0.3, np.nan]), "max", 0.25).tolist()
    [True, True, False, False]
    """
    v = np.asarray(value, dtype=float)
    if sense == "max":
        return np.asarray(v <= threshold + TARGET_TOLERANCE)
    return np.asarray(v >= threshold - TARGET_TOLERANCE)


def shortfall_too_large(shortfall: Any, max_shortfall_share: float | None) -> np.ndarray:
    r"""Tell element-wise whether the unmet share fails a target's ``max_shortfall_share``.

    Fails when :math:`s > s_{max} + \varepsilon`; never without a ``max_shortfall_share``,
    nor where the shortfall share is NaN (no demand: nothing can be unmet).

    Examples
    --------
    >>> shortfall_too_large(np.array([0.05, 0.6, np.nan]), 0.1).tolist()
    [False, True, False]
    >>> shortfall_too_large(np.array([0.6]), None).tolist()
    [False]
    """
    s = np.asarray(shortfall, dtype=float)
    if max_shortfall_share is None or not math.isfinite(max_shortfall_share):
        return np.zeros(s.shape, dtype=bool)
    return np.asarray(s > max_shortfall_share + TARGET_TOLERANCE)


def target_met(value: Any, shortfall: Any, sense: str, threshold: float,
               max_shortfall_share: float | None) -> np.ndarray:
    """Tell element-wise whether a target is met: the run's verdict "pass" (:func:`evaluate_targets`).

    Met when the measure meets the threshold (:func:`threshold_met`) and the unmet share
    does not exceed ``max_shortfall_share`` (:func:`shortfall_too_large`); a NaN measure
    (n/a) is never met. The sweep's :meth:`~supplychain.uncertainty.result.SweepResult.target_probability`
    counts its samples with this predicate.

    Examples
    --------
    A traced share of 0 under a 25 % ceiling, with 60 % of demand unmet and at most 10 % allowed:

    >>> target_met(np.array([0.0, 0.0]), np.array([0.05, 0.6]), "max", 0.25, 0.1).tolist()
    [True, False]
    """
    return np.asarray(threshold_met(value, sense, threshold) & ~shortfall_too_large(shortfall, max_shortfall_share))


def verdict_metrics(target: Target) -> frozenset[str]:
    """Return the metrics a target's pass/fail reads: its own, and the shortfall when it sets ``max_shortfall_share``.

    A sweep keeps these rows (:func:`supplychain.uncertainty.montecarlo.measure_filter`) so its
    verdicts are the run's (:func:`target_met`).

    Examples
    --------
    >>> sorted(verdict_metrics(Target(country="US", commodity="m", max=0.25, by=2030, max_shortfall_share=0.1)))
    ['exposed_share', 'shortfall_share']
    """
    metric = target_measure(target)
    return frozenset({metric} | ({shortfall_metric(metric)} if target.max_shortfall_share is not None else set()))


def target_metrics(targets: Mapping[str, Target]) -> frozenset[str]:
    """Return the metrics of the measures table that ``targets`` read (their verdicts need these rows).

    A target reads its own metric (through :data:`TARGET_METRIC_ALIASES`) and the shortfall
    beside it; ``element_exposed_share`` is computed from ``element_dependence``.

    Examples
    --------
    >>> t = Target(country="US", commodity="NdPr", metric="element_exposed_share", max=0.25, by=2030)
    >>> sorted(target_metrics({"t": t}))
    ['element_dependence', 'element_exposed_share', 'element_shortfall_share']
    """
    out: set[str] = set()
    for t in targets.values():
        metric = target_measure(t)
        out |= {metric, shortfall_metric(metric)}
    return with_inputs(out)


def with_inputs(metrics: Collection[str]) -> frozenset[str]:
    """Return ``metrics`` with the measures they are made from (``element_exposed_share``: ``element_dependence``).

    ``element_exposed_share`` is made from the ``element_dependence`` rows and the element shortfall
    (:func:`~supplychain.simulation.aftershock.element_exposure`); asked for alone, it needs them.

    Examples
    --------
    >>> sorted(with_inputs(["element_exposed_share"]))
    ['element_dependence', 'element_exposed_share']
    """
    out = set(metrics)
    if "element_exposed_share" in out:
        out.add("element_dependence")
    return frozenset(out)


_NAMES = {"exposed_share": "exposed share", "traced_share": "traced share", "direct_share": "direct share",
          "net_import_reliance": "net import reliance", "shortfall_share": "unmet demand",
          "element_exposed_share": "exposed share of the element", "element_dependence": "traced share of the element"}


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%" if abs(100 * x - round(100 * x)) < 0.05 or abs(x) >= 0.1 else f"{100 * x:.1f}%"


def verdict_reason(metric: str, value: float, bound: str, threshold: float, status: str, shortfall: float,
                   year: int, max_shortfall: float | None = None, label: str = "") -> str:
    """Say in words why a target passes or fails in a year.

    ``label`` is the n/a measure's label (status ``"n/a"``): ``"E"``, set where the value is
    computed (:func:`supplychain.metrics.trade.first_hop`, ``exporter``), reads as a net
    exporter; another label (``"use not recorded"``, set by the same function where the scenario
    records no use of the commodity) is said as it is; an n/a without a label is a share of nothing
    (for net import reliance: no apparent consumption to rely on).

    Examples
    --------
    >>> verdict_reason("exposed_share", 0.78, "max", 0.25, "fail", 0.44, 2030)
    'fails: exposed share 78% > 25% in 2030 (44% of demand unmet)'
    >>> verdict_reason("traced_share", 0.22, "max", 0.25, "pass", 0.0, 2030)
    'passes: traced share 22% ≤ 25% in 2030, no unmet demand'
    >>> verdict_reason("traced_share", 0.0, "max", 0.25, "pass", 0.44, 2030)
    'passes on the traced share of delivered supply: 0% ≤ 25% in 2030, but 44% of demand unmet'
    >>> verdict_reason("traced_share", float("nan"), "max", 0.25, "n/a", 1.0, 2030)
    'not evaluable: traced share n/a in 2030, a share of nothing (100% of demand unmet)'
    >>> verdict_reason("net_import_reliance", float("nan"), "max", 0.5, "n/a", 0.0, 2030, label="E")
    'not evaluable: net import reliance n/a in 2030, a net exporter (E)'
    >>> verdict_reason("net_import_reliance", float("nan"), "max", 0.5, "n/a", 0.0, 2030, label="use not recorded")
    'not evaluable: net import reliance n/a in 2030, use not recorded'
    """
    name = _NAMES.get(metric, metric)
    op_ok, op_bad = ("≤", ">") if bound == "max" else ("≥", "<")
    unmet = shortfall if shortfall == shortfall else 0.0  # NaN: no final demand in the data
    if status == "no data":
        return f"no data: no {name} in {year}"
    if status == "n/a":
        why = "a net exporter (E)" if label == "E" else label or "a share of nothing"
        tail = f" ({_pct(unmet)} of demand unmet)" if unmet > 1e-9 else ""
        return f"not evaluable: {name} n/a in {year}, {why}{tail}"
    if status == "fail (shortfall)":
        return (f"fails: {_pct(unmet)} of demand unmet in {year} > {_pct(max_shortfall or 0.0)} allowed "
                f"({name} {_pct(value)} {op_ok} {_pct(threshold)})")
    if status == "fail":
        tail = f" ({_pct(unmet)} of demand unmet)" if unmet > 1e-9 else ""
        return f"fails: {name} {_pct(value)} {op_bad} {_pct(threshold)} in {year}{tail}"
    if metric in ("traced_share", "element_dependence") and unmet > 1e-9:
        return (f"passes on the traced share of delivered supply: {_pct(value)} {op_ok} {_pct(threshold)} "
                f"in {year}, but {_pct(unmet)} of demand unmet")
    tail = ", no unmet demand" if unmet <= 1e-9 else f", {_pct(unmet)} of demand unmet"
    return f"passes: {name} {_pct(value)} {op_ok} {_pct(threshold)} in {year}{tail}"


def evaluate_targets(
    targets: Mapping[str, Target],
    measures: pd.DataFrame,
    years: Iterable[int],
    *,
    variant: str | None = None,
) -> pd.DataFrame:
    """Evaluate each target in each year from its ``by`` year on.

    Parameters
    ----------
    targets : mapping of str to Target
        Targets by id.
    measures : pandas.DataFrame
        Tidy measures (``year``, ``country``, ``commodity``, ``metric``, ``value``,
        optionally ``source_country``).
    years : iterable of int
        Simulated years.
    variant : str, optional
        Variant label copied to every row.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`TARGET_COLUMNS`; ``met`` is True/False, or None with
        ``status`` "no data" (no row of the measure) or "n/a" (its rows are NaN: a share of
        nothing, not evaluable). Several rows of the measure in a year (use nodes, sources)
        are read by their worst finite value; ``shortfall_share`` beside it is the largest
        finite one (NaN: no demand).

    Examples
    --------
    >>> t = Target(country="US", commodity="ndpr_oxide", max=0.25, by=2030)
    >>> m = pd.DataFrame({"year": [2030], "country": ["US"], "commodity": ["ndpr_oxide"],
    ...                   "metric": ["exposed_share"], "source_country": ["CN"], "value": [0.4]})
    >>> r = evaluate_targets({"t": t}, m, [2029, 2030]).iloc[0]
    >>> bool(r["met"]), round(float(r["margin"]), 2), r["status"], r["reason"]
    (False, -0.15, 'fail', 'fails: exposed share 40% > 25% in 2030')

    A traced China share of 0 passes a 25 % ceiling, but not when 60 % of demand is unmet
    and the target allows at most 10 %:

    >>> t2 = Target(country="US", commodity="ndpr_oxide", metric="traced_share", max=0.25, by=2030,
    ...             max_shortfall_share=0.1)
    >>> m2 = pd.DataFrame({"year": [2030, 2030], "country": ["US", "US"], "commodity": ["ndpr_oxide"] * 2,
    ...                    "metric": ["traced_share", "shortfall_share"], "source_country": ["CN", ""],
    ...                    "value": [0.0, 0.6]})
    >>> r2 = evaluate_targets({"t": t2}, m2, [2030]).iloc[0]
    >>> bool(r2["met"]), r2["status"], float(r2["shortfall_share"])
    (False, 'fail (shortfall)', 0.6)
    """
    rows: list[dict[str, Any]] = []
    years = sorted(years)
    has_src = "source_country" in measures.columns
    country = measures["country"].to_numpy(dtype=object)
    commodity = measures["commodity"].to_numpy(dtype=object)
    metric = measures["metric"].to_numpy(dtype=object)
    source = measures["source_country"].to_numpy(dtype=object) if has_src else None
    # a row without a source (NIR, shortfall: "" in a run's measures, or missing) counts for any source
    no_source = (pd.isna(source) | (source == "")) if source is not None else None
    year = measures["year"].to_numpy()
    measured = measures["value"].to_numpy(dtype=float)
    labels = (measures["label"].fillna("").astype(str).to_numpy(dtype=object) if "label" in measures.columns
              else np.full(len(measures), "", dtype=object))
    for tid, t in sorted(targets.items()):
        at = np.flatnonzero(country == t.country)  # the target's country's rows, then tests on those
        here = commodity[at] == t.commodity
        kind = metric[at]
        reads = target_measure(t)
        sel = here & (kind == reads)
        if source is not None and no_source is not None and reads != "shortfall_share":
            sel &= no_source[at] | (source[at] == t.source_country)  # a row without a source counts for any
        m_year, m_value, m_label = year[at[sel]], measured[at[sel]], labels[at[sel]]
        short = at[here & (kind == shortfall_metric(reads))]
        s_year, s_value = year[short], measured[short]
        bound, threshold = ("max", t.max) if t.max is not None else ("min", t.min)
        assert threshold is not None
        for y in years:
            if y < t.by:
                continue
            vals = m_value[m_year == y]
            rows_of_year = vals.size
            na_labels = set(m_label[m_year == y].tolist())  # the reason set where the value was computed
            vals = vals[np.isfinite(vals)]
            if vals.size == 0:  # no row, or only shares of nothing: never a pass
                value, met, margin, status = np.nan, None, np.nan, "n/a" if rows_of_year else "no data"
            else:
                value = float(vals.max() if bound == "max" else vals.min())
                margin = threshold - value if bound == "max" else value - threshold
                met = bool(threshold_met(value, bound, threshold))
                status = "pass" if met else "fail"
            gap = s_value[s_year == y]
            gap = gap[np.isfinite(gap)]  # a use without demand has no shortfall share (n/a)
            shortfall = float(gap.max()) if gap.size else np.nan
            if met and shortfall_too_large(shortfall, t.max_shortfall_share):
                met, status = False, "fail (shortfall)"
            rows.append({
                "target": tid, "year": y, "country": t.country, "commodity": t.commodity, "metric": t.metric,
                "source_country": t.source_country, "value": value, "bound": bound, "threshold": threshold,
                "met": met, "margin": margin, "status": status, "shortfall_share": shortfall,
                "reason": verdict_reason(t.metric, value, bound, threshold, status, shortfall, y,
                                         t.max_shortfall_share, na_labels.pop() if len(na_labels) == 1 else ""),
                "variant": variant,
            })
    return pd.DataFrame(rows, columns=TARGET_COLUMNS)
