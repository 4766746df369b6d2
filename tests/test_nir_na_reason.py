"""Why a net import reliance is n/a: a net exporter ("E") or no consumption, told apart (session 33).

USGS net import reliance :math:`(I - E + R - B) / AC` is NaN for two reasons
(:func:`supplychain.metrics.trade.first_hop`): the country is a net exporter (net imports
negative: label ``"E"``, set there) or there is no apparent consumption to rely on
(:math:`AC = 0`: a share of nothing). Before this change a run's target reason called every
n/a NIR "a net exporter (E)" (decided from the metric's name), and a sweep that kept the NIR
without the market's ``direct_share_of_consumption`` counted every no-consumption sample as a
net exporter (``n_exporter``, the ``net_exporter`` column of ``supplychain sweep``). And a
run's NIR target read "no data" whatever the NIR: its rows carry source ``""``, which
``evaluate_targets`` did not take for "no source".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from supplychain.api import simulate
from supplychain.cli.app import app
from supplychain.io import load_text
from supplychain.schema.model import Target
from supplychain.simulation.targets import evaluate_targets
from supplychain.uncertainty import run_sweep
from tests.conftest import au_conc_world

# Malaysia is a transit hub that sometimes keeps some for itself (one commodity, 2024, the
# network as observed, exposure mode):
# * Australia mines 5,000 t and sends 1,000 t to Malaysia (observed flow);
# * Malaysia sends 1,000 t to the US (observed) and uses D t itself, D = 500 or 0 (choice; the
#   central value is the first, 500).
# Malaysia's market takes in 1,000 t and sends out 1,000 + D t: its deficit D is filled from
# Australia's spare output, so imports I = 1,000 + D, exports E = 1,000, production 0 and
# apparent consumption AC = I - E = D.
# * D = 500: NIR = (I - E) / AC = 500 / 500 = 1; direct share of consumption (source AU)
#   I_AU / AC = 1,500 / 500 = 3.
# * D = 0: AC = 0 — nothing consumed, nothing to rely on: NIR and the direct share of
#   consumption are both n/a (a share of nothing), and Malaysia is no net exporter
#   (net imports I - E = 0).
WORLD = au_conc_world("Transit hub", """flows:
  au_my: {supplier: AU, buyer: MY, commodity: conc, year: 2024, tonnes: {value: 1000, assumption: illustrative}}
  my_us: {supplier: MY, buyer: US, commodity: conc, year: 2024, tonnes: {value: 1000, assumption: illustrative}}
demand:
  my: {country: MY, commodity: conc, year: 2024, tonnes: {dist: choice, choices: [500, 0], assumption: illustrative}}
  us: {country: US, commodity: conc, year: 2024, tonnes: {value: 1000, assumption: illustrative}}
targets:
  my_nir: {country: MY, commodity: conc, metric: net_import_reliance, max: 0.5, by: 2024}
