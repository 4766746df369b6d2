"""The deal scenarios say what they do (review #3: R-1, R-2, R-11, R-12, R-14).

* Malaysia's raw-export ban binds Malaysia's own ore (R-1), and ``compare`` and the report say
  which variants give the same numbers, computed by one rule (:mod:`supplychain.report.same`);
* under ``fixed`` a note says agreements' preferences and projects cannot act (R-2);
* ``us_japan_framework.yaml`` has the full ban without the framework to compare with (R-14);
* the US-Japan fund's modelled project shares add up to what its text says (R-12).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from supplychain.io import load
from supplychain.report.same import SAME_TOL, SameAs, agreement_toggles, same_as, same_notes

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


# ------------------------------------------------------------------ the rule (hand-worked)
def _table(values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"variant": v, "k": i, "value": x} for v, xs in values.items() for i, x in enumerate(xs)])


def test_same_as_groups_by_the_largest_difference_within_the_tolerance() -> None:
    # A = (0.5, 0.2, n/a). B differs from A by 0.1 in the first value: its own group.
    # C differs from A by 1e-7 <= SAME_TOL (1e-6) and has n/a where A has: the same as A,
    # largest difference 1e-7. D differs from B by 2e-6 > SAME_TOL: not the same as B, nor as A.
    # E has a number where A has n/a: different from A; equal to D (0 difference): D's group.
    t = _table({"A": [0.5, 0.2, np.nan], "B": [0.6, 0.2, np.nan], "C": [0.5 + 1e-7, 0.2, np.nan],
                "D": [0.6 + 2e-6, 0.2, 0.3], "E": [0.6 + 2e-6, 0.2, 0.3]})
    states = {"A": {"x": False, "y": False}, "B": {"x": True, "y": False}, "C": {"x": False, "y": True},
              "D": {"x": True, "y": True}, "E": {"x": True, "y": True}}
    groups = same_as(t, ["k"], ["A", "B", "C", "D", "E"], states, {"y"})
    assert [(g.like, g.variants, g.toggles, g.agreements_only) for g in groups] == [
        ("A", ("C",), ("y",), True),  # C differs from A by y alone, which controls agreements only
        ("D", ("E",), (), False),  # the same toggle states
    ]
    assert groups[0].largest == pytest.approx(1e-7, rel=1e-6)
    assert groups[1].largest == 0.0
    assert SAME_TOL == 1e-6


def test_same_notes_say_which_toggles_change_nothing_and_why_under_fixed() -> None:
    g = SameAs(("ban_kept", "no_memoranda"), "base", 1e-7, ("asean_memoranda", "my_ban_lifted_for_us"), True)
    (rebalance,) = same_notes([g], "rebalance")
    assert rebalance == ("ban_kept, no_memoranda give the same numbers as base (largest difference 1e-07): "
                         "the toggles they differ by (asean_memoranda, my_ban_lifted_for_us) change none of them.")
    (fixed,) = same_notes([g], "fixed")
    assert fixed.startswith(rebalance)
    assert "only under rebalance" in fixed
    # a toggle that also controls a policy: no "agreements cannot act" sentence, even under fixed
    (policy,) = same_notes([SameAs(("v",), "base", 0.0, ("ban",), False)], "fixed")
    assert "rebalance" not in policy


def test_agreement_toggles_are_those_controlling_agreements_only() -> None:
    sc = load(SCENARIOS / "path_to_2030.yaml")
    agreements = agreement_toggles(sc)
    assert {"us_japan_framework", "asean_memoranda", "my_ban_lifted_for_us"} <= agreements
    assert not {"cn_ree_full_ban", "my_raw_export_ban", "mp_china_halt"} & agreements  # policies


# ------------------------------------------------------------------ Malaysia's ban binds
def test_malaysias_ore_keeps_its_2024_buyer_as_far_as_the_ban_allows() -> None:
    # world/ree_trade.yaml gives MY -> CN ore of 130 t REO (USGS mirror statistic, 2024) in every
    # year 2025-2030, as an assumption (Lynas's plant runs on Mt Weld feed). Malaysia's ban is an
    # export quota of 0 t on ore from 2025-01-01, so with the ban kept the whole flow is blocked
    # (blocked share 1, 0 t delivered); lifted, the 130 t go to China (Malaysia's market takes in
    # only its own ore (Lynas's heavy-RE circuit takes the SEGH of its own separation), so China's licensing
    # takes nothing from it; while the circuit's feed was allocated, 1.5 t of its 4,130 t in 2026 were
    # Chinese: 130 x 1.5/4,130 = 0.05 t less). Before these flows the pattern sent the ore to Lynas's
    # heavy-RE circuit and the MY -> CN edge carried 0 t from 2025, so the ban bound nothing.
    from supplychain.api import simulate

    sc = load(SCENARIOS / "asean_memoranda.yaml")
    for year in range(2025, 2031):
        flow = sc.flows[f"my_cn_concentrate_{year}"]
        assert (flow.supplier, flow.buyer, flow.year, flow.tonnes.value) == ("MY", "CN", year, 130)
    edge = "flows.my_cn_concentrate_2026"
    kept = simulate(sc, variant="ban_kept", mode="fixed", years=[2026]).flows.set_index("edge").loc[edge]
    lifted = simulate(sc, variant="ban_lifted", mode="fixed", years=[2026]).flows.set_index("edge").loc[edge]
    assert kept["baseline"] == pytest.approx(130.0)
    assert kept["blocked_share"] == 1.0
    assert kept["simulated"] == 0.0
    assert lifted["blocked_share"] == 0.0
    assert lifted["simulated"] == pytest.approx(130.0, abs=0.1)


# ------------------------------------------------------------------ compare and report say it
def test_compare_says_which_variants_give_the_same_numbers_and_why_under_fixed() -> None:
    # asean_memoranda under fixed: base, ban_kept, ban_lifted_for_us and no_memoranda share toggle
    # states but for asean_memoranda and my_ban_lifted_for_us (agreements only, which cannot act
    # under fixed: no US-Malaysian trade for the exemption to free); ban_lifted differs (130 t of ore).
    proc = subprocess.run([sys.executable, "-m", "supplychain", "compare", str(SCENARIOS / "asean_memoranda.yaml"),
                           "--mode", "fixed", "--year", "2026", "--workers", "1"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stdout.splitlines() if "give the same numbers" in line]
    assert len(notes) == 1, proc.stdout[-2000:]
    assert notes[0].startswith("ban_kept, ban_lifted_for_us, no_memoranda give the same numbers in this comparison "
                               "as base")
    assert "(asean_memoranda, my_ban_lifted_for_us) change none of them" in notes[0]
    assert "only under rebalance" in notes[0]
    assert "ban_lifted," not in notes[0].split(" give ")[0]


def test_report_tables_carry_the_same_note() -> None:
    from supplychain.report.runs import run_scenario
    from supplychain.report.tables import _concat, same_numbers

    sc = load(SCENARIOS / "asean_memoranda.yaml")
    run = run_scenario(sc, mode="fixed", variants=["ban_kept", "ban_lifted"])
    (note,) = same_numbers(run, _concat(run.results, "measures"))
    # base and ban_kept: the same toggle states; ban_lifted differs by the 130 t of ore
    assert note.startswith("ban_kept gives the same measures as base (largest difference 0): the same toggle states")


# ------------------------------------------------------------------ the full ban without the framework
def test_us_japan_framework_compares_the_full_ban_with_and_without_the_framework() -> None:
    sc = load(SCENARIOS / "us_japan_framework.yaml")
    with_framework = dict(sc.variants["framework_under_full_ban"].toggles)
    without = dict(sc.variants["full_ban_no_framework"].toggles)
    assert with_framework.pop("us_japan_framework") is True
    assert without.pop("us_japan_framework") is False
    assert with_framework == without == {"cn_ree_licensing": True, "cn_ree_full_ban": True}


# ------------------------------------------------------------------ the fund's shares as its text says
def test_fund_project_shares_sum_to_what_the_agreement_says() -> None:
    # au_mine 0.15 + vn_mine 0.10 + my_mine 0.05 + jp_separation 0.05 + us_separation 0.05 = 0.40;
    # the text says so, and that the rest (0.60) is the unmodelled part.
    a = load(SCENARIOS / "us_japan_framework.yaml").agreements["us_jp_framework"]
    assert a.investment is not None
    total = sum(p.share_of_fund.value for p in a.investment.projects.values())
    assert total == pytest.approx(0.40)
    stated = re.search(r"project shares sum to (\d\.\d+)", a.assumption or "")
    assert stated is not None
    assert float(stated.group(1)) == pytest.approx(total)
    assert "60 %" in (a.not_representable or "")


# ------------------------------------------------------------------ what the framework's exemption can lift
def test_the_frameworks_exemption_has_no_restriction_to_lift() -> None:
    # scenarios/README.md and us_japan_framework.yaml say the exemption lifts nothing: no policy of
    # the bundled world is imposed by one party on trade with the other. A policy of the US or
    # Japan covers the other party unless it lists its partners without it (include) or excludes
    # it. If this fails, a restriction the exemption lifts was added: the texts must change.
    sc = load(SCENARIOS / "path_to_2030.yaml")
    a = sc.agreements["us_jp_framework"]
    assert a.exempt_parties
    parties = set(a.parties)
    lifted = [pid for pid, p in sc.policies.items() if p.country in parties
              for other in parties - {p.country}
              if (p.partners.include is None or other in p.partners.include) and other not in p.partners.exclude]
    assert lifted == []
    assert sc.policies["us_mp_china_halt_2025"].partners.include == ["CN"]  # the one US restriction: on China


# ------------------------------------------------------------------ review 7 G-8: the framework's other minerals
def test_the_frameworks_minerals_outside_its_covers_are_said_not_representable() -> None:
    # The framework's source is titled "... Critical Minerals and Rare Earths ..." but its covers name rare
    # earths only. Every other family of the world (gallium, germanium) must be named in not_representable,
    # so that what outputs say of it (Agreement.representation) reads "left out", not a silent "no effect".
    sc = load(SCENARIOS / "path_to_2030.yaml")
    a = sc.agreements["us_jp_framework"]
    assert a.source is not None
    assert "critical minerals" in sc.sources[a.source].title.lower()
    outside = {c.family for c in sc.commodities.values()} - set(a.covers.families)
    assert outside == {"gallium", "germanium"}
    text = (a.not_representable or "").lower()
    assert all(family in text for family in outside), outside
    assert a.representation.startswith("partly representable, left out:")
    assert "gallium and germanium" in a.representation
