"""Which assumptions matter: one-at-a-time sweeps, tornado charts and toggle grids.

One-at-a-time (OAT)
    Every uncertain input is moved to its low and then its high value while all
    others stay at their central value (toggles: off, then on). The members of a
    ``tie`` (one fact written in several places, drawn once per sample) move as ONE
    input, every member to its own low, then to its own high, as one draw would move
    them (:func:`oat_inputs`). The *swing* of a
    measure is ``|y(high) − y(low)|``; inputs ranked by swing give a tornado
    chart (docs/domain.md, "Uncertainty": "one-at-a-time sweeps give tornado charts of
    what matters most"). OAT ignores interactions between inputs; the Monte
    Carlo sweep (:func:`~supplychain.uncertainty.montecarlo.run_sweep`) shows
    their joint effect.

Toggle grid
    Every combination of the chosen toggles (2^k runs), e.g. "ban × US–Japan
    deal × ASEAN memoranda × Malaysian raw-export ban", with the measures and
    target checks of each combination.

Tornado chart
    :func:`tornado_chart` draws a ranking: one bar per input from the measure at its
    low value to the measure at its high value.

The one-at-a-time sweep and the toggle grid reuse the Monte Carlo machinery (sweep models,
executors, progress), so they scale out the same way.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
import pandas as pd

from supplychain.io.atomic import atomic_write
from supplychain.io.load import as_scenario
from supplychain.parallel.executors import ExecutorLike
from supplychain.parallel.progress import ProgressLike
from supplychain.schema.model import Scenario
from supplychain.simulation.toggles import read_overrides
from supplychain.uncertainty.models import (
    ATTRIBUTE_COLUMNS,
    ExposureMeasures,
    FunctionModel,
    MeasureFunction,
    Mode,
    SimulateMeasures,
)
from supplychain.uncertainty.montecarlo import (
    build_model,
    check_sweep_choices,
    measure_filter,
    require_sweep_codes,
    sweep_spec,
    swept_years,
)
from supplychain.uncertainty.result import target_specs, targets_table
from supplychain.uncertainty.sampling import SamplingSpec, central_row
from supplychain.uncertainty.scheduling import evaluate_samples

if TYPE_CHECKING:
    from matplotlib.figure import Figure
    from numpy.typing import ArrayLike

__all__ = ["SWING_ROUNDOFF", "TIE_LABEL", "GridResult", "Movers", "OATInput", "OATResult", "movers", "oat_inputs",
           "one_at_a_time", "roundoff_equal", "swing", "toggle_grid", "tornado_chart"]

MAX_GRID_TOGGLES = 12
"""Largest number of toggles in a grid (2^12 = 4096 runs)."""
SWING_ROUNDOFF = 1e-9
"""Relative round-off below which a swing is zero (:func:`swing`)."""
TIE_LABEL = "tie:"
"""Prefix of a tie's name in a ranking (``tie:cn_undocumented_output``): no key path can spell it."""


class OATInput(NamedTuple):
    """One input of a one-at-a-time sweep: a parameter drawn on its own, or every member of one tie."""

    label: str
    """The parameter's name, or :data:`TIE_LABEL` + the tie's name."""
    members: tuple[int, ...]
    """Positions of its parameters in the sweep's :class:`~supplychain.uncertainty.sampling.SamplingSpec`."""
    tie: str | None = None
    """The tie's name (``None`` for a parameter drawn on its own)."""


