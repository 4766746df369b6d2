"""Measures on arrays with a sample axis: hand-worked values, and one sample equals one run.

The network (one commodity ``ore``, tonnes of the first sample; the second sample in brackets):

* AU mine ``au`` produces 100 t (100) into ``AU:ore``; AU exports 40 t (70) to JP and 10 t (0) to US.
* CN mine ``cn`` produces 50 t (50) into ``CN:ore``; CN exports 30 t (20) to JP and 20 t (30) to US.
* JP and US consume what they import (use edges).

Per market and sample (P production, I imports, E exports; no stocks):

==========  ===============  ===============
market      sample 0         sample 1
==========  ===============  ===============
AU:ore      P 100, E 50      P 100, E 70
CN:ore      P 50, E 50       P 50, E 50
JP:ore      I 70 (CN 30)     I 90 (CN 20)
US:ore      I 30 (CN 20)     I 30 (CN 30)
==========  ===============  ===============
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from supplychain.metrics.concentration import group_concentration
from supplychain.metrics.exposure import exposed_share
from supplychain.metrics.measures import measures_from_tables
from supplychain.metrics.trade import first_hop, market_sums, pair_sums, source_imports, trade_index

MARKETS = ["AU:ore", "CN:ore", "JP:ore", "US:ore"]


def tables() -> tuple[pd.DataFrame, pd.DataFrame]:
    nodes = pd.DataFrame({
        "node": ["AU:ore", "CN:ore", "JP:ore", "JP:ore:use", "US:ore", "US:ore:use", "au", "cn"],
        "kind": ["market", "market", "market", "use", "market", "use", "facility", "facility"],
        "country": ["AU", "CN", "JP", "JP", "US", "US", "AU", "CN"],
        "commodity": ["ore"] * 8, "stage": ["ore"] * 8, "basis": ["t"] * 8,
        "primary": [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0, 50.0],
        "production": [0.0] * 6 + [100.0, 50.0], "capacity": [np.nan] * 8,
        "facility": [""] * 6 + ["au", "cn"], "facility_kind": [""] * 6 + ["mine", "mine"], "name": [""] * 8,
    })
    rows = [  # edge, supplier, buyer, supplier_country, buyer_country, kind
        ("supply.au", "au", "AU:ore", "AU", "AU", "supply"),
        ("supply.cn", "cn", "CN:ore", "CN", "CN", "supply"),
        ("au_jp", "AU:ore", "JP:ore", "AU", "JP", "trade"),
        ("au_us", "AU:ore", "US:ore", "AU", "US", "trade"),
        ("cn_jp", "CN:ore", "JP:ore", "CN", "JP", "trade"),
        ("cn_us", "CN:ore", "US:ore", "CN", "US", "trade"),
        ("jp_use", "JP:ore", "JP:ore:use", "JP", "JP", "use"),
        ("us_use", "US:ore", "US:ore:use", "US", "US", "use"),
    ]
    edges = pd.DataFrame(rows, columns=["edge", "supplier", "buyer", "supplier_country", "buyer_country", "kind"])
    edges["commodity"], edges["stage"], edges["entity"], edges["allocated"] = "ore", "ore", "", False
    return nodes, edges.assign(tonnes=SAMPLES[0])


# tonnes per edge, in the order of tables(): supply.au, supply.cn, au_jp, au_us, cn_jp, cn_us, jp_use, us_use
SAMPLES = np.array([
    [100.0, 50.0, 40.0, 10.0, 30.0, 20.0, 70.0, 30.0],
    [100.0, 50.0, 70.0, 0.0, 20.0, 30.0, 90.0, 30.0],
])


def test_market_sums_and_first_hop_over_a_sample_axis() -> None:
    nodes, edges = tables()
    index = trade_index(nodes, edges)
    assert [f"{c}:{k}" for c, k in zip(index.markets["country"], index.markets["commodity"], strict=True)] == MARKETS
    sums = market_sums(index, SAMPLES)
    assert sums.shape == (2, 5, 4)
    # production, imports, exports of each market (module docstring); no stock drawn or built
    assert sums[0, 0].tolist() == [100.0, 50.0, 0.0, 0.0]
    assert sums[1, 1].tolist() == [0.0, 0.0, 90.0, 30.0]
    assert sums[1, 2].tolist() == [70.0, 50.0, 0.0, 0.0]
    assert not sums[:, 3:].any()
    pairs = pair_sums(index, SAMPLES)
    assert index.pairs[["country", "partner"]].to_numpy().tolist() == [["JP", "AU"], ["JP", "CN"], ["US", "AU"],
                                                                      ["US", "CN"]]
    assert pairs.tolist() == [[40.0, 30.0, 10.0, 20.0], [70.0, 20.0, 0.0, 30.0]]
    imports, from_cn = source_imports(index, pairs, frozenset({"CN"}))
    hop = first_hop(sums, imports, from_cn)
    # JP: 30 / 70 and 20 / 90; US: 20 / 30 and 30 / 30; exporters import nothing: 0 / 0, undefined (NaN)
    assert hop.direct_import_share[:, 2:] == pytest.approx(np.array([[30 / 70, 20 / 30], [20 / 90, 30 / 30]]))
    assert np.isnan(hop.direct_import_share[:, :2]).all()
    assert hop.has_imports.tolist() == [[False, False, True, True], [False, False, True, True]]
    # every market gets material: AU and CN produce, JP and US import
    assert hop.supplied.all()
    # AU: AC = 100 − 50 = 50 (sample 0), 100 − 70 = 30 (sample 1), net imports < 0: "E";
    # CN: AC = 50 − 50 = 0: no consumption, no NIR row
    assert hop.exporter[:, 0].tolist() == [True, True]
    assert hop.has_consumption[:, 1].tolist() == [False, False]
    # CN's AC of 0 is the only one within round-off of zero (AU's is 50 or 30, JP's and US's their imports)
    assert hop.round_off.tolist() == [[False, True, False, False], [False, True, False, False]]
    assert np.isnan(hop.net_import_reliance[:, :2]).all()
    # JP and US import all they consume: NIR 1, DSC = I_CN / AC
    assert hop.net_import_reliance[:, 2:].tolist() == [[1.0, 1.0], [1.0, 1.0]]
    assert hop.direct_share_of_consumption[1, 3] == pytest.approx(1.0)


def test_sums_split_over_constant_and_varying_edges() -> None:
    # What the compiled sweep does: the edges that do not vary (here the supplies, constant
    # between the two samples) are summed once, the others per sample, with the index restricted
    # to each part; the two parts add up to the sums over the whole table.
    nodes, edges = tables()
    index = trade_index(nodes, edges)
    const, var = np.array([0, 1]), np.array([2, 3, 4, 5, 6, 7])
    part_c, part_v = index.subset(const), index.subset(var)
    assert part_v.flows.shape == (20, 6)
    split = market_sums(part_c, SAMPLES[0, const]) + market_sums(part_v, SAMPLES[:, var])
    np.testing.assert_array_equal(split, market_sums(index, SAMPLES))
    # only the trade edges carry pairs: the constant part has none; JP's imports from AU
    # (au_jp: 40 t, then 70 t) are the first pair
    assert not pair_sums(part_c, SAMPLES[0, const]).any()
    assert pair_sums(part_v, SAMPLES[:, var])[:, 0].tolist() == [40.0, 70.0]
    # the order of the edges given is the order of the columns: reversed edges, reversed tonnes
    np.testing.assert_array_equal(market_sums(index.subset(var[::-1]), SAMPLES[:, var[::-1]]),
                                  market_sums(part_v, SAMPLES[:, var]))


def test_concentration_of_groups_over_a_sample_axis() -> None:
    # JP's sourcing by partner (AU, CN) in both samples, and US's (AU, CN)
    values = np.array([[40.0, 30.0, 10.0, 20.0], [70.0, 20.0, 0.0, 30.0]])
    h, top1, top3, total = group_concentration(values, [0, 0, 1, 1], 2)
    # JP sample 0: shares 4/7, 3/7 → HHI = (400/7)² + (300/7)² = 250,000/49
    assert h[0, 0] == pytest.approx(250_000 / 49)
    assert top1[0].tolist() == pytest.approx([4 / 7, 2 / 3])
    # US sample 1: one supplier → 10,000, top-1 1
    assert (h[1, 1], top1[1, 1], top3[1, 1]) == (10_000.0, 1.0, 1.0)
    assert total.tolist() == [[70.0, 30.0], [90.0, 30.0]]


def test_exposed_share_counts_unmet_planned_consumption() -> None:
    # planned 100 t; 30 t arrive of which 10 t traced to the source → (10 + 70) / 100;
    # a second sample where everything planned arrives, half traced → 0.5
    got = exposed_share([[10.0], [50.0]], [[30.0], [100.0]], [[100.0], [100.0]])
    assert got[:, 0].tolist() == pytest.approx([0.8, 0.5])


@pytest.mark.parametrize("sample", [0, 1])
def test_one_sample_of_the_arrays_is_what_one_run_gives(sample: int) -> None:
    """``measures_from_tables`` on one sample's tables gives the array functions' values for that sample."""
    nodes, edges = tables()
    edges = edges.assign(tonnes=SAMPLES[sample])
    m = measures_from_tables(nodes, edges, year=2024, source={"CN"}, source_name="CN")
    index = trade_index(nodes, edges)
    sums = market_sums(index, SAMPLES)
    pairs = pair_sums(index, SAMPLES)
    hop = first_hop(sums, *source_imports(index, pairs, frozenset({"CN"})))
    dis = m[m["metric"].eq("direct_import_share")].set_index("country")["value"]
    np.testing.assert_allclose(dis.reindex(["AU", "CN", "JP", "US"]).to_numpy(dtype=float),
                               hop.direct_import_share[sample], rtol=1e-12)  # NaN (no imports) where NaN
    hhi = m[m["metric"].eq("hhi_sourcing")].set_index("country")["value"]
    supply = {"JP": pairs[sample, :2], "US": pairs[sample, 2:]}
    for country, tonnes in supply.items():
        h, *_ = group_concentration(tonnes[tonnes > 0], np.zeros(int((tonnes > 0).sum()), dtype=int), 1)
        assert hhi[country] == pytest.approx(h[0])


def test_a_share_of_nothing_is_n_a_not_zero() -> None:
    # After a ban the US receives nothing: au_us and cn_us carry 0 t, so US:ore has no imports
    # (I = 0) and no material at all (P + I + R = 0). Its direct import share I_CN / I = 0 / 0 and
    # its traced share (the China share of the material in the market) are undefined: NaN, shown
    # as "n/a" — not 0 %, which would read as "no dependence on China". Japan still imports
    # 40 + 30 = 70 t, 30 t from China: 3/7 both ways (CN's mine is in the source: t = 1, AU's 0).
    nodes, edges = tables()
    edges = edges.assign(tonnes=[100.0, 50.0, 40.0, 0.0, 30.0, 0.0, 70.0, 0.0])
    m = measures_from_tables(nodes, edges, year=2024, source={"CN"}, source_name="CN")
    v = m[m["metric"].isin(["direct_import_share", "traced_share"])].set_index(["country", "metric"])["value"]
    assert np.isnan(v[("US", "direct_import_share")])
    assert np.isnan(v[("US", "traced_share")])
    assert v[("JP", "direct_import_share")] == pytest.approx(3 / 7)
    assert v[("JP", "traced_share")] == pytest.approx(3 / 7)
    # Australia imports nothing but has its own ore: no direct import share, a traced share of 0
    assert np.isnan(v[("AU", "direct_import_share")])
    assert v[("AU", "traced_share")] == 0.0
    # the report's percentages print NaN as n/a
    from supplychain.report.numbers import format_percent

    assert format_percent(v[("US", "traced_share")]) == "n/a"
    # and the share chart marks such a year n/a instead of drawing 0 % or leaving a silent gap:
    # the US with its 2024 shares (sample 0: traced 20/30, direct 20/30), then this year's
    from supplychain.report.charts import share_chart

    us = m[m["country"].eq("US") & m["metric"].isin(["traced_share", "direct_import_share"])]
    before = us.assign(year=2024, value=2 / 3)
    chart = share_chart(pd.concat([before, us.assign(year=2025)]), country="US", commodity="ore")
    assert [t.get_text() for t in chart.axes[0].texts] == ["n/a"]
    # Australia: a traced share (0) but no imports: only the direct share is n/a
    au = m[m["country"].eq("AU") & m["metric"].isin(["traced_share", "direct_import_share"])]
    chart = share_chart(au.assign(year=2024), country="AU", commodity="ore")
    assert [t.get_text() for t in chart.axes[0].texts] == ["direct n/a"]
