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
from supplychain.simulation.policies import scenario_policy_effects

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
    # targets, magnet materials; Nos. 61/62 (2025-10-09) add Ho, Er, Tm, Eu, Yb.
    no18 = world.policies["cn_mofcom_no18"].covers
    assert (no18.elements, no18.stages) == (["Sm", "Gd", "Tb", "Dy", "Lu", "Sc", "Y"], ["oxide", "metal", "magnet"])
    for pid in ("cn_mofcom_no61_62", "cn_mofcom_no61_62_resumed"):
        assert world.policies[pid].covers.elements == ["Ho", "Er", "Tm", "Eu", "Yb"]
    shares = {k: q.central for k, q in no18.coverage.items()}
    assert shares["other_reo"] < 0.2
    assert shares["ree_compounds"] < 0.2
    for pid in ("cn_mofcom_no18", "cn_mofcom_no61_62"):
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
