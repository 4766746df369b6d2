"""Spare capacity meets what a later year's paths leave short (supplychain.graph.spare), hand-worked."""

from __future__ import annotations

from typing import Any

import pytest

from supplychain.errors import ScenarioError
from supplychain.graph.build import build_tables
from supplychain.schema.model import Scenario


def two_stage_world(*, ore_capacity: float = 260, magnets_2024: float = 100,
                    kind: str = "aggregate") -> Scenario:
    """China mines ore (``cn_ore``) and makes magnets from it (``cn_mag``, 2 t ore per t of magnet).

    Both are aggregates with a path of 2024 and 2025: ore 200 t both years (capacity ``ore_capacity``),
    magnets ``magnets_2024`` t in 2024 and 100 t in 2025 (capacity 150). Magnet demand: China 50 t flat, the
    US 50 t in 2024 growing 20 % (60 t in 2025); China sold the US 50 t in 2024.
    """
    fac: dict[str, Any] = {
        "cn_ore": {"name": "CN ore", "country": "CN", "kind": kind, "output": "ore",
                   "production": {2024: 200, 2025: 200}, "capacity": ore_capacity},
        "cn_mag": {"name": "CN magnets", "country": "CN", "kind": kind, "process": "sinter",
                   "production": {2024: magnets_2024, 2025: 100}, "capacity": 150},
    }
    return Scenario.model_validate({
        "scenario": {"name": "hand", "base_year": 2024, "horizon": 2025},
        "commodities": {"ore": {"name": "Ore", "stage": "ore"}, "mag": {"name": "Magnets", "stage": "magnet"}},
        "processes": {"sinter": {"inputs": {"ore": 2}, "outputs": {"mag": 1}}},
        "facilities": fac,
        "demand": {"cn_use": {"country": "CN", "commodity": "mag", "year": 2024, "tonnes": 50},
                   "us_use": {"country": "US", "commodity": "mag", "year": 2024, "tonnes": 50, "growth": 0.2}},
        "flows": {"cn_us": {"supplier": "CN", "buyer": "US", "commodity": "mag", "year": 2024, "tonnes": 50}},
    })


def test_spare_capacity_meets_demand_above_the_paths_up_the_chain() -> None:
    # 2025 on the paths: China makes 100 t of magnets, the world wants 50 + 50 x 1.2 = 110 t. The pattern
    # carries China's surplus (100 - 50 = 50 t, all exported in 2024) to the US, which is 60 t short of its own:
    # the US market is short 10 t (main raised here: "market US:mag is short in 2025").
    # Pass 1: D_mag = 10; cn_mag is the one spare producer (c = 1, room 150 - 100 = 50 t):
    #   p' = 100 + min(1, 10/50) x 50 = 110 t of magnets, which needs 2 x 110 = 220 t of ore.
    # Pass 2: China's ore market is short 220 - 200 = 20 t; cn_ore (room 260 - 200 = 60 t):
    #   p' = 200 + min(1, 20/60) x 60 = 220 t.
    # Pass 3: nothing short. China exports 110 - 50 = 60 t of magnets: the US gets its 60 t.
    nodes, edges = build_tables(two_stage_world(), 2025)
    production = nodes.set_index("node")["production"]
    assert production["cn_mag"] == pytest.approx(110.0)
    assert production["cn_ore"] == pytest.approx(220.0)
    into_us = edges[(edges["buyer"] == "US:mag") & (edges["supplier"] == "CN:mag")]["tonnes"].sum()
    assert into_us == pytest.approx(60.0)
    use = edges.set_index("edge")["tonnes"]
    assert use["demand.us_use"] == pytest.approx(60.0)
    assert use["demand.cn_use"] == pytest.approx(50.0)


def test_what_capacity_cannot_meet_is_still_reported() -> None:
    # Ore capacity 210 t: pass 2 raises ore by min(1, 20/10) x 10 = 10 t only; China's ore market stays
    # 220 - 210 = 10 t short, with no room left anywhere: the base network reports it as before.
    with pytest.raises(ScenarioError, match="market CN:ore is short in 2025"):
        build_tables(two_stage_world(ore_capacity=210), 2025)


def test_the_base_year_and_named_plants_keep_their_given_outputs() -> None:
    # The base year is a record: 2024 with only 90 t of magnets (China 50 t, the US 50 t of demand; 90 t made)
    # is 10 t short, room or not.
    with pytest.raises(ScenarioError, match="is short in 2024"):
        build_tables(two_stage_world(magnets_2024=90), 2024)
    # A named plant's path (kind magnet, not aggregate) is its operator's plan: 2025 stays 10 t short.
    with pytest.raises(ScenarioError, match="market US:mag is short in 2025"):
        build_tables(two_stage_world(kind="magnet"), 2025)


def test_a_world_that_balances_is_not_changed() -> None:
    # US demand flat (50 t): 2025 is 2024 again, nothing is short, the paths stand (100 t, 200 t).
    s = two_stage_world()
    flat = s.model_copy(update={"demand": {**s.demand, "us_use": s.demand["us_use"].model_copy(update={
        "growth": None})}})
    nodes, _ = build_tables(flat, 2025)
    production = nodes.set_index("node")["production"]
    assert (production["cn_mag"], production["cn_ore"]) == (100.0, 200.0)
