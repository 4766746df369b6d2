"""Time the commands users run on this tree and on an earlier commit, interleaved, in one run.

The earlier commit is checked out (``git worktree``, detached) into a temporary folder and
run with this tree's virtual environment, its own code first on ``PYTHONPATH``; each
command runs on both trees in turn, ``--repeat`` times, so that both see the same machine.
Each tree runs its own scenario files (what a user of that version runs); with
``--base-files`` both run the base commit's files (the same work, where they still load).

Usage::

    .venv/bin/python benchmarks/bench_versions.py --base 407b404 --repeat 3
    .venv/bin/python benchmarks/bench_versions.py --base 407b404 --command "compare scenarios/path_to_2030.yaml"

Prints, per command and tree, the median wall time and CPU time (user + system of the child)
and the ratio this tree / base.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_COMMANDS = (
    "compare scenarios/path_to_2030.yaml",
    "run scenarios/baseline_2024.yaml",
)


def _time(tree: Path, command: str, cwd: Path) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "supplychain", *command.split()], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        msg = f"{command!r} failed in {tree} ({proc.returncode}):\n{proc.stderr[-2000:]}"
        raise SystemExit(msg)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the earlier commit (e.g. 407b404)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--command", action="append", help="a supplychain command line (repeatable)")
    parser.add_argument("--base-files", action="store_true", help="run both trees on the base commit's files")
    args = parser.parse_args()
    commands = args.command or list(DEFAULT_COMMANDS)
    tmp = Path(tempfile.mkdtemp(prefix="bench-versions-"))
    base = tmp / "base"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), args.base], check=True,
                   capture_output=True)
    try:
        files = "the base commit's files" if args.base_files else "each tree's own files"
        print(f"this tree: {ROOT}; base: {args.base}; {files}; {args.repeat} interleaved runs each; median s")
        print(f"{'command':45s} {'tree':6s} {'wall':>7s} {'cpu':>7s}")
        for command in commands:
            times: dict[str, list[tuple[float, float]]] = {"base": [], "this": []}
            for _ in range(args.repeat):
                for name, tree in (("base", base), ("this", ROOT)):
                    times[name].append(_time(tree, command, base if args.base_files else tree))
            med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
                   for k, v in times.items()}
            for name in ("base", "this"):
                print(f"{command[:45]:45s} {name:6s} {med[name][0]:7.2f} {med[name][1]:7.2f}")
            ratio = (med["this"][0] / med["base"][0], med["this"][1] / med["base"][1])
            print(f"{'':45s} {'ratio':6s} {ratio[0]:7.2f} {ratio[1]:7.2f}")
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False,
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
