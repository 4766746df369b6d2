"""Scenario fragments from imported trade: ``flows`` or ``imports``, rendered as deterministic YAML.

A fragment has no ``scenario:`` section; a scenario ``extends`` it (see
``docs/scenario-format.md``). Two shapes:

* ``flows`` — one flow per year, HS code, exporter and importer::

      flows:
        baci_284690_cn_us_2024:
          supplier: CN
          buyer: US
          commodity: ree_compounds
          year: 2024
          quantity: {value: 1200.0, source: baci_hs22_y2024_v202501, note: "<file>, 2024, HS 284690, ..."}

* ``imports`` — per importer, commodity and year, the total and each exporter's
  share (``share = tonnes from the exporter / total``); what the shares leave
  over (exporters without ISO code, rounding) goes to ``remainder_to``.

Every figure cites the ``sources`` entry of its input file (one entry per file)
and notes the year, HS code and the conversion. The same inputs give the same
bytes: entries are sorted, numbers rounded (tonnes to 1e-6, shares to 1e-9), and
the header holds no date.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import pandas as pd
import yaml

from supplychain.importers.convert import UNKNOWN

__all__ = ["SHAPES", "Shape", "build_fragment", "render_fragment", "source_id", "write_fragment"]

Shape = Literal["flows", "imports"]
SHAPES: Final = ("flows", "imports")

TONNES_DIGITS: Final = 6
"""Decimals kept for tonnes (1e-6 of the basis unit)."""
SHARE_DIGITS: Final = 9
"""Decimals kept for partner shares (their sum stays within the schema's 1e-6 of 1)."""


class _Inline(dict[str, Any]):
    """A mapping written on one line (quantities)."""


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """Block style, with quantities inline (libyaml's emitter when PyYAML has one: same text, faster)."""


_Dumper.add_representer(
    _Inline, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)


def source_id(name: str, prefix: str) -> str:
    """Make a source id from a file name: lower case, other characters as ``_``, starting with a letter.

    Examples
    --------
    >>> source_id("BACI_HS22_Y2024_V202501.csv", "baci")
    'baci_hs22_y2024_v202501'
    >>> source_id("2024 US imports.csv", "comtrade")
    'comtrade_2024_us_imports'
    """
    stem = Path(name).name.split(".")[0]
    ident = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")
    if not ident.startswith(prefix):
        ident = f"{prefix}_{ident}" if ident else prefix
    return ident[:80]


def _note(rec: Mapping[str, Any], file: str) -> str:
    unit = f" x {rec['unit']:g}" if rec["unit"] != 1 else ""
    return (f"{file}, {rec['year']}, HS {rec['hs']}, {rec['codes']} ({rec['side']}): {rec['traded_t']:.10g} t traded "
            f"x factor {rec['factor']:g}{unit} = {rec['tonnes']:.10g} {rec['basis']}")  # fmt: skip


def build_fragment(
    table: pd.DataFrame,
    sources: Mapping[str, Mapping[str, Any]],
    files: Sequence[str],
    *,
    shape: Shape = "flows",
    prefix: str,
    remainder_to: str = "ROW",
) -> dict[str, Any]:
    """Build the fragment's plain data from an import table.

    Parameters
    ----------
    table : DataFrame
        :func:`~supplychain.importers.convert.aggregate`'s table.
    sources : mapping
        Source id → entry, one per input file, in file order.
    files : sequence of str
        Display names of the input files (``table.file`` indexes them).
    shape : {"flows", "imports"}
        What to write.
    prefix : str
        Start of every entity id (``baci``, ``comtrade``).
    remainder_to : str
        ``imports`` only: who receives what the shares leave over.

    Returns
    -------
    dict
        ``{"sources": ..., "flows": ...}`` or ``{"sources": ..., "imports": ...}``.
    """
    ids = list(sources)
    records: list[dict[str, Any]] = [{str(k): v for k, v in rec.items()} for rec in table.to_dict("records")]
    body = _flows(records, ids, files, prefix) if shape == "flows" else \
        _imports(records, ids, files, prefix, remainder_to)
    return {"sources": {k: dict(v) for k, v in sources.items()}, shape: body}


def _flows(records: list[dict[str, Any]], ids: list[str], files: Sequence[str], prefix: str) -> dict[str, Any]:
    """One flow per record (year, HS code, exporter, importer), ids ``{prefix}_{hs}_{exp}_{imp}_{year}``."""
    out = {}
    for rec in records:
        if rec["exporter"] == UNKNOWN:
            continue
        key = f"{prefix}_{rec['hs']}_{rec['exporter']}_{rec['importer']}_{rec['year']}".lower()
        out[key] = {"supplier": rec["exporter"], "buyer": rec["importer"], "commodity": rec["commodity"],
                    "year": int(rec["year"]),
                    "quantity": _Inline(value=round(float(rec["tonnes"]), TONNES_DIGITS), source=ids[rec["file"]],
                                      note=_note(rec, files[rec["file"]]))}  # fmt: skip
    return out


def _imports(
    records: list[dict[str, Any]], ids: list[str], files: Sequence[str], prefix: str, remainder_to: str
) -> dict[str, Any]:
    """Per importer, commodity and year: the total and each exporter's share, ids ``{prefix}_{imp}_{commodity}_{year}``.

    ``share(e) = Σ tonnes from e / Σ tonnes``; exporters without ISO code are in the
    total only, so their part goes to ``remainder_to`` with what rounding leaves.
    """
    groups: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for rec in records:
        groups.setdefault((rec["importer"], rec["commodity"], int(rec["year"])), []).append(rec)
    out = {}
    for (importer, commodity, year), group in sorted(groups.items()):
        total = sum(float(r["tonnes"]) for r in group)
        if total <= 0:
            continue
        basis, file = group[0]["basis"], min(int(r["file"]) for r in group)
        by_file: dict[int, float] = {}
        by_exporter: dict[str, float] = {}
        for r in group:
            by_file[int(r["file"])] = by_file.get(int(r["file"]), 0.0) + float(r["tonnes"])
            by_exporter[r["exporter"]] = by_exporter.get(r["exporter"], 0.0) + float(r["tonnes"])
        spread = "; ".join(f"{files[f]} {t:.10g}" for f, t in sorted(by_file.items())) if len(by_file) > 1 \
            else files[file]
        unknown = by_exporter.pop(UNKNOWN, 0.0)
        partners = {exp: _Inline(value=round(t / total, SHARE_DIGITS), source=ids[file],
                                 note=f"{t:.10g} of {total:.10g} {basis}")
                    for exp, t in sorted(by_exporter.items())}  # fmt: skip
        if not partners:  # every exporter without ISO code: the schema needs one partner
            partners = {remainder_to: _Inline(value=1.0, source=ids[file], note="every exporter without ISO code")}
        codes = ", ".join(sorted({str(r["hs"]) for r in group}))
        note = (f"{spread}: {year}, HS {codes}, sum over {sum(int(r['rows']) for r in group)} rows of {importer}'s "
                f"imports converted to {basis}")  # fmt: skip
        if unknown:
            note += f"; {unknown:.10g} from exporters without ISO code go to {remainder_to}"
        out[f"{prefix}_{importer}_{commodity}_{year}".lower()] = {
            "importer": importer, "commodity": commodity, "year": year,
            "total": _Inline(value=round(total, TONNES_DIGITS), source=ids[file], note=note),
            "partners": partners, "remainder_to": remainder_to}  # fmt: skip
    return out


def render_fragment(fragment: Mapping[str, Any], header: Sequence[str]) -> str:
    """YAML text of a fragment, below ``header`` written as comment lines."""
    comments = "".join(f"# {line}".rstrip() + "\n" for line in header)
    text = yaml.dump(dict(fragment), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120,
                     default_flow_style=False)  # fmt: skip
    return comments + "\n" + text


def write_fragment(path: str | Path, text: str) -> Path:
    """Write the fragment atomically (:func:`supplychain.io.atomic.atomic_write_text`)."""
    from supplychain.io.atomic import atomic_write_text

    return atomic_write_text(path, text)
