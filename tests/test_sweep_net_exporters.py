"""A sweep's net import reliance where the country is a net exporter in some or every sample.

USGS net import reliance (NIR) is not defined for a net exporter ("E", NaN in a sweep's values).
The summary counts those samples in ``n_exporter``, keeps its statistics over the others, and
``supplychain sweep`` shows "E" where every sample is a net exporter and their share otherwise.

Hand-worked world (one commodity, 2024, ``exposure`` mode: the network as observed):

* Australia mines 5,000 t and sends ``G`` t to Malaysia, ``G`` uniform on [500, 1500];
  it imports nothing, so net imports are ``-G < 0``: a net exporter in every sample.
* Malaysia mines 2,000 t, imports ``G`` and exports 1,000 t to the US. Apparent consumption
  ``AC = 2000 + G - 1000 = 1000 + G``, net imports ``G - 1000``: a net exporter when
  ``G < 1000`` (half the samples in expectation), else ``NIR = (G - 1000) / (1000 + G)``.
* The US imports its 1,000 t and produces nothing: NIR 1 in every sample.

No final demand (production and trade only): apparent consumption is USGS's, every market's
use taken as recorded (docs/measures.md, section 2). With a US demand and none in Malaysia,
Malaysia's importing samples would read "use not recorded", not a reliance.

At the central value ``G = 1000`` Malaysia's net imports are 0: NIR 0 %, not "E".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from supplychain.cli.app import app
from supplychain.cli.sweep import exporter_note
from supplychain.io import load_text
from supplychain.report.numbers import format_percent
from supplychain.uncertainty import run_sweep
from supplychain.uncertainty.result import SweepResult
from tests.conftest import au_conc_world

WORLD = au_conc_world("Net exporter sweep", """  my_mine:
    {name: MY mine, country: MY, kind: mine, output: conc,
     capacity: {value: 2000, assumption: illustrative}, utilisation: {value: 1, assumption: illustrative}}
flows:
  au_my:
    {supplier: AU, buyer: MY, commodity: conc, year: 2024,
     tonnes: {dist: uniform, low: 500, high: 1500, assumption: illustrative}}
  my_us: {supplier: MY, buyer: US, commodity: conc, year: 2024, tonnes: {value: 1000, assumption: illustrative}}
""")
N = 400
SEED = 3


@pytest.fixture(scope="module")
def sweep() -> SweepResult:
    return run_sweep(load_text(WORLD, "nir.yaml"), samples=N, seed=SEED, mode="exposure", cache=False, quiet=True)


def _nir_row(summary: pd.DataFrame, country: str) -> pd.Series:
    rows = summary[(summary["metric"] == "net_import_reliance") & (summary["country"] == country)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_summary_counts_net_exporters_and_keeps_statistics_over_the_others(sweep: SweepResult) -> None:
    g = sweep.inputs["flows.au_my.tonnes"].to_numpy()
    importer = g > 1000
    assert 0 < importer.sum() < N  # both cases are drawn
    summary = sweep.summary()
    my = _nir_row(summary, "MY")
    assert my["n_exporter"] == int((~importer).sum())
    assert my["n"] == int(importer.sum())
    assert my["central"] == 0.0  # G = 1000: net imports 0, no net exporter
    nir = (g[importer] - 1000) / (1000 + g[importer])  # the hand-worked NIR of the importing samples
    assert my["mean"] == pytest.approx(nir.mean(), abs=1e-12)
    for q in (5, 50, 95):
        assert my[f"p{q}"] == pytest.approx(np.quantile(nir, q / 100), abs=1e-12)
    au = _nir_row(summary, "AU")
    assert (au["n"], au["n_exporter"]) == (0, N)
    assert np.isnan(au["central"])
    us = _nir_row(summary, "US")
    assert (us["n"], us["n_exporter"], us["p50"]) == (N, 0, 1.0)
    assert (summary.loc[summary["metric"] != "net_import_reliance", "n_exporter"] == 0).all()


def test_failed_samples_and_vanished_consumption_are_no_net_exporters() -> None:
    # Three samples of one market's NIR and direct share of consumption (DSC = I_s / AC, NaN when AC ≤ 0):
    # sample 0 NIR NaN, DSC finite → net exporter; sample 1 NIR and DSC NaN → no apparent consumption;
    # sample 2 failed (every value NaN). A second market has no DSC row: its NaN samples count, bar the failed one.
    measures = pd.DataFrame({
        "year": [2024] * 3, "country": ["MY", "MY", "JP"], "commodity": ["conc"] * 3,
        "metric": ["net_import_reliance", "direct_share_of_consumption", "net_import_reliance"],
        "source_country": ["", "AU", ""], "unit": ["share", "ratio", "share"], "central": [0.0, 0.5, 0.2],
    })  # fmt: skip
    values = np.array([[np.nan, 0.4, np.nan],
                       [np.nan, np.nan, np.nan],
                       [np.nan, np.nan, np.nan]])  # fmt: skip
    result = SweepResult(pd.DataFrame(index=pd.RangeIndex(3, name="sample")), measures, values, pd.DataFrame(),
                         {"failed": {2: "market short"}})  # fmt: skip
    assert result.summary()["n_exporter"].tolist() == [1, 0, 2]


def test_sweep_command_shows_e_and_the_share_of_net_exporter_samples(sweep: SweepResult, tmp_path: Path) -> None:
    path = tmp_path / "nir.yaml"
    path.write_text(WORLD, encoding="utf-8")
    out = CliRunner().invoke(app, ["sweep", str(path), "-n", str(N), "-s", str(SEED), "--mode", "exposure",
                                   "--measure", "net_import_reliance", "--no-cache", "-q"])  # fmt: skip
    assert out.exit_code == 0, out.output
    lines = {line.split("│")[2].strip(): [c.strip() for c in line.split("│")[5:-1]]
             for line in out.output.splitlines() if "net_import_reliance" in line}  # fmt: skip
    # columns: central, mean, p5, p50, p95, central_at, n, net_exporter, samples ("all equal")
    assert lines["AU"] == ["E"] * 5 + ["", "0", "100%", ""]  # no value to rank the central run among
    my = _nir_row(sweep.summary(), "MY")
    assert lines["MY"][0] == "0%"
    assert lines["MY"][3] == format_percent(my["p50"])
    assert lines["MY"][-2] == format_percent(my["n_exporter"] / N)
    assert lines["US"] == ["100%"] * 5 + ["P50", str(N), "", "all equal"]  # every sample equals the central run
    assert "n/a" not in out.output
    assert " ".join(exporter_note().split()) in " ".join(out.output.split())
