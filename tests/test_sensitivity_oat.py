"""One at a time: the default measures are the Monte Carlo's, and only inputs that move a measure get a rank.

Review 8, U-10. The world is ``tests/data/cli/small.yaml`` (China 2,000 t and Malaysia 1,000 t of NdPr
oxide to the US, whose demand is 3,000 t; a Chinese export ban from September 2025; the target
``us_ndpr_25`` reads the US ``exposed_share``), with the ban drawn on/off and Malaysia's flow to Japan
uncertain (800–1,000 t). In 2030, mode ``fixed`` (nothing re-routed):

* ban off: the US receives 2,000 t from China and 1,000 t from Malaysia (made from Australian
  concentrate): traced China share 2,000 / 3,000 = 2/3, shortfall 0, exposed share 2/3 + 0 = 2/3;
* ban on: the Chinese 2,000 t are blocked; the US receives 1,000 t, none Chinese: traced share 0,
  shortfall (3,000 − 1,000) / 3,000 = 2/3, exposed share 0 + 2/3 = 2/3.

So the ban swings the traced share by 2/3 and the exposed share by 0; Malaysia's flow to Japan never
reaches the US and swings neither.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from supplychain.schema.model import Scenario
from supplychain.uncertainty import one_at_a_time, run_sweep

SMALL = Path(__file__).resolve().parent / "data" / "cli" / "small.yaml"


def world() -> Scenario:
    data: dict[str, Any] = yaml.safe_load(SMALL.read_text(encoding="utf-8"))
    data["flows"]["my_jp_ndpr"]["tonnes"] = {"value": 1000, "dist": "uniform", "low": 800, "high": 1000,
                                             "assumption": "test"}
    data["toggles"]["china_ban"]["probability"] = 0.5
    return Scenario.model_validate(data)


def test_the_default_measures_are_the_monte_carlos_with_the_targets_own() -> None:
    sc = world()
    oat = one_at_a_time(sc, mode="fixed", years=[2030], countries=["US"], quiet=True)
    mc = run_sweep(sc, samples=2, seed=1, mode="fixed", years=[2030], countries=["US"], cache=False, quiet=True)
    keys = ["metric", "country", "commodity", "year"]

    def rows(measures: pd.DataFrame) -> set[tuple[Any, ...]]:
        return set(map(tuple, measures[keys].to_numpy().tolist()))

    assert rows(oat.measures) == rows(mc.measures)
    assert "exposed_share" in set(oat.measures["metric"])  # the target's metric: no `measures=` needed
    # a selection that leaves the target's measure out keeps it, as run_sweep does
    narrow = one_at_a_time(sc, mode="fixed", years=[2030], measures=["traced_share"], countries=["JP"], quiet=True)
    assert ((narrow.measures["metric"] == "exposed_share") & (narrow.measures["country"] == "US")).any()


def test_inputs_that_do_not_move_a_measure_get_no_rank() -> None:
    oat = one_at_a_time(world(), mode="fixed", years=[2030], countries=["US"], quiet=True)
    exposed = oat.ranking(metric="exposed_share", country="US", commodity="ndpr", year=2030)
    assert exposed["value_low"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert exposed["value_high"].tolist() == pytest.approx([2 / 3, 2 / 3])
    assert exposed["swing"].tolist() == [0.0, 0.0]
    assert exposed["rank"].isna().all()  # two swings of 0: no order, no rank 1 and 2
    assert str(exposed["rank"].dtype) == "Int64"
    traced = oat.ranking(metric="traced_share", country="US", commodity="ndpr", year=2030)
    assert traced["parameter"].tolist() == ["toggles.china_ban", "flows.my_jp_ndpr.tonnes"]
    assert traced["swing"].tolist() == pytest.approx([2 / 3, 0.0])
    assert traced["rank"].iloc[0] == 1
    assert traced["rank"].iloc[1] is pd.NA
    assert oat.moving(metric="traced_share", country="US", commodity="ndpr", year=2030).still == 1
