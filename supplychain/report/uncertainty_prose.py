r"""Generate the uncertainty figures of ``scenarios/README.md`` ("Scenario notes", ``path_to_2030``).

The text between ``<!-- uncertainty:start -->`` and ``<!-- uncertainty:end -->`` quotes a
Monte Carlo sweep and a one-at-a-time sweep of ``path_to_2030.yaml``; it is written by
``make scenario-results`` (:func:`supplychain.report.scenario_results.main`) from
:func:`measure` and :func:`uncertainty_markdown`, so the figures are the code's, not
typed in:

* the US traced China share of NdFeB magnets in :data:`YEAR` over :data:`SAMPLES` samples
  (``rebalance``, seed :data:`SEED`): the central run, P5, P50, P95, mean and where the central
  run falls (``central_rank``, :meth:`~supplychain.uncertainty.result.SweepResult.summary`);
* that share's mean over the samples grouped by the 10X metal line's lead time
  (:data:`LEAD_TIME`, whole years) and by Vulcan's toggle (:data:`VULCAN`: mean with it on
  minus mean with it off);
* in how many samples the base network raised outputs above their paths, what the sweep's
  percentiles mix (its sampled toggles) and which ranges are cut at an engine limit
  (:meth:`~supplychain.uncertainty.result.SweepResult.caveats`, as ``supplychain sweep`` prints them);
* the number of inputs with a swing on that share and on the USGS aggregate's in a
  one-at-a-time sweep (:meth:`~supplychain.uncertainty.sensitivity.OATResult.moving`,
  round-off counted as no swing), and apart the inputs not evaluable at one end;
* for every target the sweep evaluates in :data:`YEAR`, the central run's verdict and value beside
  the share of samples that meet it (:func:`target_verdicts`,
  :meth:`~supplychain.uncertainty.result.SweepResult.target_probability`), and where the two disagree
  (the central run fails but at least half the samples meet it, or the reverse) the one-at-a-time input
  with the largest swing on the target's measure, with the measure at both ends of its range.

The sentences that are not figures are checked by :func:`figures`, which raises
:class:`ClaimError` when one does not hold for the sweeps (so ``make scenario-results`` fails
rather than printing it): the central lead time is the shortest sampled, Vulcan is off in the
central run, and the lead time has the largest one-at-a-time swing on the magnets' share; and
:func:`target_verdicts` raises when the one-at-a-time sweep's central value of a target's measure is not
the Monte Carlo sweep's (the sentence would quote two different central runs) or a verdict it prints
does not follow from the value and the threshold.

Examples
--------
>>> f = Figures(inputs=3, central=0.38, mean=0.56, p5=0.28, p50=0.57, p95=0.79, central_rank=0.285,
...             by_lead={3: 0.46, 4: 0.57}, vulcan_gap=0.07, moving_magnets=2, moving_compounds=1)
>>> text = uncertainty_markdown(f)
>>> "57.0% at the median (P5 28.0%, P95 79.0%; mean 56.0%;" in text, "at P28 of the sweep: 28.5% of the" in text
(True, True)
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from supplychain.uncertainty.result import SweepResult
    from supplychain.uncertainty.sensitivity import OATResult

__all__ = ["END", "LEAD_TIME", "SAMPLES", "SCENARIO", "SEED", "START", "VULCAN", "YEAR", "ClaimError", "Figures",
           "TargetVerdict", "figures", "measure", "target_verdicts", "uncertainty_markdown", "verdicts_markdown"]

START: Final = "<!-- uncertainty:start -->"
END: Final = "<!-- uncertainty:end -->"
SCENARIO: Final = "path_to_2030.yaml"
SAMPLES: Final = 200
SEED: Final = 7
YEAR: Final = 2030
COUNTRY: Final = "US"
MAGNETS: Final = "ndfeb_magnet"
COMPOUNDS: Final = "ree_compounds"
LEAD_TIME: Final = "agreements.us_dod_mp_2025.investment.projects.mp_10x_metal.lead_time_years"
"""The 10X metal line's lead time (years from the DoD agreement to commissioning)."""
VULCAN: Final = "toggles.us_osc_vulcan"
"""Vulcan's loan (on with p = 0.5)."""


