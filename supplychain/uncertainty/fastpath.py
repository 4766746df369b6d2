"""The compiled fast path of ``mode="exposure"``, checked against the per-sample path.

"Compile the network once per sweep and only patch the numbers that vary":
:func:`patched_model` builds one :class:`~supplychain.uncertainty.kernel.ExposureKernel`
per year, checks it on the central values and a few sample rows against
:class:`~supplychain.uncertainty.models.ExposureMeasures` run per sample, and
returns the :class:`PatchedExposureModel` (or says why the fast path does not apply).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from supplychain.schema.model import Scenario
from supplychain.uncertainty.kernel import FAST_METRICS, ExposureKernel
from supplychain.uncertainty.models import (
    ATTRIBUTE_COLUMNS,
    ChunkResult,
    ExposureMeasures,
    FunctionModel,
    MeasureFilter,
    Mode,
    SweepModel,
    chunk_result,
    empty_catalogue,
    normalise_measures,
)
from supplychain.uncertainty.paths import Unsupported
from supplychain.uncertainty.sampling import SamplingSpec, central_row

__all__ = ["PatchedExposureModel", "patched_model"]


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
        values = np.hstack(blocks) if blocks else np.empty((len(inputs), 0))
        present = np.hstack(shows) if shows else np.empty((len(inputs), 0), dtype=bool)
        fuzzy = np.hstack(fuzzies) if fuzzies else np.empty((len(inputs), 0), dtype=bool)
        return chunk_result(samples, self.catalogue, values, present, fuzzy, failed, reasons,
                            on_error=self.on_error, detail=detail, started=t0)


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


def _check_rows(spec: SamplingSpec, verify: pd.DataFrame | None) -> pd.DataFrame:
    """Return the central row and the ``verify`` rows: the sample rows a fast path is checked on."""
    rows = pd.DataFrame([central_row(spec)], columns=spec.names)
    if verify is not None and len(verify):
        rows = pd.concat([rows.astype(verify.dtypes.to_dict()), verify.reset_index(drop=True)], ignore_index=True)
    rows.index = pd.RangeIndex(len(rows))
    return rows.astype({p.name: (bool if p.kind == "toggle" else float) for p in spec})


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
    from supplychain.simulation.toggles import switches_world

    if switches_world(scenario):
        return None, ("toggles switch facilities, flows, stockpiles or offtakes: each sample is computed "
                      "in its own world")
    if mode != "exposure":
        return None, f"mode {mode!r} runs the supply response (simulate) per sample"
    later = [y for y in years if y > scenario.scenario.base_year]
    if later:
        return None, (f"the compiled path does not carry the base year's trade pattern to later years "
                      f"({later[0]}…; supplychain.graph.pattern): every sample is computed")
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
        tuple(k for k in select.always if k[0] in FAST_METRICS),
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
    except Unsupported as exc:
        return None, str(exc)
    catalogue = pd.concat(catalogues, ignore_index=True) if catalogues else empty_catalogue()
    model = PatchedExposureModel(tuple(kernels), catalogue, on_error)
    rows = _check_rows(spec, verify)
    slow = FunctionModel(scenario, ExposureMeasures(tuple(years), source), fast_select, on_error="nan").evaluate(rows)
    fast = PatchedExposureModel(tuple(kernels), catalogue, "nan").evaluate(rows, detail=True)
    diff = _compare(fast, slow)
    if diff:
        return None, f"the compiled kernel does not reproduce compute_measures ({diff})"
    return model, ""
