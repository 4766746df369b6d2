"""Check that this tree gives the results of an earlier commit on every bundled scenario.

Not a timing: a refactoring's guard. The earlier commit is checked out (``git worktree``,
detached) into a temporary folder; each tree, with its own code first on ``PYTHONPATH``,
runs every bundled scenario (``scenarios/*.yaml``) × each of its variants (and the base
run) × both supply responses, a few seeded sweeps in every mode, and writes the tables to
a pickle; the tables are then compared value by value.

Usage::

    .venv/bin/python benchmarks/same_results.py --base 64ee9d0
    .venv/bin/python benchmarks/same_results.py --base 64ee9d0 --scenario path_to_2030 --rtol 1e-9

Compared per run: ``measures``, ``flows``, ``shortfall``, ``utilisation``, ``stocks``,
``targets`` and ``attribution`` (rows matched on their key columns, numbers within
``rtol`` relative and ``rtol`` absolute, text equal, the same rows on both sides); per
sweep: the measure catalogue and every sample's value. Exit status 1 on any difference,
with the first differences printed.
"""

from __future__ import annotations

import argparse
import os
import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.worktree import base_worktree  # noqa: E402

TABLES = ("measures", "flows", "shortfall", "utilisation", "stocks", "targets", "attribution")
SWEEPS = (
    ("path_to_2030", "fixed", 4),
    ("path_to_2030", "rebalance", 3),
    ("baseline_2024", "exposure", 4),
    ("china_controls_all_minerals", "fixed", 4),
)
"""Seeded sweeps compared sample by sample: scenario, mode, samples."""

DUMP = r'''
import pickle, sys, warnings
from pathlib import Path
warnings.simplefilter("ignore")
from supplychain.io.load import load
from supplychain.simulation.variants import run_variants
from supplychain.uncertainty import run_sweep
names, sweeps, out = sys.argv[1].split(","), sys.argv[2], sys.argv[3]
TABLES = __TABLES__
res = {}
for name in names:
    s = load(Path("scenarios") / f"{name}.yaml")
    runs = [(None, None)] + [(v, None) for v in sorted(s.variants)]
    for mode in ("fixed", "rebalance"):
        outs = run_variants(s, runs, mode=mode)
        for (v, _), o in zip(runs, outs):
            res[("run", name, v or "base", mode)] = {t: getattr(o, t) for t in TABLES}
for item in (sweeps.split(";") if sweeps else []):
    name, mode, n = item.split(":")
    if name not in names:
        continue
    r = run_sweep(Path("scenarios") / f"{name}.yaml", samples=int(n), seed=11, mode=mode, cache=False,
                  quiet=True, measures="all")
    res[("sweep", name, mode, n)] = {"catalogue": r.measures, "values": r.values}
with open(out, "wb") as fh:
    pickle.dump(res, fh)
'''.replace("__TABLES__", repr(TABLES))


