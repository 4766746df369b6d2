"""An offtake the response cannot meet is a ScenarioError at its key path, not a bare SolverError (by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from supplychain.api import load, simulate
from supplychain.errors import ScenarioError
from supplychain.schema.model import Scenario
from tests.test_surplus_deviation import surplus_world


def market_offtake() -> dict[str, Any]:
    """surplus_world + agreement kj: KR's market commits 500 t/yr of oxide to JP from 2025.

    KR's market has 50 t of oxide a year (kr_sep, capacity 50 t, the only supply in KR): 500 t cannot reach JP.
    An offtake from a country's market is not cut to what its plant can make (it has no plant), so its floor is
    the full 500 t (φ = 1 from 1 January 2025), against at most 50 t of supply.
    """
    data = surplus_world().model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["agreements"] = {"kj": {"name": "KR-JP", "parties": ["KR", "JP"], "start": "2025-01-01", "offtakes": [
        {"supplier": "KR", "buyer": "JP", "commodity": "oxide", "start_year": 2025, "quantity_per_year": 500}]}}
    return data


def test_an_offtake_from_a_market_without_the_supply_is_a_scenario_error() -> None:
    with pytest.raises(ScenarioError) as err:
        simulate(Scenario.model_validate(market_offtake()), mode="rebalance")
    (p,) = err.value.problems
    assert p.path[:4] == ("agreements", "kj", "offtakes", 0)
    assert p.message == ("offtake 0 of agreement kj cannot be met in 2025: it commits 500 t of oxide from KR:oxide "
                         "to JP, more than the response can deliver to it")
    assert "quantity_per_year" in p.hint


def test_the_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "unmet.yaml"
    path.write_text(yaml.safe_dump(market_offtake(), sort_keys=False), encoding="utf-8")
    with pytest.raises(ScenarioError) as err:
        simulate(load(path), mode="rebalance")
    (p,) = err.value.problems
    assert Path(p.file).name == "unmet.yaml"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert "quantity_per_year" in lines[p.line - 1]


def test_an_offtake_from_a_plant_whose_feed_is_banned_is_a_scenario_error() -> None:
    # surplus_world + a JP plant (capacity 100 t of oxide, process sep: 2 t of ore per t) that made 50 t in 2024
    # from 100 t of AU ore (AU's mine makes 2,100 t), + an AU export ban on ore from 2025, + agreement jk: the
    # JP plant commits 50 t/yr to KR from 2025. Its capacity is there (M = 100 t ≥ 50 t: the floor is not cut),
    # but AU's mine is the only ore and its exports are banned: the plant can make nothing, and the 50 t cannot
    # be met.
    data = surplus_world().model_dump(mode="json", by_alias=True, exclude_unset=True)
    data["facilities"]["jp_sep"] = {"name": "JP separation", "country": "JP", "kind": "separation", "process": "sep",
                                    "capacity": 100, "production": {2024: 50, 2025: 50}}
    data["facilities"]["au_mine"]["production"] = {2024: 2100, 2025: 2100}  # + the 100 t of ore to jp_sep
    for y in (2024, 2025):
        data["flows"][f"ore_jpsep_{y}"] = {"supplier": "AU", "buyer": "jp_sep", "commodity": "ore", "year": y,
                                           "tonnes": 100}
        data["flows"][f"jpsep_jp_{y}"] = {"supplier": "jp_sep", "buyer": "JP", "commodity": "oxide", "year": y,
                                          "tonnes": 50}
    data["policies"]["au_ore"] = {"type": "export_ban", "country": "AU", "start": "2025-01-01",
                                  "covers": {"commodities": ["ore"]}}
    data["agreements"] = {"jk": {"name": "JP-KR", "parties": ["JP", "KR"], "start": "2025-01-01", "offtakes": [
        {"supplier": "jp_sep", "buyer": "KR", "commodity": "oxide", "start_year": 2025, "quantity_per_year": 50}]}}
    with pytest.raises(ScenarioError) as err:
        simulate(Scenario.model_validate(data), mode="rebalance")
    (p,) = err.value.problems
    assert p.path[:4] == ("agreements", "jk", "offtakes", 0)
    assert p.message == ("offtake 0 of agreement jk cannot be met in 2025: it commits 50 t of oxide from jp_sep "
                         "to KR, more than the response can deliver to it")