class ClaimError(ValueError):
    """A sentence of the README's uncertainty text does not hold for the sweeps (:func:`figures`)."""


@dataclass(frozen=True)
class Figures:
    """The numbers the README quotes (shares as fractions)."""

    inputs: int
    central: float
    mean: float
    p5: float
    p50: float
    p95: float
    central_rank: float
    by_lead: dict[int, float]
    vulcan_gap: float
    moving_magnets: int
    moving_compounds: int
    not_evaluable_magnets: int = 0
    not_evaluable_compounds: int = 0
    lead_tie: str = ""
    """The tie the lead time is drawn with ("" when drawn on its own): the one-at-a-time sweep swings it whole."""
    toggles: int = 0
    """How many of the :attr:`inputs` are on/off toggles."""
    verdicts: tuple[TargetVerdict, ...] = ()
    """Every target's central verdict beside the sweep's probability (:func:`target_verdicts`)."""
    samples: int = SAMPLES
    """The Monte Carlo sweep's sample count."""
    caveats: tuple[str, ...] = ()
    """In how many samples outputs were raised, what the percentiles mix and where ranges are cut
    (:meth:`~supplychain.uncertainty.result.SweepResult.caveats`, the lines ``supplychain sweep`` prints beside its
    table)."""


@dataclass(frozen=True)
class TargetVerdict:
    """One target's verdict in the central run beside the sweep's, and what moves it (shares as fractions).

    Attributes
    ----------
    target : str
        The target's id.
    metric, country, commodity : str
        The measure it reads (:func:`~supplychain.simulation.targets.target_measure`).
    sense : {"max", "min"}
        Met at most / at least ``threshold``.
    threshold : float
        The bound.
    central : float
        The central run's value of the measure (NaN: n/a).
    central_met : bool or None
        The central run's verdict (None: n/a).
    probability : float
        The share of the evaluable samples that meet it
        (:meth:`~supplychain.uncertainty.result.SweepResult.target_probability`).
    driver : str
        When the two disagree (:attr:`disagrees`): the one-at-a-time input with the largest swing on the
        measure (a tie: ``tie:NAME``); "" otherwise or when no input moves it.
    distribution : str
        The driver's distribution (``choice(0.678, 1)``; a tie: its members' count).
    input_low, input_central, input_high : float
        The driver's values at its low end, central and high end (NaN for a tie of several members).
    value_low, value_high : float
        The measure with the driver at its low and its high end, every other input central.
    gated : bool
        The target also caps the unmet share (``max_shortfall_share``): a value alone does not decide it.
    """

    target: str
    metric: str
    country: str
    commodity: str
    sense: str
    threshold: float
    central: float
    central_met: bool | None
    probability: float
    driver: str = ""
    distribution: str = ""
    input_low: float = float("nan")
    input_central: float = float("nan")
    input_high: float = float("nan")
    value_low: float = float("nan")
    value_high: float = float("nan")
    gated: bool = False

    @property
    def disagrees(self) -> bool:
        """The central run fails but at least half the samples meet the target, or it passes and fewer than half do.

        Examples
        --------
        >>> v = TargetVerdict("t", "m", "US", "x", "max", 0.25, 0.42, False, 0.5)
        >>> v.disagrees, TargetVerdict("t", "m", "US", "x", "max", 0.25, 0.24, True, 0.5).disagrees
        (True, False)
        """
        if self.central_met is None or self.probability != self.probability:  # n/a or nothing evaluable
            return False
        return (not self.central_met and self.probability >= 0.5) or (self.central_met and self.probability < 0.5)

    def meets(self, value: float) -> bool | None:
        """Tell whether ``value`` meets the target by its value alone (None when a shortfall cap also decides).

        Examples
        --------
        >>> v = TargetVerdict("t", "m", "US", "x", "max", 0.25, 0.42, False, 0.5)
        >>> v.meets(0.17), v.meets(0.456)
        (True, False)
        """
        from supplychain.simulation.targets import target_met

        if self.gated or value != value:
            return None
        return bool(target_met([value], [float("nan")], self.sense, self.threshold, None)[0])