def _dump(tree: Path, names: list[str], sweeps: str, out: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(tree))
    proc = subprocess.run([sys.executable, "-c", DUMP, ",".join(names), sweeps, str(out)], cwd=tree, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        msg = f"the runs failed in {tree}:\n{proc.stderr[-3000:]}"
        raise SystemExit(msg)


KEYS = {
    "measures": ["year", "variant", "country", "commodity", "stage", "metric", "partner", "source_country"],
    "flows": ["year", "variant", "edge"],
    "shortfall": ["year", "variant", "node"],
    "utilisation": ["year", "variant", "facility"],
    "stocks": ["year", "variant", "market"],
    "targets": None,
    "attribution": ["year", "variant", "edge", "policy"],
}


def _compare_frames(a: pd.DataFrame, b: pd.DataFrame, keys: list[str] | None, rtol: float) -> list[str]:
    """Differences between two tables (rows matched on ``keys``; every column compared)."""
    if list(a.columns) != list(b.columns):
        return [f"columns differ: {list(a.columns)} vs {list(b.columns)}"]
    if len(a) != len(b):
        extra = ""
        if keys:
            ka = set(map(tuple, a[keys].astype(str).to_numpy()))
            kb = set(map(tuple, b[keys].astype(str).to_numpy()))
            extra = f"; only in base: {sorted(ka - kb)[:3]}; only here: {sorted(kb - ka)[:3]}"
        return [f"{len(a)} rows vs {len(b)}{extra}"]
    if keys:
        ks = [k for k in keys if k in a.columns]
        a = a.sort_values(ks, kind="stable").reset_index(drop=True)
        b = b.sort_values(ks, kind="stable").reset_index(drop=True)
    out = []
    for col in a.columns:
        x, y = a[col], b[col]
        if pd.api.types.is_numeric_dtype(x) and pd.api.types.is_numeric_dtype(y) and not pd.api.types.is_bool_dtype(x):
            xv, yv = x.to_numpy(dtype=float), y.to_numpy(dtype=float)
            same = (np.isnan(xv) & np.isnan(yv)) | (np.abs(xv - yv) <= rtol * np.maximum(1.0, np.abs(xv)))
            if not same.all():
                i = int(np.flatnonzero(~same)[0])
                row = a.iloc[i][keys].to_dict() if keys else i
                out.append(f"{col}: {int((~same).sum())} values differ, e.g. {row}: {xv[i]!r} vs {yv[i]!r}")
        else:
            xs, ys = x.astype(str).to_numpy(), y.astype(str).to_numpy()
            if not (xs == ys).all():
                i = int(np.flatnonzero(xs != ys)[0])
                row = a.iloc[i][keys].to_dict() if keys else i
                out.append(f"{col}: {int((xs != ys).sum())} differ, e.g. {row}: {xs[i]!r} vs {ys[i]!r}")
    return out


def compare(base: dict[Any, Any], this: dict[Any, Any], rtol: float) -> list[str]:
    """Every difference between two dumps, as lines of text."""
    lines = []
    for key in sorted(set(base) | set(this), key=str):
        if key not in base or key not in this:
            lines.append(f"{key}: only in {'base' if key in base else 'this tree'}")
            continue
        if key[0] == "run":
            for t in TABLES:
                for d in _compare_frames(base[key][t], this[key][t], KEYS[t], rtol):
                    lines.append(f"{key} {t}: {d}")
        else:
            cat_a, cat_b = base[key]["catalogue"], this[key]["catalogue"]
            kc = [c for c in cat_a.columns if c not in ("unit", "basis", "central")]
            ia = pd.MultiIndex.from_frame(cat_a[kc].astype(str))
            ib = pd.MultiIndex.from_frame(cat_b[kc].astype(str))
            if set(ia) != set(ib):
                lines.append(f"{key}: measure catalogues differ: only in base {sorted(set(ia) - set(ib))[:3]}, "
                             f"only here {sorted(set(ib) - set(ia))[:3]}")
                continue
            pos = ib.get_indexer(ia)
            va, vb = base[key]["values"], this[key]["values"][:, pos]
            same = (np.isnan(va) & np.isnan(vb)) | (np.abs(va - vb) <= rtol * np.maximum(1.0, np.abs(va)))
            if not same.all():
                s, m = (int(v[0]) for v in np.nonzero(~same))
                lines.append(f"{key}: {int((~same).sum())} values differ, e.g. sample {s} {ia[m]}: "
                             f"{va[s, m]!r} vs {vb[s, m]!r}")
            for col in ("central",):
                ca = cat_a[col].to_numpy(dtype=float)
                cb = cat_b[col].to_numpy(dtype=float)[pos]
                ok = (np.isnan(ca) & np.isnan(cb)) | (np.abs(ca - cb) <= rtol * np.maximum(1.0, np.abs(ca)))
                if not ok.all():
                    lines.append(f"{key}: {int((~ok).sum())} central values differ")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the earlier commit (e.g. 64ee9d0)")
    parser.add_argument("--scenario", action="append", help="a bundled scenario's name (repeatable; default all)")
    parser.add_argument("--rtol", type=float, default=1e-9)
    parser.add_argument("--no-sweeps", action="store_true")
    parser.add_argument("--keep", type=Path, help="keep the two dumps in this folder")
    parser.add_argument("--reuse", action="store_true", help="reuse the base dump kept in --keep (same options)")
    args = parser.parse_args()
    names = args.scenario or sorted(p.stem for p in (ROOT / "scenarios").glob("*.yaml"))
    sweeps = "" if args.no_sweeps else ";".join(f"{n}:{m}:{k}" for n, m, k in SWEEPS)
    with base_worktree(args.base, "same-results-") as (base, tmp):
        dumps = {}
        for name, tree in (("base", base), ("this", ROOT)):
            out = (args.keep or tmp) / f"{name}.pickle"
            out.parent.mkdir(parents=True, exist_ok=True)
            if not (args.reuse and name == "base" and out.exists()):
                _dump(tree, names, sweeps, out)
            with out.open("rb") as fh:
                dumps[name] = pickle.load(fh)  # our own file, written just now
        lines = compare(dumps["base"], dumps["this"], args.rtol)
        runs = sum(1 for k in dumps["base"] if k[0] == "run")
        sweeps_n = sum(1 for k in dumps["base"] if k[0] == "sweep")
        print(f"{len(names)} scenarios, {runs} runs (scenario × variant × mode), {sweeps_n} sweeps; "
              f"base {args.base}; rtol {args.rtol:g}")
        if lines:
            print(f"{len(lines)} differences:")
            for line in lines[:60]:
                print("  " + line)
            raise SystemExit(1)
        print("identical within rtol: every table of every run, every sample of every sweep")


if __name__ == "__main__":
    main()
