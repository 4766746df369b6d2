"""The report says which supply response its shortfall shows, and names the fixed one where it differs much."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pandas as pd

from supplychain.report.answers import PEAK_TIE, RESPONSE_GAP, RESPONSE_WORDS
from supplychain.report.html import build_view, write_report
from supplychain.report.markdown import summary_markdown
from supplychain.report.runs import run_scenario
from supplychain.schema.model import Scenario
from tests.test_allocation import world


def rerouted_world(au_capacity: float) -> Scenario:
    """A world where re-routing can make up China's banned exports to the US, in full or in part.

    CN mine 100 t → US 60 t; AU mine 40 t (capacity ``au_capacity``) → US 40 t; US demand 100 t.
    China's exports are banned from 2025-01-01 (base); variant ``no_ban`` switches the ban off.
    """
    s = world({"CN": (100, 100), "AU": (40, au_capacity)}, {"US": 100},
              {"cn_us": ("CN", "US", 60), "au_us": ("AU", "US", 40)})
    return Scenario.model_validate({**s.model_dump(exclude_none=True),
                                    "variants": {"no_ban": {"toggles": {"ban": False}}}})


def _row(md: str, heading: str, first_cell: str) -> list[str]:
    section = md[md.index(heading):]
    row = next(line for line in section.splitlines() if line.startswith(f"| {first_cell}"))
    return [c.strip() for c in row.strip("|").split("|")]


def test_a_best_case_without_shortfall_names_the_fixed_figure(tmp_path: Path) -> None:
    # AU can make 100 t. fixed: the US keeps only AU's 40 t of 100 t: 60 % short in 2025 (60 t).
    # rebalance (contracts_first): AU's 60 t of spare capacity go to the US: nobody short. The gap,
    # 60 points, is above RESPONSE_GAP (5 points), so the fixed figure is shown beside "none".
    assert RESPONSE_GAP == 0.05
    out = write_report(run_scenario(rerouted_world(100)), tmp_path / "r", countries=("US",))
    md = (out / "summary.md").read_text(encoding="utf-8")
    assert _row(md, "### Shortfall", "United States") == [
        "United States · Magnets", "none; fixed: 60% in 2025 (60 t in all)", "none"]
    assert "under the rebalance response (freed and spare supply re-routed within capacities to whoever is " \
           "short: a best case, perfect re-routing)" in md
    assert "Where the fixed response (the trade pattern kept, blocked tonnes lost: the pessimistic bound) leaves " \
           "at least 5 percentage points more of demand unmet, its peak follows" in md
    # the answer at the top: the rebalance response named, the fixed bound said (scenario "hand", no file)
    assert ("No demand goes unmet in any scenario under the rebalance response. Under the fixed response (the "
            "trade pattern kept, blocked tonnes lost: the pessimistic bound): 60% unmet in 2025 (hand, base).") in md
    overview = _row(md, "## Overview", "hand | base")
    assert overview[-1] == "none; fixed: 60% (United States · Magnets, 2025)"
    assert _row(md, "## Overview", "hand | no\\_ban")[-1] == "none"
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "none; fixed: 60% in 2025 (60 t in all)" in html
    assert "a best case, perfect re-routing" in html


def test_a_small_gap_shows_the_rebalance_figure_alone() -> None:
    # AU can make 44 t: rebalance sends its 4 t spare to the US, 56 % short (56 t); fixed 60 %:
    # a gap of 4 points, under RESPONSE_GAP, so only the rebalance figure and no fixed sentence.
    view, _ = build_view([run_scenario(rerouted_world(44))], countries=("US",))
    md = summary_markdown(view)
    assert _row(md, "### Shortfall", "United States") == [
        "United States · Magnets", "56% in 2025 (56 t in all)", "none"]
    assert "under the rebalance response" in md
    assert "its peak follows" not in md
    # AU's 44 t of capacity (a bare number in the hand world: an assumption) bounds the shortfall (What
    # limits supply: 10% more of it cuts the unmet 56 t by 4.4 t), so the sentence says so
    # one user short: every allocation rule gives it the same share of the same 44 t (R-13's clause)
    assert ("Worst shortfall under the rebalance response: 56% of demand unmet in 2025 (hand, base), bounded by "
            "Magnets capacity outside China, assumed: see What limits supply; the same under the other allocation "
            "rules (home\\_first, proportional, max\\_delivery); every rule delivers the same 44 t worldwide") in md
    assert "Under the fixed response" not in md


def test_the_answer_says_when_an_assumed_capacity_bounds_its_worst_shortfall() -> None:
    # The world of the small gap: AU's 44 t of capacity binds the US's 56% shortfall in 2025. Assumed (a
    # bare number), the sentence carries the clause; sourced (the same 44 t citing a source), it does not,
    # though What limits supply still names the stage.
    def sentence(s: Scenario) -> tuple[str, list[dict[str, str]]]:
        view, _ = build_view([run_scenario(s)], countries=("US",))
        return view["answers"][0]["sentence"], view["scenarios"][0]["limits"]["rows"]

    clause = "bounded by Magnets capacity outside China, assumed: see What limits supply"
    said, rows = sentence(rerouted_world(44))
    assert clause in said
    assert [r["plants"] for r in rows] == ["au_mine*"]
    data = rerouted_world(44).model_dump(exclude_none=True)
    data["facilities"]["au_mine"]["capacity"] = {"value": 44, "source": "au_report"}
    data["sources"] = {"au_report": {"title": "AU mine annual report"}}
    said, rows = sentence(Scenario.model_validate(data))
    assert "bounded by" not in said
    assert ("Worst shortfall under the rebalance response: 56% of demand unmet in 2025 (hand, base); the same "
            "under the other allocation rules") in said
    assert [r["plants"] for r in rows] == ["au_mine"]


def test_the_fixed_response_says_so_and_no_shortfall_says_under_which() -> None:
    # reported under fixed, the table is the pessimistic bound and says so; nothing to compare
    run = run_scenario(rerouted_world(100), mode="fixed")
    assert run.fixed_shortfall is None
    md = summary_markdown(build_view([run], countries=("US",))[0])
    assert _row(md, "### Shortfall", "United States")[1] == "60% in 2025 (60 t in all)"
    assert f"under the fixed response ({RESPONSE_WORDS['fixed']})" in md
    # without the ban nobody is short under either response, and the sentence says both were looked at
    calm = Scenario.model_validate({**rerouted_world(100).model_dump(exclude_none=True), "variants": {}})
    calm = Scenario.model_validate({**calm.model_dump(exclude_none=True),
                                    "toggles": {"ban": {"controls": ["cn_ban"], "default": False}}})
    md = summary_markdown(build_view([run_scenario(calm)], countries=("US",))[0])
    assert "No shortfall in any variant under the rebalance response, nor under the fixed response." in md


def _table(rows: list[tuple[str, str, int, float]]) -> pd.DataFrame:
    """A shortfall table of variant ``base``: (country, commodity, year, shortfall share), 100 t of demand each."""
    return pd.DataFrame({"variant": "base", "country": [c for c, _, _, _ in rows],
                         "commodity": [k for _, k, _, _ in rows], "year": [y for _, _, y, _ in rows],
                         "shortfall": [100 * v for *_, v in rows], "shortfall_share": [v for *_, v in rows]})


def _overview(rebalance: list[tuple[str, str, int, float]], fixed: list[tuple[str, str, int, float]]) -> str:
    from supplychain.report.tables import worst_shortfall_text

    run = SimpleNamespace(fixed_shortfall=_table(fixed), results=[SimpleNamespace(mode="rebalance")])
    return worst_shortfall_text(run, _table(rebalance), "base", {"magnet": "Magnets", "gallium": "Gallium"})


def test_the_overview_names_every_country_tied_at_the_peak_and_the_fixed_runs_own_peak() -> None:
    # The analyst's case (path_to_2030 status_quo, 2025): EU, JP, KR, ROW and US magnets all 17.9991%
    # short under rebalance; under fixed the US is 31.8% short, Korea 26%. Ties within PEAK_TIE (0.05
    # points) reach the peak: JP's 17.96% does (0.0391 points below), CN's 17.9% does not (0.0991 below).
    # The fixed bound is the fixed run's own peak, the US at 31.8% (not Korea's 26%), and only its country
    # and year are said: the commodity is the rebalance peak's.
    assert PEAK_TIE == 0.0005
    tied = [("EU", "magnet", 2025, 0.179991), ("KR", "magnet", 2025, 0.179991), ("ROW", "magnet", 2025, 0.179991),
            ("US", "magnet", 2025, 0.179991), ("JP", "magnet", 2025, 0.1796), ("CN", "magnet", 2025, 0.179),
            ("US", "magnet", 2026, 0.05)]
    fixed = [("US", "magnet", 2025, 0.318), ("KR", "magnet", 2025, 0.26), ("EU", "magnet", 2025, 0.25)]
    assert _overview(tied, fixed) == ("18% (European Union, Japan, Rest of world, South Korea, United States · "
                                      "Magnets, 2025); fixed: 32% (United States, 2025)")
    # the same in any row order: the names are sorted, not picked by which row came first
    assert _overview(tied[::-1], fixed[::-1]) == _overview(tied, fixed)
    # a sixth tied country is counted, not named (MAX_NAMED = 5)
    assert _overview([*tied, ("TW", "magnet", 2025, 0.179991)], fixed).startswith(
        "18% (European Union, Japan, Rest of world, South Korea, Taiwan · Magnets, 2025; +1 more); fixed: 32%")


def test_the_overview_gives_the_fixed_runs_own_peak_pair_where_it_differs() -> None:
    # rebalance: Japan's magnets 18% short (the peak), US gallium 0%. fixed: US gallium 43% (its peak),
    # Japan's magnets 26%. The fixed bound is fixed's own peak, another pair, so both are named; with no
    # rebalance shortfall it is named in full; fixed's peak on the same pair says only the year.
    fixed = [("JP", "magnet", 2025, 0.26), ("US", "gallium", 2025, 0.43)]
    assert _overview([("JP", "magnet", 2025, 0.18), ("US", "gallium", 2025, 0.0)], fixed) == \
        "18% (Japan · Magnets, 2025); fixed: 43% (United States · Gallium, 2025)"
    assert _overview([("US", "gallium", 2025, 0.0)], fixed) == "none; fixed: 43% (United States · Gallium, 2025)"
    assert _overview([("JP", "magnet", 2025, 0.18)], [("JP", "magnet", 2026, 0.26)]) == \
        "18% (Japan · Magnets, 2025); fixed: 26% (2026)"
    # fixed 4 points worse (under RESPONSE_GAP): the rebalance peak alone
    assert _overview([("JP", "magnet", 2025, 0.18)], [("US", "magnet", 2025, 0.22)]) == "18% (Japan · Magnets, 2025)"


# ------------------------------------------------------- the fixed bound in the data files and the other uses
def test_the_fixed_bound_the_page_quotes_is_in_shortfall_csv_and_the_workbook(tmp_path: Path) -> None:
    # rerouted_world(100): US demand 100 t; CN 60 t banned from 2025, AU 40 t of 100 t capacity.
    # rebalance: AU's 60 t spare go to the US: 0 t short in 2025. fixed: the US keeps AU's 40 t: 60 t, 60 %.
    # The page says "none; fixed: 60% ..."; shortfall.csv and the Shortfall sheet used to hold the
    # rebalance rows only (0 t), with no column telling the responses apart.
    import openpyxl

    out = write_report(run_scenario(rerouted_world(100)), tmp_path / "r", countries=("US",))
    sh = pd.read_csv(out / "shortfall.csv")
    us = sh[(sh["country"] == "US") & (sh["year"] == 2025)].set_index(["variant", "response"])
    assert sorted(us.index) == [("base", "fixed"), ("base", "rebalance"), ("no_ban", "fixed"), ("no_ban", "rebalance")]
    assert us.loc[("base", "rebalance"), "shortfall"] == 0
    assert us.loc[("base", "fixed"), "shortfall"] == 60
    assert us.loc[("base", "fixed"), "shortfall_share"] == 0.6
    assert us.loc[("no_ban", "fixed"), "shortfall"] == 0  # no ban: the trade pattern serves all 100 t
    assert (sh["response"] == "rebalance").sum() == (sh["response"] == "fixed").sum()  # the same uses, twice

    ws = openpyxl.load_workbook(out / "tables.xlsx")["Shortfall"]
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    assert head[:4] == ["scenario", "variant", "response", "year"]
    col = {h: i for i, h in enumerate(head)}
    fixed = [r for r in rows[1:] if r[col["response"]] == "fixed" and r[col["variant"]] == "base"
             and r[col["year"]] == 2025 and r[col["country"]] == "US"]
    assert [r[col["shortfall (unit)"]] for r in fixed] == [60]


def _sf(rows: list[tuple[str, int, float]]) -> pd.DataFrame:
    """A fixed shortfall table of commodity ``ga``, country US: (variant, year, shortfall share)."""
    return pd.DataFrame({"country": "US", "commodity": "ga", "variant": [v for v, _, _ in rows],
                         "year": [y for _, y, _ in rows], "shortfall_share": [s for *_, s in rows]})


def test_other_uses_give_the_fixed_bound_beside_a_rebalance_zero_and_rank_by_it() -> None:
    # Two scenarios under rebalance: a (variants v1, v2), b (v1). US uses ga and ge besides its headline.
    # rebalance: ga exposed at most 30 %, never short; ge exposed at most 50 %, never short.
    # fixed (the runs' fixed_shortfall): ga peaks at 60 % in a/v1 (2025) and again 60 % in b/v1 (2026),
    # 10 % in a/v2; ge is never short under fixed either.
    # ga: 60 % - 0 % >= RESPONSE_GAP, so its cell reads the rebalance 0 "in every rebalance run" (the fixed
    #     runs are short) and the fixed bound as the overview does: 60 % (a, v1, 2025; 1 more run: b, v1).
    #     Its line ranks by the larger of what it shows, max(30 %, 0 %, 60 %) = 60 % > ge's 50 %: first.
    # ge: 0 under both responses: "0% (in every run)".
    # On main the ga cell said "0% (in every run)" and ge came first (50 % > 30 %).
    from supplychain.report.answers import OTHERS_FIXED_NOTE, _others

    def frame(ga: float, ge: float) -> pd.DataFrame:
        rows = [(k, "exposed_share", 2025, v) for k, v in (("ga", ga), ("ge", ge))]
        rows += [(k, "shortfall_share", 2025, 0.0) for k in ("ga", "ge")]
        return pd.DataFrame(rows, columns=["commodity", "metric", "year", "value"])

    runs = [SimpleNamespace(file="a.yaml", results=(SimpleNamespace(variant="v1"), SimpleNamespace(variant="v2")),
                            fixed_shortfall=_sf([("v1", 2025, 0.6), ("v1", 2026, 0.2), ("v2", 2025, 0.1)])),
            SimpleNamespace(file="b.yaml", results=(SimpleNamespace(variant="v1"),),
                            fixed_shortfall=_sf([("v1", 2025, 0.0), ("v1", 2026, 0.6)]))]
    own = [[frame(0.3, 0.5), frame(0.2, 0.4)], [frame(0.1, 0.1)]]
    lines = _others(runs, own, ["ga", "ge"], {}, "US", "rebalance")
    assert [line["commodity"] for line in lines] == ["ga", "ge"]
    assert lines[0]["shortfall"] == "0% (in every rebalance run); fixed: 60% (a, v1, 2025; 1 more run)"
    assert lines[0]["rank"] == 0.6
    assert lines[0]["fixed"]
    assert not lines[1]["fixed"]
    assert lines[1]["shortfall"] == "0% (in every run)"
    assert lines[1]["exposed"] == "50% (a, v1, 2025)"
    assert "at least 5 percentage points above the rebalance one" in OTHERS_FIXED_NOTE


def test_other_uses_keep_a_fixed_bound_within_the_gap_out_but_name_the_response() -> None:
    # fixed leaves ga 3 % short (a, v1, 2025), rebalance 0 %: 3 points < RESPONSE_GAP, so no "fixed:"
    # figure (as in the overview), but "in every run" would be false: the cell names the response.
    from supplychain.report.answers import _others

    frame = pd.DataFrame([("ga", "exposed_share", 2025, 0.3), ("ga", "shortfall_share", 2025, 0.0)],
                         columns=["commodity", "metric", "year", "value"])
    runs = [SimpleNamespace(file="a.yaml", results=(SimpleNamespace(variant="v1"),),
                            fixed_shortfall=_sf([("v1", 2025, 0.03)]))]
    (line,) = _others(runs, [[frame]], ["ga"], {}, "US", "rebalance")
    assert line["shortfall"] == "0% (in every rebalance run)"
    assert line["rank"] == 0.3
    assert not line["fixed"]


def test_summary_md_carries_the_note_of_the_fixed_bound_of_other_uses() -> None:
    # the note that explains "fixed:" under "also uses" is written when a line shows one, and only then
    from supplychain.report.answers import OTHERS_FIXED_NOTE
    from supplychain.report.markdown import _answer, md_escape

    answer = {"country": "United States", "commodity": "M", "source": "China", "sentence": "s",
              "years": "2024–2025", "rows": [{"scenario": "a", "variant": "v", "first": True, "cells": []}],
              "others": [{"commodity": "ga", "exposed": "30%", "shortfall": "0%; fixed: 60% (a, v1, 2025)"}],
              "others_more": 0, "others_note": OTHERS_FIXED_NOTE, "metrics": [], "shipped": False}
    assert md_escape(OTHERS_FIXED_NOTE) in _answer(answer)
    assert md_escape(OTHERS_FIXED_NOTE) not in _answer({**answer, "others_note": ""})


# ----------------------------------------------------------- the headline range says when an end is unmet demand
def test_a_range_end_that_is_unmet_demand_says_so() -> None:
    # Exposure = traced to China + unmet demand, over demand. Three runs in 2030:
    #   ban:     nothing arrives from China, 22 % of demand unmet → exposure 22 %, all of it unmet;
    #   deal:    38 % traced, all demand met → 38 %;
    #   partial: 84 % traced + 7 % unmet → 91 %.
    # The range's low end (ban) is all shortfall and its high end (partial) 7 % of it: both are said.
    # On main: "ranges from 22% (s, ban) to 91% (s, partial)", the ban reading as the best case.
    from supplychain.report.answers import Series, _sentence

    def run(variant: str, exposed: float, unmet: float) -> tuple[str, str, dict[str, Series]]:
        return "s", variant, {"exposed_share": Series((2024, 2030), (0.96, exposed)),
                              "shortfall_share": Series((2024, 2030), (0.0, unmet))}

    said = _sentence("US", "m", {"m": "Magnets"}, [run("ban", 0.22, 0.22), run("deal", 0.38, 0.0),
                                                   run("partial", 0.91, 0.07)], "China")  # fmt: skip
    assert ("Exposure by 2030 ranges from 22% (s, ban: all of it unmet demand) "
            "to 91% (s, partial: 7% of demand unmet).") in said
    said = _sentence("US", "m", {"m": "Magnets"}, [run("deal", 0.38, 0.0), run("high", 0.91, 0.0)], "China")
    assert "Exposure by 2030 ranges from 38% (s, deal) to 91% (s, high)." in said


def test_the_report_sentence_says_the_ban_case_is_unmet_demand() -> None:
    # rerouted_world(44) under rebalance, 2025: the ban (base) leaves the US AU's 44 t of 100 t: 56 % unmet,
    # nothing traced to China: exposure 56 %, all of it unmet. no_ban: CN 60 t + AU 40 t arrive, 60 % traced
    # to China, nothing unmet: exposure 60 %.
    view, _ = build_view([run_scenario(rerouted_world(44))], countries=("US",))
    assert ("Exposure by 2025 ranges from 56% (hand, base: all of it unmet demand) to 60% (hand, no_ban)."
            in view["answers"][0]["sentence"])
