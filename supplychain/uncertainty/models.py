"""Sweep models: the shape of a sweep's measures and the per-sample models.

A *sweep model* (:class:`SweepModel`) turns a block of sample rows into measure
values (:class:`ChunkResult`). This module holds the measures table a sweep
stores (:data:`KEY_COLUMNS`, :func:`normalise_measures`, :class:`MeasureFilter`)
and the per-sample model :class:`FunctionModel`: each sample is patched into
the scenario (:func:`~supplychain.uncertainty.sampling.apply`) and a measure
function is called. The built-in measure functions call the public API
(:class:`SimulateMeasures`: :func:`supplychain.api.simulate`;
:class:`ExposureMeasures`: :func:`supplychain.metrics.measures.compute_measures`).
The compiled fast path is :class:`~supplychain.uncertainty.kernel.PatchedExposureModel`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from supplychain.errors import SupplyChainError
from supplychain.schema.model import Scenario
from supplychain.uncertainty.sampling import apply

__all__ = [
    "ATTRIBUTE_COLUMNS",
    "KEY_COLUMNS",
    "RAISED_COLUMNS",
    "ChunkResult",
    "ExposureMeasures",
    "FunctionModel",
    "MeasureFilter",
    "MeasureFunction",
    "Mode",
    "RaisingMeasures",
    "SampleError",
    "SimulateMeasures",
    "SweepModel",
    "chunk_result",
    "empty_catalogue",
    "empty_raised",
    "normalise_measures",
    "stack_raised",
]

Mode = Literal["exposure", "fixed", "rebalance"]
MeasureFunction = Callable[[Scenario], pd.DataFrame]
"""A function from a (patched, deterministic) scenario to a tidy measures table."""


@runtime_checkable
class RaisingMeasures(Protocol):
    """A measure function that also says which outputs its run raised above their paths.

    :class:`FunctionModel` calls :meth:`measures_and_raised` instead of the function when it has
    one (the built-in :class:`SimulateMeasures` and :class:`ExposureMeasures`), and keeps the
    raised outputs per sample (:attr:`ChunkResult.raised`); a custom function without it leaves
    them unknown.
    """

    def measures_and_raised(self, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return the measures table and :attr:`Result.raised <supplychain.api.Result>` of ``scenario``'s run."""
        ...

KEY_COLUMNS: tuple[str, ...] = ("year", "country", "commodity", "stage", "metric", "source_country", "partner")
"""Columns that identify one measure (the rest of the measures table is descriptive)."""
ATTRIBUTE_COLUMNS: tuple[str, ...] = ("unit", "basis")
"""Descriptive columns carried into the measure catalogue."""
_DROP_COLUMNS = frozenset({"value", "label", "scenario", "variant", "sample", *ATTRIBUTE_COLUMNS})
RAISED_COLUMNS: tuple[str, ...] = ("sample", "year", "facility", "country", "commodity", "unit", "path", "raised",
                                   "capacity", "assumed")
"""Columns of a sweep's raised outputs (:attr:`SweepResult.raised <supplychain.uncertainty.result.SweepResult>`):
``sample``, then :attr:`Result.raised <supplychain.api.Result>`'s (:func:`~supplychain.graph.spare.raised_table`
under its public names, quantities in the commodity's ``unit``)."""


class SampleError(SupplyChainError, RuntimeError):
    """A sample could not be computed (the message names the sample and the cause)."""