def oat_inputs(spec: SamplingSpec) -> tuple[OATInput, ...]:
    """Return the inputs a one-at-a-time sweep moves: each untied parameter alone, each tie as one.

    A tie is one fact written in several places (a range stated for every year of a path), drawn
    once per sample (:func:`~supplychain.uncertainty.sampling.draw`: every member at its own
    quantile of one uniform ``u``). Moved member by member, a tie of seven years would show as
    seven small bars, each the effect of one year alone, a case no sample contains; moved as one,
    its bar is the fact's. Order: the spec's, a tie at its first member's place.

    Examples
    --------
    >>> from supplychain.schema.types import Quantity
    >>> from supplychain.uncertainty.sampling import Parameter
    >>> q = Quantity(dist="uniform", low=0, high=1)
    >>> spec = SamplingSpec((Parameter(("a",), "quantity", q), Parameter(("b",), "quantity", q.model_copy(
    ...     update={"tie": "t"})), Parameter(("c",), "quantity", q), Parameter(("d",), "quantity", q.model_copy(
    ...     update={"tie": "t"}))))
    >>> [(i.label, i.members) for i in oat_inputs(spec)]
    [('a', (0,)), ('tie:t', (1, 3)), ('c', (2,))]
    """
    ties = spec.ties
    members = {tie: tuple(i for i, p in enumerate(spec) if p.tie == tie) for tie in ties}
    out: list[OATInput] = []
    for i, p in enumerate(spec):
        if p.tie is None:
            out.append(OATInput(p.name, (i,)))
        elif members[p.tie][0] == i:
            out.append(OATInput(f"{TIE_LABEL}{p.tie}", members[p.tie], p.tie))
    return tuple(out)


