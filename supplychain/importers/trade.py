"""What an import run returns, and the steps both importers share after reading.

:func:`finish` takes the reports a reader produced (BACI's, or Comtrade's after
mirror reconciliation), aggregates them (:mod:`~supplychain.importers.convert`),
builds the fragment (:mod:`~supplychain.importers.fragment`) and returns a
:class:`TradeImport`: the tidy table, the summary, the fragment and its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pandas as pd

from supplychain.errors import Problem, ScenarioError
from supplychain.importers.convert import aggregate, select_targets
from supplychain.importers.countries import CountryResolver, parse_fold
from supplychain.importers.fragment import SHAPES, Shape, build_fragment, render_fragment, source_id, write_fragment
from supplychain.importers.hsmap import HsMapping, Target, load_mapping
from supplychain.importers.records import Report, Summary
from supplychain.schema.types import ISO_COUNTRIES

__all__ = ["InputFile", "Run", "TradeImport", "as_paths", "finish", "input_files", "prepare"]


@dataclass(frozen=True)
class InputFile:
    """One input file as read: its display name, size and SHA-256, and the source entry citing it."""

    name: str
    size: int
    sha256: str
    source_id: str
    source: Mapping[str, Any]


@dataclass(frozen=True)
class TradeImport:
    """The outcome of ``import baci`` / ``import comtrade``.

    Attributes
    ----------
    table : DataFrame
        One row per year, HS code, exporter and importer
        (:data:`~supplychain.importers.convert.TABLE_COLUMNS`): traded tonnes,
        factor, tonnes on the commodity's basis, value, rows and the file they came from.
    summary : Summary
        Rows read, mapped, converted, skipped and why; unmapped countries; caveats.
    fragment : dict
        The scenario fragment's plain data (``sources`` and ``flows`` or ``imports``).
    text : str
        The fragment as YAML, with a header of comments (inputs, options, summary).
    inputs : list of InputFile
        The files read.
    """

    table: pd.DataFrame
    summary: Summary
    fragment: dict[str, Any]
    text: str
    inputs: list[InputFile]

    def write(self, path: str | Path) -> Path:
        """Write :attr:`text` to ``path`` atomically; return the path."""
        return write_fragment(path, self.text)


def as_paths(files: str | Path | Sequence[str | Path], what: str) -> list[Path]:
    """One path or several, as a non-empty list of existing files.

    Raises
    ------
    ValueError
        For an empty sequence.
    ScenarioError
        Listing every path that is not a readable file.
    """
    paths = [Path(files)] if isinstance(files, str | Path) else [Path(f) for f in files]
    if not paths:
        msg = f"give at least one {what}"
        raise ValueError(msg)
    missing = [Problem(str(p), 0, 0, (), "no such file" if not p.exists() else "not a file",
                       f"give the path of the {what} you downloaded") for p in paths if not p.is_file()]  # fmt: skip
    if missing:
        raise ScenarioError(missing)
    return paths


def input_files(
    hashes: Sequence[tuple[str, int, str]], prefix: str, source: Callable[[str, int, str], Mapping[str, Any]]
) -> list[InputFile]:
    """One :class:`InputFile` per file read, each with a unique source id and its ``sources`` entry."""
    out: list[InputFile] = []
    for name, size, sha in hashes:
        sid = source_id(name, prefix)
        while sid in {f.source_id for f in out}:
            sid = f"{sid}_{len(out) + 1}"
        out.append(InputFile(name, size, sha, sid, source(name, size, sha)))
    return out


def _codes(flag: str, codes: Collection[str] | None) -> frozenset[str] | None:
    if not codes:
        return None
    out = frozenset(c.strip().upper() for c in codes)
    bad = sorted(c for c in out if c not in ISO_COUNTRIES)
    if bad:
        msg = f"{flag} takes ISO 3166-1 alpha-2 codes (US, CN); unknown: {', '.join(bad)}"
        raise ValueError(msg)
    return out


@dataclass(frozen=True)
class Run:
    """The checked options of one import run (:func:`prepare`)."""

    targets: dict[str, Target]
    countries: CountryResolver
    exporters: frozenset[str] | None
    importers: frozenset[str] | None
    years: frozenset[int] | None
    shape: Shape
    prefix: str
    remainder_to: str
    options: dict[str, str]
    factor_sources: dict[str, dict[str, Any]]


def prepare(
    *,
    hs: Sequence[str] | None,
    years: Collection[int] | None,
    commodity: str | None,
    mapping: str | Path | HsMapping | None,
    shape: str,
    exporters: Collection[str] | None,
    importers: Collection[str] | None,
    fold: Mapping[str, str] | Sequence[str] | None,
    prefix: str,
    remainder_to: str,
) -> Run:
    """Check the options both importers share and resolve the HS codes to import.

    Raises
    ------
    ValueError
        An unknown shape, HS code, commodity or country code; ``exporters`` with
        ``imports`` (partner shares need every exporter).
    ScenarioError
        A mapping file with problems (located).
    """
    if not re.match(r"^[A-Za-z][A-Za-z0-9_\-]{0,39}$", prefix):
        msg = f"--prefix must start with a letter, then letters, digits, '_' or '-', not {prefix!r}"
        raise ValueError(msg)
    if not re.match(r"^[A-Z][A-Z0-9_]{1,15}$", remainder_to):
        msg = f"--remainder-to must be a region code in capitals such as ROW, not {remainder_to!r}"
        raise ValueError(msg)
    if shape not in SHAPES:
        msg = f"--as must be flows or imports, not {shape!r}"
        raise ValueError(msg)
    if shape == "imports" and exporters:
        msg = "--exporter cannot be used with --as imports: partner shares need every exporter; use --importer"
        raise ValueError(msg)
    table = mapping if isinstance(mapping, HsMapping) else load_mapping(mapping)
    targets = select_targets(table, hs, commodity)
    folded = parse_fold(list(fold)) if fold is not None and not isinstance(fold, Mapping) else dict(fold or {})
    run_exporters, run_importers = _codes("--exporter", exporters), _codes("--importer", importers)
    options = {
        "mapping": "shipped (supplychain/data/hs_map.yaml)" if mapping is None else
                   "given as an object" if isinstance(mapping, HsMapping) else Path(mapping).name,
        "hs": ", ".join(targets),
        "years": ", ".join(map(str, sorted(years))) if years else "all in the file",
        "commodity": commodity or "each code's default",
        "shape": shape + (f" (remainder to {remainder_to})" if shape == "imports" else ""),
        "exporters": ", ".join(sorted(run_exporters)) if run_exporters else "all",
        "importers": ", ".join(sorted(run_importers)) if run_importers else "all",
        "fold": ", ".join(f"{a}={b}" for a, b in sorted(folded.items())) or "none",
    }  # fmt: skip
    cited = {t.quantity.source for t in targets.values() if t.quantity.source}
    factor_sources = {sid: table.sources[sid].model_dump(exclude_none=True) for sid in sorted(cited)}
    return Run(targets, CountryResolver(fold=folded), run_exporters, run_importers,
               frozenset(years) if years else None, cast(Shape, shape), prefix, remainder_to, options,
               factor_sources)  # fmt: skip


def finish(
    kind: str,
    run: Run,
    reports: Iterable[Report],
    summary: Summary,
    inputs: Sequence[InputFile],
) -> TradeImport:
    """Aggregate ``reports`` and build the fragment (the steps after reading).

    Parameters
    ----------
    kind : str
        ``baci`` or ``comtrade`` (for the header).
    run : Run
        The checked options (:func:`prepare`); its country resolver has learnt the data's tables.
    reports : iterable of Report
        What the reader selected (and, for Comtrade, reconciled).
    summary : Summary
        The reader's counts; completed here.
    inputs : sequence of InputFile
        The files read, in the order ``Report.file`` indexes them.
    """
    shape = run.shape
    table = aggregate(reports, run.targets, run.countries, summary, exporters=run.exporters, importers=run.importers,
                      keep_unknown_exporter=shape == "imports")  # fmt: skip
    files = list(inputs)
    imported = set(table["hs"])
    for code, target in run.targets.items():
        if code in imported:
            summary.conversions[code] = (f"-> {target.commodity} ({target.basis}): t traded x {target.factor:g}"
                                         + (f" x {target.unit:g}" if target.unit != 1 else "")
                                         + f" ({target.why})")  # fmt: skip
            if target.entry.basket:
                summary.caveats[code] = target.entry.basket
    sources = {f.source_id: f.source for f in files}
    for sid, entry in run.factor_sources.items():  # documents the mapping's factors cite (header notes)
        sources.setdefault(sid, entry)
    fragment = build_fragment(table, sources, [f.name for f in files], shape=shape, prefix=run.prefix,
                              remainder_to=run.remainder_to)  # fmt: skip
    summary.entries = len(fragment[shape])
    header = [f"Generated by `supplychain import {kind}`: a scenario fragment (extend it; do not edit,",
              "re-run the command instead). See docs/trade-data.md.", ""]  # fmt: skip
    header += [f"input {f.name}: {f.size:,} bytes, sha256 {f.sha256}" for f in files]
    header += [f"{k}: {v}" for k, v in run.options.items()] + [""] + summary.lines()
    return TradeImport(table, summary, fragment, render_fragment(fragment, header), files)