# ------------------------------------------------------------------- selection
@dataclass(frozen=True)
class MeasureFilter:
    """Which measure rows a sweep keeps (empty = all).

    Attributes
    ----------
    metrics, countries, commodities : tuple of str
        Allowed values of ``metric``, ``country`` and ``commodity``.
    years : tuple of int
        Allowed years.
    always : tuple of (metric, country, commodity)
        Rows kept whatever the other fields say (in every year): the measures the
        scenario's targets read, so that a narrowed sweep still gives every target's
        probability.
    """

    metrics: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    commodities: tuple[str, ...] = ()
    years: tuple[int, ...] = ()
    always: tuple[tuple[str, str, str], ...] = ()

    def apply(self, df: pd.DataFrame) -> pd.DataFrame:
        """Rows of a measures table that pass the filter.

        Parameters
        ----------
        df : pandas.DataFrame
            A tidy measures table.

        Returns
        -------
        pandas.DataFrame
            The kept rows.
        """
        mask = np.ones(len(df), dtype=bool)
        for col, allowed in (
            ("metric", self.metrics),
            ("country", self.countries),
            ("commodity", self.commodities),
            ("year", self.years),
        ):
            if allowed and col in df.columns:
                mask &= df[col].isin(allowed).to_numpy()
        if self.always and not mask.all() and {"metric", "country", "commodity"} <= set(df.columns):
            always = set(self.always)
            keys = zip(df["metric"].tolist(), df["country"].tolist(), df["commodity"].tolist(), strict=True)
            mask |= np.fromiter((k in always for k in keys), dtype=bool, count=len(df))
        return df[mask] if not mask.all() else df

    def as_dict(self) -> dict[str, list[Any]]:
        """JSON-able form (for the cache key)."""
        return {
            "metrics": list(self.metrics),
            "countries": list(self.countries),
            "commodities": list(self.commodities),
            "years": list(self.years),
            "always": [list(k) for k in self.always],
        }


def normalise_measures(df: pd.DataFrame) -> pd.DataFrame:
    """Bring a measures table to the shape a sweep stores.

    Every :data:`KEY_COLUMNS` column exists (missing text keys are ``""``),
    ``value`` is float, the descriptive columns ``unit``/``basis`` are kept, and
    ``scenario``/``variant``/``label`` are dropped (a net exporter's ``"E"`` is a
    NaN value).

    Parameters
    ----------
    df : pandas.DataFrame
        Output of a measure function.

    Returns
    -------
    pandas.DataFrame
        Columns: the key columns (the standard ones first, then any extra key
        column the table has), ``unit``, ``basis``, ``value``.

    Raises
    ------
    ValueError
        If there is no ``value`` column, or two rows share one key.
    """
    if "value" not in df.columns:
        msg = f"a measures table needs a `value` column; got columns {list(df.columns)}"
        raise ValueError(msg)
    extra = [c for c in df.columns if c not in KEY_COLUMNS and c not in _DROP_COLUMNS]
    keys = [*KEY_COLUMNS, *extra]
    out = pd.DataFrame(index=pd.RangeIndex(len(df)))
    for col in keys:
        if col in df.columns:
            s = df[col].reset_index(drop=True)
            if col == "year":
                out[col] = s.astype("int64")
            elif s.dtype == object or isinstance(s.dtype, pd.StringDtype):
                out[col] = s.fillna("").astype(str)
            else:
                out[col] = s
        else:
            out[col] = 0 if col == "year" else ""
    for col in ATTRIBUTE_COLUMNS:
        out[col] = df[col].reset_index(drop=True).fillna("").astype(str) if col in df.columns else ""
    out["value"] = pd.to_numeric(df["value"].reset_index(drop=True), errors="coerce").astype(float)
    dup = out.duplicated(subset=keys)
    if dup.any():
        first = out.loc[dup, keys].iloc[0].to_dict()
        msg = f"the measures table has {int(dup.sum())} duplicate key rows, e.g. {first}"
        raise ValueError(msg)
    return out



def empty_catalogue() -> pd.DataFrame:
    """Return a measure catalogue without rows (the columns :func:`normalise_measures` gives, less ``value``)."""
    return normalise_measures(pd.DataFrame({"value": []})).drop(columns="value")


def empty_raised() -> pd.DataFrame:
    """Return a table of raised outputs without rows (columns :data:`RAISED_COLUMNS`): no sample raised any."""
    return pd.DataFrame({c: pd.Series(dtype=object if c in ("facility", "country", "commodity", "unit") else
                                      bool if c == "assumed" else "int64" if c in ("sample", "year") else float)
                         for c in RAISED_COLUMNS})


def stack_raised(parts: list[pd.DataFrame | None]) -> pd.DataFrame | None:
    """Put blocks of raised outputs (:data:`RAISED_COLUMNS`) together, in sample order.

    ``None`` when a block is ``None``: a model that cannot tell (a custom measure function) makes
    the whole sweep's raises unknown, not "none".
    """
    if any(p is None for p in parts):
        return None
    rows = [p for p in parts if p is not None and len(p)]
    if not rows:
        return empty_raised()
    out = pd.concat(rows, ignore_index=True)[list(RAISED_COLUMNS)]
    return out.sort_values(["sample", "year", "facility"], kind="mergesort").reset_index(drop=True)


