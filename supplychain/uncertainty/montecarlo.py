"""Monte Carlo sweeps: sample the uncertain inputs, compute every measure per sample.

The driver (:func:`run_sweep`) does the same thing whatever runs the samples:

1. find the uncertain inputs (:func:`~supplychain.uncertainty.sampling.find_parameters`)
   and draw every sample up front in this process
   (:func:`~supplychain.uncertainty.sampling.draw`: one independent random stream per
   parameter, so the table does not depend on workers or chunking);
2. prepare a *sweep model* once: the object that turns a block of sample rows
   into measure values (:mod:`supplychain.uncertainty.models`-like classes below);
3. cut the samples into contiguous chunks, send ``(model, chunk)`` to the
   executor (in process, local worker processes or Dask), and put the results
   back in sample order, keyed by the measure catalogue (sorted), so the output is
   identical for any executor, worker count and chunk size;
4. keep the result in the on-disk cache (:mod:`supplychain.uncertainty.cache`).

Sweep models
------------
:class:`FunctionModel`
    Any function ``Scenario -> measures DataFrame``: each sample is patched into
    the scenario (:func:`~supplychain.uncertainty.sampling.apply`) and the function
    is called. The built-in measure functions call the public API
    (:func:`supplychain.api.simulate`, or :func:`supplychain.metrics.measures.compute_measures`
    for ``mode="exposure"``).
:class:`PatchedExposureModel`
    "Compile the network once per sweep and only patch the numbers that vary":
    see :func:`patched_model`.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import pickle
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from supplychain.errors import EngineError, KeyPath, SupplyChainError
from supplychain.schema.model import Facility, Scenario
from supplychain.schema.types import Quantity
from supplychain.uncertainty.cache import SweepCache, cache_key
from supplychain.uncertainty.executors import (
    ExecutorLike,
    chunk_bounds,
    describe_executor,
    open_executor,
    parse_executor,
)
from supplychain.uncertainty.progress import ProgressLike, progress_bar
from supplychain.uncertainty.sampling import SamplingSpec, apply, central_row, draw, find_parameters

__all__ = [
    "ATTRIBUTE_COLUMNS",
    "FAST_METRICS",
    "KEY_COLUMNS",
    "SWEEP_METRICS",
    "BatchTracer",
    "ChunkResult",
    "ExposureKernel",
    "FunctionModel",
    "MeasureFilter",
    "PatchedExposureModel",
    "SampleError",
    "SweepModel",
    "SweepResult",
    "TargetSpec",
    "build_model",
    "evaluate_samples",
    "measure_filter",
    "normalise_measures",
    "patched_model",
    "run_sweep",
    "sweep_spec",
    "target_specs",
    "targets_table",
]

Mode = Literal["exposure", "fixed", "rebalance"]
MeasureFunction = Callable[[Scenario], pd.DataFrame]
"""A function from a (patched, deterministic) scenario to a tidy measures table."""

KEY_COLUMNS: tuple[str, ...] = ("year", "country", "commodity", "stage", "metric", "source_country", "partner")
"""Columns that identify one measure (the rest of the measures table is descriptive)."""
ATTRIBUTE_COLUMNS: tuple[str, ...] = ("unit", "basis")
"""Descriptive columns carried into the measure catalogue."""
_DROP_COLUMNS = frozenset({"value", "label", "scenario", "variant", "sample", *ATTRIBUTE_COLUMNS})


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
    """

    metrics: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    commodities: tuple[str, ...] = ()
    years: tuple[int, ...] = ()

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
        return df[mask] if not mask.all() else df

    def as_dict(self) -> dict[str, list[Any]]:
        """JSON-able form (for the cache key)."""
        return {
            "metrics": list(self.metrics),
            "countries": list(self.countries),
            "commodities": list(self.commodities),
            "years": list(self.years),
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
    """

    samples: np.ndarray
    catalogue: pd.DataFrame
    values: np.ndarray
    seconds: float = 0.0
    failed: dict[int, str] = field(default_factory=dict)
    present: np.ndarray | None = None
    fuzzy: np.ndarray | None = None


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


def _stack(samples: np.ndarray, frames: list[pd.DataFrame], seconds: float, failed: dict[int, str]) -> ChunkResult:
    """Align per-sample measure tables (raw, in sample order) on their union of keys.

    The tables are concatenated and normalised once (pandas overhead per chunk,
    not per sample), then spread into a ``(samples, measures)`` matrix.
    """
    tagged = [f.assign(**{_POS: i}) for i, f in enumerate(frames) if len(f)]
    if not tagged:
        empty = normalise_measures(pd.DataFrame({"value": []})).drop(columns="value")
        return ChunkResult(samples, empty, np.empty((len(samples), 0)), seconds, failed)
    long = normalise_measures(pd.concat(tagged, ignore_index=True))
    keys = [c for c in long.columns if c not in (*ATTRIBUTE_COLUMNS, "value", _POS)]
    codes = long.groupby(keys, sort=True, dropna=False).ngroup().to_numpy()
    first = np.unique(codes, return_index=True)[1]
    catalogue = long.iloc[first].drop(columns=["value", _POS]).reset_index(drop=True)
    values = np.full((len(samples), len(catalogue)), np.nan)
    values[long[_POS].to_numpy(), codes] = long["value"].to_numpy()
    return ChunkResult(samples, catalogue, values, seconds, failed)


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
        records = inputs.to_dict("records") if len(inputs.columns) else [{} for _ in range(len(inputs))]
        for sample, row in zip(inputs.index, records, strict=True):
            try:
                patched = apply(self.scenario, {str(k): v for k, v in row.items()})
                frames.append(self.select.apply(self.func(patched)))
            except Exception as exc:
                if self.on_error != "nan":
                    msg = f"sample {sample} failed: {type(exc).__name__}: {exc}"
                    raise SampleError(msg) from exc
                failed[int(sample)] = f"{type(exc).__name__}: {exc}"
                frames.append(pd.DataFrame({"value": []}))
        return _stack(np.asarray(inputs.index, dtype=np.int64), frames, time.perf_counter() - t0, failed)


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
    """

    mode: str
    years: tuple[int, ...] = ()
    source: str | None = None
    toggles: tuple[tuple[str, bool], ...] = ()
    variant: str | None = None

    def __call__(self, scenario: Scenario) -> pd.DataFrame:
        """Simulate and return ``Result.measures``."""
        from supplychain import api

        kwargs: dict[str, Any] = {"mode": self.mode, "toggles": dict(self.toggles)}
        if self.years:
            kwargs["years"] = list(self.years)
        if self.source is not None:
            kwargs["source"] = self.source
        if self.variant is not None:
            kwargs["variant"] = self.variant
        result = api.simulate(scenario, **kwargs)
        measures: pd.DataFrame = result.measures
        return measures


@dataclass(frozen=True)
class ExposureMeasures:
    """Measure function of the unshocked network: :func:`~supplychain.metrics.measures.compute_measures` per year.

    Parameters
    ----------
    years : tuple of int
        Years (empty: the scenario's years).
    source : str or None
        Source country (default: the scenario's).
    """

    years: tuple[int, ...] = ()
    source: str | None = None

    def __call__(self, scenario: Scenario) -> pd.DataFrame:
        """Concatenate ``compute_measures(scenario, year, source)`` over the years."""
        from supplychain.metrics.measures import compute_measures

        source = self.source or scenario.scenario.source_country
        frames = [compute_measures(scenario, year, source=source) for year in (self.years or scenario.years)]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"value": []})


# ----------------------------------------------------------------- the driver
_MODEL_CACHE: OrderedDict[str, SweepModel] = OrderedDict()
_MODEL_CACHE_SIZE = 4
_MODEL_LOCK = threading.Lock()


def _evaluate_chunk(model_key: str, blob: bytes, inputs: pd.DataFrame) -> ChunkResult:
    """Worker entry point: unpickle the model once per worker process, evaluate a chunk."""
    with _MODEL_LOCK:  # thread pools and threaded Dask workers share the cache
        model = _MODEL_CACHE.get(model_key)
        if model is None:
            model = pickle.loads(blob)  # produced by this package's driver
            _MODEL_CACHE[model_key] = model
            while len(_MODEL_CACHE) > _MODEL_CACHE_SIZE:
                _MODEL_CACHE.popitem(last=False)
        else:
            _MODEL_CACHE.move_to_end(model_key)
    return model.evaluate(inputs)


def _evaluate_local(model: SweepModel, inputs: pd.DataFrame) -> ChunkResult:
    return model.evaluate(inputs)


def _ever(present: np.ndarray) -> np.ndarray:
    """Measures present in any sample (``present`` is per cell, or already per measure)."""
    return np.asarray(present.any(axis=0) if present.ndim == 2 else present, dtype=bool)


@dataclass
class _Assembled:
    catalogue: pd.DataFrame
    values: np.ndarray
    seconds: float
    failed: dict[int, str]


def _assemble(parts: Sequence[ChunkResult], n: int) -> _Assembled:
    """Merge chunk results: catalogue = sorted union of keys; rows in sample order."""
    failed: dict[int, str] = {}
    for p in parts:
        failed.update(p.failed)
    non_empty = [p for p in parts if len(p.catalogue)]
    if not non_empty:
        cat = normalise_measures(pd.DataFrame({"value": []})).drop(columns="value")
        return _Assembled(cat, np.full((n, 0), np.nan), sum(p.seconds for p in parts), failed)
    keys = [c for c in non_empty[0].catalogue.columns if c not in ATTRIBUTE_COLUMNS]
    shown: list[pd.DataFrame] = [
        p.catalogue if p.present is None else p.catalogue.iloc[np.flatnonzero(_ever(p.present))] for p in non_empty
    ]
    union: pd.DataFrame = pd.concat(shown, ignore_index=True).drop_duplicates(subset=keys)
    catalogue = union.sort_values(keys, kind="mergesort").reset_index(drop=True)
    catalogue.index.name = "measure"
    index = pd.MultiIndex.from_frame(catalogue[keys])
    values = np.full((n, len(catalogue)), np.nan)
    seconds = 0.0
    for p in parts:
        seconds += p.seconds
        if not len(p.samples) or not len(p.catalogue):
            continue
        cols = np.asarray(index.get_indexer(pd.MultiIndex.from_frame(p.catalogue[keys])), dtype=np.int64)
        kept = cols >= 0
        s0 = int(p.samples[0])
        contiguous = bool(np.array_equal(p.samples, np.arange(s0, s0 + len(p.samples))))
        if contiguous and kept.all() and np.array_equal(cols, np.arange(len(catalogue))):
            values[s0 : s0 + len(p.samples)] = p.values  # the common case: same measures in every chunk
        else:
            values[np.ix_(p.samples, cols[kept])] = p.values[:, kept]
    return _Assembled(catalogue, values, seconds, dict(sorted(failed.items())))


def evaluate_samples(
    model: SweepModel,
    inputs: pd.DataFrame,
    *,
    executor: ExecutorLike = None,
    workers: int = 1,
    chunk_size: int | None = None,
    progress: ProgressLike = None,
    quiet: bool = False,
    description: str = "samples",
) -> tuple[pd.DataFrame, np.ndarray, dict[str, Any]]:
    """Evaluate a sweep model on sample rows, in chunks, on an executor.

    Parameters
    ----------
    model : SweepModel
        Turns rows into measure values (pickled once and sent to workers).
    inputs : pandas.DataFrame
        Sample rows; the index must be ``0 … n−1`` (sample numbers).
    executor, workers, chunk_size
        See :mod:`supplychain.uncertainty.executors`.
    progress, quiet
        See :func:`~supplychain.uncertainty.progress.progress_bar`.
    description : str
        Progress bar label.

    Returns
    -------
    catalogue : pandas.DataFrame
        One row per measure, sorted by key.
    values : numpy.ndarray
        ``(n, len(catalogue))``, row ``i`` is sample ``i``.
    info : dict
        ``executor``, ``chunks``, ``compute_seconds``, ``wall_seconds`` and
        ``failed`` (sample → reason, for models with ``on_error="nan"``).
    """
    n = len(inputs)
    if not inputs.index.equals(pd.RangeIndex(n)):
        inputs = inputs.reset_index(drop=True)
    spec = parse_executor(executor, workers)
    bounds = chunk_bounds(n, spec.workers, chunk_size)
    t0 = time.perf_counter()
    parts: list[ChunkResult] = []
    with progress_bar(n, description, kind=progress, quiet=quiet) as bar, open_executor(spec) as ex:
        if spec.kind == "serial":
            for start, stop in bounds:
                parts.append(_evaluate_local(model, inputs.iloc[start:stop]))
                bar.advance(stop - start)
        else:
            blob = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
            key = hashlib.sha256(blob).hexdigest()[:24]
            pending: dict[Future[ChunkResult], int] = {
                ex.submit(_evaluate_chunk, key, blob, inputs.iloc[start:stop]): stop - start for start, stop in bounds
            }
            try:
                while pending:
                    done, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for fut in done:
                        size = pending.pop(fut)
                        parts.append(fut.result())
                        bar.advance(size)
            except BaseException:
                for fut in pending:
                    fut.cancel()
                raise
    wall = time.perf_counter() - t0
    assembled = _assemble(parts, n)
    info = {
        "executor": describe_executor(spec),
        "chunks": len(bounds),
        "compute_seconds": assembled.seconds,
        "wall_seconds": wall,
        "failed": assembled.failed,
    }
    return assembled.catalogue, assembled.values, info