def target_verdicts(sweep: SweepResult, oat: OATResult, year: int = YEAR) -> tuple[TargetVerdict, ...]:
    r"""Put each target's central verdict in ``year`` beside the share of samples meeting it, and name its driver.

    For every target the sweep evaluates in ``year`` (its measure is in the sweep,
    :meth:`~supplychain.uncertainty.result.SweepResult.target_probability`): the central run's value and
    verdict (``central_met``) and the probability of meeting it. Where they disagree
    (:attr:`TargetVerdict.disagrees`: the central run fails while :math:`p \ge 0.5`, or passes while
    :math:`p < 0.5`) the driver is the first row of the one-at-a-time ranking of the target's measure
    (:meth:`~supplychain.uncertainty.sensitivity.OATResult.moving`: largest swing, round-off counted as none).

    Raises
    ------
    ClaimError
        If the one-at-a-time sweep has no row of a disagreeing target's measure, or its central value of a
        target's measure differs from the Monte Carlo sweep's beyond round-off
        (:func:`~supplychain.uncertainty.sensitivity.roundoff_equal`): the text would quote two central runs.
    """
    import math

    import numpy as np
    import pandas as pd

    from supplychain.simulation.targets import target_measure
    from supplychain.uncertainty.result import target_specs
    from supplychain.uncertainty.sensitivity import roundoff_equal

    probs = sweep.target_probability()
    probs = probs[probs["year"] == year]
    specs = {t.target: t for t in target_specs(sweep.targets)}
    central = sweep.measures["central"].to_numpy(dtype=float) if len(sweep.measures) else np.empty(0)
    out = []
    for rec in probs.to_dict("records"):
        t = specs[str(rec["target"])]
        idx = t.locate(sweep.measures, year)
        if idx is None:  # the sweep did not compute its measure
            continue
        c = float(central[idx])
        met = None if pd.isna(rec["central_met"]) else bool(rec["central_met"])
        v = TargetVerdict(t.target, target_measure(t), t.country, t.commodity, t.sense, t.threshold, c, met,
                          float(rec["probability"]), gated=t.max_shortfall_share is not None)
        j = t.locate(oat.measures, year)
        if j is not None and not (math.isnan(c) and math.isnan(float(oat.central[j]))) \
                and not bool(roundoff_equal(c, float(oat.central[j]))):
            msg = (f"{t.target}: the one-at-a-time central {oat.central[j]!r} is not the sweep's central {c!r} "
                   f"in {year}: the text would quote two different central runs")
            raise ClaimError(msg)
        if v.disagrees:
            if j is None:
                msg = f"{t.target}: the one-at-a-time sweep has no {v.metric} of {t.country} {t.commodity} in {year}"
                raise ClaimError(msg)
            key = oat.measures.iloc[j]
            where = {k: key[k] for k in ("metric", "country", "commodity", "year", "source_country")
                     if k in oat.measures.columns}
            moving = oat.moving(**where).rows
            if len(moving):
                top = moving.iloc[0]
                v = replace(v, driver=str(top["parameter"]), distribution=str(top["distribution"]),
                            input_low=float(top["input_low"]), input_central=float(top["input_central"]),
                            input_high=float(top["input_high"]), value_low=float(top["value_low"]),
                            value_high=float(top["value_high"]))
        out.append(v)
    return tuple(out)


