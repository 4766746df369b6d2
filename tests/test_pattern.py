"""Later years keep the base year's trade pattern (``supplychain.graph.pattern``).

Hand-worked: the derivation of every expected figure is in the test. Units: t.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from supplychain.graph.build import build_tables
from supplychain.graph.pattern import ras
from supplychain.metrics.measures import compute_measures
from supplychain.schema.model import Scenario


def world(demand_growth: float = 0.0) -> Scenario:
    """Three mines, a separation plant with a direct export, an import entry and allocated trade.

    * CN mine 500 t ore → China (its separation plant takes 400 t; 100 t exported to JP).
    * AU mine 150 t → 100 t to JP (a flow), 50 t left with no named buyer (AU's surplus node).
    * JP: separation plant taking 200 t of ore; its oxide (100 t) goes half to a direct flow to the
      US and half to JP's own final use.
    * US oxide demand 120 t: 50 t from Japan's plant (a facility flow), the rest (70 t) allocated by
      the rule from China's spare oxide (CN makes 200 t of oxide and uses 100 t; the 30 t left go
      to China's surplus node).

    Every output is stated as capacity × utilisation, so later years have the same volumes; US
    oxide demand grows by ``demand_growth`` a year.
    """
    data: dict[str, Any] = {
        "scenario": {"name": "pattern", "base_year": 2024, "horizon": 2027},
        "commodities": {"ore": {"name": "Ore", "stage": "ore"}, "oxide": {"name": "Oxide", "stage": "oxide"}},
        "processes": {"sep": {"inputs": {"ore": 2}, "outputs": {"oxide": 1}}},
        "facilities": {
            "cn_mine": {"name": "CN mine", "country": "CN", "kind": "mine", "output": "ore",
                        "capacity": 500, "utilisation": 1.0},
            "au_mine": {"name": "AU mine", "country": "AU", "kind": "mine", "output": "ore",
                        "capacity": 150, "utilisation": 1.0},
            "cn_sep": {"name": "CN separation", "country": "CN", "kind": "separation", "process": "sep",
                       "capacity": 200, "utilisation": 1.0},
            "jp_sep": {"name": "JP separation", "country": "JP", "kind": "separation", "process": "sep",
                       "capacity": 100, "utilisation": 1.0},
        },
        "flows": {
            "cn_jp_ore": {"supplier": "CN", "buyer": "JP", "commodity": "ore", "year": 2024, "tonnes": 100},
            "au_jp_ore": {"supplier": "AU", "buyer": "JP", "commodity": "ore", "year": 2024, "tonnes": 100},
            "jp_us_oxide": {"supplier": "jp_sep", "buyer": "US", "commodity": "oxide", "year": 2024, "tonnes": 50},
        },
        "demand": {
            "cn_oxide": {"country": "CN", "commodity": "oxide", "year": 2024, "tonnes": 100},
            "jp_oxide": {"country": "JP", "commodity": "oxide", "year": 2024, "tonnes": 50},
            "us_oxide": {"country": "US", "commodity": "oxide", "year": 2024, "tonnes": 120,
                         "growth": demand_growth},
        },
    }
    return Scenario.model_validate(data)


def test_with_flat_volumes_every_later_year_repeats_the_base_year() -> None:
    s = world()
    base = compute_measures(s, 2024).drop(columns=["year"])
    for year in (2025, 2027):
        later = compute_measures(s, year).drop(columns=["year"])
        pd.testing.assert_frame_equal(later.reset_index(drop=True), base.reset_index(drop=True))
    # the base year's trade is carried under its own ids (the rule's allocation included)
    _, e24 = build_tables(s, 2024)
    _, e27 = build_tables(s, 2027)
    trade = ["alloc.oxide.CN.US", "flows.au_jp_ore", "flows.cn_jp_ore", "flows.jp_us_oxide"]
    for eid in trade:
        assert e27.set_index("edge").loc[eid, "tonnes"] == pytest.approx(e24.set_index("edge").loc[eid, "tonnes"])
    assert e24.set_index("edge").loc["alloc.oxide.CN.US", "tonnes"] == pytest.approx(70.0)


def test_growth_keeps_partner_shares_and_the_rest_is_allocated() -> None:
    # US oxide demand grows 50 %: 180 t in 2025.
    # * Japan's plant makes the same 100 t, so its direct flow keeps its share: 50 t to the US.
    # * The US market's deficit before market-to-market trade is 180 − 50 = 130 t; in the base year
    #   it was 70 t, all imported: it imports the same share (100 %), 130 t.
    # * China's oxide surplus before trade is 200 − 100 − 30 (its surplus node's base-year take, a
    #   buyer the data do not name) = 70 t, as in the base year, when it exported all 70 t: 70 t.
    # * RAS scales the larger side (the US's 130 t) down to the smaller (70 t): the pattern carries
    #   70 t on China's edge. The 60 t left are the rule's: China's residual after the pattern is the
    #   30 t its surplus node took; the rule allocates them to the US (the same edge id, 100 t in
    #   all) and the US stays 30 t short of its demand — a mass-balance problem the scenario must
    #   resolve (built here without the balance check).
    s = world(demand_growth=0.5)
    _, e = build_tables(s, 2025, check_balance=False)
    t = e.set_index("edge")["tonnes"]
    assert t["flows.jp_us_oxide"] == pytest.approx(50.0)
    assert t["demand.us_oxide"] == pytest.approx(180.0)
    assert t["alloc.oxide.CN.US"] == pytest.approx(100.0)  # 70 t of pattern + 30 t by the rule, one edge


def test_ras_meets_both_margins_on_a_full_pattern() -> None:
    prior = np.array([[10.0, 20.0, 5.0], [30.0, 5.0, 15.0]])
    rows = np.array([50.0, 70.0])
    cols = np.array([45.0, 40.0, 35.0])
    x = ras(prior, rows, cols)
    np.testing.assert_allclose(x.sum(axis=1), rows, rtol=1e-9)
    np.testing.assert_allclose(x.sum(axis=0), cols, rtol=1e-9)
    # biproportional: x_ij = r_i x0_ij s_j, so every 2 × 2 cross-ratio of the prior is kept
    assert (x[0, 0] * x[1, 1]) / (x[0, 1] * x[1, 0]) == pytest.approx((10 * 5) / (20 * 30))


def test_ras_never_exceeds_a_margin_it_cannot_reach() -> None:
    # the only exporter to importer 2 is exporter 1 (a zero elsewhere in column 2): importer 2 needs
    # 80 t but exporter 1 can give 50 t; every row and column stays within its margin
    prior = np.array([[10.0, 10.0], [10.0, 0.0]])
    x = ras(prior, np.array([50.0, 50.0]), np.array([20.0, 80.0]))
    assert np.all(x.sum(axis=1) <= np.array([50.0, 50.0]) + 1e-9)
    assert np.all(x.sum(axis=0) <= np.array([20.0, 80.0]) + 1e-9)
    assert x[1, 1] == 0.0
