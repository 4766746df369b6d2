"""Properties of the exposure engine on random layered networks (hypothesis).

The strategy builds valid scenarios stage by stage (ore → oxide → metal): mines, then
trade of ore that never exceeds what a country has, then re-exports (which may send
material back where it came from: loops), then plants that use part of what their
country holds, and so on. With ``observed_only=False`` some plants are placed where no
ore is observed, so the allocation rules of :mod:`supplychain.graph.allocate` fill the
gap.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from supplychain.engine import compile_tables, traced_share
from supplychain.graph import build_tables
from supplychain.metrics.measures import compute_measures, origin_by_node, owner_table, traced_share_by_node
from supplychain.metrics.trade import UNRECORDED_USE, trade_summary
from supplychain.schema.model import Scenario

YEAR = 2024
COUNTRIES = ("AU", "CN", "DE", "HK", "JP", "MY", "US", "VN")
STAGES = (("ore", None), ("oxide", "sep"), ("metal", "red"))
SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def layered_scenarios(draw: st.DrawFn, observed_only: bool = False) -> dict[str, Any]:
    """A random, balanced, layered scenario as a plain dict."""
    data: dict[str, Any] = {
        "scenario": {"name": "random", "base_year": YEAR},
        "commodities": {
            "ore": {"name": "Ore", "stage": "ore", "basis": "t REO"},
            "oxide": {"name": "Oxide", "stage": "oxide", "basis": "t REO"},
            "metal": {"name": "Metal", "stage": "metal", "basis": "t metal"},
        },
        "processes": {
            "sep": {"inputs": {"ore": 2}, "outputs": {"oxide": 1}},
            "red": {"inputs": {"oxide": 1.25}, "outputs": {"metal": 1}},
        },
        "facilities": {},
        "flows": {},
    }
    fac, flows = data["facilities"], data["flows"]
    held: dict[str, float] = {}  # tonnes a country's market of the current commodity can still give

    for n in range(draw(st.integers(1, 4))):
        country = draw(st.sampled_from(COUNTRIES))
        tonnes = float(draw(st.integers(10, 1000)))
        owners = []
        if draw(st.booleans()):
            owners.append({"name": "Owner", "country": draw(st.sampled_from(COUNTRIES)),
                           "stake": draw(st.sampled_from([0.25, 0.49, 0.5, 1.0]))})
        fac[f"mine{n}"] = {"name": f"Mine {n}", "country": country, "kind": "mine", "output": "ore",
                           "production": {YEAR: tonnes}, "owners": owners}
        held[country] = held.get(country, 0.0) + tonnes

    for stage_index, (commodity, _) in enumerate(STAGES):
        # trade, then re-exports (a second round may send material back: loops)
        for round_ in range(2):
            for k in range(draw(st.integers(0, 3))):
                sellers = sorted(c for c, t in held.items() if t > 1.0)
                if not sellers:
                    break
                seller = draw(st.sampled_from(sellers))
                buyer = draw(st.sampled_from([c for c in COUNTRIES if c != seller]))
                tonnes = round(held[seller] * draw(st.sampled_from([0.1, 0.25, 0.5])), 6)
                flows[f"{commodity}_{round_}_{k}"] = {"supplier": seller, "buyer": buyer, "commodity": commodity,
                                                      "year": YEAR, "tonnes": tonnes}
                held[seller] -= tonnes
                held[buyer] = held.get(buyer, 0.0) + tonnes
        if stage_index + 1 == len(STAGES):
            break
        _out_commodity, process = STAGES[stage_index + 1]
        coef = data["processes"][process]["inputs"][commodity]
        nxt: dict[str, float] = {}
        for k in range(draw(st.integers(0 if stage_index else 1, 3))):
            holders = sorted(c for c, t in held.items() if t > 1.0)
            unobserved = not observed_only and draw(st.booleans())
            empty = [c for c in COUNTRIES if held.get(c, 0.0) <= 0.0]
            if (unobserved or not holders) and empty:
                # a plant where none of its input is held: allocation must feed it from elsewhere
                country = draw(st.sampled_from(empty))
                total_spare = sum(held.values())
                use = round(total_spare * 0.2, 6)
                if use <= 1.0:
                    continue
                # take it off the holders pro rata, so later trade stays feasible
                for c in list(held):
                    held[c] -= use * held[c] / total_spare
            elif holders:
                country = draw(st.sampled_from(holders))
                use = round(held[country] * draw(st.sampled_from([0.3, 0.6, 0.9])), 6)
                held[country] -= use
            else:
                continue
            name = f"{process}{k}"
            kind = "separation" if process == "sep" else "metal"
            fac[name] = {"name": name, "country": country, "kind": kind, "process": process,
                         "production": {YEAR: use / coef}}
            nxt[country] = nxt.get(country, 0.0) + use / coef
        held = nxt
        if not held:
            break
    return data


def _shuffle(data: dict[str, Any], seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    out = copy.deepcopy(data)
    for key in ("commodities", "processes", "facilities", "flows"):
        items = list(out[key].items())
        rng.shuffle(items)
        out[key] = dict(items)
    return out


@SETTINGS
@given(layered_scenarios())
def test_every_share_is_finite_and_in_unit_interval(data: dict[str, Any]) -> None:
    s = Scenario.model_validate(data)
    nodes, edges = build_tables(s, YEAR)
    cg = compile_tables(nodes, edges)
    for source in (["CN"], ["AU", "JP"], list(COUNTRIES)):
        t = traced_share_by_node(nodes, edges, source, compiled=cg)
        assert np.isfinite(t).all()
        assert ((t >= 0) & (t <= 1)).all()
    for kind in ("mining", "processing", "owner"):
        o = origin_by_node(cg, nodes, kind, owner_table(s))
        assert np.isfinite(o.to_numpy()).all()
        assert ((o >= 0) & (o <= 1)).all().all()
    m = compute_measures(s, YEAR)
    # NaN only for a net exporter's NIR ("E"), a share of nothing (n/a): the direct import share
    # of a market without imports, the traced share of a market nothing reaches, and NIR and direct share of
    # consumption of a market with net imports whose commodity the scenario records no use of ("use not recorded")
    unrecorded = m.loc[m["label"].eq(UNRECORDED_USE), ["country", "commodity"]]
    keys = set(zip(unrecorded["country"], unrecorded["commodity"], strict=True))
    residual = pd.Series([(c, k) in keys and metric == "direct_share_of_consumption"
                          for c, k, metric in zip(m["country"], m["commodity"], m["metric"], strict=True)],
                         index=m.index)
    undefined = m["value"].isna() & ~m["label"].isin(["E", UNRECORDED_USE]) & ~residual
    summary = trade_summary(nodes, edges)
    for c, k in keys:
        row = summary.loc[(c, k)]
        net = row["imports"] - row["exports"] + row["stock_draw"] - row["stock_build"]
        assert net > 0, (c, k)  # net imports: the ratio would hang on the residual
        assert not set(edges.loc[(edges["commodity"] == k) & edges["kind"].isin(["use", "input"]), "edge"])
    for c, k, metric in zip(*(m.loc[undefined, col] for col in ("country", "commodity", "metric")), strict=True):
        row = summary.loc[(c, k)]
        reaching = row["imports"] if metric == "direct_import_share" else \
            row["production"] + row["imports"] + row["stock_draw"]
        assert metric in ("direct_import_share", "traced_share"), (c, k, metric)
        assert reaching <= 1e-9, (c, k, metric)
    known = ~m["label"].isin(["E", UNRECORDED_USE]) & ~residual & ~undefined
    shares = m.loc[m["unit"].eq("share") & known, "value"]
    assert np.isfinite(shares).all()
    assert shares.between(0.0, 1.0).all()
    assert np.isfinite(m.loc[known, "value"]).all()


@SETTINGS
@given(layered_scenarios())
def test_origin_shares_of_every_node_with_inflow_sum_to_one(data: dict[str, Any]) -> None:
    s = Scenario.model_validate(data)
    nodes, edges = build_tables(s, YEAR)
    cg = compile_tables(nodes, edges)
    has_inflow = pd.Series(cg.inflow > 0, index=cg.nodes)
    for kind in ("mining", "owner"):
        o = origin_by_node(cg, nodes, kind, owner_table(s))
        sums = o.sum(axis=1)[has_inflow]
        assert np.allclose(sums, 1.0, atol=1e-9), (kind, sums[~np.isclose(sums, 1.0)])


@SETTINGS
@given(layered_scenarios(observed_only=True), st.sampled_from([c for c in COUNTRIES if c != "CN"]),
       st.integers(1, 2000))
def test_adding_a_non_chinese_mine_never_raises_the_traced_china_share(
    data: dict[str, Any], country: str, tonnes: int
) -> None:
    """With every flow observed (no allocation), more non-Chinese supply only dilutes."""
    before = traced_share_by_node(*build_tables(Scenario.model_validate(data), YEAR), {"CN"})
    more = copy.deepcopy(data)
    more["facilities"]["new_mine"] = {"name": "New", "country": country, "kind": "mine", "output": "ore",
                                      "production": {YEAR: float(tonnes)}}
    after = traced_share_by_node(*build_tables(Scenario.model_validate(more), YEAR), {"CN"})
    common = before.index.intersection(after.index)
    assert (after[common] <= before[common] + 1e-12).all()


@SETTINGS
@given(layered_scenarios(), st.integers(0, 1000), st.data())
def test_adding_a_non_chinese_supplier_to_the_network_never_raises_any_traced_share(
    data: dict[str, Any], tonnes: int, pick: st.DataObject
) -> None:
    """Engine level: a new non-Chinese producer feeding any market, all other flows fixed."""
    s = Scenario.model_validate(data)
    nodes, edges = build_tables(s, YEAR)
    markets = sorted(nodes.loc[nodes["kind"].eq("market"), "node"])
    target = pick.draw(st.sampled_from(markets))
    cg = compile_tables(nodes, edges)
    country = nodes.set_index("node")["country"].reindex(cg.nodes)
    before = pd.Series(traced_share(cg, country.eq("CN").to_numpy()), index=cg.nodes)
    new_nodes = pd.concat([nodes, pd.DataFrame({"node": ["new"], "kind": ["facility"], "country": ["AU"],
                                                "primary": [float(tonnes)]})], ignore_index=True)
    new_edges = pd.concat([edges, pd.DataFrame({"edge": ["supply.new"], "supplier": ["new"], "buyer": [target],
                                                "tonnes": [float(tonnes)]})], ignore_index=True)
    cg2 = compile_tables(new_nodes, new_edges)
    country2 = new_nodes.set_index("node")["country"].reindex(cg2.nodes)
    after = pd.Series(traced_share(cg2, country2.eq("CN").to_numpy()), index=cg2.nodes)
    assert (after[before.index] <= before + 1e-12).all()


@SETTINGS
@given(layered_scenarios(), st.integers(0, 10_000))
def test_results_do_not_depend_on_the_order_of_entities(data: dict[str, Any], seed: int) -> None:
    a = Scenario.model_validate(data)
    b = Scenario.model_validate(_shuffle(data, seed))
    for x, y in zip(build_tables(a, YEAR), build_tables(b, YEAR), strict=True):
        pd.testing.assert_frame_equal(x, y)
    pd.testing.assert_frame_equal(compute_measures(a, YEAR), compute_measures(b, YEAR))


def test_strategy_makes_loops_and_allocations() -> None:
    """The strategy is not vacuous: some examples have loops, some allocated trade."""
    seen = {"loop": False, "alloc": False}

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(layered_scenarios())
    def probe(data: dict[str, Any]) -> None:
        nodes, edges = build_tables(Scenario.model_validate(data), YEAR)
        seen["loop"] |= compile_tables(nodes, edges).cyclic
        seen["alloc"] |= bool(edges["entity"].eq("allocation").any())

    probe()
    assert seen == {"loop": True, "alloc": True}


@pytest.mark.parametrize("seed", [0, 1])
def test_shuffled_helper_really_reorders(seed: int) -> None:
    data = {"commodities": {str(i): i for i in range(10)}, "processes": {}, "facilities": {}, "flows": {}}
    assert list(_shuffle(data, seed)["commodities"]) != list(data["commodities"])
