"""The frames of a ``Result`` as a notebook reads them: "no value" is missing, one measure by year (API audit A-10)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from supplychain.api import Result, simulate
from supplychain.errors import ScenarioError

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


@pytest.fixture(scope="module")
def full_ban() -> Result:
    return simulate(SCENARIOS / "china_full_ban_2025.yaml", variant="full_ban")


def test_no_value_is_missing_not_the_empty_string(full_ban: Result) -> None:
    # the engine writes '' where a measure has no partner, label, source or stage (an element's), and an edge no
    # agreement exempts: the Result's frames say NaN, so isna()/dropna/pivot_table see "no value"
    m, a = full_ban.measures, full_ban.attribution
    for frame, col in ((m, "partner"), (m, "label"), (m, "source_country"), (m, "stage"), (a, "exempted_by")):
        assert frame[col].isna().any(), col
        assert not (frame[col] == "").any(), col
    # a country's own measure has no partner; a per-partner one names it
    own = m[(m["metric"] == "exposed_share") & (m["country"] == "US")]
    assert own["partner"].isna().all()
    assert (own["source_country"] == "CN").all()
    per = m[(m["metric"] == "import_share") & (m["country"] == "US")]
    assert per["partner"].notna().all()
    assert per["source_country"].isna().all()
    # explain joins the agreements that exempt an edge: none is NaN, never the text "nan"
    e = full_ban.explain("US", "ndfeb_magnet")
    assert e["exempted_by"].isna().all()
    # every measure row names the scenario (the run's shortfall rows left it '')
    assert set(m["scenario"]) == {full_ban.scenario}


def test_measure_is_the_rows_value_by_year(full_ban: Result) -> None:
    m = full_ban.measures
    rows = m[(m["metric"] == "exposed_share") & (m["country"] == "US") & (m["commodity"] == "ndfeb_magnet")]
    got = full_ban.measure("exposed_share", "US", "ndfeb_magnet")
    assert got.index.name == "year"
    assert got.name == "exposed_share"
    assert got.index.tolist() == list(full_ban.years) == rows["year"].tolist()
    assert np.array_equal(got.to_numpy(), rows["value"].to_numpy(), equal_nan=True)
    # an element measure names the element key in commodity
    assert full_ban.measure("element_exposed_share", "US", "NdPr").index.tolist() == list(full_ban.years)
    # a per-partner measure wants partner=; given, its rows for that partner
    with pytest.raises(ScenarioError, match=r"argument partner=: .* one row per partner.*\n.*give partner=, one of CN"):
        full_ban.measure("import_share", "US", "ndfeb_magnet")
    cn = full_ban.measure("import_share", "US", "ndfeb_magnet", partner="CN")
    pick = m[(m["metric"] == "import_share") & (m["country"] == "US") & (m["commodity"] == "ndfeb_magnet")
             & (m["partner"] == "CN")]
    pd.testing.assert_series_equal(cn, pd.Series(pick["value"].to_numpy(), index=pd.Index(
        pick["year"].to_numpy(), name="year"), name="import_share"))
    # names are checked, with a did-you-mean
    with pytest.raises(ScenarioError, match="exposed_share"):
        full_ban.measure("exposed", "US", "ndfeb_magnet")
    with pytest.raises(ScenarioError, match="'JP'"):
        full_ban.measure("exposed_share", "Japan", "ndfeb_magnet")
    with pytest.raises(ScenarioError, match="ndfeb_magnet"):
        full_ban.measure("exposed_share", "US", "magnets")
    # a partner the measure has no row for is an error naming the ones it has, not an empty Series
    with pytest.raises(ScenarioError, match=r"argument partner=: unknown partner 'China'(.|\n)*known partners: CN"):
        full_ban.measure("import_share", "US", "ndfeb_magnet", partner="China")