# ------------------------------------------------------------------- the model
@dataclass
class ChunkResult:
    """Measure values of a block of samples.

    Attributes
    ----------
    samples : numpy.ndarray
        Sample numbers, one per row of ``values``.
    catalogue : pandas.DataFrame
        One row per measure (key columns and ``unit``/``basis``), one per column of ``values``.
    values : numpy.ndarray
        Shape ``(len(samples), len(catalogue))``; NaN where a sample lacks the measure.
    seconds : float
        Time spent computing.
    failed : dict
        Sample number → why it could not be computed (``on_error="nan"``; its values are NaN).
    present : numpy.ndarray or None
        Which measures exist in which sample (e.g. NIR only where apparent
        consumption is positive), per cell or per measure (any sample);
        ``None``: every catalogue row exists in some sample.
        A measure that exists in no sample is dropped when chunks are assembled.
    fuzzy : numpy.ndarray or None
        Cells whose existence hangs on rounding (apparent consumption zero up to
        round-off); used only when checking the fast path.
    raised : pandas.DataFrame or None
        The outputs each sample's base network raised above their paths (:data:`RAISED_COLUMNS`,
        :func:`~supplychain.graph.spare.raised_table`; no row: none raised); ``None`` when the model
        cannot tell (a custom measure function).
    """

    samples: np.ndarray
    catalogue: pd.DataFrame
    values: np.ndarray
    seconds: float = 0.0
    failed: dict[int, str] = field(default_factory=dict)
    present: np.ndarray | None = None
    fuzzy: np.ndarray | None = None
    raised: pd.DataFrame | None = None


def chunk_result(
    samples: np.ndarray,
    catalogue: pd.DataFrame,
    values: np.ndarray,
    present: np.ndarray,
    fuzzy: np.ndarray | None,
    failed: np.ndarray,
    reasons: list[str],
    *,
    on_error: str,
    detail: bool,
    started: float,
    raised: pd.DataFrame | None = None,
) -> ChunkResult:
    """Finish a compiled model's block of samples: failures, NaN for failed samples, presence.

    Parameters
    ----------
    samples : numpy.ndarray
        Sample numbers.
    catalogue : pandas.DataFrame
        The measure rows of ``values``' columns.
    values, present, fuzzy : numpy.ndarray
        Per sample and measure (changed in place for failed samples).
    failed : numpy.ndarray of bool
        Samples that could not be computed.
    reasons : list of str
        Why, per sample.
    on_error : {"raise", "nan"}
        Raise :class:`SampleError` for the first failed sample, or record them.
    detail : bool
        Keep ``present`` and ``fuzzy`` per cell (to check a fast path); else only
        whether each measure is present in some sample (less to send back from workers).
    started : float
        ``time.perf_counter()`` at the start of the block.
    raised : pandas.DataFrame, optional
        :attr:`ChunkResult.raised` (``None``: unknown).

    Returns
    -------
    ChunkResult
    """
    if failed.any() and on_error == "raise":
        i = int(np.flatnonzero(failed)[0])
        msg = f"sample {samples[i]} failed: {reasons[i]}"
        raise SampleError(msg)
    values[failed] = np.nan  # a sample that fails in one year has no result at all (as per sample)
    present[failed] = False
    fails = {int(samples[i]): reasons[i] for i in np.flatnonzero(failed).tolist()}
    seconds = time.perf_counter() - started
    if not detail:
        return ChunkResult(samples, catalogue, values, seconds, fails, np.asarray(present.any(axis=0), dtype=bool),
                           raised=raised)
    return ChunkResult(samples, catalogue, values, seconds, fails, present, fuzzy, raised)


@runtime_checkable
class SweepModel(Protocol):
    """Turns sample rows into measure values. Must be picklable (it is sent to workers)."""

    @property
    def description(self) -> str:
        """What the model computes, for logs and ``SweepResult.info``."""
        ...

    def evaluate(self, inputs: pd.DataFrame) -> ChunkResult:
        """Compute every measure for each row of ``inputs`` (index: sample number)."""
        ...


