"""The deal scenarios say what they do (review #3: R-1, R-2, R-11, R-12, R-14).

* Malaysia's raw-export ban binds Malaysia's own ore (R-1), and ``compare`` and the report say
  which variants give the same numbers, computed by one rule (:mod:`supplychain.report.same`);
* under ``fixed`` a note says agreements' preferences and projects cannot act (R-2);
* ``us_japan_framework.yaml`` has the full ban without the framework to compare with (R-14);
* the US-Japan fund's modelled project shares add up to what its text says (R-12).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from supplychain.io import load

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


# ------------------------------------------------------------------ Malaysia's ban binds
def test_malaysias_ore_keeps_its_2024_buyer_as_far_as_the_ban_allows() -> None:
    # world/ree_trade.yaml gives MY -> CN ore of 130 t REO (USGS mirror statistic, 2024) in every
    # year 2025-2030, as an assumption (Lynas's plant runs on Mt Weld feed). Malaysia's ban is an
    # export quota of 0 t on ore from 2025-01-01, so with the ban kept the whole flow is blocked
    # (blocked share 1, 0 t delivered); lifted, the 130 t go to China, less Malaysia's part of the
    # loss when China's licensing cuts the Chinese ore Malaysia buys (1.5 t of 4,130 t in 2026:
    # 130 x 1.5/4,130 = 0.05 t). On main the pattern sent the ore to Lynas's heavy-RE circuit and
    # the MY -> CN edge carried 0 t from 2025, so the ban bound nothing.
    from supplychain.api import simulate

    sc = load(SCENARIOS / "asean_memoranda.yaml")
    for year in range(2025, 2031):
        flow = sc.flows[f"my_cn_concentrate_{year}"]
        assert (flow.supplier, flow.buyer, flow.year, flow.tonnes.value) == ("MY", "CN", year, 130)
    edge = "flows.my_cn_concentrate_2026"
    kept = simulate(sc, variant="ban_kept", mode="fixed", years=[2026]).flows.set_index("edge").loc[edge]
    lifted = simulate(sc, variant="ban_lifted", mode="fixed", years=[2026]).flows.set_index("edge").loc[edge]
    assert kept["baseline"] == pytest.approx(130.0)
    assert kept["blocked_share"] == 1.0
    assert kept["simulated"] == 0.0
    assert lifted["blocked_share"] == 0.0
    assert lifted["simulated"] == pytest.approx(130.0, abs=0.1)
