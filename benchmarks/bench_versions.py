"""Time the commands users run on this tree and on an earlier commit, interleaved, in one run.

The earlier commit is checked out (``git worktree``, detached) into a temporary folder and
run with this tree's virtual environment, its own code first on ``PYTHONPATH``; each
command runs on both trees in turn, ``--repeat`` times, so that both see the same machine.
Each tree runs its own scenario files (what a user of that version runs); with
``--base-files`` both run the base commit's files (the same work, where they still load).

Usage::

    .venv/bin/python benchmarks/bench_versions.py --base 407b404 --repeat 3
    .venv/bin/python benchmarks/bench_versions.py --base 407b404 --command "compare scenarios/path_to_2030.yaml"

Prints, per command and tree, the median wall time and CPU time (user + system of the command
and every process it started: on Linux this process is made a subreaper, so that a fork server
and its workers, left running when the command exits, are waited for here and counted too),
samples per second for a sweep (on wall time) and the ratio this tree / base. The default
commands are the figures of ``docs/performance.md``: Python's import floor of the package,
``run``, ``compare`` and ``sweep`` in both supply-response modes on the bundled scenarios.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.worktree import base_worktree  # noqa: E402

IMPORT = "(import supplychain.api)"
"""Not a command: Python's import floor of the package (what ``run`` is measured against)."""
DEFAULT_COMMANDS = (
    IMPORT,
    "run scenarios/baseline_2024.yaml",
    "compare scenarios/path_to_2030.yaml",
    "sweep scenarios/path_to_2030.yaml --samples 20 --workers 2 --mode fixed --no-cache --quiet",
    "sweep scenarios/path_to_2030.yaml --samples 20 --workers 2 --mode rebalance --no-cache --quiet",
)


def _adopt_orphans() -> bool:
    """Make this process the subreaper of its descendants (Linux ``PR_SET_CHILD_SUBREAPER``); whether it worked."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(36, 1, 0, 0, 0) == 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def _reap() -> None:
    """Wait for every descendant adopted here (a fork server ends once its command has exited)."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _time(tree: Path, command: str, cwd: Path) -> tuple[float, float]:
    env = dict(os.environ, PYTHONPATH=str(tree))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    argv = ["-c", "import supplychain.api"] if command == IMPORT else ["-m", "supplychain", *command.split()]
    proc = subprocess.run([sys.executable, *argv], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    _reap()
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
    whole = _adopt_orphans()
    with base_worktree(args.base, "bench-versions-") as (base, _tmp):
        files = "the base commit's files" if args.base_files else "each tree's own files"
        print(f"this tree: {ROOT}; base: {args.base}; {files}; {args.repeat} interleaved runs each; median s; "
              f"cpu: {'every process a command starts' if whole else 'the command and the children it waited for'}")
        print(f"{'command':90s} {'tree':6s} {'wall':>7s} {'cpu':>7s} {'samples/s':>10s}")
        for command in commands:
            times: dict[str, list[tuple[float, float]]] = {"base": [], "this": []}
            for _ in range(args.repeat):
                for name, tree in (("base", base), ("this", ROOT)):
                    times[name].append(_time(tree, command, base if args.base_files else tree))
            med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v))
                   for k, v in times.items()}
            words = command.split()
            samples = int(words[words.index("--samples") + 1]) if "--samples" in words else 0
            for name in ("base", "this"):
                rate = f"{samples / med[name][0]:10.2f}" if samples else ""
                print(f"{command:90s} {name:6s} {med[name][0]:7.2f} {med[name][1]:7.2f} {rate}")
            ratio = (med["this"][0] / med["base"][0], med["this"][1] / med["base"][1])
            print(f"{'':90s} {'ratio':6s} {ratio[0]:7.2f} {ratio[1]:7.2f}")


if __name__ == "__main__":
    main()
