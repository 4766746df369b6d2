"""Ctrl-C during ``report`` (finding N-9): one line saying what became of the output, exit 130, no traceback.

The command is sent SIGINT, as a terminal's Ctrl-C does (to its whole process group, the fork server of its
workers included), once it has printed a marker line; no timing is assumed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="process groups are POSIX")
def test_ctrl_c_during_report_says_the_old_output_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "o"
    out.mkdir()  # an empty folder may be replaced: it stays empty
    before = _tree(out)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen([sys.executable, "-m", "supplychain", "report", "scenarios/china_full_ban_2025.yaml",
                             "--output", str(out), "--workers", "2"], cwd=REPO, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # the marker: it validated the scenario and is about to simulate
        seen.append(line)
        if line.startswith("simulating "):
            break
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C: the whole process group
    _, rest = proc.communicate(timeout=300)
    err = "".join(seen) + rest
    if proc.returncode == 0:  # pragma: no cover - the report finished before the signal arrived
        pytest.skip("the report finished before SIGINT arrived")
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert "KeyboardInterrupt" not in err
    assert f"interrupted: {out} left as it was" in err
    assert _tree(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]  # no temporary folder beside it
