"""The report folder's manifest: what a report wrote, so a new report replaces only that.

A report folder ends with the :data:`MARKER` file: a first line naming the
generator, then one line per file the report wrote (relative POSIX paths,
sorted). :func:`check_target` lets a new report replace a folder only when it is
new, empty, or holds nothing but what an earlier report listed there; a file a
user added (notes, data) makes it refuse and name the file, rather than delete it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from supplychain import __version__
from supplychain.io.atomic import output_path
from supplychain.report.runs import ReportError

__all__ = ["MARKER", "check_target", "write_manifest"]

MARKER: Final = ".supplychain-report"
"""Manifest file that marks a folder as a report written by this package (see the module docstring)."""

MAX_MANIFEST_BYTES: Final = 1 << 20
"""Most of a manifest read (a report lists a few hundred files)."""

_LEGACY: Final = frozenset({"index.html", "summary.md", "measures.csv", "shortfall.csv", "flows.csv", "targets.csv",
                            "results.json"})  # fmt: skip
"""What reports wrote before the manifest listed files (besides ``images/*.svg|png``)."""


def _entries(folder: Path) -> list[str]:
    """Every file and folder below ``folder`` as relative POSIX paths (links not followed), sorted."""
    out: list[str] = []
    for root, dirs, files in os.walk(folder):
        here = Path(root).relative_to(folder)
        out.extend((here / name).as_posix() for name in [*dirs, *files])
    return sorted(out)


def write_manifest(folder: Path) -> None:
    """Write :data:`MARKER` into a finished report ``folder``, listing every file in it."""
    files = [p for p in _entries(folder) if not (folder / p).is_dir() or (folder / p).is_symlink()]
    lines = [f"supplychain {__version__}", *files]
    (folder / MARKER).write_text("\n".join(lines) + "\n", encoding="utf-8")


def _listed(folder: Path) -> set[str] | None:
    """Files the manifest in ``folder`` lists (``None`` for a manifest that predates file lists)."""
    with (folder / MARKER).open("rb") as handle:
        text = handle.read(MAX_MANIFEST_BYTES).decode("utf-8", "replace")
    lines = [line for line in text.splitlines()[1:] if line]
    return set(lines) if lines else None


def _ours(path: str, listed: set[str] | None) -> bool:
    if listed is None:
        return path in _LEGACY or path == "images" or (path.startswith("images/") and path.endswith((".svg", ".png")))
    return path in listed or any(p.startswith(path + "/") for p in listed)


def check_target(out: str | os.PathLike[str]) -> Path:
    """Check that a report may be written to ``out``; return the folder it will replace.

    Parameters
    ----------
    out : path-like
        The report folder asked for (a symbolic link to a folder is written through).

    Returns
    -------
    Path
        The resolved folder.

    Raises
    ------
    OSError
        ``out`` is a device, a named pipe or a socket.
    ReportError
        ``out`` is a file, or a non-empty folder without :data:`MARKER`, or holds files or
        folders the earlier report did not write (the first few are named).
    """
    try:
        final = output_path(out, folder=True)
    except NotADirectoryError:
        msg = f"{os.fspath(out)} exists and is not a folder; choose another --output"
        raise ReportError(msg) from None
    if not final.is_dir():
        return final
    entries = _entries(final)
    if not entries:
        return final
    if MARKER not in entries:
        msg = (f"{os.fspath(out)} is not empty and does not hold an earlier supplychain report; "
               "refusing to replace it (choose an empty or new folder)")  # fmt: skip
        raise ReportError(msg)
    listed = _listed(final)
    foreign = [p for p in entries if p != MARKER and not _ours(p, listed)]
    if foreign:
        shown = ", ".join(foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        msg = (f"{os.fspath(out)} holds an earlier report and files it did not write ({shown}); refusing to "
               "replace the folder, which would delete them: move them elsewhere or choose another folder")
        raise ReportError(msg)
    return final
