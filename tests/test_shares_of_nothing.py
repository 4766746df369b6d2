"""A share of nothing is n/a, never 0 % (docs/measures.md, "A share of nothing is n/a").

Each test works its numbers by hand. On the tree before this rule, every one of them read 0
(or dropped the row, or let a target pass) where the share has no denominator.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supplychain.graph import build_tables
from supplychain.metrics.elements import (
    element_columns,
    element_content,
    element_dependence,
    element_exposure,
    element_prices,
    element_shortfall,
    value_weighted,
)
from supplychain.metrics.exposure import shortfall_share
from supplychain.report.numbers import format_percent
from supplychain.schema.model import Scenario, Target
from supplychain.simulation.aftershock import element_exposure as element_exposure_rows
from supplychain.simulation.fixed import shortfall_frame
from supplychain.simulation.outcome import apply_stock_cover
from supplychain.simulation.targets import evaluate_targets
from supplychain.uncertainty.result import SweepResult
from tests.test_elements import YEAR, chain


# ------------------------------------------------------------------ shortfall_share
def use_nodes() -> pd.DataFrame:
    return pd.DataFrame({"node": ["US:magnet:use", "JP:magnet:use"], "country": ["US", "JP"],
                         "commodity": ["magnet", "magnet"], "stage": ["magnet", "magnet"]})


def test_shortfall_share_without_demand_is_n_a() -> None:
    # US: demand 100 t, 60 t delivered, 40 t short: 40/100 = 0.4. Japan asks for nothing this year
    # (demand 0, nothing delivered, nothing short): 0/0 is undefined — NaN, printed n/a, not 0 %
    # ("demand met").
    short = shortfall_frame(use_nodes(), np.array([0, 1]), np.array([100.0, 0.0]), np.array([60.0, 0.0]),
                            np.array([40.0, 0.0]))
    assert short["shortfall_share"].iloc[0] == pytest.approx(0.4)
    assert np.isnan(short["shortfall_share"].iloc[1])
    assert format_percent(short["shortfall_share"].iloc[1]) == "n/a"
    # the fixed response's stock cover recomputes the share with the same rule: the US draws 10 t
    # from stock, 30 t stay short: 30/100; Japan's share stays n/a
    covered = apply_stock_cover(short, {"US:magnet": 10.0, "JP:magnet": 5.0})
    assert covered["shortfall_share"].iloc[0] == pytest.approx(0.3)
    assert np.isnan(covered["shortfall_share"].iloc[1])
    # demand within round-off of 0 (1e-12 t, below AC_RTOL = 1e-9) is no demand either
    assert np.isnan(shortfall_share(1e-12, 1e-12))


# ------------------------------------------------------------------ element dependence
def test_element_dependence_of_a_country_using_none_of_the_element_is_n_a() -> None:
    # country 0 takes 300 t NdPr, 100 t of it traced to the source: 1/3; country 1 has a final use
    # but none of the element reaches it (0 t): Σ f t / Σ f = 0/0, n/a (was 0, "not dependent")
    d, e = element_dependence([300.0, 0.0], [1 / 3, 0.0], [0, 1], 2)
    assert d[0] == pytest.approx(1 / 3)
    assert np.isnan(d[1])
    assert e.tolist() == [300.0, 0.0]
    # value-weighted over NdPr (USD 60,000/t) and Dy (250,000/t): country 0 uses 300 t NdPr at 1/3
    # and no Dy (its Dy dependence n/a weighs nothing): (60,000 · 300 · 1/3) / (60,000 · 300) = 1/3;
    # country 1 uses none of either: n/a (was 0)
    dv = value_weighted([[1 / 3, np.nan], [np.nan, np.nan]], [[300.0, 0.0], [0.0, 0.0]], [60000.0, 250000.0])
    assert dv[0] == pytest.approx(1 / 3)
    assert np.isnan(dv[1])


def test_a_starved_country_has_element_rows_n_a_and_is_fully_exposed() -> None:
    # The magnet chain of tests/test_elements.py with nothing reaching the US: every edge into a US
    # node carries 0 t (Japan's plant still runs and keeps its magnets in its surplus). The US has
    # final uses of magnets (NdPr 0.3, Dy 0.008) and Dy oxide (Dy 0.8), so it gets an element row
    # for NdPr and for Dy: dependence 0/0 = n/a, element in final use 0 t (before: no rows at all,
    # so no element_exposed_share either and an element target read "no data").
    s = Scenario.model_validate(chain())
    nodes, edges = build_tables(s, YEAR)
    starved = edges.assign(tonnes=np.where(edges["buyer_country"].eq("US"), 0.0, edges["tonnes"]))
    cols = element_columns(nodes, starved, element_content(s), {"CN"}, element_prices(s))
    rows = pd.DataFrame(cols)
    us = rows[rows["country"].eq("US")].set_index(["commodity", "metric"])["value"]
    assert np.isnan(us[("NdPr", "element_dependence")])
    assert np.isnan(us[("Dy", "element_dependence")])
    assert us[("NdPr", "element_use")] == 0.0
    assert us[("Dy", "element_use")] == 0.0
    assert np.isnan(us[("NdPr+Dy", "element_dependence_value")])
    # the US lacks all its demand: 1,000 t magnets and 5 t Dy oxide, nothing delivered. Element
    # shortfall NdPr 0.3 · 1000 / (0.3 · 1000) = 1, Dy (0.008 · 1000 + 0.8 · 5) / (8 + 4) = 1.
    short = pd.DataFrame({"country": ["US", "US"], "commodity": ["magnet", "dy"], "demand_t": [1000.0, 5.0],
                          "shortfall_t": [1000.0, 5.0]})
    gap = element_shortfall(short, element_content(s))
    assert gap.set_index("commodity")["value"].to_dict() == {"Dy": 1.0, "NdPr": 1.0}
    # exposure D (1 − S) + S: nothing delivered weighs 0 whatever D, so exposed = S = 1 (was NaN)
    m = rows.assign(year=YEAR)
    exposed = element_exposure_rows(m[m["country"].eq("US")], gap)
    assert exposed.set_index("commodity")["value"].to_dict() == {"Dy": 1.0, "NdPr": 1.0}
    # the array rule: n/a dependence and all unmet → 1; no element demand in the data (S NaN)
    # keeps D; both n/a → n/a
    assert element_exposure([np.nan, 0.25, np.nan], [1.0, np.nan, np.nan])[:2].tolist() == [1.0, 0.25]
    assert np.isnan(element_exposure([np.nan], [np.nan])[0])


# ------------------------------------------------------------------ targets
def test_a_target_on_a_share_of_nothing_is_not_evaluable_never_met() -> None:
    # A ceiling of 25 % on the US traced share of magnets. In 2030 nothing reaches the US market:
    # the traced share is n/a (NaN). 0 % would pass; n/a is "not evaluable" (met None), and the
    # 100 % of demand unmet is said beside it.
    t = Target(country="US", commodity="magnet", metric="traced_share", max=0.25, by=2030)
    m = pd.DataFrame({"year": [2030, 2030, 2031, 2031], "country": ["US"] * 4, "commodity": ["magnet"] * 4,
                      "metric": ["traced_share", "shortfall_share"] * 2, "source_country": ["CN", ""] * 2,
                      "value": [np.nan, 1.0, 0.1, 0.0]})
    r = evaluate_targets({"t": t}, m, [2030, 2031, 2032]).set_index("year")
    assert r.loc[2030, "status"] == "n/a"
    assert r.loc[2030, "met"] is None
    assert r.loc[2030, "reason"] == "not evaluable: traced share n/a in 2030, a share of nothing (100% of demand unmet)"
    assert r.loc[2031, "status"] == "pass"  # 10 % ≤ 25 %
    assert r.loc[2032, "status"] == "no data"  # no row at all


def test_a_use_without_demand_does_not_hide_another_use_s_shortfall() -> None:
    # Two final uses of US magnets in 2030: one short by 30 % of its demand, one without demand
    # (shortfall share n/a). The target allows at most 10 % unmet: the largest defined share,
    # 30 %, fails it (before: max over [NaN, 0.3] was NaN and the target passed).
    t = Target(country="US", commodity="magnet", metric="exposed_share", max=0.5, by=2030, max_shortfall_share=0.1)
    m = pd.DataFrame({"year": [2030] * 3, "country": ["US"] * 3, "commodity": ["magnet"] * 3,
                      "metric": ["exposed_share", "shortfall_share", "shortfall_share"],
                      "source_country": ["CN", "", ""], "value": [0.4, np.nan, 0.3]})
    r = evaluate_targets({"t": t}, m, [2030]).iloc[0]
    assert r["status"] == "fail (shortfall)"
    assert r["shortfall_share"] == pytest.approx(0.3)


# ------------------------------------------------------------------ sweeps
def test_sweep_statistics_leave_n_a_samples_out_and_count_them() -> None:
    # Five samples of the US traced share; samples 3 and 4 n/a (nothing reaches the market), sample
    # 4 failed as well (infeasible). Computed: 0, 1, 2, 3 → n/a in 3 (n_na = 1), failed 4.
    # Statistics over the 3 values 0.1, 0.2, 0.6: mean 0.3, P50 0.2 (n/a read as 0 would give
    # mean (0.1 + 0.2 + 0.6 + 0) / 4 = 0.225 and P50 0.15).
    measures = pd.DataFrame({"metric": ["traced_share"], "country": ["US"], "commodity": ["magnet"], "year": [2030],
                             "source_country": ["CN"], "central": [0.2]})
    targets = pd.DataFrame({"target": ["t"], "country": ["US"], "commodity": ["magnet"], "metric": ["traced_share"],
                            "source_country": ["CN"], "max": [0.25], "min": [np.nan], "by": [2030],
                            "description": [""]})
    values = np.array([[0.1], [0.2], [0.6], [np.nan], [np.nan]])
    r = SweepResult(pd.DataFrame(index=pd.RangeIndex(5, name="sample")), measures, values, targets,
                    {"failed": {4: "infeasible"}})
    row = r.summary().iloc[0]
    assert (row["n"], row["n_nan"], row["n_na"], row["n_exporter"]) == (3, 2, 1, 0)
    assert row["mean"] == pytest.approx(0.3)
    assert row["p50"] == pytest.approx(0.2)
    # the 25 % ceiling: met by 0.1 and 0.2; 0.6 fails; the n/a sample is not met; the failed one
    # is left out: 2 / (3 + 1) = 0.5 (before: 2/3, the n/a sample silently dropped)
    p = r.target_probability().iloc[0]
    assert p["probability"] == pytest.approx(0.5)
    assert (p["n"], p["n_na"], p["n_nan"]) == (3, 1, 2)


def test_the_report_s_verdict_on_a_target_with_an_n_a_year_is_n_a_not_pass() -> None:
    # The US traced-share target holds in 2031 (10 % ≤ 25 %) but is n/a in 2030 (nothing arrives):
    # no year fails, yet the target is not met in every year — the report says N/A with the n/a
    # year's reason (before: "pass", holding "in every year 2031–2031").
    from supplychain.report.runs import ScenarioRun
    from supplychain.report.tables import _verdicts

    t = Target(country="US", commodity="magnet", metric="traced_share", max=0.25, by=2030)
    m = pd.DataFrame({"year": [2030, 2031], "country": ["US"] * 2, "commodity": ["magnet"] * 2,
                      "metric": ["traced_share"] * 2, "source_country": ["CN"] * 2, "value": [np.nan, 0.1]})
    targets = evaluate_targets({"t": t}, m, [2030, 2031], variant="")
    run = ScenarioRun(scenario=None, results=())
    (v,) = _verdicts(run, targets)
    assert v["verdict"] == "n/a"
    assert v["detail"] == "not evaluable in 2030 (the measure is n/a)"
    assert v["reason"] == "not evaluable: traced share n/a in 2030, a share of nothing"


def test_the_shortfall_chart_leaves_a_year_without_demand_as_a_gap() -> None:
    # US magnets: 40 of 100 t short in 2025 (0.4), no demand in 2026 (n/a). The line has a gap in
    # 2026; before, the n/a was drawn as 0 % short ("demand met").
    from supplychain.report.charts import shortfall_chart

    s = pd.DataFrame({"year": [2025, 2026], "country": ["US"] * 2, "commodity": ["magnet"] * 2,
                      "shortfall": [40.0, 0.0], "shortfall_share": [0.4, np.nan]})
    fig = shortfall_chart(s)
    (line,) = fig.axes[0].lines
    y = np.asarray(line.get_ydata(), dtype=float)
    assert y[0] == pytest.approx(0.4)
    assert np.isnan(y[1])
