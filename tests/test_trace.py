"""Traced and origin shares: hand-worked chains and loops, and the solver on arrays."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from supplychain.engine import (
    compile_arrays,
    compile_tables,
    origin_shares,
    solve_shares,
    traced_share,
    traced_shares,
    weighted_origin_shares,
)
from supplychain.engine import trace as trace_module
from supplychain.errors import EngineError, ScenarioError
from supplychain.graph import build_tables
from supplychain.metrics.measures import compute_measures, origin_by_node, traced_share_by_node
from supplychain.schema.model import Scenario

YEAR = 2024


def scenario(**sections: Any) -> Scenario:
    data: dict[str, Any] = {
        "scenario": {"name": "trace", "base_year": YEAR},
        "commodities": {
            "ore": {"name": "REE concentrate", "stage": "ore", "basis": "t REO"},
            "oxide": {"name": "NdPr oxide", "stage": "oxide", "basis": "t REO"},
            "y": {"name": "Y", "stage": "oxide"},
        },
        "processes": {"sep": {"inputs": {"ore": 2}, "outputs": {"oxide": 1}}},
    }
    data.update(sections)
    return Scenario.model_validate(data)


def mine(country: str, tonnes: float, **extra: Any) -> dict[str, Any]:
    return {"name": f"{country} mine", "country": country, "kind": "mine", "output": "ore",
            "production": {YEAR: tonnes}, **extra}


def separation(country: str, tonnes: float) -> dict[str, Any]:
    return {"name": f"{country} separation", "country": country, "kind": "separation", "process": "sep",
            "production": {YEAR: tonnes}}


def flow(supplier: str, buyer: str, tonnes: float, commodity: str = "ore") -> dict[str, Any]:
    return {"supplier": supplier, "buyer": buyer, "commodity": commodity, "year": YEAR, "tonnes": tonnes}


def value(measures: pd.DataFrame, country: str, commodity: str, metric: str, partner: str = "") -> float:
    rows = measures.loc[measures["country"].eq(country) & measures["commodity"].eq(commodity)
                        & measures["metric"].eq(metric) & measures["partner"].eq(partner), "value"]
    assert len(rows) == 1, (country, commodity, metric, partner, len(rows))
    return float(rows.iloc[0])


# ------------------------------------------------------------ (a) three stages
@pytest.fixture(scope="module")
def chain() -> Scenario:
    """Mines in China (150 t) and Australia (50 t) → separation in Japan and Malaysia → US.

    * Malaysia's plant makes 20 t of oxide from 40 t of ore, all of it observed coming
      from Australia (``au_my``).
    * Japan's plant makes 30 t of oxide from 60 t of ore whose origin is not observed.
      Allocation (tests/test_graph.py) splits it over the spare output, China 150 t and
      Australia 50 − 40 = 10 t: 56.25 t from China, 3.75 t from Australia.
    * The US imports 20 t of oxide from Japan and 10 t from Malaysia.
    """
    return scenario(
        facilities={"cn_mine": mine("CN", 150), "au_mine": mine("AU", 50),
                    "jp_sep": separation("JP", 30), "my_sep": separation("MY", 20)},
        flows={"au_my": flow("AU", "MY", 40), "jp_us": flow("JP", "US", 20, "oxide"),
               "my_us": flow("MY", "US", 10, "oxide")},
    )


def test_chain_direct_share_is_zero_but_traced_share_is_not(chain: Scenario) -> None:
    """Hand derivation.

    Traced China share ``t`` (docs/domain.md item 3):
    t(JP:ore) = 56.25 / 60 = 0.9375 = t(jp_sep) = t(JP:oxide) (a single input each);
    t(MY:ore) = 0 (all from Australia), so t(MY:oxide) = 0;
    t(US:oxide) = (20 · 0.9375 + 10 · 0) / 30 = 18.75 / 30 = 0.625.
    The US imports nothing from China: direct share 0 < 0.625.
    """
    m = compute_measures(chain, YEAR, source="CN")
    assert value(m, "US", "oxide", "direct_import_share") == 0.0
    assert value(m, "US", "oxide", "direct_share_of_consumption") == 0.0
    assert value(m, "US", "oxide", "traced_share") == pytest.approx(0.625, abs=1e-12)
    assert value(m, "JP", "oxide", "traced_share") == pytest.approx(0.9375, abs=1e-12)
    assert value(m, "MY", "oxide", "traced_share") == pytest.approx(0.0, abs=1e-12)
    assert value(m, "CN", "ore", "traced_share") == 1.0
    # the same through the per-node helper
    nodes, edges = build_tables(chain, YEAR)
    t = traced_share_by_node(nodes, edges, {"CN"})
    assert t["jp_sep"] == pytest.approx(0.9375)
    assert t["US:oxide:surplus"] == pytest.approx(0.625)


def test_chain_origin_by_mining_and_processing_country(chain: Scenario) -> None:
    """Hand derivation.

    Mined: US oxide is 20/30 Japanese oxide (0.9375 Chinese ore, 0.0625 Australian) and
    10/30 Malaysian oxide (all Australian ore) → China 2/3 · 0.9375 = 0.625, Australia
    2/3 · 0.0625 + 1/3 = 0.375. Separated: Japan 20/30 = 2/3, Malaysia 1/3.
    """
    m = compute_measures(chain, YEAR)
    assert value(m, "US", "oxide", "origin_share_mining", "CN") == pytest.approx(0.625)
    assert value(m, "US", "oxide", "origin_share_mining", "AU") == pytest.approx(0.375)
    assert value(m, "US", "oxide", "origin_share_processing", "JP") == pytest.approx(2 / 3)
    assert value(m, "US", "oxide", "origin_share_processing", "MY") == pytest.approx(1 / 3)
    # oxide is all processed: no "unprocessed" remainder; ore markets get no processing rows
    proc = m.loc[m["metric"].eq("origin_share_processing")]
    assert not proc["partner"].eq("unprocessed").any()
    assert not proc["commodity"].eq("ore").any()


def test_source_as_group_and_as_list(chain: Scenario) -> None:
    """Australia + China together mine everything: the traced share of US oxide is 1.

    The traced share from Japan alone is 2/3 (the Japanese oxide); as a group of
    "everyone not allied" with ALLIES = {US, JP, AU}, the source is {CN, MY}:
    t(US:oxide) = (20 · 0.9375 + 10 · 1) / 30 = 28.75 / 30.
    """
    with_groups = chain.model_copy(update={"groups": chain.model_validate(
        {"scenario": {"name": "g", "base_year": YEAR},
         "groups": {"ALLIES": {"members": ["US", "JP", "AU"]},
                    "NOT_ALLIED": {"members": ["ALLIES"], "complement_of": "ALLIES"}}}).groups})
    assert value(compute_measures(chain, YEAR, source=["CN", "AU"]), "US", "oxide", "traced_share") == \
        pytest.approx(1.0)
    assert value(compute_measures(chain, YEAR, source="JP"), "US", "oxide", "traced_share") == \
        pytest.approx(2 / 3)
    m = compute_measures(with_groups, YEAR, source="NOT_ALLIED")
    assert value(m, "US", "oxide", "traced_share") == pytest.approx(28.75 / 30)
    assert set(m.loc[m["metric"].eq("traced_share"), "source_country"]) == {"NOT_ALLIED"}


# ------------------------------------------------------------ (b) loops
@pytest.fixture(scope="module")
def reexport() -> Scenario:
    """China → Hong Kong → China re-exports.

    China mines 100 t, Australia 50 t. Hong Kong imports 30 t from China and 20 t from
    Australia, re-exports 10 t to China and 20 t to the US (and uses 20 t). China's market
    holds 100 + 10 = 110 t.
    """
    return scenario(
        facilities={"cn_mine": mine("CN", 100), "au_mine": mine("AU", 50)},
        flows={"cn_hk": flow("CN", "HK", 30), "au_hk": flow("AU", "HK", 20), "hk_cn": flow("HK", "CN", 10),
               "hk_us": flow("HK", "US", 20)},
    )


def test_reexport_loop_traced_share(reexport: Scenario) -> None:
    """t(CN:ore) = 1 (in China) → t(HK:ore) = 30/50 = 0.6 → t(US:ore) = 0.6.

    With Australia as the source the loop matters: t(AU:ore) = 1,
    t(CN:ore) = 10 t(HK)/110 and t(HK) = (30 t(CN) + 20)/50, so
    t(HK) (50 − 300/110) = 20 → t(HK) = 220/520 = 11/26.
    """
    m = compute_measures(reexport, YEAR, source="CN")
    assert value(m, "HK", "ore", "traced_share") == pytest.approx(0.6)
    assert value(m, "US", "ore", "traced_share") == pytest.approx(0.6)
    m_au = compute_measures(reexport, YEAR, source="AU")
    assert value(m_au, "US", "ore", "traced_share") == pytest.approx(11 / 26, abs=1e-12)
    assert value(m_au, "CN", "ore", "traced_share") == pytest.approx(10 / 110 * 11 / 26, abs=1e-12)


def test_reexport_loop_mining_origin(reexport: Scenario) -> None:
    """Chinese-mined share c of CN:ore and h of HK:ore.

    c = (100 + 10 h)/110, h = 30 c/50 = 0.6 c → 110 c = 100 + 6 c → c = 100/104 = 25/26,
    h = 15/26; Australia's share of US ore = 1 − h = 11/26. The direct import share of
    the US from China is 0 (it buys from Hong Kong).
    """
    m = compute_measures(reexport, YEAR)
    assert value(m, "CN", "ore", "origin_share_mining", "CN") == pytest.approx(25 / 26, abs=1e-12)
    assert value(m, "US", "ore", "origin_share_mining", "CN") == pytest.approx(15 / 26, abs=1e-12)
    assert value(m, "US", "ore", "origin_share_mining", "AU") == pytest.approx(11 / 26, abs=1e-12)
    assert value(m, "US", "ore", "direct_import_share") == 0.0


def test_closed_loop_is_an_engine_error_naming_its_nodes() -> None:
    """Hong Kong and Singapore pass 10 t of Y to each other and nobody produces any.

    Both markets balance (10 t in, 10 t out), but the material has no origin: the loop
    system is singular. The error names both nodes and both flows, and locates the flows.
    """
    s = scenario(flows={"hk_sg": flow("HK", "SG", 10, "y"), "sg_hk": flow("SG", "HK", 10, "y")})
    nodes, edges = build_tables(s, YEAR)  # balanced: not a ScenarioError
    with pytest.raises(EngineError, match=r"closed loop: HK:y, SG:y .*edges: flows\.hk_sg, flows\.sg_hk") as info:
        compute_measures(s, YEAR)
    cause = info.value.__cause__
    assert isinstance(cause, ScenarioError)
    assert {p.path for p in cause.problems} == {("flows", "hk_sg"), ("flows", "sg_hk")}
    with pytest.raises(EngineError, match="closed loop"):
        compile_tables(nodes, edges)


# ------------------------------------------------------------ (c) ownership
@pytest.mark.parametrize(
    ("owners", "expected"),
    [
        ([{"name": "Shenghe", "country": "CN", "stake": 0.49}], {"CN": 0.49, "unattributed": 0.51}),
        ([{"name": "Shenghe", "country": "CN", "stake": 0.49}, {"name": "Local", "country": "AU", "stake": 0.51}],
         {"CN": 0.49, "AU": 0.51}),
    ],
)
def test_owner_share_of_a_mine_owned_49_percent_by_a_chinese_company(
    owners: list[dict[str, Any]], expected: dict[str, float]
) -> None:
    """All US ore comes from one Australian mine, 49 % Chinese-owned: owner share 0.49."""
    s = scenario(facilities={"au_mine": mine("AU", 100, owners=owners)}, flows={"au_us": flow("AU", "US", 100)})
    m = compute_measures(s, YEAR)
    got = m.loc[m["country"].eq("US") & m["metric"].eq("owner_share")].set_index("partner")["value"].to_dict()
    assert got == pytest.approx(expected)
    assert value(m, "US", "ore", "traced_share") == 0.0  # mined and traded outside China


# ------------------------------------------------------------ engine on arrays
def test_compile_convention_a_matrix_and_levels() -> None:
    """a(u, v) = f(u→v) / (p(v) + Σ f): a market with 30 t of own output and 10 t imported."""
    cg = compile_arrays(3, [0, 1], [2, 2], [10.0, 5.0], [0.0, 0.0, 15.0], node_ids=["a", "b", "m"])
    a = pd.DataFrame(cg.A.toarray(), index=cg.nodes, columns=cg.nodes)
    assert a.loc["a", "m"] == pytest.approx(10 / 30)
    assert a.loc["b", "m"] == pytest.approx(5 / 30)
    assert cg.primary_share[cg.positions(["m"])[0]] == pytest.approx(0.5)
    assert np.allclose(cg.At.toarray(), cg.A.toarray().T)
    assert [(lv.start, lv.stop) for lv in cg.levels] == [(0, 2), (2, 3)]
    assert not cg.cyclic


def test_compile_refuses_bad_input() -> None:
    with pytest.raises(EngineError, match="flows must be finite and >= 0"):
        compile_arrays(2, [0], [1], [-1.0])
    with pytest.raises(EngineError, match="node numbers"):
        compile_arrays(2, [0], [5], [1.0])
    with pytest.raises(EngineError, match="not in the node table"):
        compile_tables(pd.DataFrame({"node": ["a"], "primary": [1.0]}),
                       pd.DataFrame({"edge": ["e"], "supplier": ["a"], "buyer": ["zz"], "tonnes": [1.0]}))


def test_self_loop_and_fully_closed_self_loop() -> None:
    # a market re-importing 20 % of its own throughput: t = 1 for the mine, its share passes on
    cg = compile_arrays(2, [0, 1], [1, 1], [80.0, 20.0], [80.0, 0.0])
    assert cg.cyclic
    assert traced_share(cg, np.array([True, False])).tolist() == pytest.approx([1.0, 1.0])
    with pytest.raises(EngineError, match="closed loop"):
        compile_arrays(1, [0], [0], [5.0])


def _random_network(rng: np.random.Generator, n: int, m: int, loops: bool) -> tuple[Any, ...]:
    src = rng.integers(0, n, m)
    dst = rng.integers(0, n, m)
    if not loops:
        lo, hi = np.minimum(src, dst), np.maximum(src, dst)
        keep = lo != hi
        src, dst = lo[keep], hi[keep]
    w = rng.uniform(0.1, 10.0, len(src))
    primary = np.where(rng.random(n) < 0.3, rng.uniform(1.0, 20.0, n), 0.0)
    # every node without an inflow produces something, so every share has an origin
    no_inflow = np.bincount(dst, minlength=n) == 0
    primary[no_inflow] = rng.uniform(1.0, 20.0, int(no_inflow.sum()))
    return src, dst, w, primary


def _dense_reference(n: int, src: Any, dst: Any, w: Any, primary: Any, fixed: Any, rhs: Any) -> Any:
    inflow = primary + np.bincount(dst, weights=w, minlength=n)
    a = np.zeros((n, n))
    np.add.at(a, (src, dst), w / inflow[dst])
    at = a.T * (~fixed)[:, None]
    return np.linalg.solve(np.eye(n) - at, rhs)


@pytest.mark.parametrize("loops", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_solvers_match_a_dense_solve(seed: int, loops: bool) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    src, dst, w, primary = _random_network(rng, n, 240, loops)
    cg = compile_arrays(n, src, dst, w, primary)
    perm = cg.order  # solve position -> input index
    in_src = rng.random(n) < 0.2
    expected = _dense_reference(n, src, dst, w, primary, in_src, in_src.astype(float))
    got = traced_share(cg, in_src[perm])
    assert got == pytest.approx(expected[perm], abs=1e-12)
    # mining origin: rhs = π one-hot by a label; rows with inflow sum to 1
    labels = np.array(["A", "B", "C"])[rng.integers(0, 3, n)]
    origin = np.where(primary > 0, labels, "")
    shares, cols = origin_shares(cg, origin[perm])
    inflow = primary + np.bincount(dst, weights=w, minlength=n)
    pi = np.divide(primary, inflow, out=np.zeros(n), where=inflow > 0)
    rhs = np.zeros((n, len(cols)))
    for j, c in enumerate(cols):
        rhs[:, j] = pi * (origin == c)
    ref = _dense_reference(n, src, dst, w, primary, np.zeros(n, bool), rhs)
    assert shares == pytest.approx(ref[perm], abs=1e-12)
    assert shares.sum(axis=1)[inflow[perm] > 0] == pytest.approx(1.0, abs=1e-12)


def test_iterative_loop_solver_matches_lu(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force the fixed-point path for every loop and compare with the LU path."""
    rng = np.random.default_rng(7)
    n = 200
    src, dst, w, primary = _random_network(rng, n, 900, loops=True)
    country = rng.integers(0, 5, n)
    cg_lu = compile_arrays(n, src, dst, w, primary)
    lu = traced_shares(cg_lu, country[cg_lu.order], 5)
    monkeypatch.setattr(trace_module, "DIRECT_MAX", 0)
    cg_it = compile_arrays(n, src, dst, w, primary)
    it = traced_shares(cg_it, country[cg_it.order], 5)
    assert it == pytest.approx(lu, abs=1e-11)
    # and every column equals the single-source solve
    for c in range(5):
        assert lu[:, c] == pytest.approx(traced_share(cg_lu, country[cg_lu.order] == c), abs=1e-12)


