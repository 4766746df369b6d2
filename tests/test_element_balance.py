"""No process creates an element unless it says why (analyst review #6, R-3).

``validate`` warns (:func:`supplychain.schema.references.check_element_balance`) when a process's
outputs carry more of an element than its inputs, by the commodities' ``content``; a process's
``calibration: {KEY: why}`` discloses a deliberate one. On main the bundled ``hre_separation`` took
1 t of concentrate (0.5 % Dy2O3 by content) and made 0.05 t Dy2O3: 10 x its Dy, with no word.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from supplychain.errors import format_path
from supplychain.io import load, load_text
from supplychain.schema.references import WARNINGS, check_element_balance, element_balance

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"

# A hand world: ore carries 0.005 t Dy2O3 per t (0.005 x 0.87132 = 0.0043566 t Dy), a heavy separation
# makes 0.05 t Dy2O3 (0.05 x 0.87132 = 0.043566 t Dy) per t of ore: out / in = 0.05 / 0.005 = 10.
WORLD = """\
scenario: {{name: hre, base_year: 2024}}
commodities:
  ore: {{name: Ore, stage: ore, basis: t REO, elements: [Dy], content: {{Dy: 0.0043566}}}}
  dy_oxide: {{name: Dy oxide, stage: oxide, basis: t REO, elements: [Dy], content: {{Dy: 0.87132}}}}
  rest: {{name: Other, stage: oxide, basis: t REO}}
processes:
  hre:
    inputs: {{ore: 1.0}}
    outputs: {{dy_oxide: {dy}, rest: 0.9}}
{calibration}"""


def _world(dy: float, calibration: str = "") -> str:
    return WORLD.format(dy=dy, calibration=calibration)


def test_a_process_making_ten_times_the_dy_of_its_feed_is_reported_where_its_output_is_written() -> None:
    s = load_text(_world(0.05), "hre.yaml")
    (i, o), = element_balance(s.processes["hre"], s.commodities).values()
    assert (i, o) == pytest.approx((0.0043566, 0.043566))  # 1 x 0.0043566 in, 0.05 x 0.87132 out
    (problem,) = check_element_balance(s)
    assert problem.message == ("process hre makes 0.04357 t Dy per unit of activity from inputs carrying "
                               "0.004357 t (10 x)")
    assert format_path(problem.path) == "processes.hre.outputs.dy_oxide"
    assert (problem.file, problem.line) == ("hre.yaml", 9)  # the outputs line of the process
    assert "calibration: {Dy: <why>}" in problem.hint
    assert check_element_balance in WARNINGS  # validate prints it; the file stays valid


def test_a_conserving_or_losing_process_and_a_disclosed_calibration_are_not_reported() -> None:
    # 0.005 t Dy2O3 out per t of ore = the ore's Dy (ratio 1); 0.00501 is within the 0.1 % tolerance
    # (ratio 1.002 > 1.001 is not): 0.00501 / 0.005 = 1.002.
    assert check_element_balance(load_text(_world(0.005), "hre.yaml")) == []
    assert check_element_balance(load_text(_world(0.004), "hre.yaml")) == []  # a loss
    assert len(check_element_balance(load_text(_world(0.00501), "hre.yaml"))) == 1
    disclosed = _world(0.05, "    calibration: {Dy: 'yield calibrated on company output'}\n")
    assert check_element_balance(load_text(disclosed, "hre.yaml")) == []


def test_a_stale_calibration_note_is_reported() -> None:
    stale = _world(0.005, "    calibration: {Dy: 'yield calibrated on company output'}\n")
    (problem,) = check_element_balance(load_text(stale, "hre.yaml"))
    assert format_path(problem.path) == "processes.hre.calibration.Dy"
    assert "makes no more Dy than its inputs carry" in problem.message


def test_the_bundled_chain_conserves_dy_and_tb_and_discloses_lynas_ndpr() -> None:
    # Per t of Lynas feed (mixed chemical, Dy 0.0043566, Tb 0.00085022): 0.1 t SEGH (Dy 0.043566,
    # Tb 0.0085022) carries 0.0043566 t Dy and 0.00085022 t Tb, all of it; per t SEGH the heavy circuit
    # makes 0.05 t Dy2O3 (x 0.87132 = 0.043566) and 0.01 t Tb4O7 (x 0.85022 = 0.0085022): ratio 1 twice.
    # separation_lynas's NdPr (0.5045 x 0.84994 = 0.42876 from 0.16999, 2.52 x) is its disclosed calibration.
    s = load(SCENARIOS / "baseline_2024.yaml")
    assert check_element_balance(s) == []
    hre = element_balance(s.processes["hre_separation"], s.commodities)
    assert hre["Dy"] == pytest.approx((0.043566, 0.043566))
    assert hre["Tb"] == pytest.approx((0.0085022, 0.0085022))
    lynas = element_balance(s.processes["separation_lynas"], s.commodities)
    assert lynas["Dy"] == pytest.approx((0.0043566, 0.0043566))
    assert lynas["Tb"] == pytest.approx((0.00085022, 0.00085022))
    assert lynas["NdPr"][1] / lynas["NdPr"][0] == pytest.approx(0.504461538462 * 0.84994 / 0.16999)
    assert set(s.processes["separation_lynas"].calibration) == {"NdPr"}
    for pid, process in s.processes.items():
        for key, (i, o) in element_balance(process, s.commodities).items():
            assert o <= i * 1.001 or key in process.calibration, (pid, key)
