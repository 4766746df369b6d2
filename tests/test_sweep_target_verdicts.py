"""A sweep's target verdicts are the run's (findings F9, F1 of session 32).

A run fails a target year "fail (shortfall)" when more of demand is unmet than the target's
``max_shortfall_share`` allows (:func:`supplychain.simulation.targets.evaluate_targets`); the
sweep's ``target_probability`` and ``central_met`` apply the same predicate
(:func:`supplychain.simulation.targets.target_met`). And ``n_na`` means one thing in
``summary()`` and ``target_probability()``: the computed samples whose measure is a share of
nothing, the net exporters counted apart in ``n_exporter``.

Each test works its numbers by hand; on the tree before the change the sweep read the threshold
only (probability 3/4, central met) and ``target_probability``'s ``n_na`` held the net exporters.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supplychain.schema.model import Target
from supplychain.simulation.targets import evaluate_targets, target_met
from supplychain.uncertainty.montecarlo import measure_filter
from supplychain.uncertainty.result import SweepResult


def _targets(metric: str, cap: float, max_shortfall_share: float) -> pd.DataFrame:
    return pd.DataFrame({"target": ["t"], "country": ["US"], "commodity": ["magnet"], "metric": [metric],
                         "source_country": ["CN"], "max": [cap], "min": [np.nan], "by": [2030],
                         "description": [""], "max_shortfall_share": [max_shortfall_share]})


def test_a_sample_that_meets_the_threshold_but_leaves_too_much_unmet_is_not_met() -> None:
    # US magnets, 2030: traced China share ≤ 25 %, at most 10 % of demand unmet. Four samples
    # (traced share, shortfall share):
    #   0: (0.10, 0.00) → 0.10 ≤ 0.25 and 0.00 ≤ 0.10: met
    #   1: (0.20, 0.30) → 0.20 ≤ 0.25 but 0.30 > 0.10: not met (the run: "fail (shortfall)")
    #   2: (0.40, 0.00) → 0.40 > 0.25: not met
    #   3: (0.00, n/a)  → 0.00 ≤ 0.25; no demand, so nothing unmet to gate: met
    # p = 2 / 4 = 0.5 (the threshold alone: 3 / 4). The central run (0.0, 0.6): the threshold is
    # met but 60 % is unmet, so central_met is False (the threshold alone: True).
    measures = pd.DataFrame({"metric": ["traced_share", "shortfall_share"], "country": ["US", "US"],
                             "commodity": ["magnet", "magnet"], "year": [2030, 2030],
                             "source_country": ["CN", ""], "central": [0.0, 0.6]})
    values = np.array([[0.10, 0.00], [0.20, 0.30], [0.40, 0.00], [0.00, np.nan]])
    r = SweepResult(pd.DataFrame(index=pd.RangeIndex(4, name="sample")), measures, values,
                    _targets("traced_share", 0.25, 0.1), {})
    p = r.target_probability().iloc[0]
    assert p["probability"] == pytest.approx(0.5)
    assert (p["n"], p["n_na"], p["n_exporter"], p["n_nan"]) == (4, 0, 0, 0)
    assert bool(p["central_met"]) is False  # pd.NA would raise


def test_the_run_and_the_sweep_give_the_same_verdict_on_each_sample() -> None:
    # The same four samples through the run's evaluate_targets, one sample at a time: pass,
    # fail (shortfall), fail, pass — the sweep's predicate on the same values agrees.
    t = Target(country="US", commodity="magnet", metric="traced_share", max=0.25, by=2030, max_shortfall_share=0.1)
    samples = [(0.10, 0.00), (0.20, 0.30), (0.40, 0.00), (0.00, np.nan)]
    statuses = []
    for share, short in samples:
        m = pd.DataFrame({"year": [2030, 2030], "country": ["US", "US"], "commodity": ["magnet", "magnet"],
                          "metric": ["traced_share", "shortfall_share"], "source_country": ["CN", ""],
                          "value": [share, short]})
        statuses.append(evaluate_targets({"t": t}, m, [2030]).iloc[0]["status"])
    assert statuses == ["pass", "fail (shortfall)", "fail", "pass"]
    sweep = target_met(np.array([s for s, _ in samples]), np.array([u for _, u in samples]), "max", 0.25, 0.1)
    assert sweep.tolist() == [s == "pass" for s in statuses]


def test_the_sweep_keeps_the_shortfall_rows_a_gated_target_reads() -> None:
    # A target with max_shortfall_share reads the shortfall beside its measure (the element's for
    # an element target); one without reads its measure only.
    gated = Target(country="US", commodity="NdPr", metric="element_exposed_share", max=0.25, by=2030,
                   max_shortfall_share=0.1)
    plain = Target(country="JP", commodity="magnet", metric="direct_share", max=0.5, by=2030)
    f = measure_filter(["traced_share"], ["DE"], None, None, targets={"g": gated, "p": plain})
    assert set(f.always) == {("element_exposed_share", "US", "NdPr"), ("element_shortfall_share", "US", "NdPr"),
                             ("direct_import_share", "JP", "magnet")}


def test_n_na_means_the_same_in_summary_and_target_probability() -> None:
    # US net import reliance of magnets, 2030, four samples, with the market's direct share of
    # consumption (NaN exactly when apparent consumption is not positive):
    #   0: NIR 0.5                 → a value (n = 1)
    #   1: NIR n/a, DSC 0.2        → consumption positive, net imports negative: net exporter
    #   2: NIR n/a, DSC n/a        → no consumption at all: a share of nothing (n_na)
    #   3: failed                  → in n_nan only
    # So n = 1, n_na = 1, n_exporter = 1, n_nan = 3 in both tables. A 60 % ceiling: met by sample
    # 0 only, of the 3 computed samples: p = 1/3.
    measures = pd.DataFrame({"metric": ["net_import_reliance", "direct_share_of_consumption"],
                             "country": ["US", "US"], "commodity": ["magnet", "magnet"], "year": [2030, 2030],
                             "source_country": ["", "CN"], "central": [0.5, 0.3]})
    values = np.array([[0.5, 0.3], [np.nan, 0.2], [np.nan, np.nan], [np.nan, np.nan]])
    targets = _targets("net_import_reliance", 0.6, np.nan)
    r = SweepResult(pd.DataFrame(index=pd.RangeIndex(4, name="sample")), measures, values, targets,
                    {"failed": {3: "infeasible"}})
    s = r.summary().iloc[0]
    p = r.target_probability().iloc[0]
    assert (s["n"], s["n_na"], s["n_exporter"], s["n_nan"]) == (1, 1, 1, 3)
    assert (p["n"], p["n_na"], p["n_exporter"], p["n_nan"]) == (1, 1, 1, 3)
    assert p["probability"] == pytest.approx(1 / 3)
