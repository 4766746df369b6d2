"""Time the hardened YAML reader against plain PyYAML on a 5 MB scenario-like file.

Run: ``.venv/bin/python benchmarks/bench_yaml.py``. Prints medians of repeated runs.
The baseline is ``yaml.load(..., CSafeLoader)``, which keeps no marks and checks nothing.
"""

from __future__ import annotations

import statistics
import time

import yaml

from supplychain.io.yamlsafe import parse_yaml_text


def scenario_like(n: int) -> str:
    parts = ["scenario:\n  name: big\n  base_year: 2024\nfacilities:\n"]
    parts.extend(
        f"  f{i}:\n    name: Facility {i}\n    country: CN\n    kind: mine\n    output: conc\n"
        f"    owners:\n      - {{name: A, country: CN, stake: 0.51}}\n      - {{name: B, country: AU, stake: 0.49}}\n"
        f"    production:\n      2024: {{value: {i}.5, source: usgs}}\n"
        for i in range(n)
    )
    return "".join(parts)


def median_time(fn: object, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    text = scenario_like(24_000)
    size_mb = len(text.encode()) / 1e6
    ours = median_time(lambda: parse_yaml_text(text))
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    base = median_time(lambda: yaml.load(text, Loader=loader))
    print(f"file size                       {size_mb:8.1f} MB")
    print(f"supplychain parse_yaml_text     {ours:8.2f} s  (marks, all checks)")
    print(f"PyYAML load ({loader.__name__:11s})     {base:8.2f} s  (no marks, no checks)")
    print(f"ratio ours / baseline           {ours / base:8.2f}")


if __name__ == "__main__":
    main()
