"""Where scenario files may come from: the bundled world and the folders a user allows.

A scenario's ``extends`` bases must lie inside an *allowed root* (see
:mod:`supplychain.io.compose`):

* its confinement root (the folder one level above the top-level file's folder);
* the **bundled world** — the ``scenarios/`` folder that ships with the package
  (as package data in an installed wheel, the repository's ``scenarios/`` in a
  checkout) — reached by name: ``extends: [bundled:baseline_2024]``;
* extra folders given explicitly: ``--path DIR`` on the command line,
  ``extra_roots=`` in :func:`supplychain.io.load`, or the environment variable
  :data:`PATH_VARIABLE` (folders separated by ``os.pathsep``).

Paths are resolved (symbolic links followed) before they are checked, so a link
that leads outside every allowed root is refused like any other escape.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Final

__all__ = ["BUNDLED_PREFIX", "PATH_VARIABLE", "allowed_roots", "bundled_root", "extra_roots"]

BUNDLED_PREFIX: Final = "bundled:"
"""Prefix of an ``extends`` entry that names a file of the bundled world (``bundled:baseline_2024``)."""

PATH_VARIABLE: Final = "SUPPLYCHAIN_PATH"
"""Environment variable listing extra allowed roots, separated by ``os.pathsep``."""

_PACKAGE: Final = Path(__file__).resolve().parent.parent


def bundled_root() -> Path:
    """Return the folder of the bundled world.

    An installed wheel carries it as package data in ``supplychain/bundled/`` (the
    ``package-dir`` mapping of ``pyproject.toml``); a checkout or an editable install
    reads the repository's ``scenarios/`` folder, the one copy in git.

    Examples
    --------
    >>> (bundled_root() / "baseline_2024.yaml").is_file()
    True
    """
    installed = _PACKAGE / "bundled"
    if (installed / "world").is_dir():
        return installed
    return (_PACKAGE.parent / "scenarios").resolve()


def extra_roots(roots: Iterable[str | os.PathLike[str]] = (), *, environ: bool = True) -> list[Path]:
    """Resolve the extra roots: those given, then those of :data:`PATH_VARIABLE` (when ``environ``).

    Empty entries are skipped; folders that do not exist are kept (no file can be
    found in them, and a base that is not there is reported as not found).

    Examples
    --------
    >>> [p.name for p in extra_roots(["/tmp/worlds"], environ=False)]
    ['worlds']
    """
    listed = [str(r) for r in roots]
    if environ:
        listed += os.environ.get(PATH_VARIABLE, "").split(os.pathsep)
    out: list[Path] = []
    for entry in listed:
        if entry.strip():
            path = Path(entry).expanduser().resolve()
            if path not in out:
                out.append(path)
    return out


def allowed_roots(root: Path | None, extra: Iterable[Path] = ()) -> list[Path]:
    """List the confinement root (if any), the bundled world and the extra roots, without repeats."""
    out: list[Path] = []
    for path in (root, bundled_root(), *extra):
        if path is not None and path not in out:
            out.append(path)
    return out
