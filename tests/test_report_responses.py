"""The report says which supply response its shortfall shows, and names the fixed one where it differs much."""

from __future__ import annotations

from pathlib import Path

from supplychain.report.answers import RESPONSE_GAP, RESPONSE_WORDS
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
    assert "Worst shortfall under the rebalance response: 56% of demand unmet in 2025 (hand, base)." in md
    assert "Under the fixed response" not in md


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


def test_the_overview_gives_the_fixed_bound_of_the_same_pair_as_the_rebalance_peak() -> None:
    from types import SimpleNamespace

    import pandas as pd

    from supplychain.report.tables import worst_shortfall_text

    # rebalance: Japan's magnets 18% short (the peak), US gallium 0%. fixed: US gallium 43% (the worst
    # of all), Japan's magnets 26%. The overview pairs 18% with Japan's own 26%, not with gallium's 43%;
    # with no rebalance shortfall it names fixed's worst pair.
    def table(rows: list[tuple[str, str, float]]) -> pd.DataFrame:
        return pd.DataFrame({"variant": "base", "year": 2025, "country": [c for c, _, _ in rows],
                             "commodity": [k for _, k, _ in rows], "shortfall": [100 * v for _, _, v in rows],
                             "shortfall_share": [v for _, _, v in rows]})

    fixed = table([("JP", "magnet", 0.26), ("US", "gallium", 0.43)])
    run = SimpleNamespace(fixed_shortfall=fixed, results=[SimpleNamespace(mode="rebalance")])
    text = worst_shortfall_text(run, table([("JP", "magnet", 0.18), ("US", "gallium", 0.0)]), "base", {})
    assert text == "18% (Japan · magnet, 2025); fixed: 26% (Japan · magnet, 2025)"
    assert worst_shortfall_text(run, table([("US", "gallium", 0.0)]), "base", {}) == \
        "none; fixed: 43% (United States · gallium, 2025)"
