"""Monte Carlo sweeps: sample the uncertain inputs, compute every measure per sample.

The driver (:func:`run_sweep`) does the same thing whatever runs the samples:

0. check the network once (:func:`~supplychain.engine.check.check_network`: nothing to
   simulate, a closed trade loop — located errors, before any sample is drawn) and that
   the tables fit in memory (:func:`~supplychain.uncertainty.scheduling.check_memory`);
1. find the uncertain inputs (:func:`~supplychain.uncertainty.sampling.find_parameters`)
   and draw every sample up front in this process
   (:func:`~supplychain.uncertainty.sampling.draw`: one independent random stream per
   parameter, so the table does not depend on workers or chunking);
2. prepare a *sweep model* once: the object that turns a block of sample rows
   into measure values (:func:`build_model`; the models are in
   :mod:`~supplychain.uncertainty.models` and :mod:`~supplychain.uncertainty.kernel`);
3. cut the samples into contiguous chunks, send ``(model, chunk)`` to the
   executor (in process, local worker processes or Dask), and put the results
   back in sample order, keyed by the measure catalogue (sorted), so the output is
   identical for any executor, worker count and chunk size
   (:func:`~supplychain.uncertainty.scheduling.evaluate_samples`);
4. keep the result in the on-disk cache (:mod:`supplychain.io.cache`); a cache
   that cannot be written is a :class:`~supplychain.errors.SupplyChainWarning`, not an
   error — the result is returned all the same.

Sweep models
------------
:class:`~supplychain.uncertainty.models.FunctionModel`
    Any function ``Scenario -> measures DataFrame``: each sample is patched into
    the scenario (:func:`~supplychain.uncertainty.sampling.apply`) and the function
    is called. The built-in measure functions call the public API
    (:func:`supplychain.api.simulate`, or :func:`supplychain.metrics.measures.compute_measures`
    for ``mode="exposure"``).
:class:`~supplychain.uncertainty.kernel.PatchedExposureModel`
    "Compile the network once per sweep and only patch the numbers that vary":
    the year's layout a run evaluates, evaluated on a block of samples;
    see :func:`~supplychain.uncertainty.kernel.patched_model`.

The result is a :class:`~supplychain.uncertainty.result.SweepResult`. The public
names of the modules above are re-exported here, so imports from
``supplychain.uncertainty.montecarlo`` keep working.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import os
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from supplychain.arguments import check_choice, check_metrics, check_years
from supplychain.engine.check import check_network
from supplychain.errors import ScenarioError, SupplyChainWarning
from supplychain.io.cache import SweepCache, cache_key
from supplychain.io.load import as_scenario
from supplychain.parallel.executors import ExecutorLike
from supplychain.parallel.progress import ProgressLike
from supplychain.schema.model import Scenario, Target
from supplychain.simulation.targets import verdict_metrics
from supplychain.simulation.toggles import read_overrides, resolve_toggles
from supplychain.uncertainty.kernel import (
    FAST_METRICS,
    SWEEP_METRICS,
    ExposureKernel,
    PatchedExposureModel,
    patched_model,
)
from supplychain.uncertainty.models import (
    ATTRIBUTE_COLUMNS,
    KEY_COLUMNS,
    ChunkResult,
    ExposureMeasures,
    FunctionModel,
    MeasureFilter,
    MeasureFunction,
    Mode,
    SampleError,
    SimulateMeasures,
    SweepModel,
    normalise_measures,
)
from supplychain.uncertainty.result import NIR_COMPANION, SweepResult, TargetSpec, target_specs, targets_table
from supplychain.uncertainty.sampling import (
    SamplingSpec,
    central_row,
    draw,
    find_parameters,
    in_force_shares,
    inert_parameters,
)
from supplychain.uncertainty.scheduling import check_memory, evaluate_samples

__all__ = [
    "ATTRIBUTE_COLUMNS",
    "FAST_METRICS",
    "KEY_COLUMNS",
    "SWEEP_METRICS",
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


def _function_identity(func: Callable[..., Any]) -> str:
    """Describe a user function stably for the cache key (name and source when available)."""
    target = func
    name = f"{getattr(target, '__module__', '?')}.{getattr(target, '__qualname__', type(target).__qualname__)}"
    try:
        src = inspect.getsource(target if inspect.isroutine(target) else type(target))
    except (OSError, TypeError):
        src = repr(target)
    return name + ":" + hashlib.sha256(src.encode()).hexdigest()


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
    on_error: str = "raise",
) -> tuple[SweepModel, str]:
    """Choose and prepare the sweep model.

    * ``model`` given → :class:`FunctionModel` around it.
    * ``fast=True`` and the fast path applies (:func:`patched_model`; not when a target reads a metric
      outside :data:`FAST_METRICS`, which the kernel does not compute) → :class:`PatchedExposureModel`.
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
            scenario, spec, mode=mode, years=years, source=source, select=select, on_error=on_error,
        )
        # the kernel computes FAST_METRICS only: a target on another metric would get no value
        unread = sorted({m for m, _, _ in select.always} - set(FAST_METRICS))
        if patched is not None and unread:
            reason = f"targets read {', '.join(unread)}, which the fast path does not compute: every sample is computed"
        elif patched is not None:
            return patched, "used"
    func: MeasureFunction
    if mode == "exposure":
        func = ExposureMeasures(tuple(years), source, tuple(sorted(toggles.items())), variant)
        desc = "compute_measures per sample"
    else:
        src = source or scenario.scenario.source_country
        # the targets' measures (select.always) are added by the simulator itself (Simulator, metrics=)
        func = SimulateMeasures(mode, tuple(years), src, tuple(sorted(toggles.items())), variant, select.metrics)
        desc = f"simulate(mode={mode!r}) per sample"
    return FunctionModel(scenario, func, select, description=desc, on_error=on_error), reason


