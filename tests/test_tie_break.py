"""The deviation level's tie-break is keyed on quantities, never on the spelling of ids (review 6, R-4).

``docs/rebalance.md``, "Tie-break"; :func:`supplychain.simulation.levels.tie_ranks`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import supplychain as sc
from supplychain.schema.model import Scenario
from supplychain.simulation.levels import id_hash, tie_ranks
from supplychain.simulation.rebalance import RebalanceModel
from tests.conftest import REPO
from tests.test_rebalance import NAN, table


def two_plants(big: str, small: str, k_big: float, k_small: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """CN's mine sells 150 t to the US; two US mines, ``big`` (capacity ``k_big``) and ``small``, make 50 and 25 t.

    US demand 225 t; every id of a US mine's edge carries the mine's name, so a renaming renames the edges too.
    """
    return table(
        [("cn_mine", "facility", "CN", "x", 150.0), (big, "facility", "US", "x", k_big),
         (small, "facility", "US", "x", k_small),
         ("CN:x", "market", "CN", "x", NAN), ("US:x", "market", "US", "x", NAN), ("US:x:use", "use", "US", "x", NAN)],
        [("s_cn", "cn_mine", "CN:x", 150, "supply"), (f"s_{big}", big, "US:x", 50, "supply"),
         (f"s_{small}", small, "US:x", 25, "supply"), ("t_cn_us", "CN:x", "US:x", 150, "trade"),
         ("u_us", "US:x", "US:x:use", 225, "use")],
    )


def output_after_ban(big: str, small: str, k_big: float, k_small: float) -> tuple[float, float]:
    """Return what ``big`` and ``small`` make (t) once CN's 150 t to the US are banned (``rebalance``)."""
    nodes, edges = two_plants(big, small, k_big, k_small)
    m = RebalanceModel(nodes, edges)
    inp = m.year_inputs(nodes, edges, blocked={"t_cn_us": 1.0})
    sol = m.solve(inp)
    flow = dict(zip(m.edges["edge"], sol.tonnes, strict=True))
    assert m.shortfall(inp, sol).sum() == pytest.approx(0.0, abs=1e-9)
    return flow[f"s_{big}"], flow[f"s_{small}"]


@pytest.mark.parametrize(("big", "small"), [("a_mine", "b_mine"), ("b_mine", "a_mine"), ("zz_enim", "mine_0")])
def test_of_two_plants_equally_close_to_the_baseline_the_larger_one_grows_first_whatever_their_names(
        big: str, small: str) -> None:
    # Hand-worked. The ban removes CN's 150 t; the US mines have 200 − 50 = 150 t and 100 − 25 = 75 t spare, so
    # the gap is filled with no shortfall, no stock, no cost and nothing unsold (CN's mine is curtailed), and every
    # split (g_big, 150 − g_big), 0 ≤ g_big ≤ 150, deviates by the same |−150| (t_cn_us) + |−150| (s_cn) + 150 (the
    # two supply edges together) = 450 t over the commodity's baseline tonnes: level 5 is tied. The tie-break
    # (tie_ranks) keys an edge on (capacity of its facility end, its baseline, its supplier's baseline outflow,
    # its buyer's baseline inflow): s_big (200, 50, 50, 225) ranks above s_small (100, 25, 25, 225), so a tonne
    # above its baseline weighs 1 + τ r_hi with r_hi(s_big) < r_hi(s_small): the larger plant grows first,
    # to its capacity: 50 + 150 = 200 t, the small one stays at 25 t. On main the factor was 1 + τ·CRC-32(id),
    # and which of s_a_mine / s_b_mine grew first depended on which mine was called "a".
    g_big, g_small = output_after_ban(big, small, 200.0, 100.0)
    assert g_big == pytest.approx(200.0)
    assert g_small == pytest.approx(25.0)


def test_capacities_two_to_one_the_same_outputs_under_either_name() -> None:
    # The same world with the names swapped: the plant of capacity 200 t makes 200 t in both (above), so the
    # outputs per plant, not per name, are the same.
    assert output_after_ban("a_mine", "b_mine", 200.0, 100.0) == pytest.approx(output_after_ban(
        "b_mine", "a_mine", 200.0, 100.0))


