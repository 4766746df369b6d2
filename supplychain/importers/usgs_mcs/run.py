"""``import_usgs_mcs``: read a release folder and write the critical-minerals world.

The output folder gets one fragment per modelled commodity, ``sources.yaml``,
the index ``minerals.yaml`` and ``coverage.md``. It is written to a temporary
folder beside the target and moved into place, so a reader never sees half an
import; an existing folder is replaced only when it holds an earlier import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from supplychain.errors import Problem, ScenarioError
from supplychain.importers.usgs_mcs.catalogue import Catalogue, load_catalogue
from supplychain.importers.usgs_mcs.fragments import (
    GENERATED,
    INDEX,
    Fragment,
    commodity_fragment,
    coverage_markdown,
    index_fragment,
    sources_fragment,
)
from supplychain.importers.usgs_mcs.release import read_release
from supplychain.io.atomic import atomic_write_dir

__all__ = ["ImportResult", "import_usgs_mcs"]


@dataclass(frozen=True)
class ImportResult:
    """What an import wrote."""

    output: Path
    fragments: tuple[str, ...]
    """Commodity fragment file names."""
    not_modelled: tuple[str, ...]
    """Catalogue commodities without a fragment."""
    left_out: int
    """Withheld, not-available or non-numeric figures listed in ``coverage.md``."""


def _check_target(out: Path) -> None:
    if out.exists() and not out.is_dir():
        raise ScenarioError([Problem(str(out), 0, 0, (), "exists and is not a folder", "choose another --output")])
    if out.is_dir() and any(out.iterdir()):
        index = out / INDEX
        head = index.read_text(encoding="utf-8")[:400] if index.is_file() else ""
        if GENERATED not in head:
            raise ScenarioError([Problem(str(out), 0, 0, (), "not empty and not an earlier import (no generated "
                                         f"{INDEX})", "choose an empty or new folder")])


def import_usgs_mcs(source: str | Path, output: str | Path, *, hold_to: int = 2026,
                    catalogue: Catalogue | None = None) -> ImportResult:
    """Import the USGS MCS 2025 data release into scenario fragments.

    Parameters
    ----------
    source : str or Path
        The release folder (``world_data/``, ``industry_trends/``, ``salient/``).
    output : str or Path
        Folder to write (created, or replaced when it holds an earlier import).
    hold_to : int, optional
        Last year the 2024 US imports and exports are repeated for (assumption).
    catalogue : Catalogue, optional
        Where to read each commodity (default: the bundled catalogue,
        :func:`~supplychain.importers.usgs_mcs.catalogue.load_catalogue`).

    Returns
    -------
    ImportResult

    Raises
    ------
    ScenarioError
        Every problem with the release (missing files or columns, unknown
        names), located at file:line:column; nothing is written.
    """
    out = Path(output)
    _check_target(out)
    catalogue = catalogue if catalogue is not None else load_catalogue()
    files = sorted({s.salient.file for s in catalogue.commodities.values() if s.salient})
    release = read_release(source, salient_files=files)
    fragments: dict[str, Fragment] = {}
    problems: list[Problem] = []
    for cid, spec in catalogue.commodities.items():
        if not spec.modelled:
            continue
        minerals = [m for m in catalogue.minerals if m.commodity == cid]
        try:
            fragments[cid] = commodity_fragment(release, cid, spec, minerals, hold_to)
        except ScenarioError as err:
            problems.extend(err.problems)
    if problems:
        raise ScenarioError(problems)
    cited = set().union(*(f.files for f in fragments.values()))
    used = {s.chapter_shares.source for c, s in catalogue.commodities.items() if s.chapter_shares and c in fragments}
    names = [f"{cid}.yaml" for cid in fragments]

    def write(tmp: Path) -> None:
        for cid, frag in fragments.items():
            (tmp / f"{cid}.yaml").write_text(frag.text, encoding="utf-8")
        (tmp / "sources.yaml").write_text(sources_fragment(catalogue, release, cited, used), encoding="utf-8")
        (tmp / INDEX).write_text(index_fragment(names), encoding="utf-8")
        (tmp / "coverage.md").write_text(coverage_markdown(catalogue, fragments), encoding="utf-8")
        for f in tmp.iterdir():
            f.chmod(0o644)

    atomic_write_dir(out, write)  # a temporary folder beside it, renamed into place (docs/limits.md)
    return ImportResult(out, tuple(names), tuple(c for c, s in catalogue.commodities.items() if not s.modelled),
                        sum(len(f.left_out) for f in fragments.values()))