""")


@pytest.mark.parametrize("measures", [["net_import_reliance"], ["exposed_share"]])
def test_a_sweep_counts_no_consumption_as_n_a_not_as_a_net_exporter(measures: list[str]) -> None:
    # Kept: the NIR alone, or not at all (the target keeps it). Per sample, D = 500: NIR 1
    # (a value); D = 0: n/a, no consumption (n_na), never a net exporter: n_exporter 0. The
    # target NIR ≤ 50 %: 1 > 0.5 is not met, and an n/a sample is never met: probability 0.
    r = run_sweep(load_text(WORLD, "hub.yaml"), samples=24, seed=5, mode="exposure", cache=False, quiet=True,
                  measures=measures)
    d = r.inputs["demand.my.tonnes"].to_numpy()
    consumes = int((d == 500).sum())
    assert 0 < consumes < 24  # both cases drawn
    s = r.summary()
    my = s[(s["metric"] == "net_import_reliance") & (s["country"] == "MY")].iloc[0]
    assert (my["n"], my["n_na"], my["n_exporter"]) == (consumes, 24 - consumes, 0)
    assert my["p50"] == pytest.approx(1.0)
    p = r.target_probability().iloc[0]
    assert (p["n"], p["n_na"], p["n_exporter"]) == (consumes, 24 - consumes, 0)
    assert p["probability"] == pytest.approx(0.0)


def _nir(value: float, label: str) -> pd.DataFrame:
    return pd.DataFrame({"year": [2030], "country": ["MY"], "commodity": ["conc"], "metric": ["net_import_reliance"],
                         "source_country": [None], "value": [value], "label": [label]})


def test_a_run_target_reason_reads_the_label_set_where_the_value_is_computed() -> None:
    # NIR n/a labelled "E" (first_hop: net imports negative): a net exporter. NIR n/a without
    # the label (AC = 0): a share of nothing, not a net exporter. Both "n/a", never a pass.
    t = {"t": Target(country="MY", commodity="conc", metric="net_import_reliance", max=0.5, by=2030)}
    e = evaluate_targets(t, _nir(np.nan, "E"), [2030]).iloc[0]
    none = evaluate_targets(t, _nir(np.nan, ""), [2030]).iloc[0]
    assert (e["status"], none["status"]) == ("n/a", "n/a")
    assert e["met"] is None
    assert none["met"] is None
    assert e["reason"] == "not evaluable: net import reliance n/a in 2030, a net exporter (E)"
    assert none["reason"] == "not evaluable: net import reliance n/a in 2030, a share of nothing"


def test_a_run_reads_its_nir_rows_for_a_target_and_says_why_one_is_n_a() -> None:
    # The hub world at D = 500 (no sampling), mode fixed. Malaysia: NIR 1 (worked above) > 50 %:
    # fails (before: "no data", the NIR row's source "" not read as "no source"). Australia:
    # production 5,000 t, exports 1,000 + 500 = 1,500 t, imports 0: net imports -1,500 < 0 with
    # AC = 3,500 > 0, a net exporter ("E"): n/a, not evaluable, and said so.
    world = WORLD.replace("{dist: choice, choices: [500, 0], assumption: illustrative}",
                          "{value: 500, assumption: illustrative}")
    world += "  au_nir: {country: AU, commodity: conc, metric: net_import_reliance, max: 0.5, by: 2024}\n"
    t = simulate(load_text(world, "hub.yaml"), mode="fixed").targets.set_index("target")
    assert t.loc["my_nir", "status"] == "fail"
    assert t.loc["my_nir", "value"] == pytest.approx(1.0)
    assert t.loc["my_nir", "reason"] == "fails: net import reliance 100% > 50% in 2024"
    assert t.loc["au_nir", "status"] == "n/a"
    assert t.loc["au_nir", "reason"] == "not evaluable: net import reliance n/a in 2024, a net exporter (E)"


def test_the_sweep_says_a_target_measure_it_did_not_compute_has_no_probability(tmp_path: Path) -> None:
    # A target on Germany's NIR: Germany has no market of the concentrate, so no sample has the
    # measure (n = n_na = n_exporter = 0): the sweep says so in one line. The run uses the
    # compiled fast path (exposure mode, the base year, NIR among its metrics); the line no
    # longer adds "the compiled fast path computes only …", which is never the reason: the fast
    # path is used only when every target's metric is one it computes (build_model falls back
    # otherwise), so a target's measure it lacks is one whose market no sample has.
    path = tmp_path / "hub.yaml"
    de = "  de_nir: {country: DE, commodity: conc, metric: net_import_reliance, max: 0.5, by: 2024}\n"
    path.write_text(WORLD + de)
    out = CliRunner().invoke(app, ["sweep", str(path), "-n", "8", "--mode", "exposure", "--no-cache", "-q"])
    assert out.exit_code == 0, out.output
    assert ("target de_nir: its measure (net_import_reliance, DE, conc) is not computed in this sweep "
            "(mode exposure): no probability") in out.output
    assert "compiled exposure kernel" in out.output  # the fast path was used
    assert "fast path computes only" not in out.output
