"""A direct import share of 100 % beside "net exporter" and a lower traced share, explained (review #3, R-10).

World (fixed response, 2024): a US magnet plant makes P = 100 t into the US market; China ships
I = 20 t to it; the US market ships E = 50 t to Japan. US apparent consumption AC = P + I − E = 70 t.
* direct import share I_CN / I = 20 / 20 = 100 %;
* imports from China as a share of use I_CN / AC = 20 / 70 = 28.6 % → "29%";
* net imports I − E = 20 − 50 = −30 t < 0: a net exporter, net import reliance undefined ("E").
  It exports more than it IMPORTS (50 > 20 t), not more than it uses (50 < AC = 70 t): the
  sentence must say the former (review s33 F3: it said "exports more than it uses");
* traced China share of what the US market holds: 20 of the 120 t that reach it (proportional
  tracing, the 50 t exported and the 70 t used alike) = 16.7 % → "17%".

The sentence is for a row whose traced share is LOWER than its direct import share (17 % < 100 %:
the two look contradictory); a net exporter whose traced share is at or above the direct one
(traced 100 % when its own plant works Chinese material too) gets none (review s33 F4: run and
report each decided this, neither checked it).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd

from supplychain.report.headline import exporter_imports
from supplychain.report.tables import _exporter_notes

REPO = Path(__file__).resolve().parent.parent

WORLD = """\
scenario: {name: exporter, base_year: 2024}
commodities:
  mag: {name: Magnets, stage: magnet, basis: t product}
facilities:
  us_plant: {name: US plant, country: US, kind: aggregate, output: mag, capacity: 100, production: {2024: 100}}
  cn_plant: {name: CN plant, country: CN, kind: aggregate, output: mag, capacity: 200, production: {2024: 200}}
flows:
  cn_us: {supplier: cn_plant, buyer: US, commodity: mag, year: 2024, tonnes: 20}
  us_jp: {supplier: US, buyer: JP, commodity: mag, year: 2024, tonnes: 50}
demand:
  us: {country: US, commodity: mag, year: 2024, tonnes: 70}
  jp: {country: JP, commodity: mag, year: 2024, tonnes: 50}
  cn: {country: CN, commodity: mag, year: 2024, tonnes: 180}
"""

SENTENCE = ("US mag 2024: the direct import share (100%) is China's share of imports only; those imports are 29% of "
            "use, and the country, a net exporter, exports more than it imports (net imports I − E ± ΔS below zero); "
            "the traced share (17%) is China's share of everything used, through every stage.")
RUN_NOTE = ("net exporter: the country exports more than it imports (net imports I − E ± ΔS below zero), so USGS net "
            "import reliance (imports − exports as a share of use) is not defined")


def test_run_explains_a_net_exporter_importing_only_from_the_source(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(WORLD, encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "supplychain", "run", path, "--mode", "fixed", "--year", "2024",
                           "-c", "US", "-c", "JP"],
                          capture_output=True, text=True, cwd=REPO, check=False, timeout=600)
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert SENTENCE in out
    assert RUN_NOTE in out
    assert "more than it uses" not in out  # E = 50 t < AC = 70 t: that would be false here
    # Japan imports (50 t, none Chinese) and is no exporter: no sentence for it
    assert "JP mag" not in proc.stdout


def _rows(variant: str, dis: float, traced: float = 1 / 6, src: str = "CN") -> list[dict[str, object]]:
    """The world's US magnet rows (I_CN / I = dis, I_CN / AC = 20/70, traced 1/6, NIR "E")."""
    return [{"variant": variant, "year": 2030, "country": "US", "commodity": "mag", "metric": metric,
             "value": value, "label": label, "source_country": "" if label else src}
            for metric, value, label in (("direct_import_share", dis, ""),
                                         ("direct_share_of_consumption", 2 / 7, ""),
                                         ("traced_share", traced, ""),
                                         ("net_import_reliance", float("nan"), "E"))]


def test_one_rule_picks_the_rows_run_and_report_explain() -> None:
    m = pd.DataFrame([*_rows("lower", 1.0), *_rows("equal", 1.0, traced=1.0), *_rows("above", 0.5, traced=0.6),
                      *_rows("none", 0.0, traced=0.0), *_rows("japan", 1.0, src="JP")])
    found = exporter_imports(m, "CN", [("US", "mag")])
    # only 'lower' (traced 1/6 < direct 1): 'equal' (1 = 1) and 'above' (0.6 > 0.5) look consistent,
    # 'none' imports nothing from China, 'japan' is measured to another source
    assert list(found) == [("lower", 2030, "US", "mag")]
    assert found[("lower", 2030, "US", "mag")] == (1.0, 2 / 7, 1 / 6)
    assert exporter_imports(m, "CN", [("JP", "mag")]) == {}  # a pair not asked for


def test_report_headline_notes_group_variants_with_the_same_sentence() -> None:
    m = pd.DataFrame([*_rows("a", 1.0), *_rows("b", 1.0), *_rows("c", 0.0), *_rows("d", 1.0, traced=1.0)])
    notes = _exporter_notes(m, ["a", "b", "c", "d"], 2030, "CN", {"mag": "mag"}, [("US", "mag")])
    assert len(notes) == 1  # c imports nothing from China (0 %), d's traced 100 % is not lower: no sentence
    assert notes[0].endswith("through every stage. (a, b)")
    assert "(100%) is China's share of imports only; those imports are 29% of use" in notes[0]