def figures(sweep: SweepResult, oat: OATResult) -> Figures:
    r"""Read :class:`Figures` off a sweep and a one-at-a-time sweep of the scenario.

    ``by_lead``: the mean of the samples' magnet share per whole-year lead time
    (:func:`~supplychain.schema.types.nearest_year`, :math:`\lfloor x + 0.5 \rfloor`, as the model
    reads a sampled year); ``vulcan_gap``: the mean with Vulcan on minus the mean with it off (NaN
    when one group is empty); ``moving_*``: inputs whose one-at-a-time swing is non-zero (round-off
    is zero; a tie is one input, :func:`~supplychain.uncertainty.sensitivity.oat_inputs`), ``not_evaluable_*``:
    those whose swing is NaN (:meth:`~supplychain.uncertainty.sensitivity.OATResult.moving`); ``lead_tie``: the
    tie of :data:`LEAD_TIME`, whose bar is then the tie's.

    Raises
    ------
    ClaimError
        If a sentence of :func:`uncertainty_markdown` that is not a figure does not hold: the
        central lead time is above a sampled one, Vulcan is on in the central run, or the lead
        time (with its tie, when it has one) is not the input with the largest one-at-a-time swing on the
        magnets' share.
    """
    import math

    import numpy as np
    import pandas as pd

    from supplychain.schema.types import nearest_year

    key = {"metric": "traced_share", "country": COUNTRY, "year": YEAR}
    summary = sweep.summary()
    row = summary[(summary["metric"] == "traced_share") & (summary["country"] == COUNTRY)
                  & (summary["commodity"] == MAGNETS) & (summary["year"] == YEAR)
                  & (summary["source_country"] == "CN")].iloc[0]
    v = sweep.measure(commodity=MAGNETS, source_country="CN", **key).to_numpy(dtype=float)
    drawn = sweep.inputs[LEAD_TIME].to_numpy(dtype=float)
    lead = np.array([nearest_year(x) for x in drawn], dtype=int)
    on = sweep.inputs[VULCAN].to_numpy(dtype=bool)
    gap = float(v[on].mean() - v[~on].mean()) if on.any() and (~on).any() else math.nan
    magnets, compounds = oat.moving(commodity=MAGNETS, **key), oat.moving(commodity=COMPOUNDS, **key)

    central = {p.name: p.central for p in oat.spec}
    if LEAD_TIME in central and len(drawn) and float(central[LEAD_TIME]) > drawn.min():
        msg = (f"the central lead time {central[LEAD_TIME]} is not the shortest sampled ({drawn.min()}): "
               "'delays only push later' does not hold")
        raise ClaimError(msg)
    if central.get(VULCAN, False):
        msg = "Vulcan is on in the central run: 'Vulcan's loans off' does not hold"
        raise ClaimError(msg)
    top = magnets.rows["parameter"].iloc[0] if len(magnets.rows) else None
    lead_bar = oat.label_of(LEAD_TIME) if LEAD_TIME in central else LEAD_TIME  # its tie's bar when it is tied
    if top != lead_bar:
        msg = f"the largest one-at-a-time swing on the US magnets is {top}, not {lead_bar}"
        raise ClaimError(msg)
    lead_tie = (oat.spec[LEAD_TIME].tie or "") if LEAD_TIME in central else ""
    return Figures(inputs=len(sweep.inputs.columns), central=float(row["central"]), mean=float(row["mean"]),
                   p5=float(row["p5"]), p50=float(row["p50"]), p95=float(row["p95"]),
                   central_rank=float(row["central_rank"]),
                   by_lead={int(y): float(v[lead == y].mean()) for y in sorted(set(lead.tolist()))},
                   vulcan_gap=gap, moving_magnets=len(magnets.rows), moving_compounds=len(compounds.rows),
                   not_evaluable_magnets=magnets.not_evaluable, not_evaluable_compounds=compounds.not_evaluable,
                   lead_tie=lead_tie, toggles=sum(bool(pd.api.types.is_bool_dtype(sweep.inputs[c]))
                                                  for c in sweep.inputs.columns),
                   verdicts=target_verdicts(sweep, oat), samples=sweep.n, caveats=tuple(sweep.caveats()))