# ------------------------------------------------------------------ the result
@dataclass(frozen=True)
class SweepResult:
    """Outcome of a Monte Carlo sweep.

    Attributes
    ----------
    inputs : pandas.DataFrame
        Index ``sample``; one column per sampled parameter (key path).
    measures : pandas.DataFrame
        The measure catalogue: index ``measure``; key columns, ``unit``,
        ``basis`` and ``central`` (the value with every input at its central value).
    values : numpy.ndarray
        Shape ``(samples, measures)``.
    targets : pandas.DataFrame
        The scenario's targets (``target``, ``country``, ``commodity``, ``metric``,
        ``source_country``, ``max``, ``min``, ``by``, ``description``).
    info : dict
        Seed, number of samples, mode, the sweep model used, executor, timings,
        whether the result came from the cache, and the cache key.
    """

    inputs: pd.DataFrame
    measures: pd.DataFrame
    values: np.ndarray
    targets: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.values.shape[0])

    @property
    def failures(self) -> pd.DataFrame:
        """Samples that could not be computed (``on_error="nan"``): ``sample``, ``reason``."""
        failed = self.info.get("failed", {})
        return pd.DataFrame(
            {"sample": np.asarray(list(failed), dtype=np.int64), "reason": [str(r) for r in failed.values()]}
        )

    @property
    def key_columns(self) -> list[str]:
        """Columns of :attr:`measures` that identify a measure."""
        return [c for c in self.measures.columns if c not in (*ATTRIBUTE_COLUMNS, "central")]

    @property
    def samples(self) -> pd.DataFrame:
        """Tidy table: one row per (sample, measure) with the sample's parameter values.

        Columns: ``sample``, every parameter, the measure key columns, ``unit``,
        ``basis``, ``value``. Built on demand (it repeats the inputs on every row).
        """
        n, m = self.values.shape
        long = self.measures.drop(columns="central").iloc[np.tile(np.arange(m), n)].reset_index(drop=True)
        long.insert(0, "sample", np.repeat(np.arange(n), m))
        long["value"] = self.values.reshape(-1)
        if len(self.inputs.columns):
            long = long.merge(self.inputs.reset_index(), on="sample", how="left", sort=False)
            params = list(self.inputs.columns)
            long = long[["sample", *params, *[c for c in long.columns if c not in ("sample", *params)]]]
        return long

    def measure(self, **where: Any) -> pd.Series:
        """Return the sampled values of one measure.

        Parameters
        ----------
        **where
            Key column values, e.g. ``metric="traced_share", country="US",
            commodity="ndpr_oxide", year=2030``; must match exactly one measure.

        Returns
        -------
        pandas.Series
            Indexed by sample.

        Raises
        ------
        KeyError
            If no measure or more than one matches.
        """
        mask = np.ones(len(self.measures), dtype=bool)
        for col, val in where.items():
            if col not in self.measures.columns:
                msg = f"unknown measure column {col!r}; use one of {self.key_columns}"
                raise KeyError(msg)
            mask &= (self.measures[col] == val).to_numpy()
        idx = np.flatnonzero(mask)
        if len(idx) != 1:
            msg = f"{len(idx)} measures match {where}; narrow the selection with more key columns"
            raise KeyError(msg)
        return pd.Series(self.values[:, idx[0]], index=pd.RangeIndex(self.n, name="sample"), name="value")

    def summary(self, quantiles: Sequence[float] = (0.05, 0.5, 0.95)) -> pd.DataFrame:
        """Distribution of every measure over the samples.

        Parameters
        ----------
        quantiles : sequence of float
            Quantiles to report (default P5, P50, P95; linear interpolation).

        Returns
        -------
        pandas.DataFrame
            Key columns, ``unit``, ``central``, ``mean``, ``sd``, one ``pNN``
            column per quantile, ``n`` (samples with a finite value) and
            ``n_nan`` (samples without one, e.g. a net exporter's NIR "E").
        """
        out = self.measures.copy()
        v = self.values
        finite = np.isfinite(v)
        count = finite.sum(axis=0)
        out["n"] = count
        out["n_nan"] = self.n - count
        with np.errstate(all="ignore"):
            safe = np.where(finite, v, 0.0)
            mean = np.where(count > 0, safe.sum(axis=0) / np.maximum(count, 1), np.nan)
            var = np.where(
                count > 1, ((np.where(finite, v - mean, 0.0)) ** 2).sum(axis=0) / np.maximum(count - 1, 1), np.nan
            )
        out["mean"] = mean
        out["sd"] = np.sqrt(var)
        for q in quantiles:
            out[_qname(q)] = _nanquantile(v, q)
        cols = [
            *self.key_columns,
            "unit",
            "central",
            "mean",
            "sd",
            *[_qname(q) for q in quantiles],
            "n",
            "n_nan",
        ]
        return out[[c for c in cols if c in out.columns]].reset_index(drop=True)

    def target_probability(self) -> pd.DataFrame:
        """Probability that each target is met, per year.

        A sample meets a ``max`` target in a year when the measure is at most the
        threshold (``min``: at least). Samples without a finite value are left
        out and counted in ``n_nan``.

        Returns
        -------
        pandas.DataFrame
            ``target``, ``year``, ``required`` (year ≥ ``by``), ``threshold``,
            ``sense`` (``max``/``min``), ``probability``, ``n``, ``n_nan``,
            ``central_met``. Targets whose measure was not computed in the sweep
            have ``probability`` NaN and ``n`` 0.
        """
        rows: list[dict[str, Any]] = []
        years = sorted({int(y) for y in self.measures["year"].unique()}) if len(self.measures) else []
        for t in target_specs(self.targets):
            for year in years:
                idx = t.locate(self.measures, year)
                row: dict[str, Any] = {
                    "target": t.target,
                    "year": year,
                    "required": year >= t.by,
                    "sense": t.sense,
                    "threshold": t.threshold,
                }
                if idx is None:
                    row.update(probability=np.nan, n=0, n_nan=self.n, central_met=pd.NA)
                else:
                    v = self.values[:, idx]
                    ok = np.isfinite(v)
                    c = float(self.measures["central"].iloc[idx])
                    row.update(
                        probability=float(t.met(v[ok]).mean()) if ok.any() else np.nan,
                        n=int(ok.sum()),
                        n_nan=int((~ok).sum()),
                        central_met=bool(t.met(np.array([c]))[0]) if math.isfinite(c) else pd.NA,
                    )
                rows.append(row)
        cols = ["target", "year", "required", "sense", "threshold", "probability", "n", "n_nan", "central_met"]
        return pd.DataFrame(rows, columns=cols)

    def save(self, path: str | Path) -> Path:
        """Write the tidy :attr:`samples` table to Parquet (``.parquet``) or CSV (``.csv``).

        Parameters
        ----------
        path : str or Path
            Output file; the suffix chooses the format.

        Returns
        -------
        Path
            The file written.

        Raises
        ------
        ValueError
            For another suffix.
        """
        out = Path(path)
        suffix = out.suffix.lower()
        if suffix not in (".parquet", ".csv"):
            msg = f"cannot write {out.name!r}: use a .parquet or .csv file name"
            raise ValueError(msg)
        table = self.samples
        if suffix == ".parquet":
            table.to_parquet(out, index=False)
        else:
            table.to_csv(out, index=False)
        return out


def _qname(q: float) -> str:
    """Column name of a quantile: 0.05 → ``p5``, 0.5 → ``p50``, 0.975 → ``p97.5``."""
    pct = q * 100
    return f"p{pct:g}"


def _nanquantile(v: np.ndarray, q: float) -> np.ndarray:
    if v.shape[1] == 0:
        return np.empty(0)
    if v.shape[0] == 0:
        return np.full(v.shape[1], np.nan)
    finite = np.isfinite(v)
    if finite.all():
        return np.asarray(np.quantile(v, q, axis=0), dtype=float)
    out = np.full(v.shape[1], np.nan)
    for j in range(v.shape[1]):
        col = v[finite[:, j], j]
        if len(col):
            out[j] = np.quantile(col, q)
    return out


TARGET_METRIC_ALIASES = {"direct_share": "direct_import_share"}
"""Target metric names that read another measure (as :mod:`supplychain.simulate.targets`)."""


@dataclass(frozen=True)
class TargetSpec:
    """One target, as the sweep checks it.

    Attributes
    ----------
    target, country, commodity, metric, source_country : str
        Identity of the target and of the measure it reads.
    sense : {"max", "min"}
        ``max``: met when the measure is at most ``threshold``; ``min``: at least.
    threshold : float
        The bound.
    by : int
        First year the target must hold.
    """

    target: str
    country: str
    commodity: str
    metric: str
    source_country: str
    sense: str
    threshold: float
    by: int

    def met(self, values: np.ndarray) -> np.ndarray:
        """Tell element-wise whether each value meets the target (1e-12 tolerance)."""
        if self.sense == "max":
            return np.asarray(values <= self.threshold + 1e-12)
        return np.asarray(values >= self.threshold - 1e-12)

    def locate(self, measures: pd.DataFrame, year: int) -> int | None:
        """Find the position of this target's measure for ``year`` in a catalogue (``None`` when absent)."""
        if not len(measures):
            return None
        metric = TARGET_METRIC_ALIASES.get(self.metric, self.metric)
        mask = (
            (measures["metric"] == metric)
            & (measures["country"] == self.country)
            & (measures["commodity"] == self.commodity)
            & (measures["year"] == year)
            # metrics without a source (NIR, shortfall) have an empty source_country
            & measures["source_country"].isin([self.source_country, ""])
        ).to_numpy()
        if "partner" in measures.columns:
            mask &= (measures["partner"] == "").to_numpy()
        idx = np.flatnonzero(mask)
        if len(idx) > 1:
            idx = idx[(measures["source_country"].to_numpy()[idx] == self.source_country)]
        return int(idx[0]) if len(idx) == 1 else None


def target_specs(targets: pd.DataFrame) -> list[TargetSpec]:
    """Read a :func:`targets_table` into :class:`TargetSpec` objects.

    Parameters
    ----------
    targets : pandas.DataFrame
        Output of :func:`targets_table`.

    Returns
    -------
    list of TargetSpec
        One per row.
    """
    out = []
    for rec in targets.to_dict("records"):
        sense = "max" if pd.notna(rec["max"]) else "min"
        out.append(
            TargetSpec(
                target=str(rec["target"]),
                country=str(rec["country"]),
                commodity=str(rec["commodity"]),
                metric=str(rec["metric"]),
                source_country=str(rec["source_country"]),
                sense=sense,
                threshold=float(rec[sense]),
                by=int(rec["by"]),
            )
        )
    return out


def targets_table(scenario: Scenario) -> pd.DataFrame:
    """Tabulate the scenario's targets (what :meth:`SweepResult.target_probability` reads).

    Parameters
    ----------
    scenario : Scenario
        The scenario.

    Returns
    -------
    pandas.DataFrame
        One row per target.
    """
    cols = ["target", "country", "commodity", "metric", "source_country", "max", "min", "by", "description"]
    rows = [
        {
            "target": tid,
            "country": t.country,
            "commodity": t.commodity,
            "metric": t.metric,
            "source_country": t.source_country,
            "max": t.max,
            "min": t.min,
            "by": t.by,
            "description": t.description or "",
        }
        for tid, t in sorted(scenario.targets.items())
    ]
    df = pd.DataFrame(rows, columns=cols)
    return df.astype({"max": float, "min": float})


# ------------------------------------------------------------ batched tracer
TRACE_TOL = 1e-15
"""Convergence of the loop iteration of :class:`BatchTracer` (absolute, on shares in [0, 1])."""
TRACE_MAX_ITER = 5000
"""Loop iterations before a sample's loop is solved exactly (sparse LU)."""
BATCH_CELLS = 4_000_000
"""Largest ``samples × edges`` block solved at once (bounds the memory of a chunk)."""


@dataclass(frozen=True)
class _Step:
    """One level of the solve plan of :class:`BatchTracer` (edge ranges in plan order)."""

    ext: slice
    ext_starts: np.ndarray
    ext_nodes: np.ndarray
    internal: slice
    int_starts: np.ndarray
    int_nodes: np.ndarray


