"""On-disk cache of sweep results, keyed by everything that determines them.

Storage, as the other outputs the package writes: a folder of Parquet tables per key,
written atomically. What a sweep keeps in it and when is
:func:`supplychain.uncertainty.montecarlo.run_sweep`'s.

A result is stored as Parquet files under a cache folder (default
``.supplychain-cache/`` in the working directory; ``SUPPLYCHAIN_CACHE_DIR`` or
the ``directory`` argument override it). The key is the SHA-256 of a canonical
JSON document holding:

* the resolved scenario (``Scenario.model_dump_json()``: every inherited value
  after ``extends``, so editing a base file changes the key);
* the seed, the number of samples and every option that changes numbers
  (mode, years, source country, toggles, selected parameters and measures …);
* the package version and a fingerprint of the package's source files (so a
  code change during development never serves numbers computed by older code).

Executor, worker count and chunk size are deliberately *not* in the key: the
results do not depend on them (see :mod:`supplychain.uncertainty.sampling`).

Writes are atomic: an entry is written into a temporary folder beside it and
renamed into place whole (:func:`supplychain.io.atomic.atomic_write_dir`), so an
interrupted sweep or a crash mid-write leaves no partial entry (a temporary folder
left by a killed process is removed by the next write). A key counts as present
only when its metadata file exists and names it. A cache folder that cannot be
read is a miss.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

import supplychain
from supplychain.io.atomic import atomic_write_dir
from supplychain.schema.model import Scenario

__all__ = ["DEFAULT_CACHE_DIR", "SweepCache", "cache_key", "code_fingerprint", "package_version"]

DEFAULT_CACHE_DIR = ".supplychain-cache"
"""Folder (relative to the working directory) used when nothing else is configured."""

_FORMAT = 1  # bump when the layout of cached tables changes


def package_version() -> str:
    """Return the installed package version (``supplychain.__version__``, else the distribution metadata)."""
    version = getattr(supplychain, "__version__", None)
    if isinstance(version, str):
        return version
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as dist_version

    try:
        return dist_version("supplychain")
    except PackageNotFoundError:  # pragma: no cover - running from a bare source tree
        return "unknown"


@cache
def code_fingerprint() -> str:
    """SHA-256 over the package's Python sources (path and content), computed once per process.

    Returns
    -------
    str
        Hex digest; changes whenever any ``supplychain/**/*.py`` file changes.
    """
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(_canonical(v) for v in value)
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return repr(value)


def cache_key(scenario: Scenario, *, seed: int, samples: int, options: Mapping[str, Any]) -> str:
    """SHA-256 key of one sweep.

    Parameters
    ----------
    scenario : Scenario
        The resolved scenario (``model_dump_json`` is hashed).
    seed, samples : int
        Seed and number of samples.
    options : mapping
        Every other option that changes the numbers (JSON-able; sets and tuples
        are normalised, unknown objects hashed by ``repr``).

    Returns
    -------
    str
        64 hex digits.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({"scenario": {"name": "x", "base_year": 2024}})
    >>> a = cache_key(s, seed=1, samples=10, options={"mode": "fixed"})
    >>> a == cache_key(s, seed=1, samples=10, options={"mode": "fixed"})
    True
    >>> a == cache_key(s, seed=2, samples=10, options={"mode": "fixed"})
    False
    """
    doc = {
        "format": _FORMAT,
        "version": package_version(),
        "code": code_fingerprint(),
        "scenario": scenario.model_dump_json(),
        "seed": int(seed),
        "samples": int(samples),
        "options": _canonical(dict(options)),
    }
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SweepCache:
    """A folder of cached sweep tables.

    Parameters
    ----------
    directory : str or Path, optional
        Where to keep entries; default ``$SUPPLYCHAIN_CACHE_DIR`` or ``.supplychain-cache``.
    """

    directory: Path

    @classmethod
    def default(cls, directory: str | os.PathLike[str] | None = None) -> SweepCache:
        """Return the configured cache (argument, then ``SUPPLYCHAIN_CACHE_DIR``, then ``.supplychain-cache``).

        Parameters
        ----------
        directory : str or Path, optional
            Explicit folder.

        Returns
        -------
        SweepCache
            The cache object (the folder is created on first write).
        """
        chosen = directory or os.environ.get("SUPPLYCHAIN_CACHE_DIR") or DEFAULT_CACHE_DIR
        return cls(Path(chosen))

    def _entry(self, key: str) -> Path:
        return self.directory / key[:2] / key

    def has(self, key: str) -> bool:
        """Whether a complete entry exists for ``key``."""
        try:
            return (self._entry(key) / "meta.json").is_file()
        except OSError:
            return False

    def load(self, key: str) -> tuple[dict[str, pd.DataFrame], dict[str, Any]] | None:
        """Read an entry.

        Parameters
        ----------
        key : str
            Key from :func:`cache_key`.

        Returns
        -------
        tuple of (dict of DataFrame, dict) or None
            The tables by name and the metadata, or ``None`` when absent or
            unreadable (a damaged entry is treated as a miss, never as data).
        """
        entry = self._entry(key)
        meta_path = entry / "meta.json"
        if not self.has(key):
            return None
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("key") != key:
                return None
            tables = {name: pd.read_parquet(entry / f"{name}.parquet") for name in meta["tables"]}
        except (OSError, ValueError, KeyError):
            return None
        return tables, meta

    def store(self, key: str, tables: Mapping[str, pd.DataFrame], meta: Mapping[str, Any] | None = None) -> Path:
        """Write an entry atomically.

        Parameters
        ----------
        key : str
            Key from :func:`cache_key`.
        tables : mapping of str to DataFrame
            Tables to keep (written as ``NAME.parquet``).
        meta : mapping, optional
            Extra JSON-able metadata.

        Returns
        -------
        Path
            The entry's folder.

        Raises
        ------
        OSError
            The cache folder cannot be written (read-only, a file in the way);
            nothing is left behind.
        """
        entry = self._entry(key)
        doc = {"key": key, "tables": sorted(tables), **dict(meta or {})}
        text = json.dumps(_canonical(doc), sort_keys=True, indent=1)

        def write(folder: Path) -> None:
            for name, df in tables.items():
                df.to_parquet(folder / f"{name}.parquet")
            (folder / "meta.json").write_text(text, encoding="utf-8")  # last: marks the entry complete

        return atomic_write_dir(entry, write)

    def clear(self) -> int:
        """Remove every entry; return how many were removed."""
        n = 0
        if not self.directory.is_dir():
            return 0
        for meta in sorted(self.directory.glob("*/*/meta.json")):
            shutil.rmtree(meta.parent)
            n += 1
        return n
