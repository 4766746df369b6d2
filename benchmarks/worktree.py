"""An earlier commit checked out next to this tree for the duration of a comparison.

Used by ``bench_versions.py`` (timings) and ``same_results.py`` (tables): both run each
tree with its own code first on ``PYTHONPATH``.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def base_worktree(commit: str, prefix: str) -> Iterator[tuple[Path, Path]]:
    """Check out ``commit`` (detached ``git worktree``) into a temporary folder; yield ``(tree, folder)``.

    The worktree and the folder are removed on exit, whatever happened inside.
    """
    tmp = Path(tempfile.mkdtemp(prefix=prefix))
    base = tmp / "base"
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(base), commit], check=True,
                   capture_output=True)
    try:
        yield base, tmp
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(base)], check=False,
                       capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
