"""Element selectors cover a mixed commodity only at a declared share (issue 18, item 5).

Before: ``covers: {elements: [Dy, Tb]}`` covered NdFeB magnets, concentrate and the USGS
compounds aggregate in full; MOFCOM No. 18 blocked La/Ce-dominated ``other_reo`` 25 % in
full, and Nos. 61/62 stacked to 43.75 %.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from supplychain.errors import ScenarioError
from supplychain.io import load, load_text
from supplychain.schema.model import Scenario
from supplychain.simulation.calendar import months_in_force
from supplychain.simulation.policies import scenario_policy_effects
from supplychain.simulation.toggles import resolve_toggles

REPO = Path(__file__).resolve().parent.parent
HEAD = (
    "scenario: {name: Controls, base_year: 2025}\n"
    "commodities:\n"
    "  dy_oxide: {name: Dy oxide, stage: oxide, family: rare_earths, elements: [Dy]}\n"
    "  other_reo: {name: Other oxides, stage: oxide, family: rare_earths,\n"
    "              elements: [La, Ce, Sm, Gd, Y, Lu, Sc, Ho, Er, Tm, Eu, Yb]}\n"
    "  magnet: {name: NdFeB, stage: magnet, family: rare_earths, elements: [Nd, Pr, Dy, Tb, Fe, B]}\n"
)


def test_a_mixed_commodity_needs_a_declared_share() -> None:
    text = HEAD + ("policies:\n  no18: {type: export_licensing, country: CN, start: 2025-04-04, share_approved: 0.75,"
                   " covers: {elements: [Sm, Gd, Tb, Dy, Lu, Sc, Y]}}\n")
    with pytest.raises(ScenarioError) as info:
        load_text(text, file="s.yaml")
    found = {(p.path, p.message.split(":")[0]) for p in info.value.problems}
    assert found == {
        (("policies", "no18", "covers", "elements"), "'magnet' carries Dy, Tb and also Nd, Pr, Fe, B"),
        (("policies", "no18", "covers", "elements"),
         "'other_reo' carries Sm, Gd, Y, Lu, Sc and also La, Ce, Ho, Er, Tm, Eu, Yb"),
    }
    assert all(p.hint.startswith("add `coverage: {") for p in info.value.problems)


def test_coverage_for_a_commodity_the_selector_does_not_match_is_refused() -> None:
    text = HEAD + ("policies:\n  p: {type: export_ban, country: CN, start: 2025, covers: {stages: [oxide],"
                   " coverage: {magnet: 0.5}}}\n")
    with pytest.raises(ScenarioError, match="coverage for 'magnet', which the selector does not match"):
        load_text(text)


def controls() -> Scenario:
    return load_text(HEAD + (
        "policies:\n"
        "  no18: {type: export_licensing, country: CN, start: 2025-01-01, share_approved: 0.75, covers: {elements: "
        "[Sm, Gd, Tb, Dy, Lu, Sc, Y], coverage: {other_reo: 0.08, magnet: 1.0}}}\n"
        "  no61: {type: export_licensing, country: CN, start: 2025-01-01, share_approved: 0.75, covers: {elements: "
        "[Ho, Er, Tm, Eu, Yb], coverage: {other_reo: 0.02}}}\n"))


def test_a_control_blocks_only_the_share_it_covers_and_stacking_stays_small() -> None:
    # Licensing in force the whole of 2025, 75 % approved, no delay: b = c × (1 − 0.75).
    #   Dy oxide (only Dy: c = 1): 0.25.  magnet (declared c = 1): 0.25.
    #   other_reo: No. 18 c = 0.08 → 0.02; Nos. 61/62 c = 0.02 → 0.005; layered:
    #   1 − (1 − 0.02)(1 − 0.005) = 0.0249 — not 1 − 0.75² = 43.75 % as when both covered it in full.
    edges = pd.DataFrame({"edge": ["dy", "other", "magnet"], "supplier_country": "CN", "buyer_country": "US",
                          "commodity": ["dy_oxide", "other_reo", "magnet"], "stage": ["oxide", "oxide", "magnet"],
                          "tonnes": 100.0})  # fmt: skip
    eff = scenario_policy_effects(controls(), edges, 2025)
    b = dict(zip(eff.edges["edge"], eff.edges["total_blocked_share"], strict=True))
    assert b["dy"] == pytest.approx(0.25)
    assert b["magnet"] == pytest.approx(0.25)
    assert b["other"] == pytest.approx(1 - (1 - 0.08 * 0.25) * (1 - 0.02 * 0.25))
    att = eff.attribution.set_index(["edge", "policy"])["blocked_tonnes"]
    assert att[("other", "no18")] + att[("other", "no61")] == pytest.approx(100 * b["other"])


@pytest.fixture(scope="module")
def world() -> Scenario:
    return load(REPO / "scenarios" / "china_licensing_2025.yaml", require_sources=True)


def test_bundled_controls_follow_their_published_lists(world: Scenario) -> None:
    # MOFCOM/GAC No. 18 (2025-04-04): Sm, Gd, Tb, Dy, Lu, Sc, Y — metals, alloys, oxides, compounds,
    # targets, magnet materials; No. 57 (announced 2025-10-09, suspended before it applied) adds Ho, Er, Tm, Eu, Yb.
    no18 = world.policies["cn_mofcom_no18"].covers
    assert (no18.elements, no18.stages) == (["Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"], ["oxide", "metal", "magnet"])
    assert world.policies["cn_mofcom_no57_resumed"].covers.elements == ["Ho", "Er", "Tm", "Eu", "Yb"]
    shares = {k: q.central for k, q in no18.coverage.items()}
    assert shares["other_reo"] < 0.2
    assert shares["ree_compounds"] < 0.2
    for pid in ("cn_mofcom_no18", "cn_mofcom_no57_resumed"):
        for q in world.policies[pid].covers.coverage.values():
            assert q.source or q.assumption


def test_validate_explain_and_run_header_list_coverage() -> None:
    path = REPO / "scenarios" / "china_licensing_2025.yaml"
    # shares read as in every other table (report.numbers.format_percent): "100%", not "100 %"
    line = ("cn_mofcom_no18 (export_licensing by CN from 2025-04-04): dy_oxide 100%, ndfeb_magnet 100% "
            "[china_magnet_exports_us_2025], other_reo 8% [assumption], ree_compounds 5% [assumption], "
            "tb_oxide 100%")

    def cli(*args: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "supplychain", *map(str, args)], capture_output=True,
                              text=True, check=False, timeout=300)

    proc = cli("validate", path, "--explain")
    assert proc.returncode == 0, proc.stderr
    assert f"     policy {line}" in proc.stdout
    proc = cli("run", path, "--variant", "documented", "--mode", "fixed", "--year", "2025", "-c", "US")
    assert proc.returncode == 0, proc.stderr
    assert f"  {line}" in proc.stdout


def test_ho_to_yb_are_licensed_only_when_no70s_suspension_ends(world: Scenario) -> None:
    # MOFCOM/GAC No. 57 (Ho, Er, Tm, Eu, Yb) was announced 2025-10-09 to apply from 2025-11-08 and was
    # suspended on 2025-11-07 by No. 70 until 2026-11-10 (mofcom_oct2025_package, mofcom_no70_2025;
    # data/policy_events_export_controls.csv): never in force in 2025. In `suspension_ends` it starts
    # 2026-11-10, so in 2026 (calendar.months_in_force) November counts 10..30 = 21 of 30 days, December
    # whole: 21/30 + 1 = 1.7 months, φ = 1.7/12 = 0.141667 (52 of 365 days by the day). Its delay is No. 18's
    # 2 months (one set of parameters with the minerals world's cn_no57_2025_resumed; main had no delay here),
    # so licences come 2027-01-10 and all of 2026's 1.7 months are blocked: share = φ × c =
    # 0.141667 × 0.02 = 0.002833 (other_reo, coverage 2 %) and 0.141667 × 0.01 = 0.001417 (ree_compounds, 1 %).
    # 2027: January 1-9 blocked, d = (9/31)/12 = 0.024194, the rest at 75 % approved:
    # d + (1 − d) × 0.25 = 0.268145, × c: 0.005363 and 0.002681.
    # (an older main had it in force 2025-10-09..11-07 in `documented` and from 2026-11-08: 23/30 + 1 months.)
    ho_yb = {"Ho", "Er", "Tm", "Eu", "Yb"}
    licences = [p for p, pol in world.policies.items() if pol.covers and set(pol.covers.elements or ()) & ho_yb]
    edges = pd.DataFrame({"edge": ["other", "compounds"], "supplier_country": "CN", "buyer_country": "US",
                          "commodity": ["other_reo", "ree_compounds"], "stage": "oxide", "tonnes": 1000.0})

    def blocked(variant: str, year: int) -> dict[str, float]:
        eff = scenario_policy_effects(world, edges, year, active=resolve_toggles(world, variant=variant).active)
        att = eff.attribution[eff.attribution["policy"].isin(licences)]
        return dict(zip(att["edge"], att["blocked_share"], strict=True))

    for variant in ("documented", "suspension_ends"):
        assert blocked(variant, 2025) == {}, variant
    assert blocked("documented", 2026) == {}
    phi = (21 / 30 + 1) / 12
    assert months_in_force(world.policies["cn_mofcom_no57_resumed"].start, None, 2026) == pytest.approx(1.7)
    assert blocked("suspension_ends", 2026) == pytest.approx({"other": phi * 0.02, "compounds": phi * 0.01})
    d = (9 / 31) / 12
    in_2027 = d + (1 - d) * (1 - 0.75)
    assert in_2027 == pytest.approx(0.268145, abs=1e-6)
    assert blocked("suspension_ends", 2027) == pytest.approx({"other": 0.02 * in_2027, "compounds": 0.01 * in_2027})
