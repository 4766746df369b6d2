"""Cost of loading a scenario per entity and per YAML node: the figures behind the caps of ``docs/limits.md``.

Run: ``.venv/bin/python benchmarks/bench_load.py [--sizes 10000 40000 100000]``.

For each size a mass-balanced scenario file is generated (half mines, half flows from
them, one line each), then loaded in a fresh process, which reports its wall time
and peak memory (``ru_maxrss``): reading the YAML (``read_yaml_file``), the whole
``load`` (read, compose, schema, cross-references) and the closed-loop check that
``validate`` adds (``network_problems``). The baseline is PyYAML's C loader on the
same text, which keeps no marks and checks nothing.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
import yaml
from supplychain.io import load
from supplychain.io.yamlsafe import read_yaml_file
from supplychain.engine.check import network_problems

path, what = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if what == "pyyaml":
    yaml.load(open(path, encoding="utf-8").read(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    extra = {}
elif what == "read":
    doc = read_yaml_file(path)
    extra = {"nodes": doc.nodes}
else:
    scenario = load(path)
    t1 = time.perf_counter()
    loops = network_problems(scenario)
    extra = {"load_s": t1 - t0, "check_s": time.perf_counter() - t1, "loops": len(loops)}
extra["seconds"] = time.perf_counter() - t0
extra["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(extra))
"""


def scenario_text(n: int) -> str:
    """A valid, balanced scenario of ``n`` entities: ``n // 2`` mines and as many flows (one line each)."""
    mines = n // 2
    parts = ["scenario: {name: bench, base_year: 2024}\n",
             "commodities:\n  conc: {name: Concentrate, stage: ore, basis: t REO}\n", "facilities:\n"]
    parts += [f"  m{i}: {{name: Mine {i}, country: AU, kind: mine, output: conc, production: {{2024: 100}}}}\n"
              for i in range(mines)]
    parts.append("flows:\n")
    parts += [f"  f{i}: {{supplier: m{i}, buyer: JP, commodity: conc, year: 2024, tonnes: 50}}\n"
              for i in range(n - 1 - mines)]
    return "".join(parts)


def measure(path: Path, what: str) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-c", CHILD, str(path), what], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000, 100_000])
    args = parser.parse_args()
    print(f"{'entities':>9} {'MB':>6} {'nodes':>10} | {'PyYAML s':>8} | {'read s':>7} {'µs/node':>7} "
          f"{'MB':>6} | {'load s':>7} {'µs/ent':>7} {'KB/ent':>7} {'peak MB':>8} | {'loops s':>7}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            path = Path(tmp) / f"n{n}.yaml"
            path.write_text(scenario_text(n), encoding="utf-8")
            size = path.stat().st_size / 1e6
            base = measure(path, "pyyaml")
            read = measure(path, "read")
            full = measure(path, "load")
            nodes = int(read["nodes"])
            print(f"{n:>9,} {size:>6.1f} {nodes:>10,} | {base['seconds']:>8.2f} | {read['seconds']:>7.2f} "
                  f"{1e6 * read['seconds'] / nodes:>7.2f} {read['peak_mb']:>6.0f} | {full['load_s']:>7.2f} "
                  f"{1e6 * full['load_s'] / n:>7.1f} {1024 * full['peak_mb'] / n:>7.2f} {full['peak_mb']:>8.0f} | "
                  f"{full['check_s']:>7.2f}")


if __name__ == "__main__":
    main()
