"""One fact, one draw, in the bundled world (review #4 R-7; the Lynas feed of s34).

* the 10X plant's magnet and metal lines share their lead time and their ramp-up: a magnet line commissioned
  before its own metal line (running on Chinese metal) was 31 % of samples with independent draws;
* No. 18's delay is one licensing start for every destination;
* Lynas's heavy-RE circuit's Mt Weld feed follows the circuit's sampled utilisation from 2026;
* the feed-limited circuit's output moves with the SEGH yield of Lynas's separation (tie lynas_segh_basis, D-5).
"""

from __future__ import annotations

from pathlib import Path

import pytest

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


def test_lynas_heavy_circuit_is_feed_limited_from_2026_so_only_its_2025_output_is_drawn(samples) -> None:
    # The circuit takes the SEGH of Lynas's own separation (processes.separation_lynas, 0.1 t per t REO fed), at
    # most 1,784 t a year from 2026 (89.2 t Dy oxide), below capacity x utilisation at the central 0.8
    # (134 x 0.8 = 107.2 t in 2026): its output is written (production) from 2026, so the utilisation triangle
    # (0.5, 0.8, 1.0) moves 2025 alone and no Mt Weld feed flow is drawn with it (the flows
    # mt_weld_my_hre_feed_* and their tie lynas_hre_utilisation are gone; R-3, review #6).
    u = samples["facilities.lynas_malaysia_hre.utilisation"].to_numpy()
    assert u.min() >= 0.5
    assert u.max() <= 1.0
    assert not [c for c in samples.columns if "mt_weld_my_hre_feed" in c]
    circuit = load(SCENARIOS / "path_to_2030.yaml").facilities["lynas_malaysia_hre"]
    assert {y: circuit.production[y].central for y in range(2026, 2031)} == dict.fromkeys(range(2026, 2031), 89.2)
    assert circuit.utilisation.tie is None
    assert {circuit.production[y].tie for y in range(2026, 2031)} == {"lynas_segh_basis"}


def test_lynas_circuit_output_moves_with_the_segh_yield_and_stays_within_the_segh(samples) -> None:
    # processes.separation_lynas yields triangular(0.1, 0.1, 0.252) t SEGH per t REO fed (0.252 = 0.1 x 2.52, the
    # NdPr yield's calibration basis), tied (lynas_segh_basis) with the circuit's written output from 2026,
    # triangular(89.2, 89.2, H) with H = min(17,841 t REO x 0.252 x 0.05 = 224.8, capacity x 0.8) = 107.2 (2026),
    # 176 (2027), 200 (2028-2030). One draw u puts every member at q = 1 - sqrt(1 - u) of its range (mode = low):
    #   yield y = 0.1 + 0.152 q, so q = (y - 0.1) / 0.152, and output(year) = 89.2 + (H - 89.2) q.
    # E.g. y = 0.176 (q = 0.5): 2026 98.2 t, 2028 144.6 t Dy oxide. The SEGH Lynas makes from 2026,
    # 9,000 / 0.504461538462 x y = 17,840.85 y t, carries the output at 0.05 t Dy2O3 per t SEGH (hre_separation):
    # 20 t SEGH per t Dy oxide <= 17,840.85 y, e.g. at q = 1: 20 x 200 = 4,000 <= 4,495.9.
    y = samples["processes.separation_lynas.outputs.ree_heavy_compound"].to_numpy()
    assert y.min() >= 0.1
    assert y.max() <= 0.252
    assert y.max() > 0.2  # 400 draws reach the upper part of the range
    q = (y - 0.1) / 0.152
    for year, high in {2026: 107.2, 2027: 176.0, 2028: 200.0, 2029: 200.0, 2030: 200.0}.items():
        out = samples[f"facilities.lynas_malaysia_hre.production[{year}]"].to_numpy()
        assert out == pytest.approx(89.2 + (high - 89.2) * q, abs=1e-6)
        assert (20 * out <= 9000 / 0.504461538462 * y + 1e-6).all()
