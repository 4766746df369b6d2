"""Time the trade importers on synthetic BACI and Comtrade files, against loading the whole file with pandas.

Run from the repository root::

    .venv/bin/python benchmarks/bench_trade_import.py                      # 10 M BACI rows, 1 M Comtrade rows
    .venv/bin/python benchmarks/bench_trade_import.py --rows 1000000 --comtrade-rows 200000

The files are generated into a temporary folder (removed afterwards; nothing is
committed): a BACI year file ``t,i,j,k,v,q`` over ~240 country codes and 5,000
six-digit HS codes (the 7 codes of the shipped mapping among them), 5 % of
quantities ``NA``; and a Comtrade file in the API's 47 columns, importer and
exporter reports. Each run is a separate process, so its peak resident memory
(``VmHWM`` of ``/proc/self/status``, Linux) is its own:

* **streamed** — ``import_baci`` / ``import_comtrade`` with every code of the
  shipped mapping, the fragment built (rows read one by one with :mod:`csv`);
* **baseline** — ``pandas.read_csv`` of the whole file (the C parser, HS codes as
  text), then the same codes kept and summed per pair: what one writes by hand,
  with no country mapping, conversion or checks.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pycountry

MAPPED = ["253090", "280530", "284610", "284690", "720299", "811292", "850511"]

PEAK = """
def peak_mb():  # VmHWM: this process's peak resident memory (ru_maxrss would carry the parent's over)
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
"""

STREAMED_BACI = PEAK + """
import json, sys, time
from supplychain.importers import import_baci
imported_mb = peak_mb()
t = time.perf_counter()
r = import_baci(sys.argv[1])
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rss_mb": peak_mb(),
                  "imported_mb": imported_mb, "rows": r.summary.rows_read, "kept": r.summary.converted,
                  "entries": r.summary.entries}))
"""

STREAMED_COMTRADE = STREAMED_BACI.replace("import_baci", "import_comtrade")

BASELINE = PEAK + """
import json, sys, time
import pandas as pd
imported_mb = peak_mb()
codes, keys, hs, quantity = sys.argv[2].split(","), sys.argv[3].split(","), sys.argv[4], sys.argv[5]
t = time.perf_counter()
df = pd.read_csv(sys.argv[1], dtype={hs: str})
kept = df[df[hs].isin(codes)]
sums = kept.groupby(keys)[quantity].sum()
seconds = time.perf_counter() - t
print(json.dumps({"seconds": seconds, "rss_mb": peak_mb(),
                  "imported_mb": imported_mb, "rows": len(df), "kept": len(kept), "entries": len(sums)}))