def test_float32_is_close_to_float64() -> None:
    rng = np.random.default_rng(3)
    n = 300
    src, dst, w, primary = _random_network(rng, n, 2000, loops=True)
    cg = compile_arrays(n, src, dst, w, primary)
    origin = np.where(cg.primary > 0, np.array(["A", "B", "C", "D"])[rng.integers(0, 4, n)], "")
    s64, _ = origin_shares(cg, origin)
    s32, _ = origin_shares(cg, origin, dtype=np.float32)
    assert s32.dtype == np.float32
    assert np.abs(s32 - s64).max() < 1e-5


def test_weighted_origin_shares_fixed_nodes_ignore_their_inputs() -> None:
    # ore (0) -> plant (1) -> market (2); the plant is fixed to 60 % X, 40 % Y
    cg = compile_arrays(3, [0, 1], [1, 2], [10.0, 5.0], [10.0, 0.0, 0.0])
    pos = cg.positions([1])[0]
    shares = weighted_origin_shares(cg, [pos, pos], [0, 1], [0.6, 0.4], 2, fixed=True)
    assert shares[cg.positions([2])[0]].tolist() == pytest.approx([0.6, 0.4])
    assert shares[cg.positions([0])[0]].tolist() == [0.0, 0.0]


def test_solve_shares_refuses_values_outside_zero_one() -> None:
    cg = compile_arrays(2, [0], [1], [1.0], [1.0, 0.0])
    with pytest.raises(EngineError, match=r"left \[0, 1\]"):
        solve_shares(cg, np.array([2.0, 0.0]))
    assert solve_shares(cg, np.array([2.0, 0.0]), check=False).tolist() == [2.0, 2.0]
    # round-off is clipped, not refused
    assert solve_shares(cg, np.array([1.0 + 1e-12, 0.0])).tolist() == [1.0, 1.0]


