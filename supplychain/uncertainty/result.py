"""The outcome of a Monte Carlo sweep: :class:`SweepResult`, its summary and target probabilities."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from supplychain.schema.model import Scenario
from supplychain.simulation.targets import TARGET_METRIC_ALIASES, shortfall_metric, target_measure, target_met
from supplychain.uncertainty.models import ATTRIBUTE_COLUMNS
from supplychain.uncertainty.sampling import sampled_toggles

__all__ = ["NIR_COMPANION", "TARGET_METRIC_ALIASES", "SweepResult", "TargetSpec", "target_specs", "targets_table"]

NIR_COMPANION = "direct_share_of_consumption"
"""The measure a sweep keeps beside every ``net_import_reliance``.

:func:`~supplychain.uncertainty.montecarlo.measure_filter` keeps it.

It is n/a exactly where apparent consumption is not positive or the market's use is not
recorded (NIR label :data:`~supplychain.metrics.trade.UNRECORDED_USE`, where the NIR is n/a
too): where it has a value and the NIR has none, the country is a net exporter
(:meth:`SweepResult._net_exporter_counts`).
"""


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
        ``source_country``, ``max``, ``min``, ``by``, ``description``, ``max_shortfall_share``;
        a table without the last column reads as targets without one).
    info : dict
        Seed, number of samples, mode, the sweep model used, executor, timings,
        whether the result came from the cache, the cache key, ``inert``: the
        sampled inputs that cannot act in the swept years, each with the reason
        (:func:`~supplychain.uncertainty.sampling.inert_parameters`), ``ties``: each
        tie's sampled inputs (:attr:`~supplychain.uncertainty.sampling.SamplingSpec.ties`),
        ``tie_selection``: the ties the parameter selection took whole, each with the members it
        added or held at central (:attr:`~supplychain.uncertainty.sampling.SamplingSpec.tie_changes`),
        ``truncated``: the inputs whose range is cut at an engine limit
        (:attr:`~supplychain.uncertainty.sampling.SamplingSpec.truncated`), ``undrawn_centrals``: the
        ``choice`` inputs whose central value is none of their choices
        (:attr:`~supplychain.uncertainty.sampling.SamplingSpec.undrawn_centrals`), and ``in_force``: the
        entities switched by several toggles, with the share of samples in which each is in force
        (:func:`~supplychain.uncertainty.sampling.in_force_shares`); :meth:`caveats` says them.
        ``central_raised``: whether the central run's base network raised an output above its path.
    raised : pandas.DataFrame or None
        The outputs each sample's base network raised above their paths to meet demand the paths
        leave short (:mod:`supplychain.graph.spare`): one row per sample, year and country aggregate,
        columns :data:`~supplychain.uncertainty.models.RAISED_COLUMNS` — ``sample``, ``year``,
        ``facility``, ``country``, ``commodity``, ``unit``, ``path`` :math:`p_v` (the given output),
        ``raised`` :math:`p'_v`, ``capacity`` :math:`K_v` (in the commodity's ``unit``) and ``assumed``
        (the capacity figure has no ``source``), as :attr:`Result.raised <supplychain.api.Result>`,
        the one computation (:func:`~supplychain.graph.spare.raised_table`). No row: no sample
        raised; ``None``: not known (a custom measure function). The samples it names,
        ``raised["sample"].unique()``, are those whose percentiles rest on capacity beyond the
        paths; :meth:`raised_note` says it in a sentence.
    """

    inputs: pd.DataFrame
    measures: pd.DataFrame
    values: np.ndarray
    targets: pd.DataFrame
    info: dict[str, Any] = field(default_factory=dict)
    raised: pd.DataFrame | None = None

    @property
    def n(self) -> int:
        """Number of samples."""
        return int(self.values.shape[0])

    @property
    def failures(self) -> pd.DataFrame:
        """Samples that could not be computed (``on_error="nan"``): ``sample``, ``reason`` and every input."""
        failed = self.info.get("failed", {})
        out = pd.DataFrame(
            {"sample": np.asarray(list(failed), dtype=np.int64), "reason": [str(r) for r in failed.values()]}
        )
        if len(self.inputs.columns) and len(out):
            out = out.merge(self.inputs.reset_index(), on="sample", how="left", sort=False)
        return out

    @property
    def key_columns(self) -> list[str]:
        """Columns of :attr:`measures` that identify a measure."""
        return [c for c in self.measures.columns if c not in (*ATTRIBUTE_COLUMNS, "central")]

    @property
    def samples(self) -> pd.DataFrame:
        """Tidy table: one row per (sample, measure) with the sample's parameter values.

        Columns: ``sample``, every parameter, the measure key columns, ``unit``,
        ``basis``, ``value``. Built on demand (it repeats the inputs on every row);
        :meth:`save` writes it block by block instead.
        """
        return self._samples(0, self.n)

    def _samples(self, start: int, stop: int) -> pd.DataFrame:
        """Build the rows of :attr:`samples` for samples ``start`` … ``stop − 1``."""
        m = self.values.shape[1]
        k = stop - start
        long = self.measures.drop(columns="central").iloc[np.tile(np.arange(m), k)].reset_index(drop=True)
        long.insert(0, "sample", np.repeat(np.arange(start, stop), m))
        long["value"] = self.values[start:stop].reshape(-1)
        if len(self.inputs.columns):
            long = long.merge(self.inputs.iloc[start:stop].reset_index(), on="sample", how="left", sort=False)
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
        r"""Distribution of every measure over the samples.

        Parameters
        ----------
        quantiles : sequence of float
            Quantiles to report (default P5, P50, P95; linear interpolation).

        Returns
        -------
        pandas.DataFrame
            Key columns, ``unit``, ``central``, ``mean``, ``sd``, one ``pNN``
            column per quantile, ``central_rank`` (where the central run falls among the
            samples: :math:`(\#\{v_i < c\} + \#\{v_i = c\}/2)/n`, so 0.5 when every sample equals
            it; an announced schedule taken as central is the optimistic end of a one-sided
            delay, and the central then sits low), ``n`` (samples with a finite value), ``n_nan``
            (samples without one: failed samples, a net exporter's NIR "E", and a share of nothing —
            a direct import share without imports, the traced share of a market nothing reaches, a
            shortfall share without demand, an element dependence without the element), ``n_na``
            (of those, the computed samples whose measure is n/a: ``n_nan`` less the failed samples
            and the net exporters) and ``n_exporter`` (the samples in which the country is a net
            exporter; 0 outside ``net_import_reliance``). The statistics (mean, sd, P5/P50/P95,
            ``central_rank``) are over the ``n`` samples with a value, never with an n/a read as
            0: a net import reliance's over the samples where the country is no net exporter, a
            traced share's over the samples in which material reaches the market; ``n_na`` says
            how many samples they leave out (a P50 over 30 of 100 samples is a P50 of those 30).
        """
        out = self.measures.copy()
        v = self.values
        finite = np.isfinite(v)
        count = finite.sum(axis=0)
        out["n"] = count
        out["n_nan"] = self.n - count
        out["n_na"], out["n_exporter"] = self._unevaluable_counts()
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
        c = out["central"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            below = np.where(finite, v < c, False).sum(axis=0) + 0.5 * np.where(finite, v == c, False).sum(axis=0)
        out["central_rank"] = np.where((count > 0) & np.isfinite(c), below / np.maximum(count, 1), np.nan)
        cols = [
            *self.key_columns,
            "unit",
            "central",
            "mean",
            "sd",
            *[_qname(q) for q in quantiles],
            "central_rank",
            "n",
            "n_nan",
            "n_na",
            "n_exporter",
        ]
        return out[[c for c in cols if c in out.columns]].reset_index(drop=True)

    def _unevaluable_counts(self) -> tuple[np.ndarray, np.ndarray]:
        """Count, per measure, the computed samples without a value, by why: ``(n_na, n_exporter)``.

        ``n_exporter``: the samples in which the country is a net exporter
        (:meth:`_net_exporter_counts`, ``net_import_reliance`` only); ``n_na``: the other
        computed samples without a value (a share of nothing). Failed samples are in
        neither. The one rule of :meth:`summary` and :meth:`target_probability`.
        """
        exporter = self._net_exporter_counts()
        without = (~np.isfinite(self.values) & self._computed()[:, None]).sum(axis=0)
        return without - exporter, exporter

    def _net_exporter_counts(self) -> np.ndarray:
        r"""Count, per measure, the samples in which the country is a net exporter (its NIR undefined, "E").

        USGS net import reliance :math:`(I - E + R - B) / AC` is reported NaN, label
        ``"E"``, where net imports are negative (:func:`supplychain.metrics.trade.first_hop`);
        a sweep keeps the values only. A ``net_import_reliance`` measure exists where the
        central run has apparent consumption :math:`AC > 0`, so a computed sample without a
        value is a net exporter, unless its apparent consumption vanished or its use is not
        recorded (the NIR "use not recorded"): then its ``direct_share_of_consumption``
        (:math:`I_s / AC`, NaN exactly in those two cases) is NaN as well. That check needs a
        ``direct_share_of_consumption`` measure of the same market in the sweep
        (:data:`NIR_COMPANION`: the built-in models keep it beside every NIR,
        :func:`~supplychain.uncertainty.montecarlo.measure_filter`); without it (a custom model
        function that leaves it out), every computed sample without a value counts. Failed
        samples never count.

        Returns
        -------
        numpy.ndarray of int, shape (measures,)
            The count for each ``net_import_reliance`` measure; 0 for every other metric.
        """
        counts = np.zeros(self.values.shape[1], dtype=np.int64)
        m = self.measures
        metric = m["metric"].astype(str).to_numpy() if "metric" in m.columns else np.array([], dtype=str)
        nir = np.flatnonzero(metric == "net_import_reliance")
        if not len(nir):
            return counts
        computed = self._computed()
        market = [c for c in self.key_columns if c not in ("metric", "source_country", "partner")]
        keys = list(zip(*(m[c].tolist() for c in market), strict=True)) if market else [()] * len(m)
        dsc: dict[tuple[Any, ...], int] = {}
        for j in np.flatnonzero(metric == NIR_COMPANION):
            dsc.setdefault(keys[j], int(j))  # any source's: AC is the market's, whatever the source
        for j in nir:
            exporter = ~np.isfinite(self.values[:, j]) & computed
            k = dsc.get(keys[j])
            if k is not None:
                exporter &= np.isfinite(self.values[:, k])
            counts[j] = int(exporter.sum())
        return counts

    def _computed(self) -> np.ndarray:
        """Tell, per sample, whether it was computed (not one of the failed samples, ``info["failed"]``)."""
        computed = np.ones(self.n, dtype=bool)
        computed[[int(s) for s in self.info.get("failed", {}) if 0 <= int(s) < self.n]] = False
        return computed

    def target_probability(self) -> pd.DataFrame:
        r"""Probability that each target is met, per year.

        A sample meets a target in a year by the run's rule
        (:func:`~supplychain.simulation.targets.target_met`, the verdict "pass" of
        ``run --check-targets``): the measure is at most the threshold (``min``: at least),
        and, for a target with ``max_shortfall_share``, the share of demand left unmet in that
        sample (its ``shortfall_share``, ``element_shortfall_share`` for an element target)
        is at most that share. A computed sample whose measure is n/a — a share of nothing
        (counted in ``n_na``) or a net exporter's NIR "E" (counted in ``n_exporter``), the
        run's verdict "n/a", not evaluable — does **not** meet it: it is never silently met.
        Failed samples are left out. So :math:`p = \#\text{met} / (n + n_{na} + n_{exporter})`,
        with ``n`` the samples with a value; ``n_na`` and ``n_exporter`` are counted as in
        :meth:`summary` (one rule, :meth:`_unevaluable_counts`), and ``n_nan`` is every
        sample without a value (failed, n/a or net exporter).

        Returns
        -------
        pandas.DataFrame
            ``target``, ``year``, ``required`` (year ≥ ``by``), ``threshold``,
            ``bound`` (``max``/``min``, as ``Result.targets`` names it), ``probability``, ``n``, ``n_na``,
            ``n_exporter``, ``n_nan``, ``central_met`` (NA when the central run's measure is n/a). Targets whose
            measure was not computed in the sweep have ``probability`` NaN and ``n`` 0.

        Examples
        --------
        Four samples of a ceiling of 25 %: 10 % and 40 %, one n/a (nothing reaches the market),
        one failed: met 1 of the 3 computed samples.

        >>> r = SweepResult(pd.DataFrame(index=pd.RangeIndex(4, name="sample")),
        ...                 pd.DataFrame({"metric": ["traced_share"], "country": ["US"], "commodity": ["m"],
        ...                               "year": [2030], "source_country": ["CN"], "central": [0.1]}),
        ...                 np.array([[0.1], [0.4], [np.nan], [np.nan]]),
        ...                 pd.DataFrame({"target": ["t"], "country": ["US"], "commodity": ["m"],
        ...                               "metric": ["traced_share"], "source_country": ["CN"], "max": [0.25],
        ...                               "min": [np.nan], "by": [2030], "description": [""]}),
        ...                 {"failed": {3: "infeasible"}})
        >>> p = r.target_probability().iloc[0]
        >>> round(float(p["probability"]), 4), int(p["n"]), int(p["n_na"]), int(p["n_nan"])
        (0.3333, 2, 1, 2)
        """
        rows: list[dict[str, Any]] = []
        n_na_all, n_exporter_all = self._unevaluable_counts()
        years = sorted({int(y) for y in self.measures["year"].unique()}) if len(self.measures) else []
        central = self.measures["central"].to_numpy(dtype=float) if len(self.measures) else np.empty(0)
        for t in target_specs(self.targets):
            for year in years:
                idx = t.locate(self.measures, year)
                row: dict[str, Any] = {
                    "target": t.target,
                    "year": year,
                    "required": year >= t.by,
                    "bound": t.sense,
                    "threshold": t.threshold,
                }
                if idx is None:
                    row.update(probability=np.nan, n=0, n_na=0, n_exporter=0, n_nan=self.n, central_met=pd.NA)
                else:
                    v = self.values[:, idx]
                    ok = np.isfinite(v)
                    n_na, n_exporter = int(n_na_all[idx]), int(n_exporter_all[idx])
                    met, computed = self._verdicts(t, idx, year)
                    central_short = t.shortfall(self.measures, central[None, :], year)
                    c = float(central[idx])
                    evaluable = int(computed.sum())  # = n + n_na + n_exporter: the not-evaluable are not met
                    row.update(
                        probability=float(met.sum() / evaluable) if evaluable else np.nan,
                        n=int(ok.sum()),
                        n_na=n_na,
                        n_exporter=n_exporter,
                        n_nan=int((~ok).sum()),
                        central_met=bool(t.met(np.array([c]), central_short)[0]) if math.isfinite(c) else pd.NA,
                    )
                rows.append(row)
        cols = ["target", "year", "required", "bound", "threshold", "probability", "n", "n_na", "n_exporter",
                "n_nan", "central_met"]
        return pd.DataFrame(rows, columns=cols)

    def _verdicts(self, t: TargetSpec, idx: int, year: int) -> tuple[np.ndarray, np.ndarray]:
        """Per sample: whether it meets target ``t`` in ``year`` (measure ``idx``), and whether it was computed.

        The one rule of :meth:`target_probability` and :meth:`target_probability_by_toggle`: a
        computed sample without a value (n/a, a net exporter's NIR) is computed and not met.
        """
        v = self.values[:, idx]
        ok = np.isfinite(v)
        short = t.shortfall(self.measures, self.values, year)
        met = np.zeros(self.n, dtype=bool)
        met[ok] = t.met(v[ok], short[ok])
        return met, self._computed()

    def sampled_toggles(self) -> list[str]:
        """Ids of the toggles drawn on/off in this sweep (the ``toggles.<id>`` columns of :attr:`inputs`)."""
        return sampled_toggles(self.inputs)

    def target_probability_by_toggle(self) -> pd.DataFrame:
        r"""Probability that each target is met, split by each sampled toggle: on and off.

        A target's probability over a sweep that draws toggles is a mixture,
        :math:`P(\text{met}) = P(\text{on})\,P(\text{met} \mid \text{on}) + P(\text{off})\,P(\text{met}
        \mid \text{off})`, weighted by the toggles' probabilities — which, for a political event with "no
        information either way", are a convention, not evidence. The conditional probabilities are what a
        reader can use. Each is counted as :meth:`target_probability` counts (one rule,
        :meth:`_verdicts`): over the computed samples in which the toggle is on (off), the share that
        meet the target; the other toggles and every parameter keep their sampled values.

        Returns
        -------
        pandas.DataFrame
            ``target``, ``year``, ``required``, ``toggle``, ``p_on`` (share of the computed samples with
            the toggle on), ``n_on``, ``n_off``, ``p_met_on``, ``p_met_off`` (NaN where no computed sample
            has that state), ``moves`` (both states sampled, the two probabilities differ, and the toggle is not
            one that cannot act, ``info["inert"]``; a difference over few samples can still be sampling noise:
            read it with ``n_on`` and ``n_off``). Targets whose measure was not computed have no rows.

        Examples
        --------
        Four samples, a ceiling of 25 %: with the toggle on 40 % and 10 %, off 10 % and 10 %.

        >>> r = SweepResult(pd.DataFrame({"toggles.deal": [True, True, False, False]},
        ...                              index=pd.RangeIndex(4, name="sample")),
        ...                 pd.DataFrame({"metric": ["traced_share"], "country": ["US"], "commodity": ["m"],
        ...                               "year": [2030], "source_country": ["CN"], "central": [0.1]}),
        ...                 np.array([[0.4], [0.1], [0.1], [0.1]]),
        ...                 pd.DataFrame({"target": ["t"], "country": ["US"], "commodity": ["m"],
        ...                               "metric": ["traced_share"], "source_country": ["CN"], "max": [0.25],
        ...                               "min": [np.nan], "by": [2030], "description": [""]}))
        >>> row = r.target_probability_by_toggle().iloc[0]
        >>> float(row["p_on"]), float(row["p_met_on"]), float(row["p_met_off"]), bool(row["moves"])
        (0.5, 0.5, 1.0, True)
        """
        rows: list[dict[str, Any]] = []
        toggles = self.sampled_toggles()
        inert = set(self.info.get("inert") or {})
        years = sorted({int(y) for y in self.measures["year"].unique()}) if len(self.measures) else []
        for t in target_specs(self.targets):
            for year in years:
                idx = t.locate(self.measures, year)
                if idx is None:
                    continue
                met, computed = self._verdicts(t, idx, year)
                for tog in toggles:
                    on = self.inputs[f"toggles.{tog}"].to_numpy(dtype=bool)
                    n_on, n_off = int((on & computed).sum()), int((~on & computed).sum())
                    p_on_met = float(met[on & computed].sum() / n_on) if n_on else np.nan
                    p_off_met = float(met[~on & computed].sum() / n_off) if n_off else np.nan
                    rows.append({
                        "target": t.target, "year": year, "required": year >= t.by, "toggle": tog,
                        "p_on": n_on / (n_on + n_off) if n_on + n_off else np.nan, "n_on": n_on, "n_off": n_off,
                        "p_met_on": p_on_met, "p_met_off": p_off_met,
                        "moves": bool(n_on and n_off and p_on_met != p_off_met and f"toggles.{tog}" not in inert),
                    })  # fmt: skip
        cols = ["target", "year", "required", "toggle", "p_on", "n_on", "n_off", "p_met_on", "p_met_off", "moves"]
        return pd.DataFrame(rows, columns=cols)

    def raised_note(self) -> str:
        """Say in how many samples outputs were raised above their paths ("" when none was, or not known).

        :func:`~supplychain.report.engine_notes.sweep_raised_note` of :attr:`raised`, over the samples
        computed (the failed ones, :attr:`failures`, have no run to raise anything).

        Examples
        --------
        >>> from supplychain.uncertainty.models import empty_raised
        >>> SweepResult(pd.DataFrame(index=pd.RangeIndex(5)), pd.DataFrame(), np.empty((5, 0)), pd.DataFrame(),
        ...             raised=empty_raised()).raised_note()
        ''
        """
        from supplychain.report.engine_notes import sweep_raised_note

        computed = self.n - len(self.info.get("failed") or {})
        return sweep_raised_note(self.raised, computed, central=bool(self.info.get("central_raised")))

    def caveats(self) -> list[str]:
        """Say, in sentences, what the sweep's percentiles and probabilities are a mixture or a cut of.

        One line each, when it applies (the text ``supplychain sweep`` prints under its tables and
        the README's uncertainty block quotes):

        * the samples whose base network raised an output above its path (:meth:`raised_note`):
          there what users receive rests in part on capacity beyond the paths, often an assumption;

        * the ties a parameter selection took whole (``info["tie_selection"]``,
          :meth:`~supplychain.uncertainty.sampling.SamplingSpec.select`): the members held at their
          central values because another member of their tie was excluded, or sampled because
          another was selected;
        * the sampled on/off toggles that can act in the swept years (not in ``info["inert"]``): the
          percentiles and probabilities mix their states (:meth:`target_probability_by_toggle` splits
          the targets by them);
        * the ranges cut at an engine limit (``info["truncated"]``, a quantity's ``truncated``),
          a tie named once for its members;
        * the ``choice`` inputs whose central value no sample draws (``info["undrawn_centrals"]``,
          those that can act in the swept years): the central run is a world no sample is, so the
          central need not sit inside the samples;
        * each entity switched by several toggles, or switched off by one, with the share of the
          samples in which it is in force against the share in which each toggle was drawn on
          (``info["in_force"]``, :func:`~supplychain.uncertainty.sampling.in_force_shares`: only the
          entities that can act in the swept years); none for an entity in force in no sample.

        Examples
        --------
        >>> r = SweepResult(pd.DataFrame({"toggles.deal": [True, False]}, index=pd.RangeIndex(2, name="sample")),
        ...                 pd.DataFrame(), np.empty((2, 0)), pd.DataFrame(),
        ...                 {"truncated": {"a.growth": "high", "b.growth": "high"}, "ties": {"growth": ["a.growth",
        ...                  "b.growth"]}, "in_force": {"lift": {"in_force": 0.12, "toggles": {"mou": 0.6, "deal": 0.5},
        ...                  "switches_off": []}}})
        >>> for line in r.caveats():
        ...     print(line)  # doctest: +NORMALIZE_WHITESPACE
        The percentiles and probabilities mix the parameter draws and 1 sampled on/off toggle (deal): a toggle
        makes a measure two-valued and a statistic over both states describes neither; read the target
        probabilities split by toggle (SweepResult.target_probability_by_toggle()).
        Ranges cut at an engine limit, not where the evidence ends (the statistics are of the outcomes the
        model can compute): tie growth (2 inputs): high.
        lift is in force in 12% of the samples, not at any one toggle's probability: mou on in 60%, deal on in
        50% (in force only when all are on).
        """
        lines: list[str] = [note] if (note := self.raised_note()) else []
        whole = [
            f"tie {c['tie']} held at its central values (excluded: {', '.join(c['by'])}; held with it: "
            f"{', '.join(c['members'])})" if c["action"] == "dropped" else
            f"tie {c['tie']} sampled (selected: {', '.join(c['by'])}; sampled with it: {', '.join(c['members'])})"
            for c in self.info.get("tie_selection") or []
        ]
        if whole:
            lines.append("A tie is sampled or held whole, never split (one fact, drawn once for all its inputs): "
                         f"{'; '.join(whole)}.")
        inert = self.info.get("inert") or {}  # a toggle that cannot act makes no measure two-valued
        toggles = [t for t in self.sampled_toggles() if f"toggles.{t}" not in inert]
        if toggles:
            k = len(toggles)
            lines.append(
                f"The percentiles and probabilities mix the parameter draws and {k} sampled on/off "
                f"toggle{'s' if k != 1 else ''} ({', '.join(toggles)}): a toggle makes a measure two-valued and a "
                "statistic over both states describes neither; read the target probabilities split by toggle "
                "(SweepResult.target_probability_by_toggle()).")
        truncated: dict[str, str] = self.info.get("truncated") or {}
        if truncated:
            parts: list[str] = []
            done: set[str] = set()
            for tie, members in (self.info.get("ties") or {}).items():
                sides = {truncated.get(m) for m in members}
                if len(sides) == 1 and None not in sides:
                    parts.append(f"tie {tie} ({len(members)} inputs): {sides.pop()}")
                    done |= set(members)
            parts += [f"{name}: {side}" for name, side in truncated.items() if name not in done]
            lines.append("Ranges cut at an engine limit, not where the evidence ends (the statistics are of the "
                         f"outcomes the model can compute): {'; '.join(parts)}.")
        undrawn = {k: v for k, v in (self.info.get("undrawn_centrals") or {}).items() if k not in inert}
        if undrawn:
            named = "; ".join(f"{name}: central {what['central']:g}, choices "
                              f"{', '.join(f'{c:g}' for c in what['choices'])}" for name, what in undrawn.items())
            lines.append(f"The central run uses a value no sample draws ({named}): each sample takes one of the "
                         "choices, so the central run is a world no sample is, and the central need not sit inside "
                         "the samples (read central_at; equal means of an input do not give equal means of a "
                         "measure).")
        for entity, what in (self.info.get("in_force") or {}).items():
            if not what["in_force"] > 0:  # in force in no sample: nothing of it is mixed in
                continue
            offs = set(what.get("switches_off", []))
            drawn = ", ".join(f"{t} on in {100 * share:.0f}%"
                              + (" (in force only while it is off)" if t in offs else "")
                              for t, share in what["toggles"].items())
            controls = len(what["toggles"]) - len(offs)
            rule = "; the others must be on" if offs and controls else (
                " (in force only when all are on)" if controls > 1 else "")
            lines.append(f"{entity} is in force in {100 * what['in_force']:.0f}% of the samples, not at any one "
                         f"toggle's probability: {drawn}{rule}.")
        return lines

    def save(self, path: str | Path) -> Path:
        """Write the tidy :attr:`samples` table to Parquet (``.parquet``) or CSV (``.csv``).

        The table is written atomically (:func:`supplychain.io.atomic.atomic_write`)
        and built :data:`SAVE_ROWS` rows at a time, so its size on disk, not in
        memory, bounds what can be saved.

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
        OSError
            The file cannot be written (a folder or a device in the way, …).
        """
        from supplychain.io.atomic import atomic_write

        out = Path(path)
        suffix = out.suffix.lower()
        if suffix not in (".parquet", ".csv"):
            msg = f"cannot write {out.name!r}: use a .parquet or .csv file name"
            raise ValueError(msg)
        step = max(1, SAVE_ROWS // max(self.values.shape[1], 1))
        blocks = (self._samples(a, min(a + step, self.n)) for a in range(0, max(self.n, 1), step))
        return atomic_write(out, lambda tmp: _write_blocks(tmp, blocks, parquet=suffix == ".parquet"))


SAVE_ROWS = 1_000_000
"""Rows of the tidy samples table built at a time by :meth:`SweepResult.save`."""


def _write_blocks(path: Path, blocks: Iterator[pd.DataFrame], *, parquet: bool) -> None:
    """Write tables with the same columns one after the other into one CSV or Parquet file."""
    if not parquet:
        with path.open("w", encoding="utf-8", newline="") as handle:
            for i, block in enumerate(blocks):
                block.to_csv(handle, index=False, header=i == 0)
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    writer = None
    schema = None
    try:
        for block in blocks:
            table = pa.Table.from_pandas(block, preserve_index=False, schema=schema)
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(path, schema)
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()


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
    max_shortfall_share : float or None
        The target's ``max_shortfall_share``: not met when a larger share of demand is unmet
        (the run's "fail (shortfall)"); None when the target sets none.
    """

    target: str
    country: str
    commodity: str
    metric: str
    source_country: str
    sense: str
    threshold: float
    by: int
    max_shortfall_share: float | None = None

    def met(self, values: np.ndarray, shortfall: np.ndarray | None = None) -> np.ndarray:
        """Tell element-wise whether each value meets the target, by the run's rule.

        :func:`~supplychain.simulation.targets.target_met`; ``shortfall`` is the unmet share
        beside each value (NaN, or None for all: none known, no ``max_shortfall_share`` gate).
        """
        s = np.full(np.shape(values), np.nan) if shortfall is None else shortfall
        return target_met(values, s, self.sense, self.threshold, self.max_shortfall_share)

    def locate(self, measures: pd.DataFrame, year: int) -> int | None:
        """Find the position of this target's measure for ``year`` in a catalogue (``None`` when absent)."""
        if not len(measures):
            return None
        metric = target_measure(self)
        mask = self._market(measures, metric, year) & measures["source_country"].isin(
            [self.source_country, ""]).to_numpy()  # metrics without a source (NIR, shortfall) have ""
        idx = np.flatnonzero(mask)
        if len(idx) > 1:
            idx = idx[(measures["source_country"].to_numpy()[idx] == self.source_country)]
        return int(idx[0]) if len(idx) == 1 else None

    def shortfall(self, measures: pd.DataFrame, values: np.ndarray, year: int) -> np.ndarray:
        """Return the unmet share the target's verdict reads in ``year``, per row of ``values``.

        The largest finite value over the catalogue's rows of the shortfall measure beside the
        target's (:func:`~supplychain.simulation.targets.shortfall_metric`), as
        :func:`~supplychain.simulation.targets.evaluate_targets` reads it; NaN where there is
        none (no row, or no demand). Only a target with ``max_shortfall_share`` reads it
        (the sweep keeps those rows: :func:`~supplychain.uncertainty.montecarlo.measure_filter`).
        """
        out = np.full(values.shape[0], np.nan)
        if self.max_shortfall_share is None or not len(measures):
            return out
        metric = shortfall_metric(target_measure(self))
        cols = np.flatnonzero(self._market(measures, metric, year))
        if len(cols):
            with np.errstate(invalid="ignore"):
                out = np.fmax.reduce(values[:, cols], axis=1)  # fmax: the largest finite value, NaN if none
        return np.asarray(out, dtype=float)

    def _market(self, measures: pd.DataFrame, metric: str, year: int) -> np.ndarray:
        """Mark the catalogue rows of ``metric`` for the target's country, commodity and ``year`` (no partner)."""
        mask = (
            (measures["metric"] == metric)
            & (measures["country"] == self.country)
            & (measures["commodity"] == self.commodity)
            & (measures["year"] == year)
        ).to_numpy()
        if "partner" in measures.columns:
            mask &= (measures["partner"] == "").to_numpy()
        return np.asarray(mask)


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
                max_shortfall_share=float(cap) if pd.notna(cap := rec.get("max_shortfall_share")) else None,
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
    cols = ["target", "country", "commodity", "metric", "source_country", "max", "min", "by", "description",
            "max_shortfall_share"]
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
            "max_shortfall_share": t.max_shortfall_share,
        }
        for tid, t in sorted(scenario.targets.items())
    ]
    df = pd.DataFrame(rows, columns=cols)
    return df.astype({"max": float, "min": float, "max_shortfall_share": float})