def measure(scenarios: str | Path = "scenarios") -> Figures:
    """Run the two sweeps the README quotes (minutes) and read their :class:`Figures`."""
    from supplychain.io.load import load
    from supplychain.simulation.targets import target_measure
    from supplychain.uncertainty import run_sweep
    from supplychain.uncertainty.kernel import SWEEP_METRICS
    from supplychain.uncertainty.sensitivity import one_at_a_time

    world = load(Path(scenarios) / SCENARIO)
    sweep = run_sweep(world, samples=SAMPLES, seed=SEED, mode="rebalance", cache=False, quiet=True)
    # the default measures and the targets' own (element_exposed_share, exposed_share): the verdicts' drivers
    metrics = sorted({*SWEEP_METRICS, *(target_measure(t) for t in world.targets.values())})
    oat = one_at_a_time(world, mode="rebalance", years=[YEAR], countries=[COUNTRY], measures=metrics, quiet=True)
    return figures(sweep, oat)


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _not_evaluable(n: int) -> str:
    return f" ({n} more not evaluable at one end: the low or high run has no value)" if n else ""


def _with_tie(tie: str) -> str:
    return f" (with the rest of its tie `{tie}`, drawn as one)" if tie else ""


def _toggles(n: int) -> str:
    return "" if n == 0 else ", 1 of them a toggle" if n == 1 else f", {n} of them toggles"


def _input_value(x: float) -> str:
    return f"{x:g}"


def _verdict(met: bool | None) -> str:
    return "n/a" if met is None else "passes" if met else "fails"


def _end(v: TargetVerdict, value: float) -> str:
    met = v.meets(value)
    return _pct(value) + ("" if met is None else " (meets it)" if met else " (fails)")


def _driver_sentence(v: TargetVerdict) -> str:
    """Say the input with the largest one-at-a-time swing on a disagreeing target's measure and both its ends."""
    if not v.driver:
        return ("No input moves its measure one at a time: the samples differ from the central run by several "
                "inputs at once.")
    if v.input_central == v.input_central:  # one parameter: its values at both ends
        ends = (f"{_input_value(v.input_low)} → {_end(v, v.value_low)}, central {_input_value(v.input_central)} → "
                f"{_pct(v.central)}, {_input_value(v.input_high)} → {_end(v, v.value_high)}")
        drawn = f" (drawn as `{v.distribution}`)"
    else:  # a tie: every member at its own end
        ends = (f"its members at their low ends → {_end(v, v.value_low)}, central → {_pct(v.central)}, at their "
                f"high ends → {_end(v, v.value_high)}")
        drawn = f" ({v.distribution})"
    return (f"The input with the largest one-at-a-time swing on it is `{v.driver}`{drawn}: {ends}, every other "
            "input central.")


def verdicts_markdown(verdicts: tuple[TargetVerdict, ...], year: int = YEAR, samples: int = SAMPLES) -> str:
    """Write the targets' central verdicts beside the sweep's probabilities, and a sentence for each disagreement.

    Parameters
    ----------
    verdicts : tuple of TargetVerdict
        From :func:`target_verdicts`.
    year, samples : int
        The year read and the sweep's sample count (for the text).

    Returns
    -------
    str
        A paragraph and a table (target, measure, aim, central run, samples meeting it), then one paragraph per
        target where the central verdict and the majority of the samples disagree; "" without verdicts.

    Examples
    --------
    >>> v = TargetVerdict("us_dy_2030", "element_exposed_share", "US", "Dy", "max", 0.25, 0.423, False, 0.51,
    ...                   driver="p", distribution="choice(0.678, 1)", input_low=0.678, input_central=0.92,
    ...                   input_high=1.0, value_low=0.456, value_high=0.17)
    >>> text = verdicts_markdown((v,))
    >>> "| `us_dy_2030` | `element_exposed_share`, US Dy | at most 25.0% | 42.3%, fails | 51.0% |" in text
    True
    >>> "0.678 → 45.6% (fails), central 0.92 → 42.3%, 1 → 17.0% (meets it)" in text
    True
    """
    from supplychain.report.markdown import md_table

    if not verdicts:
        return ""
    rows = [[f"`{v.target}`", f"`{v.metric}`, {v.country} {v.commodity}",
             f"{'at most' if v.sense == 'max' else 'at least'} {_pct(v.threshold)}",
             f"{_pct(v.central)}, {_verdict(v.central_met)}", _pct(v.probability)] for v in verdicts]
    table = md_table(["target", "measure", "aim", f"central run {year}", f"samples meeting it ({samples})"], rows,
                     escape=False)
    split = [v for v in verdicts if v.disagrees]
    intro = (f"**Target verdicts: the central run beside the samples.** The verdicts the tables publish for the "
             f"base run of `path_to_2030` (its defaults) are the central run's; in the {samples} samples above, the "
             f"share that meets each target in {year} "
             "(`SweepResult.target_probability()`, `central_met`; a sample whose measure is n/a does not meet it). "
             "Where the two disagree, the one-at-a-time sweep above, run with the targets' measures too "
             "(`measures=[..., \"element_exposed_share\", \"exposed_share\"]`), names the input that moves the "
             "target's measure most:")
    notes = [
        f"`{v.target}`: the central run {_verdict(v.central_met)} it at {_pct(v.central)}, but "
        f"{'only ' if v.central_met else ''}{_pct(v.probability)} of the samples meet it. {_driver_sentence(v)}"
        for v in split
    ]
    agree = ("" if split else
             "\n\nFor every target the central run's verdict is the one most samples give.")
    return f"{intro}\n\n{table}" + "".join(f"\n\n{n}" for n in notes) + agree


