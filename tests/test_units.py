"""Every quantity carries its commodity's unit, from input to every table, label and JSON field (issue 18, item 4)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from supplychain.api import simulate
from supplychain.errors import ScenarioError
from supplychain.io import load, load_text
from supplychain.report.dot import to_dot
from supplychain.report.tables import _shortfall_table

REPO = Path(__file__).resolve().parent.parent
HEAD = (
    "scenario: {name: Gallium, base_year: 2024, horizon: 2025}\n"
    "commodities:\n"
    "  gallium: {name: Gallium, stage: oxide, basis: kg Ga, family: gallium, elements: [Ga]}\n"
    "  ore: {name: Ore, stage: ore}\n"
    "facilities:\n"
    "  cn_ga: {name: China gallium, country: CN, kind: aggregate, output: gallium, capacity: 1000, utilisation: 1}\n"
)


def test_a_tonnes_key_on_a_commodity_in_kg_is_refused_with_the_neutral_key_as_hint() -> None:
    text = HEAD + "demand:\n  us: {country: US, commodity: gallium, year: 2024, tonnes: 600}\n"
    with pytest.raises(ScenarioError) as info:
        load_text(text, file="s.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.column, problem.path) == (8, 53, ("demand", "us", "tonnes"))
    assert problem.message == "`tonnes` is in tonnes, but the commodity is measured in kg Ga"
    assert problem.hint == "write `quantity:` (the same figure, in that unit)"
    ok = load_text(HEAD + "demand:\n  us: {country: US, commodity: gallium, year: 2024, quantity: 600}\n")
    assert ok.demand["us"].tonnes.central == 600


def test_older_keys_stay_valid_for_tonnes_and_both_keys_are_an_error() -> None:
    text = HEAD + "demand:\n  d: {country: US, commodity: ore, year: 2024, tonnes: 5}\n"
    assert load_text(text).demand["d"].tonnes.central == 5
    both = HEAD + "demand:\n  d: {country: US, commodity: ore, year: 2024, tonnes: 5, quantity: 5}\n"
    with pytest.raises(ScenarioError, match=r"give either `quantity` or `tonnes` .*, not both"):
        load_text(both)


@pytest.mark.parametrize(("section", "hint"), [
    ("policies:\n  q: {type: export_quota, country: CN, start: 2025, covers: {families: [gallium]},"
     " tonnes_per_year: 10}\n", "quantity_per_year"),
    ("policies:\n  x: {type: export_tax, country: CN, start: 2025, covers: {families: [gallium]}, usd_per_t: 10}\n",
     "usd_per_unit"),
])  # fmt: skip
def test_every_tonnes_named_key_is_checked(section: str, hint: str) -> None:
    with pytest.raises(ScenarioError, match=f"write `{hint}:`"):
        load_text(HEAD + section)


def test_a_quota_cannot_mix_units_and_a_basis_starts_with_a_unit() -> None:
    text = HEAD + ("policies:\n  q: {type: export_quota, country: CN, start: 2025, quantity_per_year: 10}\n")
    with pytest.raises(ScenarioError, match=r"an export quota is one number but covers commodities in kg Ga, t"):
        load_text(text)
    with pytest.raises(ScenarioError, match=r"basis 'REO' must start with a unit of mass"):
        load_text("scenario: {name: x, base_year: 2024}\ncommodities:\n  o: {name: O, stage: ore, basis: REO}\n")


def test_a_preference_on_a_commodity_without_a_price_is_refused_where_it_is_written() -> None:
    # The preference is a share of the price (surcharge pi * p_k): on an unpriced commodity it
    # would be 0, and the response would buy it instead of a priced one to escape the deal.
    deal = ("agreements:\n  d:\n    name: Deal\n    parties: [US, JP]\n    start: 2024-01-01\n"
            "    covers: {families: [gallium]}\n    preference: 0.05\n")
    with pytest.raises(ScenarioError) as info:
        load_text(HEAD + deal, file="s.yaml")
    (problem,) = info.value.problems
    assert (problem.line, problem.path) == (13, ("agreements", "d", "preference"))
    assert problem.message == "the preference is a share of the price, but 'gallium' has no price " \
                              "(`price_usd_per_unit`): its surcharge would be 0"
    assert "give commodities.gallium a `price_usd_per_unit`" in problem.hint
    priced = HEAD.replace("elements: [Ga]}", "elements: [Ga], price_usd_per_unit: 300}")
    assert load_text(priced + deal).agreements["d"].preference.central == 0.05
    assert load_text(HEAD + deal.replace("0.05", "0")).agreements["d"].preference.central == 0


@pytest.fixture(scope="module")
def bundled() -> Any:
    return simulate(load(REPO / "scenarios" / "china_full_ban_2025.yaml"), mode="fixed", years=[2024, 2025, 2026])


def test_result_tables_have_unit_neutral_columns_and_a_unit(bundled: Any) -> None:
    for name in ("flows", "shortfall", "utilisation", "gainers", "attribution", "stocks"):
        table: pd.DataFrame = getattr(bundled, name)
        assert "unit" in table.columns, name
        assert not [c for c in table.columns if c.endswith("_t") or c in ("tonnes", "blocked_tonnes")], name
    ga = bundled.shortfall[bundled.shortfall["commodity"] == "gallium"]
    assert set(ga["unit"]) == {"kg Ga"}
    assert set(bundled.shortfall.loc[bundled.shortfall["commodity"] == "germanium", "unit"]) == {"t Ge"}
    m = bundled.measures
    assert set(m.loc[(m["metric"] == "shortfall_share") & (m["commodity"] == "gallium"), "basis"]) == {"kg Ga"}
    summary = bundled.summary()
    assert "unit" in summary.columns


def test_cli_labels_and_json_carry_the_unit() -> None:
    path = REPO / "scenarios" / "china_full_ban_2025.yaml"
    proc = subprocess.run([sys.executable, "-m", "supplychain", "run", path, "--mode", "fixed", "--year", "2025",
                           "-c", "US"], capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "Unmet demand (t" not in proc.stdout
    assert "kg Ga" in proc.stdout
    proc = subprocess.run([sys.executable, "-m", "supplychain", "run", path, "--mode", "fixed", "--year", "2025",
                           "--format", "json"], capture_output=True, text=True, check=False, timeout=300)
    doc = json.loads(proc.stdout)
    for key in ("shortfall", "flows", "utilisation", "stocks"):
        assert all("unit" in r for r in doc[key]), key
    assert {r["unit"] for r in doc["shortfall"] if r["commodity"] == "gallium"} == {"kg Ga"}


def test_report_text_says_kilograms_for_gallium() -> None:
    # 5,100 kg of gallium short over the years: "5.1 t Ga in all" (kilograms read as tonnes from 1,000 kg up,
    # as every other chain prints tonnes), not "5.1k t in all" (the issue) nor "5.1k kg Ga" (s37 review G-11).
    short = pd.DataFrame({"year": [2025, 2026], "country": "US", "commodity": "gallium", "unit": "kg Ga",
                          "variant": "base", "shortfall": [3000.0, 2100.0], "shortfall_share": [0.15, 0.105]})
    run: Any = type("Run", (), {"results": [type("R", (), {"variant": "base", "mode": "fixed"})()],
                                "fixed_shortfall": None})()
    cell = _shortfall_table(run, short, {})["rows"][0]["cells"][0]
    assert cell == "15% in 2025 (5.1 t Ga in all)"


def test_network_labels_use_each_commodity_unit() -> None:
    nodes = pd.DataFrame({"node": ["cn_ga", "CN:gallium", "US:gallium", "US:gallium:use"],
                          "kind": ["facility", "market", "market", "use"], "country": ["CN", "CN", "US", "US"],
                          "commodity": "gallium", "basis": "kg Ga"})  # fmt: skip
    edges = pd.DataFrame({"edge": ["s", "t", "u"], "supplier": ["cn_ga", "CN:gallium", "US:gallium"],
                          "buyer": ["CN:gallium", "US:gallium", "US:gallium:use"], "commodity": "gallium",
                          "tonnes": [5100.0, 5100.0, 5100.0]})  # fmt: skip
    dot = to_dot((nodes, edges), traced=None, title="Gallium").source
    assert "5.1 t" in dot  # the pictures write the unit of mass only
    assert "5.1k" not in dot
