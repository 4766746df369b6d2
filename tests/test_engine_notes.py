"""What the engine did, said in words: raised outputs, a world short, plant outputs as one optimum.

Hand-worked on two small worlds of other tests: the two-stage world of ``tests/test_spare_capacity.py``
(China's magnet and ore aggregates raised above their 2025 paths) and the exporter world of
``tests/test_allocation.py`` (China bans its exports; outside China 100 t for 200 t of demand).
Each number asserted is derived in the test; the sentences are
:mod:`supplychain.report.engine_notes`'s, printed by ``run`` (:func:`supplychain.cli.run._print_response`)
and the report (:func:`supplychain.report.tables._shortfall_table`, :func:`supplychain.report.limits.limits_table`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pandas as pd
import pytest

from supplychain.api import simulate
from supplychain.cli.run import _print_response, result_json
from supplychain.report.engine_notes import (
    ONE_OPTIMUM,
    ONE_OPTIMUM_PICTURE,
    WORLD_RULE_NOTE,
    raised_note,
    sweep_raised_note,
)
from supplychain.report.limits import limits_table
from supplychain.report.runs import ScenarioRun
from supplychain.report.tables import _shortfall_table
from supplychain.report.workbook import _ABOUT
from supplychain.simulation.world import beyond_country_rows, world_short
from tests.test_allocation import YEAR, exporter_world, world
from tests.test_spare_capacity import two_stage_world
from tests.test_sweep_raised import sampled_world

# ---------------------------------------------------------------------------------------- raised outputs


def test_raised_outputs_name_path_raise_and_capacity() -> None:
    # tests/test_spare_capacity.py's derivation, 2025: China's magnet path 100 t (capacity 150) is raised by
    # min(1, 10/50) x 50 = 10 t to 110 t; its 2 x 110 = 220 t of ore need the ore path 200 t (capacity 260)
    # raised by min(1, 20/60) x 60 = 20 t to 220 t. Both capacities are plain numbers: no source, assumptions.
    # Largest raise first: ore (+20 t), then magnets (+10 t). 2024 is the base year: a record, never raised.
    r = simulate(two_stage_world(), years=[2024, 2025])
    raised = r.raised
    assert raised[["year", "facility", "country", "commodity", "unit"]].values.tolist() == [
        [2025, "cn_ore", "CN", "ore", "t"], [2025, "cn_mag", "CN", "mag", "t"]]
    assert raised["path"].tolist() == pytest.approx([200.0, 100.0])
    assert raised["raised"].tolist() == pytest.approx([220.0, 110.0])
    assert raised["capacity"].tolist() == pytest.approx([260.0, 150.0])
    assert raised["assumed"].tolist() == [True, True]
    # the raise is the baseline both responses start from: the same table under fixed
    assert simulate(two_stage_world(), years=[2024, 2025], mode="fixed").raised.equals(raised)


def test_nothing_raised_where_the_paths_meet_demand() -> None:
    # US demand flat (50 t): 2025 is 2024 again, nothing is short, the paths stand: no row, no sentence.
    s = two_stage_world()
    flat = s.model_copy(update={"demand": {**s.demand, "us_use": s.demand["us_use"].model_copy(update={
        "growth": None})}})
    r = simulate(flat, years=[2024, 2025])
    assert r.raised.empty
    table = _shortfall_table(ScenarioRun(flat, (r,)), r.shortfall, {})
    assert "raised" not in table["none"]


RAISED = ("Outputs raised above their paths: cn_ore makes 220 t of ore in 2025 against a path of 200 t "
          "(capacity 260 t, an assumption), and 1 more facility-year")


def test_a_small_raise_reads_as_a_raise() -> None:
    # Gallium is made in tonnes: 12.4 t against a path of 12 t is a raise of 0.4 t, which ",.0f" printed
    # as "12 t against a path of 12 t" and "largest raise 0 t". The project's numbers (report.numbers) keep
    # four significant digits below 1,000; a raise of 0.48 t on 77,937 t, where both read "77,937", shows
    # in the output and path by format_apart's one decimal (77,937.5 against 77,937.0) and in the raise.
    ga = pd.DataFrame({"sample": [3], "year": [2030], "facility": ["cn_ga"], "country": ["CN"],
                       "commodity": ["gallium"], "unit": ["t"], "path": [12.0], "raised": [12.4],
                       "capacity": [12.5], "assumed": [True]})
    assert raised_note(ga.drop(columns="sample")).startswith(
        "Outputs raised above their paths: cn_ga makes 12.4 t of gallium in 2030 against a path of 12 t "
        "(capacity 12.5 t, an assumption); ")
    assert ("(CN: gallium; largest raise 0.4 t of gallium: cn_ga in 2030, sample 3, 12.4 against a path of 12, "
            "capacity 12.5, an assumption): ") in sweep_raised_note(ga, 20)
    sep = ga.assign(facility="cn_sep", commodity="ree_oxide", path=77937.0, raised=77937.48, capacity=float("nan"),
                    sample=189, year=2025)
    both = pd.concat([ga, sep], ignore_index=True)  # the largest raise is the separation's, 0.48 t > 0.4 t
    assert raised_note(both.drop(columns="sample")).startswith(
        "Outputs raised above their paths: cn_sep makes 77,937.5 t of ree_oxide in 2025 against a path of "
        "77,937.0 t (capacity unknown), and 1 more facility-year; ")
    assert ("largest raise 0.48 t of ree_oxide: cn_sep in 2025, sample 189, 77,937.5 against a path of 77,937.0, "
            "capacity unknown): ") in sweep_raised_note(both, 200)


def test_run_and_report_say_outputs_were_raised(capsys: pytest.CaptureFixture[str]) -> None:
    s = two_stage_world()
    r = simulate(s, years=[2024, 2025])
    _print_response(r, [2025], None)
    assert RAISED in " ".join(capsys.readouterr().out.split())
    capsys.readouterr()
    _print_response(r, [2024], None)  # the years shown: 2024 raised nothing
    assert "Outputs raised" not in capsys.readouterr().out
    # the report: no user is short once the outputs are raised, so the sentence follows "no shortfall"
    table = _shortfall_table(ScenarioRun(s, (r,)), r.shortfall, {})
    assert not table["rows"]
    assert RAISED in table["none"]
    doc = result_json(r, [2025])
    assert [(x["facility"], x["path"], x["raised"], x["capacity"]) for x in doc["raised"]] == [
        ("cn_ore", pytest.approx(200.0), pytest.approx(220.0), pytest.approx(260.0)),
        ("cn_mag", pytest.approx(100.0), pytest.approx(110.0), pytest.approx(150.0))]


# ------------------------------------------------------------------------------------------- world short


@pytest.mark.parametrize(("mode", "rule"), [("fixed", None), ("rebalance", "contracts_first"),
                                            ("rebalance", "home_first"), ("rebalance", "proportional"),
                                            ("rebalance", "max_delivery")])
def test_the_world_is_short_by_the_same_tonnes_whoever_bears_them(mode: str, rule: str | None) -> None:
    # The exporter world, 2025, China's exports banned. Users: CN 100 t, JP 120 t, KR 80 t, so D = 300 t.
    # China's own users get their 100 t from China's 200 t mine (a ban never leaves its own users short);
    # outside China only Japan's mine, 100 t at capacity, can serve JP and KR: S = 100 + 100 = 200 t,
    # Z = D - S = 100 t, Z/D = 1/3, under every rule and under fixed. Who bears it moves
    # (tests/test_allocation.py): fixed and contracts_first JP 120 x 2/7 = 34.3 t, KR 80 - 20 x 5/7 = 65.7 t;
    # home_first JP 20 t, KR 80 t; proportional and max_delivery 50 % each, JP 60 t and KR 40 t: always 100 t.
    kw = {"allocation": rule} if rule else {}
    r = simulate(exporter_world(), years=[2024, YEAR], mode=mode, **kw)  # type: ignore[arg-type]
    b = r.world_balance()
    row = b[b["year"] == YEAR].iloc[0]
    assert (row["variant"], row["commodity"], row["unit"]) == ("base", "x", "t")
    assert float(row["demand"]) == pytest.approx(300.0)
    assert float(row["delivered"]) == pytest.approx(200.0, abs=1e-6)
    assert float(row["shortfall"]) == pytest.approx(100.0, abs=1e-6)
    assert float(row["shortfall_share"]) == pytest.approx(1 / 3, abs=1e-9)
    # 2024, before the ban: 300 t for 300 t, the world is not short
    assert world_short(b)["year"].tolist() == [YEAR]
    # who bears the 100 t: the rule's, always JP + KR = 100 t
    bears = {None: (240 / 7, 80 - 100 / 7), "contracts_first": (240 / 7, 80 - 100 / 7), "home_first": (20.0, 80.0),
             "proportional": (60.0, 40.0), "max_delivery": (60.0, 40.0)}[rule]
    short = r.shortfall[r.shortfall["year"] == YEAR].set_index("country")["shortfall"]
    assert (float(short["JP"]), float(short["KR"])) == pytest.approx(bears, abs=1e-6)
    assert float(short["CN"]) == pytest.approx(0.0, abs=1e-6)


def test_run_and_report_say_the_world_is_short(capsys: pytest.CaptureFixture[str]) -> None:
    # The exporter world under the ban (derivation above): D = 300 t, S = 200 t, Z = 100 t (1/3), JP and KR short.
    s = exporter_world()
    r = simulate(s, years=[2024, YEAR], allocation="proportional")
    _print_response(r, [YEAR], ["JP"])  # the world's balance counts every user, whatever --country
    out = " ".join(capsys.readouterr().out.split())
    assert "World balance: commodities the world is short of" in out
    said = ("The world is short of x in 2025: its users demand 300 t and 200 t reach them, 100 t (33%) short "
            "under the run's bans and capacities (docs/outputs.md, \"World balance\").")
    assert said in out
    assert out.count(WORLD_RULE_NOTE) == 1  # who bears it, not its size: once, as a footnote, not in the sentence
    assert "decides only who" not in out
    _print_response(simulate(s, years=[2024, YEAR], allocation="home_first"), [YEAR], None)
    out = " ".join(capsys.readouterr().out.split())  # home_first closes exports: not the world's shortage
    assert "The world is short" not in out
    assert "World balance: commodities the world is short of" not in out
    assert ("Under the home_first rule, users of x get 100 t less than they demand in 2025 (300 t demanded, 200 t "
            "reach them, 33%; home_first, which holds short countries' exports home: part may be supply the "
            "other rules deliver)") in out
    assert WORLD_RULE_NOTE not in out
    table = _shortfall_table(ScenarioRun(s, (r,)), r.shortfall, {})
    assert "The world is short of x in 2025 under base: its users demand 300 t and 200 t reach them" in table["note"]
    assert table["note"].count(WORLD_RULE_NOTE) == 1
    named = _shortfall_table(ScenarioRun(s, (r,)), r.shortfall, {"x": "Magnets"})  # the page's display names
    assert "The world is short of Magnets in 2025 under base" in named["note"]
    # fixed: the same tonnes (JP 34.3 t + KR 65.7 t = 100 t), but nothing is re-routed: never "the world is short"
    f = simulate(s, years=[2024, YEAR], mode="fixed")
    _print_response(f, [YEAR], None)
    out = " ".join(capsys.readouterr().out.split())
    assert ("Unmet demand summed over every user under the fixed response (not the world's shortage; each row's "
            "unit)") in out
    assert ("Under the fixed response, users of x get 100 t less than they demand in 2025 (300 t demanded, 200 t "
            "reach them, 33%; the trade pattern kept: part may be supply the pattern strands, which rebalance "
            "re-routes) (docs/outputs.md, \"World balance\").") in out
    assert "world is short" not in out.lower()
    assert WORLD_RULE_NOTE not in out
    fixed_note = _shortfall_table(ScenarioRun(s, (f,)), f.shortfall, {})["note"]
    assert "Under the fixed response, users of x get 100 t less than they demand in 2025 under base" in fixed_note
    assert "world is short" not in fixed_note.lower()
    assert WORLD_RULE_NOTE not in fixed_note


def test_a_world_row_only_where_it_adds_to_the_country_rows(capsys: pytest.CaptureFixture[str]) -> None:
    # CN mine 200 t -> CN use 100 t, KR 100 t; JP mine 100 t (at capacity) -> JP 100 t. China bans its exports:
    # under fixed only KR is short, 100 t of 100 t; the world: D = 300 t, S = 200 t, Z = 100 t -- KR's row itself.
    # With every country shown the world row repeats KR's: no world row, no sentence. With --country JP, KR's
    # row is not shown: the world row says what the table does not.
    s = world({"CN": (200, 200), "JP": (100, 100)}, {"CN": 100, "JP": 100, "KR": 100}, {"cn_kr": ("CN", "KR", 100)})
    f = simulate(s, years=[2024, YEAR], mode="fixed")
    short = f.shortfall[(f.shortfall["year"] == YEAR) & (f.shortfall["shortfall"] > 1e-6)]
    assert short["country"].tolist() == ["KR"]
    assert float(short["shortfall"].iloc[0]) == pytest.approx(100.0)
    b = world_short(f.world_balance())
    assert b[["year", "demand", "delivered", "shortfall"]].values.tolist() == [[YEAR, 300.0, 200.0, 100.0]]
    assert beyond_country_rows(b, f.shortfall).empty
    assert len(beyond_country_rows(b, f.shortfall, shown=["JP"])) == 1
    _print_response(f, [YEAR], None)
    out = " ".join(capsys.readouterr().out.split())
    assert "Unmet demand (quantity" in out
    assert "summed over every user" not in out
    assert "users of x get" not in out
    assert "users of x get" not in _shortfall_table(ScenarioRun(s, (f,)), f.shortfall, {})["note"]
    _print_response(f, [YEAR], ["JP"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Under the fixed response, users of x get 100 t less than they demand in 2025 (300 t demanded" in out


def test_no_world_sentence_where_the_world_is_not_short(capsys: pytest.CaptureFixture[str]) -> None:
    # No ban: China's 200 t and Japan's 100 t meet 300 t of demand. Nobody short: no table, no sentence.
    r = simulate(exporter_world().model_copy(update={"toggles": {}, "policies": {}}), years=[2024, YEAR])
    assert world_short(r.world_balance()).empty
    _print_response(r, [YEAR], None)
    out = capsys.readouterr().out
    assert "World balance" not in out
    assert "The world is short" not in out


# ------------------------------------------------------------------------------------------- one optimum


def test_plant_rows_under_rebalance_are_marked_one_optimum(capsys: pytest.CaptureFixture[str]) -> None:
    # Under the ban China's mine makes only what China's users take (200 -> 100 t): its row is in the table
    # of facilities whose output moved, and under rebalance the footnote follows it.
    s = exporter_world()
    r = simulate(s, years=[2024, YEAR])
    _print_response(r, [YEAR], None)
    out = " ".join(capsys.readouterr().out.split())
    assert "Facilities whose output moved" in out
    assert ONE_OPTIMUM in out
    # --objective weighted (run passes exact=False): one solve of weighted levels, not each level optimised, so
    # "every objective level is unique" is not what it guarantees: no footnote
    _print_response(simulate(s, years=[2024, YEAR], objective="weighted", allocation="max_delivery"), [YEAR], None,
                    exact=False)
    out = " ".join(capsys.readouterr().out.split())
    assert "Facilities whose output moved" in out
    assert ONE_OPTIMUM not in out
    assert WORLD_RULE_NOTE not in out
    # fixed keeps the pattern, no LP: no tie-break, no footnote
    _print_response(simulate(s, years=[2024, YEAR], mode="fixed"), [YEAR], None)
    out = " ".join(capsys.readouterr().out.split())
    assert "Facilities whose output moved" in out
    assert ONE_OPTIMUM not in out
    # the report's "What limits supply" (plants at capacity: Japan's mine) and the workbook's sheet say it too
    limits = limits_table(ScenarioRun(s, (r,)), YEAR, {})
    assert limits["rows"]
    assert limits["note"].endswith(ONE_OPTIMUM)
    assert any(ONE_OPTIMUM in text for _, text in _ABOUT)


def test_the_page_s_exposure_falls_note_skips_a_stand_in_of_shares_only() -> None:
    # A stand-in run's shortfall table with shares only: no world sum to compare against, so no note (and no
    # KeyError from summing a column it lacks); the same guard as the report's world note.
    from supplychain.report.html import _exposure_falls

    s = exporter_world()
    r = simulate(s, years=[2024, YEAR])
    shares = r.shortfall.drop(columns=["demand", "delivered", "shortfall"])
    pairs = [("JP", "x"), ("KR", "x")]
    assert _exposure_falls(ScenarioRun(s, (r, r)), r.measures.assign(variant="base"), shares, pairs) == ""
    # nor one of shortfalls without demand and delivered (world_balance sums the three quantities)
    shortfalls = r.shortfall.drop(columns=["demand", "delivered"])
    assert _exposure_falls(ScenarioRun(s, (r, r)), r.measures.assign(variant="base"), shortfalls, pairs) == ""


def _said(dot_source: str) -> str:
    """A picture's DOT text as read: its heading's line breaks as spaces, entities decoded, spaces folded."""
    import html

    return " ".join(html.unescape(dot_source.replace('<BR ALIGN="LEFT"/>', " ")).split())


def test_a_rebalance_picture_says_plant_outputs_are_one_optimum(
        run_cli: Callable[..., CompletedProcess[str]], write: Callable[[str, Any], Path], tmp_path: Path) -> None:
    # The flows of a rebalance run are one of several optima (the LP's tie-break picks the plant): the picture's
    # heading ends with the short footnote; a fixed run keeps the pattern (no LP) and the baseline network is
    # no run's response: neither says it.
    from supplychain.report.figures import _graph_images

    s = exporter_world()
    for mode in ("rebalance", "fixed"):
        r = simulate(s, years=[2024, YEAR], mode=mode)
        assert (ONE_OPTIMUM_PICTURE in _said(r.draw(YEAR).source)) == (mode == "rebalance")
        assert ONE_OPTIMUM_PICTURE not in _said(r.draw(YEAR, baseline=True).source)
        images = _graph_images(ScenarioRun(s, (r,)), "x", YEAR, {}, [], ["x"])
        said = {image.title: _said(image.svg.decode()) for image in images}
        variant = [t for t in said if "changes against the baseline" in t]
        assert variant  # the ban changes flows: the variant's picture is drawn
        assert all(("tie-break" in said[t]) == (mode == "rebalance") for t in variant)
        assert not any("tie-break" in text for t, text in said.items() if t not in variant)  # the baselines
    path = write("two_stage.yaml", sampled_world(0.0, 0.2))
    for mode in ("rebalance", "fixed"):
        for extra in ((), ("--baseline",)):
            out = tmp_path / f"{mode}{len(extra)}.dot"
            done = run_cli("graph", path, "--mode", mode, "--year", "2025", "-o", out, *extra)
            assert done.returncode == 0, done.stderr
            assert (ONE_OPTIMUM_PICTURE in _said(out.read_text())) == (mode == "rebalance" and not extra)