@dataclass(frozen=True)
class BatchTracer:
    r"""Traced share for many samples of edge tonnes on one network structure.

    DOMAIN.md, "Measures of exposure", item 3: with input shares
    :math:`a(u, v) = f(u→v) / (p(v) + \sum_{u'} f(u'→v))`,

    .. math:: t(v) = b(v) + (1 - b(v)) \sum_u a(u, v)\, t(u),

    the same equation :func:`supplychain.engine.trace.traced_share` solves, here
    for a block of samples at once (one row per sample). The structure (strongly
    connected components and their levels, as in :mod:`supplychain.engine.compile`)
    is worked out once from every edge that can carry material; per sample only
    the tonnes change. Levels without a loop are final after one pass; a level
    with a loop iterates ``x ← y + (1 − b) ∘ (G x)`` per sample until its own
    change is below :data:`TRACE_TOL` (so a sample's result never depends on the
    other samples of its block), and solves the loop exactly with sparse LU if
    that takes more than :data:`TRACE_MAX_ITER` passes.

    Sums over edges use :func:`numpy.add.reduceat` on edges sorted by buyer, so
    each sample's arithmetic is the same whatever block it is computed in: results
    are identical for any chunking and any executor.

    Attributes
    ----------
    n : int
        Number of nodes.
    src, dst : numpy.ndarray
        Supplier and buyer node of every edge, in plan order.
    perm : numpy.ndarray
        Plan position → input edge index.
    in_perm, in_starts, in_nodes : numpy.ndarray
        Edges sorted by buyer and the segment starts / buyer of each segment (for inflows).
    steps : tuple
        The levels, upstream first.
    """

    n: int
    src: np.ndarray
    dst: np.ndarray
    perm: np.ndarray
    in_perm: np.ndarray
    in_starts: np.ndarray
    in_nodes: np.ndarray
    steps: tuple[_Step, ...]

    @classmethod
    def build(cls, n: int, src: Sequence[int] | np.ndarray, dst: Sequence[int] | np.ndarray) -> BatchTracer:
        """Work out the solve plan of a network structure.

        Parameters
        ----------
        n : int
            Number of nodes.
        src, dst : array_like of int
            Supplier and buyer of every edge that may carry material in some sample.

        Returns
        -------
        BatchTracer
            The plan.
        """
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import connected_components

        src_a = np.asarray(src, dtype=np.int64)
        dst_a = np.asarray(dst, dtype=np.int64)
        m = csr_matrix((np.ones(len(src_a)), (src_a, dst_a)), shape=(n, n))
        n_comp, labels = connected_components(m, directed=True, connection="strong")
        cs, cd = labels[src_a], labels[dst_a]
        cross = cs != cd
        level = np.zeros(n_comp, dtype=np.int64)
        for _ in range(n_comp + 1):  # longest-path levels of the condensation (a DAG)
            new = level.copy()
            np.maximum.at(new, cd[cross], level[cs[cross]] + 1)
            if np.array_equal(new, level):
                break
            level = new
        node_level = level[labels]
        internal = ~cross
        order = np.lexsort((dst_a, internal, node_level[dst_a]))
        p_src, p_dst, p_int, p_lev = src_a[order], dst_a[order], internal[order], node_level[dst_a][order]
        steps = []
        for lev in np.unique(p_lev):
            lo, hi = np.searchsorted(p_lev, [lev, lev + 1])
            mid = lo + int(np.searchsorted(p_int[lo:hi], True))
            ext_starts, ext_nodes = _segments(p_dst[lo:mid])
            int_starts, int_nodes = _segments(p_dst[mid:hi])
            steps.append(_Step(slice(lo, mid), ext_starts, ext_nodes, slice(mid, hi), int_starts, int_nodes))
        in_perm = np.argsort(dst_a, kind="stable")
        in_starts, in_nodes = _segments(dst_a[in_perm])
        return cls(n, p_src, p_dst, order, in_perm, in_starts, in_nodes, tuple(steps))

    def solve(self, tonnes: np.ndarray, primary: np.ndarray, source: np.ndarray) -> np.ndarray:
        """Traced shares of every node for every sample.

        Parameters
        ----------
        tonnes : numpy.ndarray, shape (samples, edges)
            Edge tonnes in the input edge order given to :meth:`build`.
        primary : numpy.ndarray, shape (nodes,) or (samples, nodes)
            Primary production ``p(v)``.
        source : numpy.ndarray of bool, shape (nodes,)
            ``b``: nodes in the source.

        Returns
        -------
        numpy.ndarray, shape (samples, nodes)
            ``t``; rows are samples.
        """
        tonnes = np.atleast_2d(np.asarray(tonnes, dtype=float))
        n_s = tonnes.shape[0]
        step = max(1, BATCH_CELLS // max(tonnes.shape[1], 1))
        if n_s > step:
            prim = np.asarray(primary, dtype=float)
            parts = [
                self.solve(tonnes[i : i + step], prim if prim.ndim == 1 else prim[i : i + step], source)
                for i in range(0, n_s, step)
            ]
            return np.vstack(parts)
        b = np.asarray(source, dtype=bool)
        keep = (~b).astype(float)
        inflow = np.array(np.broadcast_to(np.asarray(primary, dtype=float), (n_s, self.n)))
        if len(self.in_perm):
            inflow[:, self.in_nodes] += np.add.reduceat(tonnes[:, self.in_perm], self.in_starts, axis=1)
        f = tonnes[:, self.perm]
        denom = inflow[:, self.dst]
        a = np.divide(f, denom, out=np.zeros_like(f), where=denom > 0)
        t = np.array(np.broadcast_to(b.astype(float), (n_s, self.n)))
        for st in self.steps:
            if len(st.ext_nodes):
                contrib = a[:, st.ext] * t[:, self.src[st.ext]]
                t[:, st.ext_nodes] += keep[st.ext_nodes] * np.add.reduceat(contrib, st.ext_starts, axis=1)
            if len(st.int_nodes):
                self._loop(st, a, t, keep)
        np.clip(t, 0.0, 1.0, out=t)
        return t

    def _loop(self, st: _Step, a: np.ndarray, t: np.ndarray, keep: np.ndarray) -> None:
        """Solve a level's loop ``x = y + (1 − b) ∘ (G x)`` in place; each sample stops when it has converged."""
        nodes = st.int_nodes
        pos = np.full(self.n, -1, dtype=np.int64)
        pos[nodes] = np.arange(len(nodes))
        src = pos[self.src[st.internal]]
        if (src < 0).any():  # pragma: no cover - a loop's suppliers are in the loop
            msg = "internal error: a loop edge leaves its strongly connected component"
            raise EngineError(msg)
        y = t[:, nodes]
        k = keep[nodes]
        a_int = a[:, st.internal]
        x = y.copy()
        active = np.ones(t.shape[0], dtype=bool)
        for _ in range(TRACE_MAX_ITER):
            new = y + k * np.add.reduceat(a_int * x[:, src], st.int_starts, axis=1)
            delta = np.max(np.abs(new - x), axis=1)
            x = np.where(active[:, None], new, x)  # a converged sample keeps its value
            active &= delta > TRACE_TOL
            if not active.any():
                t[:, nodes] = x
                return
        t[:, nodes] = x
        self._exact_loop(st, a_int, t, y, k, np.flatnonzero(active))

    def _exact_loop(
        self, st: _Step, a_int: np.ndarray, t: np.ndarray, y: np.ndarray, k: np.ndarray, rows: np.ndarray
    ) -> None:
        from scipy.sparse import csc_matrix, identity
        from scipy.sparse.linalg import spsolve

        nodes = st.int_nodes
        pos = np.full(self.n, -1, dtype=np.int64)
        pos[nodes] = np.arange(len(nodes))
        r = pos[self.dst[st.internal]]
        c = pos[self.src[st.internal]]
        for i in rows:
            g = csc_matrix((a_int[i] * k[r], (r, c)), shape=(len(nodes), len(nodes)))
            x = spsolve((identity(len(nodes), format="csc") - g).tocsc(), y[i])
            if not np.all(np.isfinite(x)):
                msg = f"the loop through nodes {list(nodes[:5])} is closed (singular) in this sample"
                raise EngineError(msg)
            t[i, nodes] = x


def _segments(sorted_keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start of each run of equal keys and the key of each run (for ``reduceat``)."""
    if not len(sorted_keys):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(sorted_keys)) + 1)).astype(np.int64)
    return starts, np.asarray(sorted_keys[starts], dtype=np.int64)


# ------------------------------------------------------------ exposure kernel
AC_RTOL = 1e-9
"""Apparent consumption at most this share of a market's throughput counts as zero (round-off)."""

FAST_METRICS: tuple[str, ...] = (
    "traced_share",
    "direct_import_share",
    "direct_share_of_consumption",
    "net_import_reliance",
)
"""Metrics the compiled fast path computes (the rest need :func:`~supplychain.metrics.measures.compute_measures`)."""

SWEEP_METRICS: tuple[str, ...] = (*FAST_METRICS, "shortfall_share")
"""Metrics a sweep keeps when ``measures`` is not given (``measures="all"`` keeps every metric)."""

_INERT = (
    ("policies",),
    ("agreements",),
    ("countries",),
    ("toggles",),
    ("commodities",),
)
"""Key-path prefixes that cannot change the fast metrics of the unshocked network.

Policies, agreements and toggles act only through a shock (modes ``fixed`` and
``rebalance``); governance indicators, prices and ownership stakes feed other
metrics (supply risk, owner shares) that the fast path does not compute.
"""


def _inert(path: KeyPath) -> bool:
    if any(path[: len(p)] == p for p in _INERT):
        return True
    # ownership stakes and recycled shares feed owner_share / supply_risk only
    return len(path) >= 3 and path[0] == "facilities" and (path[2] == "owners" or path[2] == "recycled_share")


class _Unsupported(Exception):  # noqa: N818 - internal signal, never leaves this module
    """The fast path cannot reproduce this scenario; use the per-sample path."""


class _Quantities:
    """Every number the kernel reads, as columns: sampled parameters and constants.

    Slot ``i`` is either a sampled parameter (its column name) or a constant.
    """

    def __init__(self, scenario: Scenario, spec: SamplingSpec) -> None:
        self.scenario: Scenario | None = scenario
        self.sampled = {p.path: p.name for p in spec if p.kind == "quantity"}
        self.used: set[KeyPath] = set()
        self.names: list[str | None] = []
        self.consts: list[float] = []
        self._slots: dict[KeyPath, int] = {}

    def slot(self, path: KeyPath, q: Quantity | None, default: float = 0.0) -> int:
        """Slot of the quantity at ``path`` (a constant ``default`` when absent)."""
        if path in self._slots:
            return self._slots[path]
        name = self.sampled.get(path)
        if name is not None:
            self.used.add(path)
        self.names.append(name)
        self.consts.append(q.central if q is not None else default)
        self._slots[path] = len(self.names) - 1
        return self._slots[path]

    def const(self, value: float) -> int:
        """Slot of a plain constant."""
        self.names.append(None)
        self.consts.append(float(value))
        return len(self.names) - 1

    def matrix(self, x: np.ndarray, columns: Sequence[str]) -> np.ndarray:
        """Return the ``(samples, slots)`` values of a block of sample rows (``x``: samples × ``columns``)."""
        q = np.empty((x.shape[0], len(self.names)))
        q[:] = np.asarray(self.consts)
        pos = {c: i for i, c in enumerate(columns)}
        slots = [i for i, name in enumerate(self.names) if name is not None]
        if slots:
            q[:, slots] = x[:, [pos[str(self.names[i])] for i in slots]]
        return q


@dataclass(frozen=True)
class _Groups:
    """Sums of item columns into groups (``group[i] = -1``: item in no group), chunk-independent."""

    order: np.ndarray
    starts: np.ndarray
    targets: np.ndarray
    n: int

    @classmethod
    def of(cls, group: np.ndarray, n: int) -> _Groups:
        g = np.asarray(group, dtype=np.int64)
        keep = np.flatnonzero(g >= 0)
        order = keep[np.argsort(g[keep], kind="stable")]
        starts, targets = _segments(g[order])
        return cls(order, starts, targets, n)

    def sum(self, x: np.ndarray) -> np.ndarray:
        out = np.zeros((x.shape[0], self.n))
        if len(self.order):
            out[:, self.targets] = np.add.reduceat(x[:, self.order], self.starts, axis=1)
        return out


def _mul(q: np.ndarray, slots: np.ndarray) -> np.ndarray:
    """Product over the slot columns (``slots``: items × factors, −1 = 1)."""
    out = np.ones((q.shape[0], slots.shape[0]))
    for f in range(slots.shape[1]):
        col = slots[:, f]
        use = col >= 0
        out[:, use] *= q[:, col[use]]
    return out


KERNEL_CELLS = 4_000_000
"""Samples × edges evaluated at once by :class:`ExposureKernel` (keeps the arrays in cache)."""


@dataclass(frozen=True)
class _VaryPlan:
    """Which edges of an :class:`ExposureKernel` vary between samples, and the sums over the others.

    Observed edges fed only by central values are computed once (``tonnes_base``);
    sums over them (market inflow/outflow, the trade summary) are kept as
    constants, and only the varying edges are summed per sample.
    """

    flow_var: np.ndarray
    flow_col: np.ndarray
    fac_var: np.ndarray
    prod_base: np.ndarray
    pair_var: np.ndarray
    pair_col: np.ndarray
    sent_const: np.ndarray
    sent_out: _Groups
    sent_in: _Groups
    imp_rows: np.ndarray
    imp_col: np.ndarray
    imp_rem_groups: _Groups
    var_obs: np.ndarray
    m_in_const: np.ndarray
    m_out_const: np.ndarray
    m_prod_const: np.ndarray
    m_in_var: _Groups
    m_out_var: _Groups
    m_prod_var: _Groups
    pair_in: _Groups
    pair_out: _Groups
    var_edges: np.ndarray
    v_obs: np.ndarray
    v_dem: np.ndarray
    v_pair: np.ndarray
    v_draw: np.ndarray
    v_left: np.ndarray
    left_markets: np.ndarray
    tonnes_base: np.ndarray
    primary_base: np.ndarray
    prim_var_node: np.ndarray
    prim_var_pos: np.ndarray
    stock_node_var: _Groups
    g_const: tuple[np.ndarray, ...]
    g_var: tuple[_Groups, ...]

    @classmethod
    def of(cls, k: ExposureKernel, d_out: np.ndarray, d_in: np.ndarray) -> _VaryPlan:
        """Split the kernel's edges into constant and varying ones."""
        sampled = np.array([*(name is not None for name in k.q.names), False], dtype=bool)  # slot −1 → False
        consts = np.asarray([*k.q.consts, 1.0])
        flow_var = sampled[k.flow_slot]
        fac_var = sampled[k.fac_prod_slots].any(axis=1) if len(k.fac_prod_slots) else np.zeros(0, dtype=bool)
        fac_var_idx = np.flatnonzero(fac_var)
        prod_base = (np.prod(consts[k.fac_prod_slots], axis=1) * k.fac_prod_scale) if len(k.fac_prod_slots) \
            else np.zeros(0)  # fmt: skip
        pair_var = fac_var[k.fac_pairs_prod] if len(k.fac_pairs_prod) else np.zeros(0, dtype=bool)
        pair_var = pair_var.copy()
        for i in np.flatnonzero(flow_var):
            for g in (d_out[i], d_in[i]):
                if g >= 0:
                    pair_var[g] = True
        pair_var_idx = np.flatnonzero(pair_var)
        ent_var: dict[int, bool] = {}
        for r in range(len(k.imp_edge)):
            ent = int(k.imp_total[r])
            ent_var[ent] = ent_var.get(ent, False) or bool(sampled[k.imp_total[r]]) or bool(sampled[k.imp_share[r]])
        imp_rows = np.array([r for r in range(len(k.imp_edge)) if ent_var[int(k.imp_total[r])]], dtype=np.int64)
        var_obs = np.unique(np.concatenate([
            k.flow_edge[flow_var], k.fac_pairs_edge[pair_var_idx], k.imp_edge[imp_rows],
        ]).astype(np.int64))  # fmt: skip
        col = np.full(k.n_obs, -1, dtype=np.int64)
        col[var_obs] = np.arange(len(var_obs))
        # direct flows of varying pairs: constant part and per-sample groups over varying flows
        pair_pos = np.full(len(k.fac_pairs_edge), -1, dtype=np.int64)
        pair_pos[pair_var_idx] = np.arange(len(pair_var_idx))
        flows_base = consts[k.flow_slot]
        sent_const = np.zeros(len(pair_var_idx))
        for fi in range(len(k.flow_slot)):
            for g in (int(d_out[fi]), int(d_in[fi])):
                if g >= 0 and pair_pos[g] >= 0 and not flow_var[fi]:
                    sent_const[pair_pos[g]] += flows_base[fi]
        fv_idx = np.flatnonzero(flow_var)
        sent_out = _Groups.of(np.where(d_out[fv_idx] >= 0, pair_pos[np.maximum(d_out[fv_idx], 0)], -1),
                              len(pair_var_idx))  # fmt: skip
        sent_in = _Groups.of(np.where(d_in[fv_idx] >= 0, pair_pos[np.maximum(d_in[fv_idx], 0)], -1),
                             len(pair_var_idx))  # fmt: skip
        rem_of_row = {}
        for j, r in enumerate(imp_rows):
            if k.imp_remainder[r] > 0:
                rem_of_row[int(r)] = j
        imp_groups = np.full(len(imp_rows), -1, dtype=np.int64)
        # a listed partner row belongs to the remainder row of its entity (the next remainder row after it)
        for j, r in enumerate(imp_rows):
            if k.imp_remainder[r] <= 0:
                later = [rr for rr in rem_of_row if rr > r and int(k.imp_total[rr]) == int(k.imp_total[r])]
                if later:
                    imp_groups[j] = rem_of_row[min(later)]
        # market sums over observed edges: constant part once, varying part per sample
        obs_is_var = col >= 0
        buy_m = _group_of(k.m_in, k.n_obs + len(k.dem_slots))[: k.n_obs]
        sup_m = _group_of(k.m_out, k.n_obs + len(k.dem_slots))[: k.n_obs]
        prod_m = _group_of(k.m_prod, k.n_obs + len(k.dem_slots))[: k.n_obs]
        base = k.obs_base

        def const_sum(groups: np.ndarray, n: int) -> np.ndarray:
            keep = (groups >= 0) & ~obs_is_var
            return np.bincount(groups[keep], weights=base[keep], minlength=n).astype(float)

        # the full edge list: constant tonnes and the varying columns
        var_edges = np.concatenate([
            k.e_obs[var_obs], k.e_dem, k.e_pair, k.e_draw, np.where(k.e_build >= 0, k.e_build, k.e_use),
        ]).astype(np.int64)  # fmt: skip
        n_v = [len(var_obs), len(k.e_dem), len(k.e_pair), len(k.e_draw), k.n_markets]
        offs = np.cumsum([0, *n_v])
        tonnes_base = np.zeros(k.n_edges)
        tonnes_base[k.e_obs] = base
        tonnes_base[var_edges] = 0.0
        primary_base = np.zeros(k.tracer.n)
        if len(k.prim_fac_node):
            primary_base[k.prim_fac_node] = prod_base[k.prim_fac_pos]
        fv_pos = np.full(len(fac_var), -1, dtype=np.int64)
        fv_pos[fac_var_idx] = np.arange(len(fac_var_idx))
        pv = fv_pos[k.prim_fac_pos] if len(k.prim_fac_pos) else np.zeros(0, dtype=np.int64)
        var_pos = np.full(k.n_edges, -1, dtype=np.int64)
        var_pos[var_edges] = np.arange(len(var_edges))
        stock_group = _group_of(k.stock_node_groups, k.n_edges)
        g_const, g_var = [], []
        for g in (k.g_prod, k.g_imp, k.g_exp, k.g_src, k.g_draw, k.g_build):
            full = _group_of(g, k.n_edges)
            keep = (full >= 0) & (var_pos < 0)
            g_const.append(np.bincount(full[keep], weights=tonnes_base[keep], minlength=g.n).astype(float))
            g_var.append(_Groups.of(full[var_edges], g.n))
        return cls(
            flow_var=flow_var, flow_col=col[k.flow_edge[flow_var]], fac_var=fac_var_idx, prod_base=prod_base,
            pair_var=pair_var_idx, pair_col=col[k.fac_pairs_edge[pair_var_idx]], sent_const=sent_const,
            sent_out=sent_out, sent_in=sent_in, imp_rows=imp_rows, imp_col=col[k.imp_edge[imp_rows]],
            imp_rem_groups=_Groups.of(imp_groups, len(imp_rows)), var_obs=var_obs,
            m_in_const=const_sum(buy_m, k.n_markets), m_out_const=const_sum(sup_m, k.n_markets),
            m_prod_const=const_sum(prod_m, k.n_markets),
            m_in_var=_Groups.of(buy_m[var_obs], k.n_markets), m_out_var=_Groups.of(sup_m[var_obs], k.n_markets),
            m_prod_var=_Groups.of(prod_m[var_obs], k.n_markets),
            pair_in=_Groups.of(k.pair_i, k.n_markets), pair_out=_Groups.of(k.pair_j, k.n_markets),
            var_edges=var_edges,
            v_obs=np.arange(offs[0], offs[1]), v_dem=np.arange(offs[1], offs[2]), v_pair=np.arange(offs[2], offs[3]),
            v_draw=np.arange(offs[3], offs[4]), v_left=np.arange(offs[4], offs[5]),
            left_markets=np.arange(k.n_markets), tonnes_base=tonnes_base, primary_base=primary_base,
            prim_var_node=k.prim_fac_node[pv >= 0] if len(pv) else np.zeros(0, dtype=np.int64),
            prim_var_pos=pv[pv >= 0] if len(pv) else np.zeros(0, dtype=np.int64),
            stock_node_var=_Groups.of(stock_group[var_edges], k.stock_node_groups.n),
            g_const=tuple(g_const), g_var=tuple(g_var),
        )  # fmt: skip


def _group_of(g: _Groups, n_items: int) -> np.ndarray:
    """Recover the item → group array a :class:`_Groups` was made from (−1: no group)."""
    out = np.full(n_items, -1, dtype=np.int64)
    if len(g.order):
        seg = np.repeat(g.targets, np.diff(np.append(g.starts, len(g.order))))
        out[g.order] = seg
    return out


@dataclass(frozen=True)
class ExposureKernel:
    r"""One year's exposure measures for a block of samples, on arrays.

    Mirrors, for the metrics of :data:`FAST_METRICS`, the chain
    :func:`~supplychain.graph.build.build_tables` (observed edges, then the
    allocation rules of :mod:`supplychain.graph.allocate`, then the mass-balance
    check) → :func:`~supplychain.metrics.measures.measures_from_tables`, with the
    sampled numbers patched in and everything else fixed at build time:

    * observed edges: ``flows`` tonnes, ``imports`` (total × partner share, the
      remainder to ``remainder_to``), facility production (``production[year]``,
      else capacity × ramp-up × utilisation) times the process coefficients,
      less direct flows;
    * given demand (``by_year`` or ``tonnes × (1 + growth)^(year − year₀)``) and
      releasable stock;
    * allocation per commodity, ``x(j → i) = d(i) · min(1, S/D) · s(j)/S``, stock
      draws, residual use / stock build — over every candidate pair at once;
    * traced share (:class:`BatchTracer`), direct import share, direct share of
      apparent consumption and net import reliance (USGS; a net exporter is NaN,
      "E"), as in :mod:`supplychain.metrics.trade`.

    A sample whose markets do not balance (the case where ``build_tables``
    raises) is flagged as failed. :func:`patched_model` checks the kernel against
    the per-sample path before using it.
    """

    year: int
    q: _Quantities
    # observed edges
    n_obs: int
    flow_edge: np.ndarray
    flow_slot: np.ndarray
    fac_pairs_edge: np.ndarray
    fac_pairs_prod: np.ndarray
    fac_pairs_ratio: np.ndarray
    fac_pairs_out: _Groups
    fac_pairs_in: _Groups
    fac_prod_slots: np.ndarray
    fac_prod_scale: np.ndarray
    imp_edge: np.ndarray
    imp_total: np.ndarray
    imp_share: np.ndarray
    imp_remainder: np.ndarray
    imp_rem_groups: _Groups
    obs_base: np.ndarray
    # demand and stock
    dem_slots: np.ndarray
    dem_growth: np.ndarray
    dem_power: np.ndarray
    dem_market: _Groups
    stock_market: np.ndarray
    stock_level: np.ndarray
    stock_months: np.ndarray
    stock_share: np.ndarray
    # markets
    n_markets: int
    m_in: _Groups
    m_out: _Groups
    m_prod: _Groups
    m_commodity: np.ndarray
    m_has_demand: np.ndarray
    c_groups: _Groups
    pair_i: np.ndarray
    pair_j: np.ndarray
    pair_k: np.ndarray
    stock_groups: _Groups
    # the full edge list
    n_edges: int
    e_obs: np.ndarray
    e_dem: np.ndarray
    e_pair: np.ndarray
    e_draw: np.ndarray
    e_build: np.ndarray
    e_use: np.ndarray
    tracer: BatchTracer
    prim_fac_node: np.ndarray
    prim_fac_pos: np.ndarray
    stock_node_groups: _Groups
    stock_nodes: np.ndarray
    source: np.ndarray
    # measures
    g_prod: _Groups
    g_imp: _Groups
    g_exp: _Groups
    g_src: _Groups
    g_draw: _Groups
    g_build: _Groups
    market_node: np.ndarray
    cat_metric: np.ndarray
    cat_market: np.ndarray
    # what varies between samples (the rest is computed once, at the central values)
    plan: _VaryPlan | None = None

    @classmethod
    def build(cls, scenario: Scenario, spec: SamplingSpec, year: int, source: frozenset[str],
              catalogue: pd.DataFrame) -> ExposureKernel:
        """Prepare the kernel of one year (raises ``_Unsupported`` when it cannot mirror the scenario)."""
        from supplychain.graph.allocate import demand_table, stock_table
        from supplychain.graph.build import observed_edges, stock_id, use_id

        q = _Quantities(scenario, spec)
        obs, fac, problems = observed_edges(scenario, year)
        if problems:
            raise _Unsupported("the central scenario has facility problems")
        edge_pos = {str(e): i for i, e in enumerate(obs["edge"])}
        n_obs = len(obs)
        base = obs["tonnes"].to_numpy(dtype=float).copy()

        # flows: tonnes = value
        flow_edge, flow_slot = [], []
        for fid, f in sorted(scenario.flows.items()):
            if f.year == year:
                flow_edge.append(edge_pos[f"flows.{fid}"])
                flow_slot.append(q.slot(("flows", fid, "tonnes"), f.tonnes))

        # facilities: production expression, outputs and inputs, less direct flows
        fac_ids = sorted(fac)
        prod_slots: list[list[int]] = []
        prod_scale: list[float] = []
        for fid in fac_ids:
            facility = scenario.facilities[fid]
            fy = fac[fid]
            base_path: KeyPath = ("facilities", fid)
            if fy.how == "production":
                prod_slots.append([q.slot((*base_path, "production", year), facility.production[year]), -1, -1])
                prod_scale.append(1.0)
            elif fy.how == "capacity x utilisation":
                slots, scale = _capacity_expression(q, facility, fid, year)
                prod_slots.append([*slots, q.slot((*base_path, "utilisation"), facility.utilisation)])
                prod_scale.append(scale)
            else:
                prod_slots.append([-1, -1, -1])
                prod_scale.append(0.0)
        pair_edge, pair_prod, pair_ratio, pair_key = [], [], [], []
        direct_out: dict[int, int] = {}
        direct_in: dict[int, int] = {}
        for fi, fid in enumerate(fac_ids):
            ratio_out, ratio_in = _process_ratios(scenario, scenario.facilities[fid])
            for kind, ratios in (("supply", ratio_out), ("input", ratio_in)):
                for commodity, ratio in ratios.items():
                    e = edge_pos.get(f"{kind}.{fid}.{commodity}")
                    if e is None:
                        continue
                    pair_edge.append(e)
                    pair_prod.append(fi)
                    pair_ratio.append(ratio)
                    pair_key.append((fid, commodity, kind))
        pair_index = {k: i for i, k in enumerate(pair_key)}
        for fid, f in sorted(scenario.flows.items()):
            if f.year != year:
                continue
            fe = edge_pos[f"flows.{fid}"]
            if f.supplier in fac:
                direct_out[fe] = pair_index.get((f.supplier, f.commodity, "supply"), -1)
            if f.buyer in fac:
                direct_in[fe] = pair_index.get((f.buyer, f.commodity, "input"), -1)
        d_out = np.array([direct_out.get(fe, -1) for fe in flow_edge], dtype=np.int64)
        d_in = np.array([direct_in.get(fe, -1) for fe in flow_edge], dtype=np.int64)

        # imports: total × share; remainder to remainder_to
        imp_edge: list[int] = []
        imp_total: list[int] = []
        imp_share: list[int] = []
        imp_rem: list[int] = []
        rem_group: list[int] = []
        for iid, imp in sorted(scenario.imports.items()):
            if imp.year != year:
                continue
            t_slot = q.slot(("imports", iid, "total"), imp.total)
            partners = sorted(imp.partners)
            start = len(imp_share)
            for p in partners:
                e = edge_pos.get(f"imports.{iid}.{p}")
                imp_edge.append(-1 if e is None else e)
                imp_total.append(t_slot)
                imp_share.append(q.slot(("imports", iid, "partners", p), imp.partners[p]))
                imp_rem.append(-1)
                rem_group.append(-1)
            rem_e = edge_pos.get(f"imports.{iid}.{imp.remainder_to}")
            uncertain = any(("imports", iid, "partners", p) in q.sampled for p in partners)
            if imp.remainder_to in imp.partners:
                raise _Unsupported("an import's remainder goes to one of its listed partners")
            if rem_e is None and uncertain:
                raise _Unsupported("an import's remainder edge appears only in some samples")
            if rem_e is not None:
                imp_edge.append(rem_e)
                imp_total.append(t_slot)
                imp_share.append(-1)
                imp_rem.append(1)
                rem_group.append(-1)
                for i in range(start, len(imp_share) - 1):
                    rem_group[i] = len(imp_share) - 1
            if any(e < 0 for e in imp_edge[start:]):
                raise _Unsupported("an import partner edge is missing from the central tables")

        # demand and stock
        dem = demand_table(scenario, year)
        stocks = stock_table(scenario, year, dem)
        dem_slots, dem_growth, dem_power = [], [], []
        for ent in dem["entity"]:
            did = str(ent).split(".", 1)[1]
            d = scenario.demand[did]
            if year in d.by_year:
                dem_slots.append(q.slot(("demand", did, "by_year", year), d.by_year[year]))
                dem_growth.append(-1)
                dem_power.append(0.0)
            else:
                dem_slots.append(q.slot(("demand", did, "tonnes"), d.tonnes))
                dem_growth.append(q.slot(("demand", did, "growth"), d.growth, 0.0))
                dem_power.append(float(year - d.year))

        dem_edges = pd.DataFrame({
            "edge": dem["entity"].astype(str), "supplier": dem["market"].astype(str),
            "buyer": [use_id(c, k) for c, k in zip(dem["country"], dem["commodity"], strict=True)],
            "commodity": dem["commodity"].astype(str), "kind": "use",
        })
        both = pd.concat([obs[["supplier", "buyer", "commodity", "kind"]], dem_edges[
            ["supplier", "buyer", "commodity", "kind"]]], ignore_index=True)
        is_m_buy = both["buyer"].str.count(":").eq(1).to_numpy()
        is_m_sup = both["supplier"].str.count(":").eq(1).to_numpy()
        markets = sorted(set(both["buyer"][is_m_buy]) | set(both["supplier"][is_m_sup]))
        m_pos = {m: i for i, m in enumerate(markets)}
        n_m = len(markets)
        buy_m = np.array([m_pos.get(b, -1) if ib else -1 for b, ib in zip(both["buyer"], is_m_buy, strict=True)])
        sup_m = np.array([m_pos.get(s, -1) if im else -1 for s, im in zip(both["supplier"], is_m_sup, strict=True)])
        is_supply = both["kind"].eq("supply").to_numpy()
        m_commodity_names = [m.split(":", 1)[1] for m in markets]
        commodities = sorted(set(m_commodity_names))
        k_pos = {k: i for i, k in enumerate(commodities)}
        m_commodity = np.array([k_pos[k] for k in m_commodity_names], dtype=np.int64)
        has_demand = np.zeros(n_m, dtype=bool)
        for mk in dem["market"].astype(str):
            has_demand[m_pos[mk]] = True
        producer = np.zeros(n_m, dtype=bool)
        producer[buy_m[is_supply & (buy_m >= 0)]] = True
        pairs = [(i, j, m_commodity[i]) for i in range(n_m) for j in range(n_m)
                 if i != j and m_commodity[i] == m_commodity[j] and producer[j]]
        pair_i = np.array([p[0] for p in pairs], dtype=np.int64)
        pair_j = np.array([p[1] for p in pairs], dtype=np.int64)
        pair_k = np.array([p[2] for p in pairs], dtype=np.int64)

        st_market, st_level, st_months, st_share, st_nodes = [], [], [], [], []
        for rec in stocks.to_dict("records"):
            sid = str(rec["entity"]).split(".", 1)[1]
            sp = scenario.stockpiles[sid]
            mk = str(rec["market"])
            if mk not in m_pos:
                continue
            st_market.append(m_pos[mk])
            share = q.slot(("stockpiles", sid, "max_release_share"), sp.max_release_share, 1.0)
            if sp.tonnes is not None:
                st_level.append(q.slot(("stockpiles", sid, "tonnes"), sp.tonnes))
                st_months.append(-1)
            else:
                st_level.append(-1)
                st_months.append(q.slot(("stockpiles", sid, "months_of_cover"), sp.months_of_cover))
            st_share.append(share)
            st_nodes.append((str(rec["entity"]), stock_id(str(rec["country"]), str(rec["commodity"]))))

        # the full edge list: observed, demand, allocation pairs, draws, builds, residual use
        sup_ids = list(obs["supplier"].astype(str)) + list(dem_edges["supplier"])
        buy_ids = list(obs["buyer"].astype(str)) + list(dem_edges["buyer"])
        kinds = list(obs["kind"].astype(str)) + ["use"] * len(dem_edges)
        s_country = list(obs["supplier_country"].astype(str)) + list(dem["country"].astype(str))
        b_country = list(obs["buyer_country"].astype(str)) + list(dem["country"].astype(str))
        com = list(obs["commodity"].astype(str)) + list(dem_edges["commodity"])

        def add(s: str, b: str, kind: str, sc: str, bc: str, k: str) -> int:
            sup_ids.append(s)
            buy_ids.append(b)
            kinds.append(kind)
            s_country.append(sc)
            b_country.append(bc)
            com.append(k)
            return len(sup_ids) - 1

        e_obs = np.arange(n_obs)
        e_dem = np.arange(n_obs, n_obs + len(dem_edges))
        e_pair = np.array([add(markets[j], markets[i], "trade", markets[j].split(":")[0], markets[i].split(":")[0],
                               commodities[k]) for i, j, k in pairs], dtype=np.int64)
        e_draw = np.array([add(node, markets[m], "stock", markets[m].split(":")[0], markets[m].split(":")[0],
                               markets[m].split(":", 1)[1]) for (_, node), m in zip(st_nodes, st_market, strict=True)],
                          dtype=np.int64)
        e_build, e_use = [], []
        for m, mk in enumerate(markets):
            c, k = mk.split(":", 1)
            if has_demand[m]:
                e_build.append(add(mk, stock_id(c, k), "stock", c, c, k))
                e_use.append(-1)
            else:
                e_build.append(-1)
                e_use.append(add(mk, use_id(c, k), "use", c, c, k))

        node_table_ids = sorted(set(sup_ids) | set(buy_ids))
        n_pos = {nd: i for i, nd in enumerate(node_table_ids)}
        src_idx = np.array([n_pos[s] for s in sup_ids], dtype=np.int64)
        dst_idx = np.array([n_pos[b] for b in buy_ids], dtype=np.int64)
        node_country = [fac[nd].country if nd in fac else nd.split(":")[0] for nd in node_table_ids]
        in_source = np.array([c in source for c in node_country], dtype=bool)
        prim_nodes, prim_pos = [], []
        for fi, fid in enumerate(fac_ids):
            if fac[fid].primary and fid in n_pos:
                prim_nodes.append(n_pos[fid])
                prim_pos.append(fi)
        stock_node_group = np.full(len(sup_ids), -1, dtype=np.int64)
        stock_nodes = sorted({node for _, node in st_nodes})
        sn_pos = {nd: i for i, nd in enumerate(stock_nodes)}
        for e, (_, node) in zip(e_draw, st_nodes, strict=True):
            stock_node_group[e] = sn_pos[node]
        stock_node_index = np.array([n_pos[nd] for nd in stock_nodes], dtype=np.int64)

        # measure groups per market (mirror supplychain.metrics.trade.trade_summary)
        kinds_a = np.array(kinds)
        sup_a, buy_a = np.array(sup_ids, dtype=object), np.array(buy_ids, dtype=object)
        sc_a, bc_a, com_a = np.array(s_country), np.array(b_country), np.array(com)
        key_pos = {(mk.split(":", 1)[0], mk.split(":", 1)[1]): i for i, mk in enumerate(markets)}

        def grp(country: np.ndarray, mask: np.ndarray) -> _Groups:
            g = np.array([key_pos.get((c, k), -1) if ok else -1 for c, k, ok in zip(country, com_a, mask,
                                                                                      strict=True)], dtype=np.int64)
            return _Groups.of(g, n_m)

        is_fac_sup = np.array([":" not in s for s in sup_a])
        cross = (kinds_a == "trade") & (sc_a != bc_a)
        colons_b = np.array([b.count(":") for b in buy_a])
        colons_s = np.array([s.count(":") for s in sup_a])
        stock = kinds_a == "stock"
        from_src = cross & np.array([c in source for c in sc_a])

        # catalogue → (metric code, market)
        metric_code = {m: i for i, m in enumerate(FAST_METRICS)}
        cat_metric = catalogue["metric"].map(metric_code).to_numpy()
        cat_market = np.array([key_pos.get((c, k), -1) for c, k in zip(catalogue["country"], catalogue["commodity"],
                                                                         strict=True)], dtype=np.int64)
        if (cat_market < 0).any() or np.isnan(cat_metric.astype(float)).any():
            raise _Unsupported("a measure row has no market in the kernel")

        unused = [p.name for p in spec if p.kind == "quantity" and p.path not in q.used
                  and not _inert(p.path) and _relevant(scenario, p.path, year)]
        if unused:
            msg = f"the fast path cannot patch {', '.join(unused[:3])}"
            raise _Unsupported(msg)
        pair_groups_c = _Groups.of(m_commodity, len(commodities))

        kernel = cls(
            year=year, q=q, n_obs=n_obs,
            flow_edge=np.array(flow_edge, dtype=np.int64), flow_slot=np.array(flow_slot, dtype=np.int64),
            fac_pairs_edge=np.array(pair_edge, dtype=np.int64), fac_pairs_prod=np.array(pair_prod, dtype=np.int64),
            fac_pairs_ratio=np.array(pair_ratio, dtype=float),
            fac_pairs_out=_Groups.of(d_out, len(pair_edge)),
            fac_pairs_in=_Groups.of(d_in, len(pair_edge)),
            fac_prod_slots=np.array(prod_slots, dtype=np.int64).reshape(len(fac_ids), 3),
            fac_prod_scale=np.array(prod_scale, dtype=float),
            imp_edge=np.array(imp_edge, dtype=np.int64), imp_total=np.array(imp_total, dtype=np.int64),
            imp_share=np.array(imp_share, dtype=np.int64), imp_remainder=np.array(imp_rem, dtype=np.int64),
            imp_rem_groups=_Groups.of(np.array(rem_group, dtype=np.int64), len(imp_share)),
            obs_base=base,
            dem_slots=np.array(dem_slots, dtype=np.int64), dem_growth=np.array(dem_growth, dtype=np.int64),
            dem_power=np.array(dem_power, dtype=float),
            dem_market=_Groups.of(np.array([m_pos[str(m)] for m in dem["market"]], dtype=np.int64), n_m),
            stock_market=np.array(st_market, dtype=np.int64), stock_level=np.array(st_level, dtype=np.int64),
            stock_months=np.array(st_months, dtype=np.int64), stock_share=np.array(st_share, dtype=np.int64),
            n_markets=n_m,
            m_in=_Groups.of(buy_m, n_m), m_out=_Groups.of(sup_m, n_m),
            m_prod=_Groups.of(np.where(is_supply, buy_m, -1), n_m),
            m_commodity=m_commodity, m_has_demand=has_demand, c_groups=pair_groups_c,
            pair_i=pair_i, pair_j=pair_j, pair_k=pair_k,
            stock_groups=_Groups.of(np.array(st_market, dtype=np.int64), n_m),
            n_edges=len(sup_ids), e_obs=e_obs, e_dem=e_dem, e_pair=e_pair, e_draw=e_draw,
            e_build=np.array(e_build, dtype=np.int64), e_use=np.array(e_use, dtype=np.int64),
            tracer=BatchTracer.build(len(node_table_ids), src_idx, dst_idx),
            prim_fac_node=np.array(prim_nodes, dtype=np.int64), prim_fac_pos=np.array(prim_pos, dtype=np.int64),
            stock_node_groups=_Groups.of(stock_node_group, len(stock_nodes)),
            stock_nodes=stock_node_index,
            source=in_source,
            g_prod=grp(sc_a, is_fac_sup), g_imp=grp(bc_a, cross), g_exp=grp(sc_a, cross), g_src=grp(bc_a, from_src),
            g_draw=grp(bc_a, stock & (colons_b == 1)), g_build=grp(sc_a, stock & (colons_s == 1)),
            market_node=np.array([n_pos[mk] for mk in markets], dtype=np.int64),
            cat_metric=cat_metric.astype(np.int64), cat_market=cat_market,
        )
        plan = _VaryPlan.of(kernel, d_out, d_in)
        q.scenario = None  # not needed to evaluate; keeps the pickled model small
        return replace(kernel, plan=plan)

    # ------------------------------------------------------------- evaluate
    def __call__(
        self, x: np.ndarray, columns: Sequence[str]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """Return the catalogue rows' values and presence per sample row, a failed mask and the reasons.

        ``x`` holds the sample rows as floats (toggles 0/1), one column per name in ``columns``.
        """
        step = max(1, KERNEL_CELLS // max(self.n_edges, 1))
        if len(x) <= step:
            return self._block(self.q.matrix(x, columns))
        parts = [self._block(self.q.matrix(x[i : i + step], columns)) for i in range(0, len(x), step)]
        return (
            np.vstack([p[0] for p in parts]),
            np.vstack([p[1] for p in parts]),
            np.vstack([p[2] for p in parts]),
            np.concatenate([p[3] for p in parts]),
            [r for p in parts for r in p[4]],
        )

    def _block(self, qv: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
        from supplychain.graph.allocate import ATOL, RTOL

        plan = self.plan
        assert plan is not None
        n_s = qv.shape[0]
        failed = np.zeros(n_s, dtype=bool)
        reasons = [""] * n_s

        def fail(mask: np.ndarray, why: str) -> None:
            for i in np.flatnonzero(mask & ~failed):
                reasons[i] = why
            failed[:] |= mask

        # observed edges that vary: flows, facility supply/input edges, imports
        obs_v = np.zeros((n_s, len(plan.var_obs)))
        flows_v = qv[:, self.flow_slot[plan.flow_var]]
        obs_v[:, plan.flow_col] = flows_v
        prod_v = _mul(qv, self.fac_prod_slots[plan.fac_var]) * self.fac_prod_scale[plan.fac_var]
        if len(plan.pair_var):
            prod_all = np.array(np.broadcast_to(plan.prod_base, (n_s, len(plan.prod_base))))
            prod_all[:, plan.fac_var] = prod_v
            gross = prod_all[:, self.fac_pairs_prod[plan.pair_var]] * self.fac_pairs_ratio[plan.pair_var]
            sent = plan.sent_const + plan.sent_out.sum(flows_v) + plan.sent_in.sum(flows_v)
            over = sent > gross * (1 + 1e-6) + 1e-6
            fail(over.any(axis=1), "flows out of (or into) a facility exceed what it makes (or uses)")
            obs_v[:, plan.pair_col] = np.maximum(0.0, gross - sent)
        if len(plan.imp_rows):
            rows = plan.imp_rows
            total = qv[:, self.imp_total[rows]]
            shares = self.imp_share[rows]
            share = np.where(shares >= 0, qv[:, np.maximum(shares, 0)], 0.0)
            listed = plan.imp_rem_groups.sum(share)
            rem = np.maximum(0.0, 1.0 - listed)
            rem = np.where(rem * total > 1e-9 * np.maximum(total, 1.0), rem, 0.0)
            frac = np.where(self.imp_remainder[rows] > 0, rem, share)
            obs_v[:, plan.imp_col] = total * frac
        # demand
        d = qv[:, self.dem_slots]
        if len(self.dem_slots):
            g = np.where(self.dem_growth >= 0, qv[:, np.maximum(self.dem_growth, 0)], 0.0)
            d = d * (1.0 + g) ** self.dem_power
        dem_m = self.dem_market.sum(d)
        # market residuals (allocate, step 2): constant edges once, varying edges per sample
        inflow = plan.m_in_const + plan.m_in_var.sum(obs_v)
        outflow = plan.m_out_const + plan.m_out_var.sum(obs_v) + dem_m
        produced = plan.m_prod_const + plan.m_prod_var.sum(obs_v)
        tol = RTOL * np.maximum(inflow, outflow) + ATOL
        r = inflow - outflow
        # step 3: deficits to producers' spare output, per commodity
        deficit = np.where(r < -tol, -r, 0.0)
        spare = np.where((r > tol) & (produced > 0.0), np.minimum(r, produced), 0.0)
        x = np.zeros((n_s, len(self.pair_i)))
        if len(self.pair_i):
            d_tot = self.c_groups.sum(deficit)
            s_tot = self.c_groups.sum(spare)
            dk, sk = d_tot[:, self.pair_k], s_tot[:, self.pair_k]
            ok = (dk > 0.0) & (sk > 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                scale = np.where(ok, np.minimum(1.0, sk / np.where(ok, dk, 1.0)), 0.0)
                x = np.where(ok, deficit[:, self.pair_i] * scale * spare[:, self.pair_j] / np.where(ok, sk, 1.0), 0.0)
            r = r + plan.pair_in.sum(x) - plan.pair_out.sum(x)
        # step 4: stock draws
        draw_e = np.zeros((n_s, len(self.stock_market)))
        if len(self.stock_market):
            level = np.where(self.stock_level >= 0, qv[:, np.maximum(self.stock_level, 0)], 0.0)
            months = np.where(self.stock_months >= 0, qv[:, np.maximum(self.stock_months, 0)], 0.0)
            level = np.where(self.stock_months >= 0, months / 12.0 * dem_m[:, self.stock_market], level)
            avail = level * qv[:, self.stock_share]
            total = self.stock_groups.sum(avail)
            need = -r
            act = (need > tol) & (total > 0.0)
            draw = np.where(act, np.minimum(need, total), 0.0)
            with np.errstate(divide="ignore", invalid="ignore"):
                draw_e = np.where((avail > 0.0) & act[:, self.stock_market],
                                  draw[:, self.stock_market] * avail / np.where(total > 0, total, 1.0)[
                                      :, self.stock_market], 0.0)  # fmt: skip
            r = r + draw
        # step 5: residual use or stock build; then the balance check
        left = np.where(r > tol, r, 0.0)
        fail((r < -tol).any(axis=1), "a market is short (no spare production or stock covers it)")
        var = np.empty((n_s, len(plan.var_edges)))
        var[:, plan.v_obs] = obs_v
        var[:, plan.v_dem] = d
        var[:, plan.v_pair] = x
        var[:, plan.v_draw] = draw_e
        var[:, plan.v_left] = left[:, plan.left_markets]
        tonnes = np.array(np.broadcast_to(plan.tonnes_base, (n_s, self.n_edges)))
        tonnes[:, plan.var_edges] = var
        # nodes: primary production of primary producers and stock releases
        primary = np.array(np.broadcast_to(plan.primary_base, (n_s, self.tracer.n)))
        if len(plan.prim_var_node):
            primary[:, plan.prim_var_node] = prod_v[:, plan.prim_var_pos]
        if self.stock_node_groups.n:
            primary[:, self.stock_nodes] = plan.stock_node_var.sum(var)
        t = self.tracer.solve(tonnes, primary, self.source)
        # first-hop measures (supplychain.metrics.trade): constant edges once, varying edges per sample
        p = plan.g_const[0] + plan.g_var[0].sum(var)
        i_ = plan.g_const[1] + plan.g_var[1].sum(var)
        e_ = plan.g_const[2] + plan.g_var[2].sum(var)
        src = plan.g_const[3] + plan.g_var[3].sum(var)
        dr = plan.g_const[4] + plan.g_var[4].sum(var)
        bu = plan.g_const[5] + plan.g_var[5].sum(var)
        ac = p + i_ - e_ + dr - bu
        # apparent consumption zero up to round-off counts as zero (no DSC / NIR row)
        scale_ac = AC_RTOL * np.maximum(p + i_ + e_ + dr + bu, 1.0)
        has_ac = ac > scale_ac
        with np.errstate(divide="ignore", invalid="ignore"):
            dis = np.where(i_ > 0, src / np.where(i_ > 0, i_, 1.0), 0.0)
            dsc = np.where(has_ac, src / np.where(has_ac, ac, 1.0), np.nan)
            net = i_ - e_ + dr - bu
            tolx = 1e-9 * np.maximum(i_ + e_ + p, 1.0)
            nir = np.where(has_ac, np.clip(net / np.where(has_ac, ac, 1.0), 0.0, 1.0), np.nan)
            nir = np.where(net < -tolx, np.nan, nir)
        per_metric = np.stack([t[:, self.market_node], dis, dsc, nir])  # FAST_METRICS order
        out = per_metric[self.cat_metric, :, self.cat_market].T.copy()
        always = np.ones_like(ac, dtype=bool)
        exists = np.stack([always, always, has_ac, has_ac])
        present = exists[self.cat_metric, :, self.cat_market].T.copy()
        near = np.abs(ac) <= scale_ac
        fuzzy = np.stack([~always, ~always, near, near])[self.cat_metric, :, self.cat_market].T.copy()
        out[failed] = np.nan
        present[failed] = False
        return out, present, fuzzy, failed, reasons


def _relevant(scenario: Scenario, path: KeyPath, year: int) -> bool:
    """Whether a quantity can change the tables of ``year`` at all (conservative: True when unsure)."""
    section = path[0]
    ident = path[1] if len(path) > 1 else None
    if section == "flows" and ident in scenario.flows:
        return scenario.flows[str(ident)].year == year
    if section == "imports" and ident in scenario.imports:
        return scenario.imports[str(ident)].year == year
    if section == "facilities" and ident in scenario.facilities and len(path) > 2:
        f = scenario.facilities[str(ident)]
        if path[2] == "production" and len(path) > 3:
            return path[3] == year
        if path[2] in ("capacity", "utilisation", "capacity_changes"):
            return year not in f.production
    if section == "demand" and ident in scenario.demand and len(path) > 3 and path[2] == "by_year":
        return path[3] == year
    if section == "stockpiles" and ident in scenario.stockpiles:
        return scenario.stockpiles[str(ident)].year <= year
    return True


def _capacity_expression(q: _Quantities, f: Facility, fid: str, year: int) -> tuple[list[int], float]:
    """Slots and constant factor of ``capacity_in_year(f, year)`` (see ``graph.build.capacity_in_year``)."""
    if f.closure_year is not None and year >= f.closure_year:
        return [-1, -1], 0.0
    c = f.commissioning_year
    if c is not None and year < c:
        return [-1, -1], 0.0
    slot = q.slot(("facilities", fid, "capacity"), f.capacity) if f.capacity is not None else -1
    steps = sorted(enumerate(f.capacity_changes), key=lambda s: s[1].year)
    for i, step in steps:
        if step.year <= year:
            slot = q.slot(("facilities", fid, "capacity_changes", i, "capacity"), step.capacity)
    if slot < 0:
        msg = f"facility {fid} has no capacity in {year}"
        raise _Unsupported(msg)
    scale = 1.0
    if c is not None and f.ramp_up_years > 0:
        scale = min(1.0, (year - c + 1) / (f.ramp_up_years + 1))
    return [slot, -1], scale


def _process_ratios(scenario: Scenario, f: Facility) -> tuple[dict[str, float], dict[str, float]]:
    """Tonnes of each output and input per tonne of reference output."""
    if f.output is not None:
        return {f.output: 1.0}, {}
    process = scenario.processes.get(f.process or "")
    if process is None:
        raise _Unsupported("a facility's process is not declared")
    c_ref = process.outputs[process.reference_output].central
    if c_ref <= 0:
        raise _Unsupported("a process has a non-positive reference coefficient")
    outs = {c: q.central / c_ref for c, q in sorted(process.outputs.items())}
    ins = {c: q.central / c_ref for c, q in sorted(process.inputs.items())}
    return outs, ins


# -------------------------------------------------------------------- fast path
@dataclass(frozen=True)
class PatchedExposureModel:
    """Sweep model of the compiled fast path: one :class:`ExposureKernel` per year.

    Parameters
    ----------
    kernels : tuple of ExposureKernel
        One per year, in year order.
    catalogue : pandas.DataFrame
        The measure rows the kernels fill, in kernel order (normalised).
    on_error : {"raise", "nan"}
        What to do with a sample whose markets do not balance.
    """

    kernels: tuple[ExposureKernel, ...]
    catalogue: pd.DataFrame
    on_error: str = "raise"

    @property
    def description(self) -> str:
        """What the model computes."""
        return "compiled exposure kernel (network built once, sampled tonnes patched, solved on arrays)"

    def evaluate(self, inputs: pd.DataFrame, *, detail: bool = False) -> ChunkResult:
        """Compute the catalogue's measures for each sample row.

        Parameters
        ----------
        inputs : pandas.DataFrame
            Sample rows.
        detail : bool
            Keep per-cell ``present`` and ``fuzzy`` masks (to check the kernel);
            by default only which measures are present at all is returned, to keep
            what workers send back small.

        Returns
        -------
        ChunkResult
            Values aligned on :attr:`catalogue`.

        Raises
        ------
        SampleError
            With ``on_error="raise"``, for the first sample whose tables do not balance.
        """
        t0 = time.perf_counter()
        blocks = []
        shows = []
        failed = np.zeros(len(inputs), dtype=bool)
        reasons = [""] * len(inputs)
        fuzzies = []
        x = inputs.to_numpy(dtype=float) if len(inputs.columns) else np.zeros((len(inputs), 0))
        columns = [str(c) for c in inputs.columns]
        for k in self.kernels:
            vals, present, fuzzy, bad, why = k(x, columns)
            blocks.append(vals)
            shows.append(present)
            fuzzies.append(fuzzy)
            for j in np.flatnonzero(bad & ~failed).tolist():
                reasons[j] = f"{k.year}: {why[j]}"
            failed |= bad
        samples = np.asarray(inputs.index, dtype=np.int64)
        if failed.any() and self.on_error == "raise":
            i = int(np.flatnonzero(failed)[0])
            msg = f"sample {samples[i]} failed: {reasons[i]}"
            raise SampleError(msg)
        values = np.hstack(blocks) if blocks else np.empty((len(inputs), 0))
        present = np.hstack(shows) if shows else np.empty((len(inputs), 0), dtype=bool)
        values[failed] = np.nan  # a sample that fails in one year has no result at all (as per sample)
        present[failed] = False
        fails = {int(samples[i]): reasons[i] for i in np.flatnonzero(failed)}
        if not detail:
            ever = np.asarray(present.any(axis=0), dtype=bool)
            return ChunkResult(samples, self.catalogue, values, time.perf_counter() - t0, fails, ever)
        fuzzy = np.hstack(fuzzies) if fuzzies else np.empty((len(inputs), 0), dtype=bool)
        return ChunkResult(samples, self.catalogue, values, time.perf_counter() - t0, fails, present, fuzzy)


def _compare(fast: ChunkResult, slow: ChunkResult, rtol: float = 1e-9) -> str:
    """Empty when two evaluations of the same rows agree, else the first difference."""
    if set(fast.failed) != set(slow.failed):
        return f"samples failing differ: fast {sorted(fast.failed)}, per-sample {sorted(slow.failed)}"
    keys = [c for c in fast.catalogue.columns if c not in ATTRIBUTE_COLUMNS]
    f_idx = pd.MultiIndex.from_frame(fast.catalogue[keys])
    s_idx = pd.MultiIndex.from_frame(slow.catalogue[keys])
    pos = f_idx.get_indexer(s_idx)
    ok_rows = np.array([int(s) not in slow.failed for s in slow.samples], dtype=bool)
    for j in range(len(s_idx)):
        sv = slow.values[ok_rows, j]
        if pos[j] < 0:
            return f"the per-sample path has a measure the fast path lacks: {s_idx[j]}"
        fv = fast.values[ok_rows, pos[j]]
        same = (np.isnan(fv) & np.isnan(sv)) | (np.abs(fv - sv) <= rtol * np.maximum(1.0, np.abs(sv)))
        if fast.fuzzy is not None:
            same |= fast.fuzzy[ok_rows, pos[j]]
        if not same.all():
            i = int(np.flatnonzero(~same)[0])
            return f"{dict(zip(keys, s_idx[j], strict=True))}: fast {fv[i]!r} vs per-sample {sv[i]!r}"
    if fast.present is not None:
        seen = set(s_idx)
        fuzzy = fast.fuzzy if fast.fuzzy is not None else np.zeros_like(fast.present)
        extra = [
            j for j in range(len(f_idx)) if f_idx[j] not in seen and (fast.present & ~fuzzy)[ok_rows, j].any()
        ]
        if extra:
            return f"the fast path has a measure the per-sample path lacks: {f_idx[extra[0]]}"
    return ""


def _potential_rows(central: pd.DataFrame, select: MeasureFilter, source_name: str) -> pd.DataFrame:
    """Add the rows that exist only in some samples to a year's central catalogue.

    Direct share of consumption and NIR exist only where apparent consumption is
    positive, which a sample may change; every market (known from its traced-share
    row) gets both rows, and rows that exist in no sample are dropped later.
    """
    metrics = [m for m in ("direct_share_of_consumption", "net_import_reliance") if m in select.metrics]
    base = central[central["metric"].eq("traced_share")]
    if not metrics or not len(base):
        return central
    extra = []
    for metric in metrics:
        have = central[central["metric"].eq(metric)]
        rows = base.copy()
        rows["metric"] = metric
        rows["source_country"] = source_name if metric == "direct_share_of_consumption" else ""
        rows["unit"] = have["unit"].iloc[0] if len(have) else "share"
        extra.append(rows)
    keys = [c for c in central.columns if c not in ATTRIBUTE_COLUMNS]
    out = pd.concat([central, *extra], ignore_index=True).drop_duplicates(subset=keys, keep="first")
    return out.reset_index(drop=True)


def patched_model(
    scenario: Scenario,
    spec: SamplingSpec,
    *,
    mode: Mode,
    years: Sequence[int],
    source: str | None,
    select: MeasureFilter,
    verify: pd.DataFrame | None = None,
    on_error: str = "raise",
) -> tuple[SweepModel | None, str]:
    """Compile the fast path, or say why it does not apply.

    The fast path applies to ``mode="exposure"`` when every kept metric is in
    :data:`FAST_METRICS` and every sampled quantity is one the kernel can patch
    (flows, imports, facility production/capacity/utilisation, demand, stock),
    or cannot change the unshocked network (policies, agreements, toggles,
    governance indicators, prices, ownership stakes). It is then *checked*: the
    central values and the ``verify`` rows are computed both by the kernel and by
    the per-sample path (:class:`ExposureMeasures`); any difference above 1e-9
    (relative) and the sweep falls back to the per-sample path.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    spec : SamplingSpec
        Sampled parameters.
    mode : {"exposure", "fixed", "rebalance"}
        Only ``exposure`` has a fast path.
    years : sequence of int
        Years.
    source : str or None
        Source country (default: the scenario's).
    select : MeasureFilter
        Measure rows kept.
    verify : pandas.DataFrame, optional
        Sample rows to check against the per-sample path (besides the central values).
    on_error : {"raise", "nan"}
        Passed to the model.

    Returns
    -------
    model : SweepModel or None
        The compiled model, or ``None``.
    reason : str
        Why the fast path is not used (empty when it is).
    """
    if mode != "exposure":
        return None, f"mode {mode!r} runs the supply response (simulate) per sample"
    extra = sorted(set(select.metrics) - set(FAST_METRICS) - {"shortfall_share"}) if select.metrics else ["(all)"]
    if extra:
        return None, f"metrics {', '.join(extra)} are not computed by the fast path"
    from supplychain.graph.build import build_tables
    from supplychain.metrics.measures import compute_measures, resolve_source

    src_name = source or scenario.scenario.source_country
    fast_select = MeasureFilter(
        tuple(m for m in (select.metrics or FAST_METRICS) if m in FAST_METRICS),
        select.countries,
        select.commodities,
        select.years,
    )
    kernels = []
    catalogues = []
    try:
        for year in years:
            nodes, _ = build_tables(scenario, year)
            universe = set(nodes["country"].astype(str)) | set(scenario.countries) | set(scenario.regions)
            src = resolve_source(scenario, src_name, universe)
            central = normalise_measures(fast_select.apply(compute_measures(scenario, year, source=src_name)))
            cat = _potential_rows(central.drop(columns="value"), fast_select, src_name)
            kernels.append(ExposureKernel.build(scenario, spec, year, src, cat))
            catalogues.append(cat)
    except _Unsupported as exc:
        return None, str(exc)
    catalogue = pd.concat(catalogues, ignore_index=True) if catalogues else normalise_measures(
        pd.DataFrame({"value": []})).drop(columns="value")
    model = PatchedExposureModel(tuple(kernels), catalogue, on_error)
    rows = pd.DataFrame([central_row(spec)], columns=spec.names)
    if verify is not None and len(verify):
        rows = pd.concat([rows.astype(verify.dtypes.to_dict()), verify.reset_index(drop=True)], ignore_index=True)
    rows.index = pd.RangeIndex(len(rows))
    rows = rows.astype({p.name: (bool if p.kind == "toggle" else float) for p in spec})
    slow = FunctionModel(scenario, ExposureMeasures(tuple(years), source), fast_select, on_error="nan").evaluate(rows)
    fast = PatchedExposureModel(tuple(kernels), catalogue, "nan").evaluate(rows, detail=True)
    diff = _compare(fast, slow)
    if diff:
        return None, f"the compiled kernel does not reproduce compute_measures ({diff})"
    return model, ""


# -------------------------------------------------------------------- run_sweep
def _function_identity(func: Callable[..., Any]) -> str:
    """Describe a user function stably for the cache key (name and source when available)."""
    target = func
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', type(target).__qualname__)}"
    try:
        src = inspect.getsource(target if inspect.isroutine(target) else type(target))
    except (OSError, TypeError):
        src = repr(target)
    return name + ":" + hashlib.sha256(src.encode()).hexdigest()


def _load_scenario(scenario: Scenario | str | Path) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    from supplychain.io.load import load

    loaded: Scenario = load(scenario)
    return loaded


def build_model(
    scenario: Scenario,
    spec: SamplingSpec,
    *,
    mode: Mode,
    years: Sequence[int],
    source: str | None,
    toggles: Mapping[str, bool],
    variant: str | None,
    select: MeasureFilter,
    model: MeasureFunction | None = None,
    fast: bool = True,
    verify: pd.DataFrame | None = None,
    on_error: str = "raise",
) -> tuple[SweepModel, str]:
    """Choose and prepare the sweep model.

    * ``model`` given → :class:`FunctionModel` around it.
    * ``fast=True`` and the fast path applies (:func:`patched_model`, checked on
      the central values and the ``verify`` rows) → :class:`PatchedExposureModel`.
    * otherwise → :class:`FunctionModel` around :class:`ExposureMeasures`
      (``mode="exposure"``) or :class:`SimulateMeasures` (``fixed``/``rebalance``).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    spec : SamplingSpec
        Sampled parameters.
    mode : {"exposure", "fixed", "rebalance"}
        What is computed per sample.
    years : sequence of int
        Years.
    source : str or None
        Source country.
    toggles : mapping
        Explicit toggle overrides.
    variant : str or None
        Variant.
    select : MeasureFilter
        Measure rows to keep.
    model : callable, optional
        Custom measure function.
    fast : bool
        Allow the compiled fast path.
    verify : pandas.DataFrame, optional
        Sample rows the fast path is checked on.
    on_error : {"raise", "nan"}
        Failing samples: stop, or NaN and record.

    Returns
    -------
    model : SweepModel
        Ready to be pickled and evaluated.
    fast_path : str
        ``"used"``, or why the fast path is not used.
    """
    if model is not None:
        desc = f"custom function {_function_identity(model).split(':')[0]}"
        return FunctionModel(scenario, model, select, description=desc, on_error=on_error), "custom model function"
    reason = "disabled (fast=False)"
    if fast:
        patched, reason = patched_model(
            scenario, spec, mode=mode, years=years, source=source, select=select, verify=verify, on_error=on_error
        )
        if patched is not None:
            return patched, "used"
    func: MeasureFunction
    if mode == "exposure":
        func = ExposureMeasures(tuple(years), source)
        desc = "compute_measures per sample"
    else:
        src = source or scenario.scenario.source_country
        func = SimulateMeasures(mode, tuple(years), src, tuple(sorted(toggles.items())), variant)
        desc = f"simulate(mode={mode!r}) per sample"
    return FunctionModel(scenario, func, select, description=desc, on_error=on_error), reason


def measure_filter(
    measures: Sequence[str] | str | None,
    countries: Sequence[str] | None,
    commodities: Sequence[str] | None,
    years: Sequence[int] | None,
    *,
    custom: bool = False,
) -> MeasureFilter:
    """Build the :class:`MeasureFilter` of the ``measures=``/``countries=``/… arguments.

    ``measures=None`` keeps :data:`SWEEP_METRICS` (every metric of a custom model
    function, ``custom=True``); ``"all"`` keeps every metric.
    """
    if measures is None:
        metrics: tuple[str, ...] = () if custom else SWEEP_METRICS
    elif isinstance(measures, str):
        metrics = () if measures == "all" else (measures,)
    else:
        metrics = tuple(measures)
    return MeasureFilter(
        metrics, tuple(countries or ()), tuple(commodities or ()), tuple(int(y) for y in years or ())
    )


def sweep_spec(
    scenario: Scenario,
    *,
    mode: Mode,
    toggles: Mapping[str, bool],
    variant: str | None,
    parameters: Sequence[str] | None,
    exclude: Sequence[str],
) -> SamplingSpec:
    """Choose the parameters a sweep samples.

    Toggles fixed by ``toggles`` or by the ``variant`` are not sampled; in
    ``exposure`` mode no toggle is (policies do not act on the unshocked network).
    """
    fixed = set(toggles)
    if variant is not None and variant in scenario.variants:
        fixed |= set(scenario.variants[variant].toggles)
    spec = find_parameters(scenario, fixed_toggles=fixed).select(parameters, exclude)
    if mode == "exposure":
        spec = spec.quantities
    return spec


def run_sweep(
    scenario: Scenario | str | Path,
    *,
    samples: int,
    seed: int,
    mode: Mode = "fixed",
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
    on_error: Literal["raise", "nan"] = "raise",
    executor: ExecutorLike = None,
    workers: int = 1,
    chunk_size: int | None = None,
    cache: bool | str | Path | SweepCache = True,
    progress: ProgressLike = None,
    quiet: bool = False,
) -> SweepResult:
    """Monte Carlo sweep of a scenario's uncertain inputs.

    Parameters
    ----------
    scenario : Scenario or path
        A validated scenario, or a scenario file (loaded with :func:`supplychain.io.load.load`).
    samples : int
        Number of samples (≥ 1).
    seed : int
        Seed (≥ 0); the same seed, scenario and options give identical results
        on any executor, worker count and chunk size.
    mode : {"fixed", "rebalance", "exposure"}
        ``fixed`` / ``rebalance``: the supply response of :func:`supplychain.api.simulate`
        per sample; ``exposure``: the unshocked network's measures (no policies), with
        the compiled fast path when it applies (:func:`patched_model`).
    measures : sequence of str or "all", optional
        Metric names to keep; default :data:`SWEEP_METRICS` (with a custom ``model``:
        every metric it returns); ``"all"`` keeps every metric.
    countries, commodities : sequence of str, optional
        Keep only these countries / commodities.
    years : sequence of int, optional
        Years (default: the scenario's base year to horizon).
    source : str, optional
        Source country of the exposure measures (default: the scenario's).
    toggles : mapping of str to bool, optional
        Toggle states fixed by the caller; these toggles are not sampled.
    variant : str, optional
        Variant applied before ``toggles``; its toggles are not sampled either.
    parameters : sequence of str, optional
        Glob patterns of the parameters to sample (default: every uncertain input);
        the others stay at their central value.
    exclude : sequence of str
        Glob patterns of parameters to hold at their central value.
    model : callable, optional
        Custom measure function ``Scenario -> measures DataFrame`` (picklable).
    fast : bool
        Use the compiled fast path when it applies.
    on_error : {"raise", "nan"}
        A sample that cannot be computed (e.g. sampled flows that leave a market
        short): stop with :class:`SampleError`, or give it NaN values and list it
        in :attr:`SweepResult.failures`.
    executor : None, str, Executor or distributed.Client
        Where samples run (see :mod:`supplychain.uncertainty.executors`).
    workers : int
        Local worker processes (0 = one per CPU).
    chunk_size : int, optional
        Samples per task (default: sized from samples and workers).
    cache : bool, str, Path or SweepCache
        ``True``: the default cache folder; a path: that folder; ``False``: no cache.
    progress : None, bool, str or callable
        Progress display (see :func:`~supplychain.uncertainty.progress.progress_bar`).
    quiet : bool
        No progress display.

    Returns
    -------
    SweepResult
        Inputs, measure values, summary and target probabilities.

    Raises
    ------
    ValueError
        For a non-positive number of samples, a negative seed, an unknown mode or
        a parameter pattern that matches nothing.
    SampleError
        If a sample cannot be computed (``on_error="raise"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({
    ...     "scenario": {"name": "demo", "base_year": 2024},
    ...     "flows": {"cn_us": {"supplier": "CN", "buyer": "US", "commodity": "ndpr_oxide", "year": 2024,
    ...               "tonnes": {"dist": "uniform", "low": 10, "high": 20}}},
    ... })
    >>> def tonnes(sc):
    ...     return pd.DataFrame({"year": [2024], "metric": ["tonnes"], "value": [sc.flows["cn_us"].tonnes.central]})
    >>> r = run_sweep(s, samples=200, seed=1, model=tonnes, cache=False, quiet=True)
    >>> r.summary()[["metric", "central", "p5", "p95"]].round(1).to_dict("records")
    [{'metric': 'tonnes', 'central': 15.0, 'p5': 10.7, 'p95': 19.7}]
    """
    if samples < 1:
        msg = f"the number of samples must be at least 1, got {samples}"
        raise ValueError(msg)
    if seed < 0:
        msg = f"seed must be a non-negative integer, got {seed}"
        raise ValueError(msg)
    if mode not in ("exposure", "fixed", "rebalance"):
        msg = f"mode must be 'fixed', 'rebalance' or 'exposure', not {mode!r}"
        raise ValueError(msg)
    if on_error not in ("raise", "nan"):
        msg = f"on_error must be 'raise' or 'nan', not {on_error!r}"
        raise ValueError(msg)
    sc = _load_scenario(scenario)
    toggles = dict(toggles or {})
    spec = sweep_spec(sc, mode=mode, toggles=toggles, variant=variant, parameters=parameters, exclude=exclude)
    yrs = tuple(int(y) for y in (years if years is not None else sc.years))
    select = measure_filter(measures, countries, commodities, years, custom=model is not None)
    options: dict[str, Any] = {
        "mode": mode,
        "years": list(yrs),
        "source": source,
        "toggles": toggles,
        "variant": variant,
        "parameters": spec.names,
        "select": select.as_dict(),
        "model": _function_identity(model) if model is not None else None,
        "fast": fast,
        "on_error": on_error,
    }
    store = _resolve_cache(cache)
    key = cache_key(sc, seed=seed, samples=samples, options=options)
    if store is not None:
        hit = store.load(key)
        if hit is not None:
            return _from_cache(hit, sc, key)

    t0 = time.perf_counter()
    inputs = draw(spec, samples, seed)
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
        verify=inputs.iloc[:VERIFY_ROWS],
        on_error=on_error,
    )
    prep = time.perf_counter() - t0
    central_inputs = pd.DataFrame([central_row(spec)], columns=spec.names, index=pd.RangeIndex(1, name="sample"))
    central_inputs = central_inputs.astype(inputs.dtypes.to_dict()) if len(spec) else central_inputs
    catalogue, values, info = evaluate_samples(
        sweep_model,
        pd.concat([inputs, central_inputs], ignore_index=True),
        executor=executor,
        workers=workers,
        chunk_size=chunk_size,
        progress=progress,
        quiet=quiet,
        description=f"sweep {sc.scenario.name}",
    )
    catalogue = catalogue.copy()
    catalogue["central"] = values[-1]
    values = np.ascontiguousarray(values[:-1])
    if samples in info["failed"]:
        msg = f"the central run (every input at its central value) failed: {info['failed'][samples]}"
        raise SampleError(msg)
    info.update(
        seed=seed,
        samples=samples,
        mode=mode,
        model=sweep_model.description,
        fast_path=fast_path,
        parameters=len(spec),
        prepare_seconds=prep,
        cached=False,
        key=key,
        samples_per_second=samples / info["wall_seconds"] if info["wall_seconds"] > 0 else math.inf,
    )
    result = SweepResult(inputs, catalogue, values, targets_table(sc), info)
    if store is not None:
        _to_cache(store, key, result)
    return result


VERIFY_ROWS = 3
"""Sample rows (besides the central values) on which the fast path is checked against the per-sample path."""


def _resolve_cache(cache: bool | str | Path | SweepCache) -> SweepCache | None:
    if cache is False:
        return None
    if cache is True:
        return SweepCache.default()
    if isinstance(cache, SweepCache):
        return cache
    return SweepCache.default(cache)


_INFO_KEYS = (
    "seed",
    "samples",
    "mode",
    "model",
    "fast_path",
    "parameters",
    "executor",
    "chunks",
    "wall_seconds",
    "prepare_seconds",
    "samples_per_second",
)


def _to_cache(store: SweepCache, key: str, result: SweepResult) -> None:
    n, m = result.values.shape
    tables = {
        "inputs": result.inputs.reset_index(),
        "measures": result.measures.reset_index(),
        "values": pd.DataFrame({"value": result.values.reshape(-1)}),
        "failures": result.failures,
    }
    meta = {"shape": [n, m], "info": {k: result.info.get(k) for k in _INFO_KEYS}}
    store.store(key, tables, meta)


def _from_cache(hit: tuple[dict[str, pd.DataFrame], dict[str, Any]], sc: Scenario, key: str) -> SweepResult:
    tables, meta = hit
    n, m = (int(x) for x in meta["shape"])
    inputs = tables["inputs"].set_index("sample")
    inputs.index = pd.RangeIndex(len(inputs), name="sample")
    measures = tables["measures"].set_index("measure")
    values = tables["values"]["value"].to_numpy(dtype=float).reshape(n, m)
    info = dict(meta.get("info", {}))
    fails = tables.get("failures")
    info["failed"] = (
        {int(s): str(r) for s, r in zip(fails["sample"], fails["reason"], strict=True)} if fails is not None else {}
    )
    info.update(cached=True, key=key)
    return SweepResult(inputs, measures, values, targets_table(sc), info)