def require_sweep_codes(scenario: Scenario, source: str | None, countries: Sequence[str] | None) -> None:
    """Refuse a ``source`` or ``countries`` code that is no country, region or group of the scenario.

    Raises
    ------
    ScenarioError
        Every unknown code, with a did-you-mean (``China`` → ``CN``); ``WORLD`` is a
        valid country here (world-level measure rows).
    """
    from supplychain.schema.countries import check_codes as problems_of

    problems = [*problems_of(scenario, [source] if source else [], ("source",)),
                *problems_of(scenario, countries or [], ("countries",), extra=["WORLD"])]
    if problems:
        raise ScenarioError(problems)


def check_sweep_choices(mode: str, measures: Sequence[str] | str | None, *, custom: bool) -> None:
    """Check a sweep's ``mode`` and, without a custom model function, its ``measures`` (with a did-you-mean).

    Raises
    ------
    ScenarioError
        A ``mode`` that is not ``exposure``, ``fixed`` or ``rebalance``, or a measure name
        that is no measure of ``docs/measures.md`` (:func:`~supplychain.arguments.check_metrics`).
    """
    check_choice("mode", mode, ("exposure", "fixed", "rebalance"))
    if not custom and measures is not None and measures != "all":
        check_metrics(measures, "measures")


def swept_years(scenario: Scenario, years: int | Iterable[int] | None
                ) -> tuple[tuple[int, ...], tuple[int, ...] | None]:
    """Return the years a sweep runs (``years`` checked, else every year) and those its measures are cut to.

    The cut (:func:`measure_filter`'s ``years``) is ``None`` when ``years`` is: every year's measures kept.
    """
    yrs = check_years(years if years is not None else scenario.years, scenario.years[0], scenario.years[-1])
    return yrs, (yrs if years is not None else None)