def uncertainty_markdown(f: Figures) -> str:
    """Write the README's text between :data:`START` and :data:`END`.

    Every figure is read off :class:`Figures`; the other sentences are checked by :func:`figures`.
    """
    leads = ", ".join(f"{y} years {_pct(m)}" for y, m in f.by_lead.items())
    rank = round(100 * f.central_rank)
    return (
        f"A one-at-a-time sweep of `path_to_2030` ({f.inputs} inputs{_toggles(f.toggles)}; rebalance, {YEAR}, US) "
        f"gives a swing to {f.moving_magnets} inputs on the traced China share of US magnets"
        f"{_not_evaluable(f.not_evaluable_magnets)} "
        f"and to {f.moving_compounds} on the USGS aggregate{_not_evaluable(f.not_evaluable_compounds)}, "
        "the members of a `tie:` swung together as one input "
        "(`one_at_a_time(load(\"scenarios/path_to_2030.yaml\"), mode=\"rebalance\", "
        f"years=[{YEAR}], countries=[\"US\"])`, `.moving(metric=\"traced_share\", country=\"US\", "
        "commodity=...)`, rows with `swing > 0`; a swing of round-off, at most 1e-9, counts as none).\n\n"
        f"**The central run falls at P{rank} of the sweep: {100 * f.central_rank:.1f}% of the samples give a lower "
        "share** (ties counted half).\n`central` sets every input to its "
        "`value`: for the projects that is the announced schedule, the shortest lead time of their\n"
        "`choice` (delays only push later), and Vulcan's loans off.\n"
        f"In {SAMPLES} samples of `path_to_2030` (rebalance, seed {SEED}) the US traced China share of magnets "
        f"in {YEAR} is {_pct(f.central)} in the central run — the figure the tables above publish — and "
        f"{_pct(f.p50)} at the median (P5 {_pct(f.p5)}, P95 {_pct(f.p95)}; mean {_pct(f.mean)}; `central_rank` "
        f"{f.central_rank:.3f}; the sweep table's `central_at`). The input with the largest "
        f"one-at-a-time swing is the 10X metal line's lead time{_with_tie(f.lead_tie)}: samples with {leads} on "
        f"average; Vulcan on adds {100 * f.vulcan_gap:.1f} points on average (it feeds on Chinese NdPr metal, "
        "`docs/rebalance.md`, \"What is not modelled\"). Generated by `make scenario-results` "
        "(`supplychain.report.uncertainty_prose`: `run_sweep(\"scenarios/path_to_2030.yaml\", "
        f"samples={SAMPLES}, seed={SEED})`, `.summary()`, and `.measure(...)` grouped by the samples' inputs)."
        + "".join(f"\n{line}" for line in f.caveats)
        + (f"\n\n{verdicts}" if (verdicts := verdicts_markdown(f.verdicts, samples=f.samples)) else "")
    )