"""

COMTRADE_COLUMNS = ("typeCode,freqCode,refPeriodId,refYear,refMonth,period,reporterCode,reporterISO,reporterDesc,"
                    "flowCode,flowDesc,partnerCode,partnerISO,partnerDesc,partner2Code,partner2ISO,partner2Desc,"
                    "classificationCode,classificationSearchCode,isOriginalClassification,cmdCode,cmdDesc,aggrLevel,"
                    "isLeaf,customsCode,customsDesc,mosCode,motCode,motDesc,qtyUnitCode,qtyUnitAbbr,qty,"
                    "isQtyEstimated,altQtyUnitCode,altQtyUnitAbbr,altQty,isAltQtyEstimated,netWgt,isNetWgtEstimated,"
                    "grossWgt,isGrossWgtEstimated,cifvalue,fobvalue,primaryValue,legacyEstimationFlag,isReported,"
                    "isAggregate")


def countries() -> list[tuple[int, str, str, str]]:
    out = [(int(c.numeric), c.name.replace(",", " "), c.alpha_2, c.alpha_3) for c in pycountry.countries]
    out += [(490, "Other Asia nes", "", "S19"), (842, "USA", "US", "USA"), (251, "France", "FR", "FRA"),
            (699, "India", "IN", "IND"), (757, "Switzerland", "CH", "CHE")]  # fmt: skip
    return sorted({c[0]: c for c in out}.values())


def hs_codes(rng: np.random.Generator, n: int) -> np.ndarray:
    others = rng.choice(np.arange(10_000, 970_000), size=n - len(MAPPED), replace=False)
    codes = {f"{c:06d}" for c in others} - set(MAPPED)
    return np.array(sorted(codes | set(MAPPED)))


def write_baci(folder: Path, rows: int, rng: np.random.Generator, chunk: int = 1_000_000) -> Path:
    table = countries()
    rows_text = "".join(f"{c},{n},{a2},{a3}\n" for c, n, a2, a3 in table)
    header = "country_code,country_name,country_iso2,country_iso3\n"
    (folder / "country_codes_V202501.csv").write_text(header + rows_text)
    codes = np.array([c[0] for c in table])
    hs = hs_codes(rng, 5_000)
    path = folder / "BACI_HS22_Y2024_V202501.csv"
    with path.open("w", encoding="ascii") as fh:
        fh.write("t,i,j,k,v,q\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            i, j, k = rng.choice(codes, n), rng.choice(codes, n), rng.choice(hs, n)
            v, q = rng.gamma(0.5, 200.0, n), rng.gamma(0.5, 50.0, n)
            na = rng.random(n) < 0.05
            fh.write("".join(f"2024,{a},{b},{c},{d:.3f},{'NA' if m else f'{e:.3f}'}\n"
                             for a, b, c, d, e, m in zip(i, j, k, v, q, na, strict=True)))  # fmt: skip
    return path


def write_comtrade(folder: Path, rows: int, rng: np.random.Generator, chunk: int = 200_000) -> Path:
    table = [c for c in countries() if c[3]]
    hs = hs_codes(rng, 5_000)
    path = folder / "comtrade_synthetic_2024.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(COMTRADE_COLUMNS + "\n")
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            rep, par = rng.integers(0, len(table), n), rng.integers(0, len(table), n)
            k, flow = rng.choice(hs, n), rng.random(n) < 0.5
            wgt, val = rng.gamma(0.5, 5e4, n), rng.gamma(0.5, 2e5, n)
            lines = []
            for r, p, c, f, w, v in zip(rep, par, k, flow, wgt, val, strict=True):
                rc, rn, _, r3 = table[r]
                pc, pn, _, p3 = table[p]
                fc, fd = ("M", "Import") if f else ("X", "Export")
                lines.append(f"C,A,20240101,2024,52,2024,{rc},{r3},{rn},{fc},{fd},{pc},{p3},{pn},0,W00,World,H6,HS,"
                             f"True,{c},Goods {c},6,True,C00,TOTAL CPC,0,0,TOTAL MOT,8,kg,{w:.0f},False,-1,N/A,,"
                             f"False,{w:.0f},False,,False,{v:.0f},,{v:.0f},0,True,False\n")  # fmt: skip
            fh.write("".join(lines))
    return path


def run(script: str, *args: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def report(name: str, path: Path, streamed: dict[str, float], baseline: dict[str, float]) -> None:
    size = path.stat().st_size / 1e6
    print(f"{name}: {int(streamed['rows']):,} rows, {size:,.0f} MB")
    for label, r in (("streamed (supplychain import)", streamed), ("baseline (pandas read_csv all)", baseline)):
        print(f"  {label:32s} {r['seconds']:7.2f} s  {r['rows'] / r['seconds'] / 1e6:6.2f} M rows/s  "
              f"peak RSS {r['rss_mb']:6.0f} MB (after imports {r['imported_mb']:4.0f} MB)  "
              f"kept {int(r['kept']):,} rows -> {int(r['entries']):,} entries")
    print(f"  load average (1, 5, 15 min) after the runs: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000, help="BACI rows (default 10,000,000)")
    parser.add_argument("--comtrade-rows", type=int, default=1_000_000, help="Comtrade rows (default 1,000,000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory(prefix="bench_trade_") as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        baci = write_baci(folder, args.rows, rng)
        comtrade = write_comtrade(folder, args.comtrade_rows, rng)
        print(f"generated in {time.perf_counter() - t:.0f} s (not timed below)")
        codes = ",".join(MAPPED)
        report("BACI", baci, run(STREAMED_BACI, str(baci)), run(BASELINE, str(baci), codes, "i,j,k", "k", "q"))
        report("Comtrade", comtrade, run(STREAMED_COMTRADE, str(comtrade)),
               run(BASELINE, str(comtrade), codes, "reporterCode,partnerCode,cmdCode,flowCode", "cmdCode", "netWgt"))


if __name__ == "__main__":
    main()