def test_origin_by_node_kinds(reexport: Scenario) -> None:
    nodes, edges = build_tables(reexport, YEAR)
    cg = compile_tables(nodes, edges)
    mining = origin_by_node(cg, nodes, "mining")
    assert mining.loc["US:ore"].to_dict() == pytest.approx({"AU": 11 / 26, "CN": 15 / 26})
    with pytest.raises(ValueError, match="kind must be"):
        origin_by_node(cg, nodes, "smelting")


def test_cache_blocks_give_the_same_shares(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cutting a level's mat-vec into blocks of supplier rows changes nothing but speed."""
    from supplychain.engine import compile as compile_module

    rng = np.random.default_rng(11)
    n = 400
    src, dst, w, primary = _random_network(rng, n, 3000, loops=False)
    plain = compile_arrays(n, src, dst, w, primary)
    monkeypatch.setattr(compile_module, "BLOCK_ROWS", 8)
    blocked = compile_arrays(n, src, dst, w, primary)
    assert any(lv.ext_blocks for lv in blocked.levels)
    assert not any(lv.ext_blocks for lv in plain.levels)
    origin = np.where(primary > 0, np.array(["A", "B", "C"])[rng.integers(0, 3, n)], "")
    a, _ = origin_shares(plain, origin[plain.order])
    b, _ = origin_shares(blocked, origin[blocked.order])
    assert b == pytest.approx(a, abs=1e-13)
