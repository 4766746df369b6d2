"""``compare`` says when a difference between runs may be the tie-break's (analyst review #8, U-11).

Under ``rebalance`` which supplier ships a tonne is a tie wherever suppliers deviate alike from the
baseline; the LP's tie-break settles it (docs/rebalance.md, "Tie-break", "What is unique and what is not").
So the direct import, traced and exposure shares ``compare`` shows are one of several equally good
routings, and the table says so (:data:`~supplychain.report.engine_notes.ONE_OPTIMUM_SHARES`); the
shortfall is unique. ``fixed`` keeps the trade pattern (no LP, no tie-break): no note.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import supplychain as sc
from supplychain.io import load_text
from supplychain.report.engine_notes import ONE_OPTIMUM, ONE_OPTIMUM_SHARES

REPO = Path(__file__).resolve().parent.parent

TWO_EQUAL_SUPPLIERS = """
scenario: {name: Two equal suppliers, base_year: 2024, horizon: 2026}
commodities:
  ndpr: {name: NdPr oxide, stage: oxide, basis: t REO, family: rare_earths, elements: [Nd, Pr]}
facilities:
  cn_sep{s}: {name: CN, country: CN, kind: aggregate, output: ndpr, capacity: 3000, utilisation: 0.3333333333333333}
  au_sep{s}: {name: AU, country: AU, kind: aggregate, output: ndpr, capacity: 3000, utilisation: 0.3333333333333333}
  my_sep: {name: MY, country: MY, kind: aggregate, output: ndpr, capacity: 1000, utilisation: 1}
flows:
  cn_us{s}: {supplier: CN, buyer: US, commodity: ndpr, year: 2024, tonnes: 1000}
  au_us{s}: {supplier: AU, buyer: US, commodity: ndpr, year: 2024, tonnes: 1000}
  my_us: {supplier: MY, buyer: US, commodity: ndpr, year: 2024, tonnes: 1000}
demand:
  us: {country: US, commodity: ndpr, year: 2024, tonnes: 3000}
policies:
  my_ban: {type: export_ban, country: MY, covers: {families: [rare_earths]}, start: 2025-01-01}
toggles:
  my_ban: {controls: [my_ban], default: off}
variants:
  my_ban: {toggles: {my_ban: on}}
"""
"""The US buys 1,000 t of NdPr oxide each from China, Australia and Malaysia (3,000 t demand); China's and
Australia's plants run at a third of 3,000 t, Malaysia's at its 1,000 t. ``{s}`` suffixes the ids of the two
alike suppliers (a renaming)."""


def world(suffix: str) -> str:
    return TWO_EQUAL_SUPPLIERS.replace("{s}", suffix)


def said(text: str) -> str:
    return " ".join(text.split())


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "supplychain", *map(str, args)], capture_output=True, text=True,
                          cwd=REPO, check=False, timeout=600)


def test_the_world_has_a_tie_that_moves_the_china_share_and_not_the_shortfall() -> None:
    # Hand-worked. Malaysia's ban (2025) takes its 1,000 t from the US; China and Australia each have
    # 3,000 - 1,000 = 2,000 t spare on a route to the US that carries 1,000 t. Any split (x from China,
    # 1,000 - x from Australia) meets the demand (no shortfall, no stock, no cost, nothing unsold beyond
    # Malaysia's stranded output) and deviates from the baseline alike: 1,000 t cut on my_us and Malaysia's
    # plant, x + (1,000 - x) = 1,000 t more on the two routes and 1,000 t more from the two plants. Every key
    # of the tie-break (capacity 3,000 t, baseline 1,000 t, supplier's and buyer's baseline flows) is equal,
    # so the hash of the ids picks the supplier: the US's traced (and direct) China share is
    # (1,000 + x) / 3,000, 1/3 when Australia grows, 2/3 when China does — and renaming the two moves it.
    shares, shortfalls = set(), set()
    for suffix in ("_a", "_b"):
        r = sc.simulate(load_text(world(suffix)), variant="my_ban", years=[2024, 2025])
        m = r.measures
        us = m[(m["country"] == "US") & (m["year"] == 2025) & (m["metric"] == "traced_share") & m["partner"].isna()]
        shares.add(round(float(us["value"].iloc[0]), 9))
        short = r.shortfall
        shortfalls.add(round(float(short.loc[(short["country"] == "US") & (short["year"] == 2025),
                                             "shortfall"].iloc[0]), 6))
    assert shares == {round(1 / 3, 9), round(2 / 3, 9)}
    assert shortfalls == {0.0}


@pytest.mark.parametrize("mode", ["rebalance", "fixed"])
def test_compare_says_the_shares_are_one_of_several_routings_under_rebalance(mode: str, tmp_path: Path) -> None:
    # The comparison base (33 %) against my_ban (1/3 or 2/3, by the ids' hash: above) is the tie-break's under
    # rebalance, and the footnote says so, after the sentence every rebalance table of plant rows carries.
    # Under fixed the pattern is kept: my_ban's US gets 2,000 t, China's half (50 %), 1,000 t short; no note.
    path = tmp_path / "tie.yaml"
    path.write_text(world("_a"), encoding="utf-8")
    done = cli("compare", path, "--year", "2025", "--mode", mode, "--workers", "1")
    assert done.returncode == 0, done.stderr
    out = said(done.stdout)
    assert "US ndpr traced China share of what arrives" in out
    assert (said(ONE_OPTIMUM_SHARES) in out) == (mode == "rebalance")
    assert said(ONE_OPTIMUM_SHARES).endswith(said(ONE_OPTIMUM))  # the one sentence, not a second wording


def test_no_note_under_the_weighted_objective(tmp_path: Path) -> None:
    # --objective weighted optimises one weighted sum: the shortfalls are not unique either, and run drops
    # ONE_OPTIMUM there (tests/test_engine_notes.py); compare alike. Its title says "approximate priorities".
    path = tmp_path / "tie.yaml"
    path.write_text(world("_a"), encoding="utf-8")
    done = cli("compare", path, "--year", "2025", "--objective", "weighted", "--allocation", "max_delivery",
               "--workers", "1")
    assert done.returncode == 0, done.stderr
    assert "approximate priorities" in said(done.stdout)
    assert said(ONE_OPTIMUM_SHARES) not in said(done.stdout)