def roundoff_equal(a: ArrayLike, b: ArrayLike) -> np.ndarray:
    r"""Tell whether two values of a measure are equal within round-off (elementwise).

    .. math:: |a - b| \le \epsilon \max(1, |a|, |b|)

    with :math:`\epsilon` = :data:`SWING_ROUNDOFF`: an input that does not reach a measure can
    still move it in the last bits (the same sums taken in another order), ~1e-16 to 1e-13 on a
    share. This is the one rule for "no input moves this measure": :func:`swing` (one at a time)
    and the sweep summary's "all equal" flag (the largest and smallest sample) both read it.
    False when either value is NaN or infinite.

    Examples
    --------
    >>> roundoff_equal([0.3, 0.3, 12_000.0, 0.3], [0.3 + 5.551115123125783e-17, 0.31, 12_000.000001, float("nan")])
    array([ True, False,  True, False])
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    with np.errstate(invalid="ignore"):
        out: np.ndarray = (np.isfinite(x) & np.isfinite(y)
                           & (np.abs(y - x) <= SWING_ROUNDOFF * np.maximum(1.0, np.maximum(np.abs(x), np.abs(y)))))
    return out


def swing(low: float, high: float) -> float:
    r"""Swing of a measure between an input's low and high run, round-off counted as none.

    .. math:: s = |v_{high} - v_{low}| \text{ unless } v_{low}, v_{high} \text{ are equal within round-off}
              \text{ (:func:`roundoff_equal`), else } 0

    Counted as a swing, round-off would rank an input that does not reach the measure and hide
    it from the tornado at once. NaN when either value is (the input is not evaluable at that
    end; :func:`movers` counts it apart, never as "no effect").

    Examples
    --------
    >>> swing(0.5, 0.3), swing(0.3, 0.3 + 5.551115123125783e-17), swing(12_000.0, 12_000.000001)
    (0.2, 0.0, 0.0)
    """
    if not (np.isfinite(low) and np.isfinite(high)):
        return float("nan")
    return 0.0 if bool(roundoff_equal(low, high)) else abs(high - low)


class Movers(NamedTuple):
    """A ranking split by what each input does to the measure (:func:`movers`)."""

    rows: pd.DataFrame
    """Ranking rows with a swing (``swing > 0``), largest first."""
    still: int
    """Inputs with no effect: swing 0, round-off included."""
    not_evaluable: int
    """Inputs whose low or high run has no value (n/a or failed): swing NaN, effect unknown."""

    def hidden_text(self) -> str:
        """``"3 inputs with no effect, 1 not evaluable at one end"`` (empty when nothing is hidden)."""
        parts = []
        if self.still:
            parts.append(f"{self.still} input{'s' if self.still != 1 else ''} with no effect")
        if self.not_evaluable:
            n = self.not_evaluable
            parts.append(f"{n}{'' if self.still else (' inputs' if n != 1 else ' input')} not evaluable at one end")
        return ", ".join(parts)


def movers(ranking: pd.DataFrame) -> Movers:
    """Split a ranking (:meth:`OATResult.ranking`) into the inputs that move its measure and the others.

    An input moves the measure when its :func:`swing` is above 0; a swing of 0 (round-off
    included) is "no effect"; a NaN swing (the low or high run has no value) is "not evaluable"
    and counted apart, never as no effect.

    Examples
    --------
    >>> import pandas as pd
    >>> m = movers(pd.DataFrame({"parameter": ["a", "b", "c"], "swing": [0.2, 0.0, float("nan")]}))
    >>> m.rows["parameter"].tolist(), m.still, m.not_evaluable, m.hidden_text()
    (['a'], 1, 1, '1 input with no effect, 1 not evaluable at one end')
    """
    s = ranking["swing"].to_numpy(dtype=float)
    nan = np.isnan(s)
    return Movers(ranking[~nan & (s > 0.0)], int((~nan & (s <= 0.0)).sum()), int(nan.sum()))


def _match(measures: pd.DataFrame, where: Mapping[str, Any]) -> int:
    """Index of the one measure matching ``where`` (with ``partner`` empty unless given)."""
    mask = np.ones(len(measures), dtype=bool)
    where = dict(where)
    if "partner" in measures.columns and "partner" not in where:
        where["partner"] = ""
    for col, val in where.items():
        if val is None:
            continue
        if col not in measures.columns:
            msg = f"unknown measure column {col!r}"
            raise KeyError(msg)
        mask &= (measures[col] == val).to_numpy()
    idx = np.flatnonzero(mask)
    if len(idx) == 0:
        shown = {k: v for k, v in where.items() if v is not None}
        msg = f"no measure matches {shown}"
        if "metric" in measures.columns and len(measures):
            msg += f"; metrics available: {', '.join(sorted(measures['metric'].unique()))}"
        raise KeyError(msg)
    if len(idx) > 1:
        keys = [c for c in measures.columns if c not in (*ATTRIBUTE_COLUMNS, "central")]
        varying = [c for c in keys if measures.iloc[idx][c].nunique() > 1]
        msg = f"{len(idx)} measures match {where}; also give {', '.join(varying)}"
        raise KeyError(msg)
    return int(idx[0])


def _default_where(measures: pd.DataFrame, where: Mapping[str, Any]) -> dict[str, Any]:
    """Fill ``year`` with the last year when not given."""
    out = dict(where)
    if out.get("year") is None and "year" in measures.columns and len(measures):
        out["year"] = int(measures["year"].max())
    return out


# ------------------------------------------------------------------------- OAT
@dataclass(frozen=True)
class OATResult:
    """Measures at the central point and at each input's low and high value.

    Attributes
    ----------
    spec : SamplingSpec
        The parameters varied.
    lows, highs : list
        Value used for "low" and "high", one per parameter (a tie's members each at their own).
    measures : pandas.DataFrame
        Measure catalogue (key columns, ``unit``, ``basis``).
    central : numpy.ndarray
        Measure values with every input central.
    low_values, high_values : numpy.ndarray
        Shape ``(inputs, measures)``, one row per :attr:`inputs` entry.
    info : dict
        Mode, span, executor and timing.
    groups : tuple of OATInput
        The inputs moved (:func:`oat_inputs`); empty: one per parameter (a result built by hand).
    """

    spec: SamplingSpec
    lows: list[Any]
    highs: list[Any]
    measures: pd.DataFrame
    central: np.ndarray
    low_values: np.ndarray
    high_values: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)
    groups: tuple[OATInput, ...] = ()

    @property
    def inputs(self) -> tuple[OATInput, ...]:
        """The inputs moved, one per row of :attr:`low_values` (:func:`oat_inputs`)."""
        return self.groups or tuple(OATInput(p.name, (i,)) for i, p in enumerate(self.spec))

    def label_of(self, parameter: str) -> str:
        """Return the ranking's name of the input that moves ``parameter``: its own, or its tie's.

        Raises
        ------
        KeyError
            If no input moves a parameter of that name.
        """
        names = self.spec.names
        for g in self.inputs:
            if any(names[i] == parameter for i in g.members):
                return g.label
        msg = f"no input of this sweep moves {parameter!r}"
        raise KeyError(msg)

    def ranking(self, **where: Any) -> pd.DataFrame:
        """Rank the inputs by the swing of one measure.

        Parameters
        ----------
        **where
            Key columns that select one measure, e.g. ``metric="traced_share",
            country="US", commodity="ndpr_oxide"``. ``year`` defaults to the last
            year; ``partner`` to none.

        Returns
        -------
        pandas.DataFrame
            ``rank`` (1, 2, … for the inputs that move the measure, swing > 0; ``<NA>`` for those with
            no effect, swing 0, and those not evaluable, swing NaN: a tie at 0 is no order, and they stay
            listed, after the others), ``parameter`` (a tie: ``tie:NAME``, :func:`oat_inputs`), ``kind``,
            ``distribution`` (a tie: its members' count and name), ``input_low``, ``input_central``,
            ``input_high`` (NaN for a tie of several members: each is at its own value), ``value_low``,
            ``value_central``, ``value_high``, ``swing`` (``|value_high − value_low|``, 0 when it is round-off:
            :func:`swing`), ``members`` (the parameters moved), sorted by swing (largest first; equal swings
            by name). The measure selected is in ``attrs["measure"]``.

        Raises
        ------
        KeyError
            If the selection matches no measure or several.
        """
        where = _default_where(self.measures, where)
        j = _match(self.measures, where)
        rows = []
        params = self.spec.parameters
        for g, inp in enumerate(self.inputs):
            lo, hi = float(self.low_values[g, j]), float(self.high_values[g, j])
            first = params[inp.members[0]]
            one = len(inp.members) == 1
            rows.append(
                {
                    "parameter": inp.label,
                    "kind": first.kind,
                    "distribution": first.describe() if one else
                    f"{len(inp.members)} inputs drawn together, tie {inp.tie}",
                    "input_low": float(self.lows[inp.members[0]]) if one else math.nan,
                    "input_central": float(first.central) if one else math.nan,
                    "input_high": float(self.highs[inp.members[0]]) if one else math.nan,
                    "value_low": lo,
                    "value_central": float(self.central[j]),
                    "value_high": hi,
                    "swing": swing(lo, hi),
                    "members": [params[i].name for i in inp.members],
                }
            )
        cols = ["parameter", "kind", "distribution", "input_low", "input_central", "input_high", "value_low",
                "value_central", "value_high", "swing", "members"]  # fmt: skip
        df = pd.DataFrame(rows, columns=cols)
        if len(df):
            df = df.sort_values(["swing", "parameter"], ascending=[False, True], na_position="last", kind="mergesort")
        df = df.reset_index(drop=True)
        moves = df["swing"].to_numpy(dtype=float) > 0.0  # no effect (0) and not evaluable (NaN): no place
        ranks = [int(r) if m else pd.NA for r, m in zip(np.cumsum(moves), moves, strict=True)]
        df.insert(0, "rank", pd.Series(ranks, index=df.index, dtype="Int64"))
        df.attrs["measure"] = {k: _plain(v) for k, v in self.measures.iloc[j].to_dict().items()}
        return df

    def tornado(self, path: str | Path | None = None, *, top: int = 15, **where: Any) -> Figure:
        """Tornado chart of one measure (see :func:`tornado_chart`).

        Parameters
        ----------
        path : str or Path, optional
            Save the chart there (``.svg``, ``.png`` or ``.pdf``).
        top : int
            Show the ``top`` inputs with the largest swing.
        **where
            Selects the measure, as for :meth:`ranking`.

        Returns
        -------
        matplotlib.figure.Figure
            The chart.
        """
        return tornado_chart(self.ranking(**where), path=path, top=top)

    def moving(self, **where: Any) -> Movers:
        """Split one measure's ranking into the inputs that move it, those that do not and those not evaluable.

        Parameters
        ----------
        **where
            Selects the measure, as for :meth:`ranking`.

        Returns
        -------
        Movers
            ``rows`` (ranking rows with ``swing > 0``), ``still`` (swing 0), ``not_evaluable`` (swing NaN).
        """
        return movers(self.ranking(**where))


def _plain(v: Any) -> Any:
    return v.item() if isinstance(v, np.generic) else v


def one_at_a_time(
    scenario: Scenario | str | Path,
    *,
    mode: Mode = "rebalance",
    span: Literal["bounds", "p5-p95"] = "bounds",
    measures: Sequence[str] | str | None = None,
    countries: Sequence[str] | None = None,
    commodities: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
    toggles: Mapping[str, bool] | None = None,
    variant: str | None = None,
    parameters: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    model: MeasureFunction | None = None,
    fast: bool = True,
    executor: ExecutorLike = None,
    workers: int = 1,
    progress: ProgressLike = None,
    quiet: bool = False,
) -> OATResult:
    """Move each uncertain input to its low and high value, the others central.

    Parameters
    ----------
    scenario : Scenario or path
        The scenario (a path is loaded).
    mode : {"fixed", "rebalance", "exposure"}
        What is computed per run (as in :func:`~supplychain.uncertainty.montecarlo.run_sweep`).
    span : {"bounds", "p5-p95"}
        Low/high of each input: the distribution's bounds (normal without
        bounds: mean ± 1.96 sd) or its 5th/95th percentiles. Toggles: off/on. The members
        of a tie move together as one input (:func:`oat_inputs`), each to its own low, then
        to its own high (with ``p5-p95`` the quantiles 0.05 and 0.95 of one shared draw).
    measures, countries, commodities, years, source, toggles, variant, parameters, exclude, model, fast
        As for :func:`~supplychain.uncertainty.montecarlo.run_sweep`, with the same selection
        (:func:`~supplychain.uncertainty.montecarlo.measure_filter`): by default
        :data:`~supplychain.uncertainty.kernel.SWEEP_METRICS` and, whatever the selection, the measures
        the scenario's targets read (a target's ``exposed_share`` or ``element_exposed_share``, and its
        shortfall), so the tornado of a target's own measure needs no ``measures=``.
    executor, workers, progress, quiet
        Where and how visibly the ``2·k + 1`` runs are computed (``k`` inputs, a tie counted once).

    Returns
    -------
    OATResult
        Use :meth:`OATResult.ranking` and :meth:`OATResult.tornado`.

    Examples
    --------
    >>> import pandas as pd
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({
    ...     "scenario": {"name": "demo", "base_year": 2024},
    ...     "flows": {
    ...         "a": {"supplier": "CN", "buyer": "US", "commodity": "x", "year": 2024,
    ...               "tonnes": {"dist": "uniform", "low": 0, "high": 10}},
    ...         "b": {"supplier": "AU", "buyer": "US", "commodity": "x", "year": 2024,
    ...               "tonnes": {"dist": "uniform", "low": 4, "high": 6}}}})
    >>> def total(sc):
    ...     t = sum(f.tonnes.central for f in sc.flows.values())
    ...     return pd.DataFrame({"year": [2024], "metric": ["total"], "value": [t]})
    >>> r = one_at_a_time(s, model=total, quiet=True)
    >>> r.ranking(metric="total")[["parameter", "swing"]].values.tolist()
    [['flows.a.tonnes', 10.0], ['flows.b.tonnes', 2.0]]
    """
    check_sweep_choices(mode, measures, custom=model is not None)
    sc = as_scenario(scenario)
    require_sweep_codes(sc, source, countries)
    toggles = read_overrides(sc, toggles)
    spec = sweep_spec(sc, mode=mode, toggles=toggles, variant=variant, parameters=parameters, exclude=exclude)
    yrs, cut = swept_years(sc, years)
    select = measure_filter(measures, countries, commodities, cut,
                            custom=model is not None, targets=None if model is not None else sc.targets)
    sweep_model, fast_path = build_model(
        sc,
        spec,
        mode=mode,
        years=yrs,
        source=source,
        toggles=toggles,
        variant=variant,
        select=select,
        model=model,
        fast=fast,
    )
    centre = central_row(spec).to_dict()
    spans = [p.span(span) for p in spec]
    groups = oat_inputs(spec)
    names = spec.names
    rows = [centre]
    for end in (0, 1):  # every input at its low, then every input at its high
        rows.extend({**centre, **{names[i]: spans[i][end] for i in g.members}} for g in groups)
    inputs = pd.DataFrame(rows, columns=spec.names)
    for p in spec:
        inputs[p.name] = inputs[p.name].astype(bool if p.kind == "toggle" else float)
    catalogue, values, info, _raised = evaluate_samples(
        sweep_model,
        inputs,
        executor=executor,
        workers=workers,
        progress=progress,
        quiet=quiet,
        description="one-at-a-time",
    )
    k = len(groups)
    # _raised is per OAT row, not per sample: nothing reports it here (run_sweep's SweepResult.raised does)
    info.update(mode=mode, span=span, model=sweep_model.description, fast_path=fast_path, parameters=len(spec),
                inputs=k, ties=spec.ties, tie_selection=spec.tie_selection)
    return OATResult(
        spec=spec,
        lows=[s[0] for s in spans],
        highs=[s[1] for s in spans],
        measures=catalogue,
        central=values[0],
        low_values=values[1 : 1 + k],
        high_values=values[1 + k : 1 + 2 * k],
        info=info,
        groups=groups,
    )


# ------------------------------------------------------------------------ grid
@dataclass(frozen=True)
class GridResult:
    """Measures for every combination of a set of toggles.

    Attributes
    ----------
    inputs : pandas.DataFrame
        One row per combination (index ``combination``), one bool column per toggle id.
    measures : pandas.DataFrame
        Measure catalogue.
    values : numpy.ndarray
        Shape ``(combinations, measures)``.
    targets : pandas.DataFrame
        The scenario's targets.
    info : dict
        Mode, executor, timing.
    """

    inputs: pd.DataFrame
    measures: pd.DataFrame
    values: np.ndarray
    targets: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    def table(self, **where: Any) -> pd.DataFrame:
        """Tidy table: toggle states, measure keys and value, one row per (combination, measure).

        Parameters
        ----------
        **where
            Optional key column filters (``metric="traced_share"``, ``country="US"`` …).

        Returns
        -------
        pandas.DataFrame
            The rows.
        """
        mask = np.ones(len(self.measures), dtype=bool)
        for col, val in where.items():
            mask &= (self.measures[col] == val).to_numpy()
        cols = np.flatnonzero(mask)
        n = len(self.inputs)
        long = self.measures.iloc[np.tile(cols, n)].reset_index(drop=True)
        long["value"] = self.values[:, cols].reshape(-1)
        toggles = self.inputs.iloc[np.repeat(np.arange(n), len(cols))].reset_index()
        return pd.concat([toggles, long], axis=1)

    def target_table(self) -> pd.DataFrame:
        """Whether each target is met, per combination and year.

        Returns
        -------
        pandas.DataFrame
            Toggle states, ``target``, ``year``, ``required`` (year ≥ ``by``),
            ``value``, ``threshold``, ``met`` (NA when the measure is missing or n/a: not evaluable).
        """
        rows = []
        years = sorted({int(y) for y in self.measures["year"].unique()}) if len(self.measures) else []
        states = self.inputs.to_dict("records")
        for t in target_specs(self.targets):
            for year in years:
                j = t.locate(self.measures, year)
                if j is None:
                    continue
                short = t.shortfall(self.measures, self.values, year)  # max_shortfall_share: the run's gate
                for c, combo in enumerate(states):
                    v = float(self.values[c, j])
                    met: Any = bool(t.met(np.array([v]), short[c:c + 1])[0]) if np.isfinite(v) else pd.NA
                    rows.append(
                        {
                            **combo,
                            "target": t.target,
                            "year": year,
                            "required": year >= t.by,
                            "value": v,
                            "threshold": t.threshold,
                            "met": met,
                        }
                    )
        cols = [*self.inputs.columns, "target", "year", "required", "value", "threshold", "met"]
        return pd.DataFrame(rows, columns=cols)


def toggle_grid(
    scenario: Scenario | str | Path,
    toggles: Sequence[str] | None = None,
    *,
    mode: Mode = "rebalance",
    measures: Sequence[str] | str | None = None,
    countries: Sequence[str] | None = None,
    commodities: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    source: str | None = None,
    fixed: Mapping[str, bool] | None = None,
    model: MeasureFunction | None = None,
    executor: ExecutorLike = None,
    workers: int = 1,
    progress: ProgressLike = None,
    quiet: bool = False,
) -> GridResult:
    """Run every combination of the chosen toggles (others at their defaults or ``fixed``).

    Uncertain quantities stay at their central values.

    Parameters
    ----------
    scenario : Scenario or path
        The scenario.
    toggles : sequence of str, optional
        Toggle ids to combine (default: every toggle of the scenario).
    mode : {"fixed", "rebalance", "exposure"}
        What is computed per combination.
    measures, countries, commodities, years, source
        As for :func:`~supplychain.uncertainty.montecarlo.run_sweep`.
    fixed : mapping of str to bool, optional
        States of other toggles held fixed.
    model : callable, optional
        Custom measure function (receives the scenario with toggle defaults set).
    executor, workers, progress, quiet
        Where and how visibly the runs are computed.

    Returns
    -------
    GridResult
        Use :meth:`GridResult.table` and :meth:`GridResult.target_table`.

    Raises
    ------
    ScenarioError
        An unknown toggle (with a did-you-mean), a ``fixed`` state that is no on/off, an unknown
        ``mode`` or measure (a ``ValueError`` too).
    ValueError
        More than :data:`MAX_GRID_TOGGLES` toggles, or a toggle both in the grid and fixed.
    """
    check_sweep_choices(mode, measures, custom=model is not None)
    sc = as_scenario(scenario)
    require_sweep_codes(sc, source, countries)
    chosen = list(toggles) if toggles is not None else sorted(sc.toggles)
    read_overrides(sc, dict.fromkeys(chosen, True))  # the names: unknown ones with a did-you-mean
    if len(chosen) > MAX_GRID_TOGGLES:
        msg = f"a grid over {len(chosen)} toggles has 2^{len(chosen)} runs; choose at most {MAX_GRID_TOGGLES}"
        raise ValueError(msg)
    fixed_states = read_overrides(sc, fixed, "fixed")
    overlap = sorted(set(fixed_states) & set(chosen))
    if overlap:
        msg = f"toggle(s) {', '.join(overlap)} are both in the grid and fixed"
        raise ValueError(msg)
    yrs, cut = swept_years(sc, years)
    select = measure_filter(measures, countries, commodities, cut,
                            custom=model is not None, targets=None if model is not None else sc.targets)
    combos = list(itertools.product([False, True], repeat=len(chosen)))
    columns = [f"toggles.{t}" for t in chosen]
    inputs = pd.DataFrame(combos, columns=columns, dtype=bool)
    func: MeasureFunction
    if model is not None:
        func = model
        desc = "custom function per combination"
    elif mode == "exposure":
        # Exposure measures depend on toggles only through the facilities, flows and stocks they switch off.
        func = ExposureMeasures(yrs, source, tuple(sorted(fixed_states.items())))
        desc = "compute_measures per combination"
    else:
        src = source or sc.scenario.source_country
        func = SimulateMeasures(mode, yrs, src, tuple(sorted(fixed_states.items())), None)
        desc = f"simulate(mode={mode!r}) per combination"
    catalogue, values, info, _raised = evaluate_samples(
        FunctionModel(sc, func, select, description=desc),
        inputs,
        executor=executor,
        workers=workers,
        progress=progress,
        quiet=quiet,
        description="toggle grid",
    )
    inputs.columns = pd.Index(chosen)
    inputs.index.name = "combination"
    # _raised is per combination, not per sample: nothing reports it here (as one_at_a_time)
    info.update(mode=mode, model=desc, toggles=chosen)
    return GridResult(inputs, catalogue, values, targets_table(sc), info)

def tornado_chart(
    ranking: pd.DataFrame,
    path: str | Path | None = None,
    *,
    top: int = 15,
    title: str | None = None,
) -> Figure:
    """Draw a tornado chart from a ranking table.

    Each input is a horizontal bar from the measure at the input's low value to
    the measure at its high value, split at the central value; the largest
    swing is on top. A tie is one bar, labelled ``tie:NAME`` and annotated "all low" / "all high"
    (:func:`oat_inputs`). The Agg backend is used (no display needed).

    Parameters
    ----------
    ranking : pandas.DataFrame
        Output of :meth:`OATResult.ranking`.
    path : str or Path, optional
        File to save (format from the suffix: ``.svg``, ``.png``, ``.pdf``).
    top : int
        Number of inputs shown.
    title : str, optional
        Chart title (default: the measure's description).

    Returns
    -------
    matplotlib.figure.Figure
        The chart (not attached to pyplot, so it is not shown twice in notebooks).

    Raises
    ------
    ValueError
        If ``path`` has an unsupported suffix.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    if path is not None and Path(path).suffix.lower() not in (".svg", ".png", ".pdf"):
        msg = f"cannot save a chart as {Path(path).name!r}: use .svg, .png or .pdf"
        raise ValueError(msg)
    split = movers(ranking)
    data = split.rows.head(top).iloc[::-1]
    measure = ranking.attrs.get("measure", {})
    central = float(ranking["value_central"].iloc[0]) if len(ranking) else 0.0
    height = 1.6 + 0.38 * max(len(data), 1)
    fig = Figure(figsize=(8.5, height), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    y = np.arange(len(data))
    low_colour, high_colour = "#4C78A8", "#F58518"
    ax.barh(y, data["value_low"] - central, left=central, color=low_colour, height=0.6)
    ax.barh(y, data["value_high"] - central, left=central, color=high_colour, height=0.6)
    for yi, row in zip(y, data.to_dict("records"), strict=True):
        tied = len(row.get("members") or ()) > 1  # a tie: each member at its own value
        for end, val, inp in (("low", float(row["value_low"]), row["input_low"]),
                              ("high", float(row["value_high"]), row["input_high"])):
            if not np.isfinite(val) or val == central:
                continue
            if tied:
                text = ("all on" if end == "high" else "all off") if row["kind"] == "toggle" else f"all {end}"
            else:
                text = ("on" if inp else "off") if row["kind"] == "toggle" else f"{float(inp):,.4g}"
            ha = "left" if val > central else "right"
            ax.annotate(text, (val, yi), xytext=(3 if ha == "left" else -3, 0), textcoords="offset points",
                        ha=ha, va="center", fontsize=7, color="#333333")  # fmt: skip
    ax.axvline(central, color="black", linewidth=0.8)
    ax.set_yticks(y, [_short(str(p)) for p in data["parameter"]], fontsize=8)
    metric = measure.get("metric", "measure")
    what = " ".join(str(measure[k]) for k in ("country", "commodity", "year") if measure.get(k) not in (None, ""))
    unit = measure.get("unit", "")
    hidden = split.hidden_text()
    note = f"; {hidden} not shown" if hidden else ""
    ax.set_xlabel(f"{metric}{f' [{unit}]' if unit else ''} (central {central:.4g}){note}", fontsize=8)
    fig.suptitle(title or f"What moves {metric} {what}".strip(), fontsize=10)
    fig.legend(
        handles=[Patch(color=low_colour, label="input at low"), Patch(color=high_colour, label="input at high")],
        fontsize=8,
        loc="outside lower center",
        ncols=2,
    )
    ax.margins(x=0.15)
    if path is not None:
        fmt = Path(path).suffix.lstrip(".").lower() or None
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=fmt))
    return fig


def _short(name: str, width: int = 48) -> str:
    """Shorten a key path for a chart label: the start elided, the end kept."""
    if len(name) <= width:
        return name
    return "…" + name[-(width - 1) :]