def measure_filter(
    measures: Sequence[str] | str | None,
    countries: Sequence[str] | None,
    commodities: Sequence[str] | None,
    years: Sequence[int] | None,
    *,
    custom: bool = False,
    targets: Mapping[str, Target] | None = None,
) -> MeasureFilter:
    """Build the :class:`MeasureFilter` of the ``measures=``/``countries=``/… arguments.

    ``measures=None`` keeps :data:`SWEEP_METRICS` (every metric of a custom model
    function, ``custom=True``); ``"all"`` keeps every metric. The measures ``targets``
    read are kept whatever the other arguments say (:attr:`MeasureFilter.always`), so
    every target's probability can be computed: its metric, and the shortfall beside it for a
    target with ``max_shortfall_share`` (:func:`~supplychain.simulation.targets.verdict_metrics`).
    A kept ``net_import_reliance`` keeps ``direct_share_of_consumption`` beside it
    (:data:`NIR_COMPANION`): a sweep keeps values only, and that row tells a sample without
    apparent consumption (both n/a) from a net exporter (NIR alone n/a, "E")
    (:meth:`~supplychain.uncertainty.result.SweepResult.summary`'s ``n_na``/``n_exporter``).

    Examples
    --------
    >>> measure_filter(["net_import_reliance"], None, None, None).metrics
    ('net_import_reliance', 'direct_share_of_consumption')
    """
    if measures is None:
        metrics: tuple[str, ...] = () if custom else SWEEP_METRICS
    elif isinstance(measures, str):
        metrics = () if measures == "all" else (measures,)
    else:
        metrics = tuple(measures)
    nir = "net_import_reliance"
    if nir in metrics and NIR_COMPANION not in metrics:
        metrics = (*metrics, NIR_COMPANION)
    kept = {(metric, t.country, t.commodity) for t in (targets or {}).values() for metric in verdict_metrics(t)}
    always = tuple(sorted(kept | {(NIR_COMPANION, c, k) for metric, c, k in kept if metric == nir}))
    return MeasureFilter(
        metrics, tuple(countries or ()), tuple(commodities or ()), tuple(int(y) for y in years or ()), always
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
    ``exposure`` mode only the toggles that switch facilities, flows, stockpiles or
    offtakes are (policies do not act on the unshocked network). ``parameters`` and
    ``exclude`` take ties whole (:meth:`SamplingSpec.select`); in ``exposure`` mode its
    ``tie_changes`` name only the members such a sweep samples: those added and sampled, and
    those held that it would otherwise have sampled (a policy toggle held with a flow toggle's
    tie would not have been sampled anyway, and is not named); a change left with no member is dropped.
    """
    from supplychain.simulation.toggles import world_toggles

    fixed = set(toggles)
    if variant is not None and variant in scenario.variants:
        fixed |= set(scenario.variants[variant].toggles)
    found = find_parameters(scenario, fixed_toggles=fixed)
    spec = found.select(parameters, exclude)
    if mode == "exposure":
        world = {f"toggles.{t}" for t in world_toggles(scenario)}
        sampled = {p.name for p in found if p.kind == "quantity" or p.name in world}  # what exposure can sample
        changes = (replace(c, members=tuple(m for m in c.members if m in sampled)) for c in spec.tie_changes)
        spec = SamplingSpec(tuple(p for p in spec if p.name in sampled), tuple(c for c in changes if c.members))
    return spec


def run_sweep(
    scenario: Scenario | str | Path,
    *,
    samples: int,
    seed: int,
    mode: Mode = "rebalance",
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
        every metric it returns); ``"all"`` keeps every metric. Without a custom ``model``
        each name must be a measure of ``docs/measures.md`` (a typo is an error with a did-you-mean).
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
        short): stop with :class:`SampleError`, or give it NaN values and list it,
        with its inputs, in :attr:`SweepResult.failures`.
    executor : None, str, Executor or distributed.Client
        Where samples run (see :mod:`supplychain.parallel.executors`).
    workers : int
        Local worker processes (0 = one per CPU).
    chunk_size : int, optional
        Samples per task (default: sized from samples and workers).
    cache : bool, str, Path or SweepCache
        ``True``: the default cache folder; a path: that folder; ``False``: no cache.
        A cache that cannot be read is a miss; one that cannot be written a
        :class:`~supplychain.errors.SupplyChainWarning`.
    progress : None, bool, str or callable
        Progress display (see :func:`~supplychain.parallel.progress.progress_bar`).
    quiet : bool
        No progress display.

    Returns
    -------
    SweepResult
        Inputs, measure values, summary and target probabilities.

    Raises
    ------
    ValueError
        For a non-positive number of samples, a negative seed, or a parameter pattern that matches nothing.
    ScenarioError
        An unknown ``mode``, ``on_error``, measure, variant or toggle name, a toggle state that is no on/off, years
        outside the scenario's (each located ``argument NAME=``, as :func:`supplychain.api.simulate`'s);
        nothing to simulate, or a closed trade loop (located; built-in modes only).
    SweepTooLargeError
        The tables would not fit in memory (:func:`~supplychain.uncertainty.scheduling.check_memory`).
    SampleError
        If a sample cannot be computed (``on_error="raise"``), or the central run
        cannot (whatever ``on_error``).

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
    check_sweep_choices(mode, measures, custom=model is not None)
    check_choice("on_error", on_error, ("raise", "nan"))
    sc = as_scenario(scenario)
    require_sweep_codes(sc, source, countries)
    toggles = read_overrides(sc, toggles)  # "off" read once as False, before the cache key
    spec = sweep_spec(sc, mode=mode, toggles=toggles, variant=variant, parameters=parameters, exclude=exclude)
    yrs, cut = swept_years(sc, years)
    state = resolve_toggles(sc, variant=variant, overrides=toggles)
    if model is None:  # the world this sweep runs in (sampled toggles are checked by each run)
        check_network(sc, yrs, state)
    sampled = {str(p.path[-1]) for p in spec.toggles}
    fixed = {t: on for t, on in state.states.items() if t not in sampled}
    inert = inert_parameters(sc, spec, years=yrs, fixed=fixed, shocks_act=mode != "exposure")
    select = measure_filter(measures, countries, commodities, cut,
                            custom=model is not None, targets=None if model is not None else sc.targets)
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
            cached = _from_cache(hit, sc, key)
            cached.info.update(inert=inert, ties=spec.ties, tie_selection=spec.tie_selection,
                               truncated=spec.truncated, undrawn_centrals=spec.undrawn_centrals,
                               in_force=in_force_shares(sc, cached.inputs, fixed, years=yrs,
                                                         shocks_act=mode != "exposure"))
            return cached

    t0 = time.perf_counter()
    check_memory(samples, len(spec) + 1)  # the inputs, before they are drawn
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
        on_error=on_error,
    )
    prep = time.perf_counter() - t0
    central_inputs = pd.DataFrame([central_row(spec)], columns=spec.names,
                                  index=pd.RangeIndex(samples, samples + 1, name="sample"))  # fmt: skip
    central_inputs = central_inputs.astype(inputs.dtypes.to_dict()) if len(spec) else central_inputs
    central = _central_run(sweep_model, central_inputs)
    check_memory(samples, len(spec) + 3 * len(central.catalogue))  # values: chunks, assembled, quantiles
    catalogue, values, info, raised = evaluate_samples(
        sweep_model,
        inputs,
        executor=executor,
        workers=workers,
        chunk_size=chunk_size,
        progress=progress,
        quiet=quiet,
        description=f"sweep {sc.scenario.name}",
        evaluated=[central],
    )
    catalogue = catalogue.copy()
    catalogue["central"] = values[-1]
    values = np.ascontiguousarray(values[:-1])
    # the central run is numbered `samples`, after the samples
    central_raised = raised is not None and bool((raised["sample"] == samples).any())
    if raised is not None:
        raised = raised[raised["sample"] < samples].reset_index(drop=True)
    info.update(
        central_raised=central_raised,
        seed=seed,
        samples=samples,
        mode=mode,
        model=sweep_model.description,
        fast_path=fast_path,
        parameters=len(spec),
        inert=inert,
        ties=spec.ties,
        tie_selection=spec.tie_selection,
        truncated=spec.truncated,
        undrawn_centrals=spec.undrawn_centrals,
        in_force=in_force_shares(sc, inputs, fixed, years=yrs, shocks_act=mode != "exposure"),
        prepare_seconds=prep,
        cached=False,
        key=key,
        samples_per_second=samples / info["wall_seconds"] if info["wall_seconds"] > 0 else math.inf,
    )
    result = SweepResult(inputs, catalogue, values, targets_table(sc), info, raised)
    if store is not None:
        try:
            _to_cache(store, key, result)
        except OSError as err:
            where = os.fsdecode(err.filename) if err.filename is not None else os.fspath(store.directory)
            warnings.warn(f"the result is not cached: cannot write {where}: {err.strerror or err}",
                          SupplyChainWarning, stacklevel=2)  # fmt: skip
    return result


def _central_run(model: SweepModel, central_inputs: pd.DataFrame) -> ChunkResult:
    """Evaluate every input at its central value, first and in this process (its size bounds the sweep's)."""
    try:
        part = model.evaluate(central_inputs)
    except SampleError as err:
        msg = f"the central run (every input at its central value) failed: {err}"
        raise SampleError(msg) from err
    if part.failed:
        msg = f"the central run (every input at its central value) failed: {next(iter(part.failed.values()))}"
        raise SampleError(msg)
    return part


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
    "central_raised",
)


def _to_cache(store: SweepCache, key: str, result: SweepResult) -> None:
    n, m = result.values.shape
    tables = {
        "inputs": result.inputs.reset_index(),
        "measures": result.measures.reset_index(),
        "values": pd.DataFrame({"value": result.values.reshape(-1)}),
        "failures": result.failures,
        **({"raised": result.raised} if result.raised is not None else {}),
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
    raised = tables.get("raised")  # absent: the model could not tell (a custom measure function)
    return SweepResult(inputs, measures, values, targets_table(sc), info,
                       raised.astype({"sample": "int64", "year": "int64"}) if raised is not None else None)
