"""One fact, one draw, in the bundled world (review #4 R-7; the Lynas feed of s34).

* the 10X plant's magnet and metal lines share their lead time and their ramp-up: a magnet line commissioned
  before its own metal line (running on Chinese metal) was 31 % of samples with independent draws;
* No. 18's delay is one licensing start for every destination;
* Lynas's heavy-RE circuit's Mt Weld feed follows the circuit's sampled utilisation from 2026;
* the feed-limited circuit's output moves with the SEGH yield of Lynas's separation (tie lynas_segh_basis, D-5).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
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
    assert a.between(1.8, 2.4).all()  # the range the May/June 2025 exports allow (policies.yaml cn_mofcom_no18)


def test_no_sample_reads_mays_46_t_twice(samples) -> None:
    """Session 36, D-8: May 2025's 46 t to the US are one reading, ``shipped_during_delay`` s (0 / 0.069 / 0.115:
    46 t against the 663.1 t reference, 46 / 400 against the sources' '>400 t per month').

    A sample with magnet coverage c passes (1 − c) + c·s of the US flow during the delay. Until session 36 c was
    drawn 0.88–1 (its low end 1 − 46/400, the same tonnes) independently of s: at (0.88, 0.115) May passed
    0.12 + 0.88 · 0.115 = 0.221 (3.2 × the 0.069 observed), and the samples' mean was E[1 − c] + E[c] E[s] =
    0.06 + 0.94 · 0.0613 = 0.118 (1.7 ×). With c = 1 (not sampled) it is s: at most 46 / 400 = 0.115, mean
    E[s] = (0 + 0.069 + 0.115) / 3 = 0.0613 (the triangle's mean; the 400 draws within 0.005).

    The model's whole May (``monthly_factor``: s over the delay's days, the approval a over the licensed ones)
    stays in the reading's range too: from a delay of 1.9 (licences on or after June 1) May is all delay and
    ships c·s; at the delay's low end 1.8 (licences May 29, s = 0 by the tie no18_delay) it ships a · 3/31
    ≤ 0.99 · 3/31 = 0.096; in between s is small (at d = 1.85, licences May 30: s = 0.013 by the tie, May
    0.013 · 29/31 + 0.99 · 2/31 = 0.076).
    """
    from supplychain.report.hindcast import monthly_factor
    from supplychain.schema.model import ExportLicensing

    col = "policies.cn_mofcom_no18_us.{}"
    us = load(SCENARIOS / "path_to_2030.yaml").policies["cn_mofcom_no18_us"]
    assert isinstance(us, ExportLicensing)
    cov = col.format("covers.coverage.ndfeb_magnet")
    c = samples[cov].to_numpy() if cov in samples else np.full(len(samples), us.covers.coverage["ndfeb_magnet"].central)
    s = samples[col.format("shipped_during_delay")].to_numpy()
    delay_pass = (1 - c) + c * s
    assert delay_pass.max() <= 46 / 400 + 1e-9
    assert delay_pass.min() >= 0
    assert delay_pass.mean() == pytest.approx((0 + 0.069 + 0.115) / 3, abs=0.005)
    may = []
    for d, si, ai, ci in zip(samples[col.format("delay_months")], s, samples[col.format("share_approved")], c,
                             strict=True):
        p = ExportLicensing(type="export_licensing", country="CN", start=us.start, share_approved=float(ai),
                            delay_months=float(d), shipped_during_delay=float(si))
        may.append(1 - ci * (1 - monthly_factor(p, 2025)[4]))
    assert max(may) <= 46 / 400 + 1e-9


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
