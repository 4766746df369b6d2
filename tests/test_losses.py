"""Lost from whom: ``Result.losses`` on a hand-worked world, and its identity on a bundled scenario."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from supplychain.api import Result, simulate
from supplychain.schema.model import Scenario
from supplychain.simulation.losses import supply_losses

ROOT = Path(__file__).resolve().parents[1]
YEARS = (2024, 2025)


def two_supplier_world() -> Scenario:
    """US magnets x from two suppliers and its own plant, which runs on metal m from China.

    Plants (t/yr): CN metal 300 (at capacity) and CN magnets 200 (at capacity, 1 t m per t x); JP magnets
    100 of 150 capacity (an aggregate: no tracked input); US magnets 100 (at capacity) on CN metal.
    Base year: CN→US x 100 t, JP→US x 50 t, CN→US m 100 t; demand for x: US 250, JP 50, CN 100.
    Markets close: CN m 300 = 200 (CN plant) + 100 (US); CN x 200 = 100 + 100; JP x 100 = 50 + 50;
    US x 100 (own plant) + 100 + 50 = 250. China bans exports of m and x from 2025-01-01.
    """
    fac: dict[str, Any] = {
        "cn_metal": {"name": "CN metal", "country": "CN", "kind": "metal", "output": "m", "capacity": 300},
        "cn_mag": {"name": "CN magnets", "country": "CN", "kind": "magnet", "process": "mag", "capacity": 200},
        "jp_mag": {"name": "JP magnets", "country": "JP", "kind": "aggregate", "output": "x", "capacity": 150},
        "us_mag": {"name": "US magnets", "country": "US", "kind": "magnet", "process": "mag", "capacity": 100},
    }
    made = {"cn_metal": 300, "cn_mag": 200, "jp_mag": 100, "us_mag": 100}
    for k, t in made.items():
        fac[k]["production"] = dict.fromkeys(YEARS, t)
    return Scenario.model_validate({
        "scenario": {"name": "two suppliers", "base_year": 2024, "horizon": 2025},
        "commodities": {"m": {"name": "Metal", "stage": "metal", "family": "rare_earths"},
                        "x": {"name": "Magnets", "stage": "magnet", "family": "rare_earths"}},
        "processes": {"mag": {"inputs": {"m": 1}, "outputs": {"x": 1}}},
        "facilities": fac,
        "demand": {f"{c.lower()}_use": {"country": c, "commodity": "x", "year": 2024, "tonnes": t}
                   for c, t in (("US", 250), ("JP", 50), ("CN", 100))},
        "flows": {fid: {"supplier": a, "buyer": b, "commodity": k, "year": 2024, "tonnes": t}
                  for fid, (a, b, k, t) in {"cn_us_x": ("CN", "US", "x", 100), "jp_us_x": ("JP", "US", "x", 50),
                                            "cn_us_m": ("CN", "US", "m", 100)}.items()},
        "policies": {"cn_ban": {"type": "export_ban", "country": "CN", "covers": {"commodities": ["m", "x"]},
                                "start": "2025-01-01"}},
    })


def rows(r: Result, country: str, commodity: str) -> dict[tuple[str, str], tuple[float, float, float, str]]:
    """(side, counterpart or plant) → (baseline, simulated, blocked, cause) in 2025."""
    t = r.losses(country, commodity, 2025)
    return {(s, f or c): (round(b, 6), round(v, 6), round(x, 6), cause)
            for s, c, f, b, v, x, cause in zip(t["side"], t["counterpart"], t["facility"], t["baseline"],
                                                t["simulated"], t["blocked"], t["cause"], strict=True)}


def test_fixed_every_source_of_the_us_loss() -> None:
    # fixed, 2025: CN→US x (100 t) is blocked by cn_ban; so is CN→US m (100 t), the only input of the US
    # plant, which makes 0 instead of 100 t (its input fell: "upstream input"); JP→US stays 50 t (fixed keeps
    # the pattern). Supply: -100 - 100 + 0 = -200 t = final use 250 → 50 t (US short 200 t). explain sees
    # only the 100 t blocked on the magnet imports.
    r = simulate(two_supplier_world(), mode="fixed")
    assert rows(r, "US", "x") == {
        ("supply", "CN"): (100.0, 0.0, 100.0, "cn_ban"),
        ("supply", "us_mag"): (100.0, 0.0, 0.0, "upstream input"),
        ("supply", "JP"): (50.0, 50.0, 0.0, ""),
        ("use", "final use"): (250.0, 50.0, 0.0, "shortfall"),
    }
    short = r.shortfall.query("year == 2025 and country == 'US'")["shortfall"].item()
    t = r.losses("US", "x", 2025)
    assert t.groupby("side")["change"].sum().to_dict() == pytest.approx({"supply": -200.0, "use": -200.0})
    assert short == pytest.approx(200.0)
    assert r.explain("US", "x").query("year == 2025")["blocked"].sum() == pytest.approx(100.0)
    # the metal: 100 t from CN blocked, the US plant took 100 t less
    assert rows(r, "US", "m") == {
        ("supply", "CN"): (100.0, 0.0, 100.0, "cn_ban"),
        ("use", "us_mag"): (100.0, 0.0, 0.0, "plant took less"),
    }


def test_rebalance_a_second_supplier_makes_up_part() -> None:
    # rebalance, 2025: as under fixed CN's 100 t of x and the US plant's 100 t are gone; JP has 50 t of spare
    # capacity, its own users (50 t) are served, and the US is the only country short, so JP→US rises 50 → 100 t
    # ("re-routed"). Supply: -100 - 100 + 50 = -150 t = final use 250 → 100 t.
    r = simulate(two_supplier_world(), mode="rebalance")
    got = rows(r, "US", "x")
    assert got == {
        ("supply", "CN"): (100.0, 0.0, 100.0, "cn_ban"),
        ("supply", "us_mag"): (100.0, 0.0, 0.0, "upstream input"),
        ("supply", "JP"): (50.0, 100.0, 0.0, "re-routed"),
        ("use", "final use"): (250.0, 100.0, 0.0, "shortfall"),
    }
    # JP's pool: its plant makes 50 t more; the extra goes abroad (an export row), its users unchanged
    jp = rows(r, "JP", "x")
    assert jp[("supply", "jp_mag")] == (100.0, 150.0, 0.0, "more output")
    assert jp[("use", "US")] == (50.0, 100.0, 0.0, "re-routed")
    assert jp[("use", "final use")] == (50.0, 50.0, 0.0, "")


@pytest.fixture(scope="module")
def full_ban() -> Result:
    return simulate(ROOT / "scenarios" / "china_full_ban_2025.yaml", variant="full_ban")


def test_sources_add_up_to_the_uses_everywhere(full_ban: Result) -> None:
    # every market and plant closes, so per country, commodity and year the supply rows' changes equal
    # the use rows' (final use + plant inputs + exports + stock + surplus + unsold), and the final-use row
    # is minus the shortfall
    r = full_ban
    short = r.shortfall.groupby(["year", "country", "commodity"])["shortfall"].sum()
    countries = sorted(set(r.flows["buyer_country"]) | set(r.flows["supplier_country"]))
    for c in countries:
        for k in sorted(set(r.flows["commodity"])):
            t = r.losses(c, k)
            if t.empty:
                continue
            side = t.pivot_table(index="year", columns="side", values="change", aggfunc="sum", fill_value=0.0)
            diff = side.get("supply", 0.0) - side.get("use", 0.0)
            assert (abs(diff) <= 1e-6 * (1 + t["baseline"].abs().max())).all(), (c, k)
            fu = t[t["counterpart"] == "final use"].set_index("year")["change"]
            for y, v in fu.items():
                assert v == pytest.approx(-short.get((y, c, k), 0.0), abs=1e-6), (c, k, y)


def test_a_short_country_that_re_exports(full_ban: Result) -> None:
    # Japan is short of magnets in 2030 and ships re-routed magnets abroad: its sources lost less than its
    # users did, by exactly the growth of its exports
    t = full_ban.losses("JP", "ndfeb_magnet", 2030)
    supply = t[t["side"] == "supply"]["change"].sum()
    exports = t[(t["side"] == "use") & t["counterpart"].str.fullmatch("[A-Z]+")]["change"].sum()
    other = t[(t["side"] == "use") & t["counterpart"].isin(["plants", "stock", "surplus", "unsold"])]["change"].sum()
    short = full_ban.shortfall.query("year == 2030 and country == 'JP' and commodity == 'ndfeb_magnet'")
    assert exports > 0
    assert supply == pytest.approx(-short["shortfall"].sum() + exports + other, abs=1e-6)


def test_the_example_docs_outputs_md_gives(full_ban: Result) -> None:
    # docs/outputs.md, "Lost from whom": the US in 2030 under the full ban, in t of magnets
    t = full_ban.losses("US", "ndfeb_magnet", 2030)
    by = t.groupby(["side", "counterpart", "cause"])["change"].sum()
    text = (ROOT / "docs" / "outputs.md").read_text(encoding="utf-8")
    assert round(-by[("use", "final use", "shortfall")]) == 11483
    assert round(-by[("supply", "CN", "cn_ree_full_ban_2025")]) == 7710
    assert round(-by[("supply", "domestic", "upstream input")]) == 1138
    assert round(-by[("supply", "ROW", "supplier short")]) == 762
    assert round(-by[("supply", "EE", "supplier short")]) == 190
    exported = by.xs("re-routed", level="cause").xs("use", level="side")
    assert set(exported.index) == {"EU", "ROW"}
    assert round(exported.sum()) == 1684
    for figure in ("11,483 t short", "7,710 t blocked", "1,138 t down",
                   "762 t from ROW and 190 t from Estonia, themselves short",
                   "1,684 t of magnets it still ships to the EU and ROW"):
        assert figure in " ".join(text.split()), figure


def synthetic_flows(rows: list[tuple[str, str, str, str, float, float]]) -> pd.DataFrame:
    """``Result.flows``-like rows (supplier, buyer, commodity, kind, baseline, simulated), 2025, status ``kept``.

    A node with ``:`` is a market (``US:x``), else a plant of the country its name starts with (``us_p``).
    """
    def country(node: str) -> str:
        return node.split(":")[0] if ":" in node else node.split("_")[0].upper()

    return pd.DataFrame([{"year": 2025, "edge": f"{a}->{b}", "supplier": a, "buyer": b, "commodity": k,
                          "supplier_country": country(a), "buyer_country": country(b), "kind": kind,
                          "status": "kept", "unit": "t", "baseline": b0, "simulated": b1, "change": b1 - b0}
                         for a, b, k, kind, b0, b1 in rows])


NO_BLOCKS = pd.DataFrame(columns=["year", "edge", "policy", "blocked"])


def test_a_plant_whose_one_input_fell_is_upstream_input_whatever_its_other_inputs_did() -> None:
    # plant us_p makes x from a and b; in 2025 it gets 10 t less a and 10 t more b (other units, other roles:
    # not to be netted), and makes 10 t less x. An input fell (a: -10 < -1e-6 x max(1, 20)), so its drop is
    # "upstream input". main summed the inputs' changes over commodities: -10 + 10 = 0, "plant curtailed".
    f = synthetic_flows([("US:a", "us_p", "a", "input", 20, 10), ("US:b", "us_p", "b", "input", 20, 30),
                         ("us_p", "US:x", "x", "supply", 20, 10), ("US:x", "US:x:use", "x", "use", 20, 10)])
    t = supply_losses(f, NO_BLOCKS, "US", "x", 2025).set_index("counterpart")
    assert t.loc["domestic", "cause"] == "upstream input"
    assert t.loc["domestic", "change"] == pytest.approx(-10.0)
    # both inputs up or unchanged: the plant made less with no input down
    f = synthetic_flows([("US:a", "us_p", "a", "input", 20, 20), ("US:b", "us_p", "b", "input", 20, 30),
                         ("us_p", "US:x", "x", "supply", 20, 10), ("US:x", "US:x:use", "x", "use", 20, 10)])
    assert supply_losses(f, NO_BLOCKS, "US", "x", 2025).set_index("counterpart").loc["domestic", "cause"] == (
        "plant curtailed")


def test_a_supplier_that_had_less_is_told_from_one_that_sent_elsewhere() -> None:
    # JP:x sends the US 100 t and Korea 50 t in the baseline; in 2025 the US gets 60 t (-40, nothing blocked).
    # (a) Korea gets 90 t: JP sent 150 t in all both times, the 40 t went to Korea: "re-allocated".
    # (b) Korea keeps 50 t: JP sent 150 -> 110 t in all (-40 < -1e-6 x 150): it had less, "supplier short"
    #     (main: "re-allocated" both times, "the supplier sent its tonnes elsewhere" where it sent nothing else).
    def us_from_jp(korea: float) -> str:
        f = synthetic_flows([("jp_p", "JP:x", "x", "supply", 150, 60 + korea), ("JP:x", "US:x", "x", "trade", 100, 60),
                             ("JP:x", "KR:x", "x", "trade", 50, korea), ("US:x", "US:x:use", "x", "use", 100, 60)])
        t = supply_losses(f, NO_BLOCKS, "US", "x", 2025).set_index("counterpart")
        assert t.loc["JP", "change"] == pytest.approx(-40.0)
        return str(t.loc["JP", "cause"])

    assert us_from_jp(90.0) == "re-allocated"
    assert us_from_jp(50.0) == "supplier short"
