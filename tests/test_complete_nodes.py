"""The node table the measures read after a response: nodes the LP added get their columns filled."""

from __future__ import annotations

import numpy as np
import pandas as pd

from supplychain.schema.model import Scenario
from supplychain.simulation.aftershock import complete_nodes


def test_missing_columns_and_values_are_filled_from_the_commodity() -> None:
    s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024},
                                 "commodities": {"ore": {"name": "Ore", "stage": "ore", "basis": "t REO"}}})
    nodes = pd.DataFrame({
        "node": ["AU:ore", "m", "AU:ore", "JP:ore", "XX:zz"],
        "commodity": ["ore", "ore", "ore", "ore", "zz"],
        "stage": ["ore", "", "ore", None, np.nan],
        "primary": [0.0, 100.0, 5.0, np.nan, 1.0],
        "facility": ["", "m", "", np.nan, ""],
    })
    out = complete_nodes(s, nodes)
    # the second AU:ore row is dropped; stage: kept, else the commodity's ("ore"), else ""
    assert out["node"].tolist() == ["AU:ore", "m", "JP:ore", "XX:zz"]
    assert out["stage"].tolist() == ["ore", "ore", "ore", ""]
    # basis absent: the commodity's, "t" for an unknown commodity
    assert out["basis"].tolist() == ["t REO", "t REO", "t REO", "t"]
    assert out["primary"].tolist() == [0.0, 100.0, 0.0, 1.0]
    assert out["production"].tolist() == [0.0] * 4
    assert out["capacity"].isna().all()
    assert out["facility"].tolist() == ["", "m", "", ""]
    assert out["facility_kind"].tolist() == [""] * 4
    assert list(out.columns) == ["node", "commodity", "stage", "primary", "facility", "basis", "production",
                                 "capacity", "facility_kind", "name"]
