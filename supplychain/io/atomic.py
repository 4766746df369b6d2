"""Atomic file writes: a temporary file beside the target, then :func:`os.replace`.

A reader (or a crash half-way) never sees a half-written output file.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["atomic_write", "atomic_write_text", "replace_dir"]


def atomic_write(target: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``target`` atomically.

    Parameters
    ----------
    target : str or Path
        Final path; its folder is created when missing.
    write : callable
        Writes the content to the path it is given.

    Returns
    -------
    Path
        ``target``.

    Raises
    ------
    OSError
        The folder cannot be created or written; the temporary file is removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(d / "a.txt", lambda p: p.write_text("hi")).read_text()
    'hi'
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        tmp.chmod(0o644)  # mkstemp makes 0600; outputs are for others to read
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(target: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically (see :func:`atomic_write`)."""
    return atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))


def replace_dir(tmp: str | Path, out: str | Path) -> Path:
    """Move the finished folder ``tmp`` onto ``out``; an existing ``out`` is swapped out, then removed.

    ``tmp`` must be a sibling of ``out`` (same file system), so each rename is
    atomic; if the second rename fails the old folder is put back.

    Returns
    -------
    Path
        ``out``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "new").mkdir(); _ = (d / "new" / "a").write_text("1")
    >>> replace_dir(d / "new", d / "out").joinpath("a").read_text()
    '1'
    """
    tmp, out = Path(tmp), Path(out)
    tmp.chmod(0o755)
    if not out.exists():
        tmp.rename(out)
        return out
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    old.rmdir()
    out.rename(old)
    try:
        tmp.rename(out)
    except BaseException:
        old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return out