def test_identical_plants_split_by_the_hash_only_which_one_runs_moves_with_the_names() -> None:
    # Hand-worked. Two US mines alike in every key (capacity 150 t, baseline 50 t each), US demand 250 t,
    # CN's 150 t banned: spare 100 + 100 = 200 t ≥ 150 t, every split deviates alike (as above). The keys tie, so
    # the hash of the edge ids orders the two (the only case it decides, docs/rebalance.md "Tie-break"): the one
    # whose s_ edge hashes lower grows to its capacity (50 + 100 = 150 t), the other takes the rest
    # (50 + 50 = 100 t). Renamed, the two outputs may swap between the names; the pair {100, 150} does not.
    def world(p: str, q: str) -> tuple[float, float]:
        nodes, edges = table(
            [("cn_mine", "facility", "CN", "x", 150.0), (p, "facility", "US", "x", 150.0),
             (q, "facility", "US", "x", 150.0),
             ("CN:x", "market", "CN", "x", NAN), ("US:x", "market", "US", "x", NAN),
             ("US:x:use", "use", "US", "x", NAN)],
            [("s_cn", "cn_mine", "CN:x", 150, "supply"), (f"s_{p}", p, "US:x", 50, "supply"),
             (f"s_{q}", q, "US:x", 50, "supply"), ("t_cn_us", "CN:x", "US:x", 150, "trade"),
             ("u_us", "US:x", "US:x:use", 250, "use")],
        )
        m = RebalanceModel(nodes, edges)
        sol = m.solve(m.year_inputs(nodes, edges, blocked={"t_cn_us": 1.0}))
        flow = dict(zip(m.edges["edge"], sol.tonnes, strict=True))
        return flow[f"s_{p}"], flow[f"s_{q}"]

    for p, q in [("a_mine", "b_mine"), ("b_mine", "a_mine")]:
        assert sorted(world(p, q)) == pytest.approx([100.0, 150.0])


def test_tie_ranks_order_by_keys_and_use_the_hash_only_within_equal_keys() -> None:
    keys = np.array([[200.0, 50.0], [100.0, 25.0], [100.0, 25.0], [0.0, 0.0]])
    lo, hi = tie_ranks(keys, id_hash(["e1", "e2", "e3", "e4"]))
    # ranks 2, 1, 1, 0 of R = 3 distinct keys: r_lo = (ρ + h/2)/3, r_hi = (2 − ρ + h/2)/3
    assert lo[0] > max(lo[1], lo[2])
    assert min(lo[1], lo[2]) > lo[3]
    assert hi[0] < min(hi[1], hi[2])
    assert max(hi[1], hi[2]) < hi[3]
    assert np.all((lo >= 0) & (lo < 1) & (hi >= 0) & (hi < 1))
    # reordering or renaming the columns moves no rank but among the two with equal keys
    lo2, _ = tie_ranks(keys[::-1], id_hash(["x4", "x3", "x2", "x1"]))
    assert lo2[3] == pytest.approx(lo[0], abs=0.5 / 3)
    assert lo2[0] == pytest.approx(lo[3], abs=0.5 / 3)
    assert lo2[3] > max(lo2[1], lo2[2]) > lo2[0]


def rename(s: Scenario) -> tuple[Scenario, dict[str, str]]:
    """Every facility id x → ``zz_`` + reversed(x), every flow/import/demand/stockpile/policy id → ``q_`` + id.

    References are rewritten and the scenario re-validated (review 6's ``p6_rename.py``).
    """
    data = s.model_dump(mode="python", exclude_unset=True)
    mp: dict[str, str] = {}
    for sec in ["facilities", "flows", "imports", "demand", "stockpiles", "policies"]:
        for k in getattr(s, sec):
            mp[k] = "zz_" + k[::-1] if sec == "facilities" else "q_" + k

    def walk(x: Any) -> Any:
        if isinstance(x, dict):
            return {(mp.get(k, k) if isinstance(k, str) else k): walk(v) for k, v in x.items()}
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, str) and x in mp:
            return mp[x]
        return x

    return Scenario.model_validate(walk(data)), mp


def test_renaming_every_id_of_a_bundled_scenario_moves_no_shortfall_and_no_plant() -> None:
    # china_full_ban_2025, full_ban, rebalance. On main (CRC-32 of the ids) the renamed scenario ran MP's
    # Independence plant at 40 t instead of 800 t in 2028 and USA Rare Earth's Stillwater plant at 960 t
    # instead of 200 t, and Malaysia's own mine at 0 t instead of 130 t (review 6, R-4).
    base = sc.load(REPO / "scenarios" / "china_full_ban_2025.yaml")
    renamed, mp = rename(base)
    back = {v: k for k, v in mp.items()}
    r0 = sc.simulate(base, variant="full_ban", mode="rebalance")
    r1 = sc.simulate(renamed, variant="full_ban", mode="rebalance")
    key = ["year", "node"]
    s0 = r0.shortfall.set_index(key)["shortfall"].sort_index()
    s1 = r1.shortfall.set_index(key)["shortfall"].sort_index()
    assert np.allclose(s0.to_numpy(), s1.to_numpy(), atol=1e-6)
    u0 = r0.utilisation.set_index(["year", "facility"])[["output", "utilisation"]].sort_index()
    u1 = r1.utilisation.assign(facility=r1.utilisation["facility"].map(lambda f: back.get(f, f)))
    u1 = u1.set_index(["year", "facility"])[["output", "utilisation"]].sort_index()
    assert list(u0.index) == list(u1.index)
    assert np.allclose(u0.to_numpy(dtype=float), u1.to_numpy(dtype=float), atol=1e-6, equal_nan=True)
