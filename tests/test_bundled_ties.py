"""One fact, one draw, in the bundled world (review #4 R-7; the Lynas feed of s34).

* the 10X plant's magnet and metal lines share their lead time and their ramp-up: a magnet line commissioned
  before its own metal line (running on Chinese metal) was 31 % of samples with independent draws;
* No. 18's delay is one licensing start for every destination;
* Lynas's heavy-RE circuit's Mt Weld feed follows the circuit's sampled utilisation from 2026.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from supplychain.graph.build import capacity_in_year
from supplychain.io import load
from supplychain.uncertainty.sampling import draw, find_parameters

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
TENX = "agreements.us_dod_mp_2025.investment.projects.mp_10x_{}.{}"


@pytest.fixture(scope="module")
def samples():
    return draw(find_parameters(load(SCENARIOS / "path_to_2030.yaml")), 400, seed=3)


def test_the_10x_lines_share_their_schedule(samples) -> None:
    for field in ("lead_time_years", "ramp_up_years"):
        magnets, metal = samples[TENX.format("magnets", field)], samples[TENX.format("metal", field)]
        assert (magnets.to_numpy() == metal.to_numpy()).all()
    # the shared lead time still follows its weights (0.5, 0.3, 0.2 on 3, 4, 5 years): 400 draws
    lead = samples[TENX.format("magnets", "lead_time_years")]
    assert set(lead.unique()) <= {3, 4, 5}
    assert lead.eq(3).mean() == pytest.approx(0.5, abs=0.08)


def test_no18_has_one_delay_for_every_destination(samples) -> None:
    a, b = samples["policies.cn_mofcom_no18.delay_months"], samples["policies.cn_mofcom_no18_us.delay_months"]
    assert (a.to_numpy() == b.to_numpy()).all()
    assert a.between(1.8, 2.35).all()  # the range the May/June 2025 exports allow (policies.yaml cn_mofcom_no18)


def test_lynas_feed_is_the_circuits_sampled_utilisation_times_its_capacity_over_the_dy_yield(samples) -> None:
    # utilisation ~ triangular(0.5, 0.8, 1.0) and each year's feed ~ the same triangle x K_y / 0.05, K_y the
    # circuit's capacity in t Dy oxide (the expansion's linear build, ree_separation.yaml: 134 t in 2026, 220 t in
    # 2027, 250 t from 2028), both read at one uniform u: feed = utilisation x K_y / 0.05 in every sample, i.e.
    # 2,680 t x u, 4,400 t x u, then 5,000 t x u (ree_trade.yaml mt_weld_my_hre_feed_*).
    u = samples["facilities.lynas_malaysia_hre.utilisation"].to_numpy()
    per_u = {2026: 134 / 0.05, 2027: 220 / 0.05, **dict.fromkeys(range(2028, 2031), 250 / 0.05)}
    assert per_u[2026] == pytest.approx(2680.0)
    assert per_u[2027] == pytest.approx(4400.0)
    circuit = load(SCENARIOS / "path_to_2030.yaml").facilities["lynas_malaysia_hre"]
    for year, scale in per_u.items():  # the flows follow the circuit's capacity (the identity, not a copy of it)
        assert capacity_in_year(circuit, year) == pytest.approx(scale * 0.05)
    for year, scale in per_u.items():
        feed = samples[f"flows.mt_weld_my_hre_feed_{year}.tonnes"].to_numpy()
        np.testing.assert_allclose(feed, scale * u, rtol=1e-12)