_POS = "__position__"


def _stack(samples: np.ndarray, frames: list[pd.DataFrame], seconds: float, failed: dict[int, str],
           raised: pd.DataFrame | None = None) -> ChunkResult:
    """Align per-sample measure tables (raw, in sample order) on their union of keys.

    The tables are concatenated and normalised once (pandas overhead per chunk,
    not per sample), then spread into a ``(samples, measures)`` matrix.
    """
    tagged = [f.assign(**{_POS: i}) for i, f in enumerate(frames) if len(f)]
    if not tagged:
        return ChunkResult(samples, empty_catalogue(), np.empty((len(samples), 0)), seconds, failed, raised=raised)
    long = normalise_measures(pd.concat(tagged, ignore_index=True))
    keys = [c for c in long.columns if c not in (*ATTRIBUTE_COLUMNS, "value", _POS)]
    codes = long.groupby(keys, sort=True, dropna=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    catalogue = long.iloc[first].drop(columns=["value", _POS]).reset_index(drop=True)
    values = np.full((len(samples), len(catalogue)), np.nan)
    values[long[_POS].to_numpy(), codes] = long["value"].to_numpy()
    return ChunkResult(samples, catalogue, values, seconds, failed, raised=raised)


@dataclass(frozen=True)
class FunctionModel:
    """Patch each sample into the scenario and call a measure function.

    Parameters
    ----------
    scenario : Scenario
        The scenario the samples were drawn from.
    func : callable
        ``func(scenario) -> measures DataFrame`` (picklable: a module-level
        function or a picklable callable object).
    select : MeasureFilter
        Rows to keep.
    description : str
        Shown in logs and the result's ``info``.
    on_error : {"raise", "nan"}
        A sample whose function raises: stop the sweep with :class:`SampleError`,
        or record it and give it NaN values.
    """

    scenario: Scenario
    func: MeasureFunction
    select: MeasureFilter = field(default_factory=MeasureFilter)
    description: str = "function per sample"
    on_error: str = "raise"

    def evaluate(self, inputs: pd.DataFrame) -> ChunkResult:
        """Compute the measures of each sample row.

        Parameters
        ----------
        inputs : pandas.DataFrame
            Rows of :func:`~supplychain.uncertainty.sampling.draw`.

        Returns
        -------
        ChunkResult
            Values aligned on the union of measure keys of the chunk.

        Raises
        ------
        SampleError
            If the function fails for a sample (the sample number is in the message).
        """
        t0 = time.perf_counter()
        frames = []
        failed: dict[int, str] = {}
        func = self.func
        raising = func if isinstance(func, RaisingMeasures) else None  # the Protocol checked once, not per sample
        raised: list[pd.DataFrame | None] = []
        records = inputs.to_dict("records") if len(inputs.columns) else [{} for _ in range(len(inputs))]
        for sample, row in zip(inputs.index, records, strict=True):
            try:
                patched = apply(self.scenario, {str(k): v for k, v in row.items()})
                measures, up = raising.measures_and_raised(patched) if raising is not None else (func(patched), None)
                frames.append(self.select.apply(measures))
                if up is not None and len(up):
                    raised.append(up.assign(sample=int(sample)))
            except Exception as exc:
                if self.on_error != "nan":
                    msg = f"sample {sample} failed: {type(exc).__name__}: {exc}"
                    raise SampleError(msg) from exc
                failed[int(sample)] = f"{type(exc).__name__}: {exc}"
                frames.append(pd.DataFrame({"value": []}))
        return _stack(np.asarray(inputs.index, dtype=np.int64), frames, time.perf_counter() - t0, failed,
                      stack_raised(raised) if raising is not None else None)


# ------------------------------------------------------- built-in measure functions
@dataclass(frozen=True)
class SimulateMeasures:
    """Measure function running :func:`supplychain.api.simulate` (``fixed`` / ``rebalance``).

    Parameters
    ----------
    mode : {"fixed", "rebalance"}
        Supply response.
    years : tuple of int
        Years to simulate (empty: the scenario's years).
    source : str or None
        Source country of the exposure measures.
    toggles : tuple of (str, bool)
        Explicit toggle overrides.
    variant : str or None
        Variant applied before the overrides.
    metrics : tuple of str
        Measures to compute (empty: every one; ``simulate(metrics=)``): the sweep's kept ones.
    """

    mode: str
    years: tuple[int, ...] = ()
    source: str | None = None
    toggles: tuple[tuple[str, bool], ...] = ()
    variant: str | None = None
    metrics: tuple[str, ...] = ()

    def __call__(self, scenario: Scenario) -> pd.DataFrame:
        """Simulate as :func:`supplychain.api.simulate` does and return its ``Result.measures``."""
        return self.measures_and_raised(scenario)[0]

    def measures_and_raised(self, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Simulate as :func:`supplychain.api.simulate` does; return its ``Result.measures`` and ``Result.raised``.

        The same run (:func:`~supplychain.simulation.variants.run_variants`), keeping its measures
        alone (``Simulator(outputs="measures")``: no flows, utilisation or other tables, which a
        sweep never reads), on the public basis (:func:`supplychain.api.public_measures`), and the
        outputs its base networks raised (:meth:`~supplychain.simulation.run.Simulator.raised`, read off
        the year tables the run built: :func:`~supplychain.graph.spare.raised_table` per year).
        """
        from supplychain.api import public_measures
        from supplychain.schema.countries import require_codes
        from supplychain.schema.units import commodity_units
        from supplychain.simulation.tables import public_table
        from supplychain.simulation.variants import run_variants

        source = self.source or scenario.scenario.source_country
        require_codes(scenario, [source], ("source",))  # as simulate: a located error for an unknown code
        (out,) = run_variants(scenario, [(self.variant, dict(self.toggles))], mode=self.mode,  # type: ignore[arg-type]
                              years=list(self.years) if self.years else None, source=source,
                              metrics=list(self.metrics) if self.metrics else None, outputs="measures")
        units = commodity_units(scenario)
        return public_measures(out.measures, units), public_table("raised", out.raised, units)


@dataclass(frozen=True)
class ExposureMeasures:
    """Measure function of the unshocked network: :func:`~supplychain.metrics.measures.compute_measures` per year.

    Parameters
    ----------
    years : tuple of int
        Years (empty: the scenario's years).
    source : str or None
        Source country (default: the scenario's).
    toggles : tuple of (str, bool)
        Explicit toggle overrides: the facilities, flows, stockpiles and offtakes they
        (and the sample's toggle states) switch off are not in the network
        (:func:`~supplychain.simulation.toggles.apply_switches`); policies do not act here.
    variant : str or None
        Variant applied before the overrides.
    """

    years: tuple[int, ...] = ()
    source: str | None = None
    toggles: tuple[tuple[str, bool], ...] = ()
    variant: str | None = None

    def __call__(self, scenario: Scenario) -> pd.DataFrame:
        """Concatenate ``compute_measures(scenario, year, source)`` over the years."""
        return self.measures_and_raised(scenario)[0]

    def measures_and_raised(self, scenario: Scenario) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Return :meth:`__call__`'s measures and the outputs the years' networks raised above their paths.

        Each year's tables are built once (:func:`~supplychain.graph.build.build_tables`) and read
        by :func:`~supplychain.metrics.measures.compute_measures` and
        :func:`~supplychain.graph.spare.raised_over` (public names and units, as ``Result.raised``).
        """
        from supplychain.graph.build import build_tables
        from supplychain.graph.spare import raised_over
        from supplychain.metrics.measures import compute_measures, resolve_source
        from supplychain.schema.units import commodity_units
        from supplychain.simulation.tables import public_table
        from supplychain.simulation.toggles import apply_switches, resolve_toggles

        source = self.source or scenario.scenario.source_country
        state = resolve_toggles(scenario, variant=self.variant, overrides=dict(self.toggles))
        world = apply_switches(scenario, state)
        resolve_source(world, source)  # an unknown code fails before any table is built (as compute_measures)
        frames, node_tables = [], []
        for year in self.years or scenario.years:
            nodes, edges = build_tables(world, year, check_balance=True)
            frames.append(compute_measures(world, year, source=source, tables=(nodes, edges)))
            node_tables.append((year, nodes))
        measures = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"value": []})
        return measures, public_table("raised", raised_over(world, node_tables), commodity_units(scenario))

