"""The critical-minerals atlas: one row per mineral of the US lists, from the USGS release.

Per mineral of the 2022 list (50) and the 2025 additions, :func:`atlas` gives US
net import reliance 2024 recomputed from the salient figures next to the one
USGS published, China's share of world production, China's place among US import
sources 2020–23 (and the share the scenarios use for it: a chapter's printed
percentage, or the ranked-list assumption), and the traced China share where a
scenario chain models the mineral. Every figure is read through
:mod:`supplychain.importers.usgs_mcs` from the bundled copy of the release
(``supplychain/data/usgs_mcs2025``) or another release folder.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from supplychain.importers.usgs_mcs import (
    CommoditySpec,
    Release,
    computed_nir,
    import_sources,
    load_catalogue,
    read_release,
    us_figures,
    world_figures,
)
from supplychain.importers.usgs_mcs.cells import Cell
from supplychain.importers.usgs_mcs.release import FIG2, T5
from supplychain.schema.assumptions import ASSUMED_SPLIT, assumed_split

__all__ = ["ATLAS_COLUMNS", "CHAIN_COMMODITIES", "RARE_EARTHS", "SORT_KEYS", "atlas",
           "bundled_release", "china_listed", "commodity_names", "display_name", "output_stage", "published_nir",
           "reliance_class", "sort_atlas", "stage_text"]

ATLAS_COLUMNS = (
    "mineral", "name", "list", "usgs_commodity", "usgs_name",
    "nir_computed", "nir_computed_note", "nir_computed_estimate", "nir_published", "nir_published_value",
    "nir_published_from", "nir_class", "nir_class_published",
    "china_world_share", "china_world_stage", "china_world_series", "china_listed", "world_excludes_us",
    "china_world_note",
    "china_import_rank", "import_sources", "china_import_share", "china_import_share_basis",
    "traced_share", "traced_from", "notes",
)
"""Columns of :func:`atlas`, in order."""

CHAIN_COMMODITIES: dict[str, tuple[str, ...]] = {"rare_earths": ("ree_compounds",)}
"""Commodity ids of the bundled multi-stage chains (``scenarios/world``) that model a USGS commodity.

Preferred over the one-stage commodity of the minerals world: ``ree_compounds`` is
USGS's rare-earth "compounds and metals" traced through the rare-earth chain
(mine, separation, metal, magnets)."""

SORT_KEYS: dict[str, tuple[str, bool]] = {
    "list": ("", True),
    "nir": ("nir_sort", False),
    "published": ("nir_published_value", False),
    "china": ("china_world_share", False),
    "rank": ("china_import_rank", True),
    "traced": ("traced_share", False),
    "name": ("name", True),
}
"""``--sort`` keys: column and ascending order (``list`` keeps the lists' order)."""


RARE_EARTHS = "Rare earths (14 lanthanides)"
"""Display name of the one row the 14 lanthanides share (USGS's rare-earth aggregate)."""


def display_name(mineral: str, name: str, commodity: str) -> str:
    """Name a list mineral as the atlas shows it: with the commodity USGS measures when that is another one.

    The 2022 list's aluminum is measured as bauxite (T5, and so the atlas); the
    lanthanides share the rare-earth aggregate, which the display collapses into
    one :data:`RARE_EARTHS` row instead.

    Examples
    --------
    >>> display_name("aluminum", "Aluminum", "bauxite"), display_name("cobalt", "Cobalt", "cobalt")
    ('Aluminum (as bauxite)', 'Cobalt')
    """
    return f"{name} (as {commodity})" if commodity and commodity not in (mineral, "rare_earths") else name


def stage_text(row: Mapping[Any, Any]) -> str:
    """Name the stage China's world share is of, as shown: ``mine``, ``sponge metal, ex-US``, or ``""``.

    ``ex-US``: USGS's world total leaves the US out. Empty without world data.
    """
    return ", ".join(s for s in (str(row["china_world_stage"] or ""), "ex-US" if row["world_excludes_us"] else "")
                     if s)


def china_listed(row: Mapping[Any, Any]) -> bool:
    """Say whether China is listed: False only where the release has world rows but none for China."""
    return row["china_listed"] is None or bool(row["china_listed"])


def commodity_names() -> dict[str, str]:
    """Display name of every catalogue commodity: the list mineral's (:func:`display_name`), else the catalogue's.

    Examples
    --------
    >>> n = commodity_names()
    >>> n["rare_earths"], n["bauxite"], n["aluminum"], n["gallium"]
    ('Rare earths (14 lanthanides)', 'Aluminum (as bauxite)', 'Aluminum (primary smelter production)', 'Gallium')
    """
    cat = load_catalogue()
    names: dict[str, str] = {"rare_earths": RARE_EARTHS}
    for m in cat.minerals:
        if m.commodity:
            names.setdefault(m.commodity, display_name(m.id, m.name, m.commodity))
    for cid, spec in cat.commodities.items():
        names.setdefault(cid, spec.name)
    return names


def bundled_release() -> Path:
    """Return the folder of the bundled copy of the release (``supplychain/data/usgs_mcs2025``)."""
    return Path(str(resources.files("supplychain").joinpath("data/usgs_mcs2025")))


def reliance_class(value: float, relation: str = "") -> str:
    """Class of a net import reliance share: ``100%``, ``>50%``, ``<=50%``, ``E`` or ``unknown``.

    A bound counts where it decides the class: ``>50`` and ``>75`` are ``>50%``,
    ``<50`` and ``<25`` are ``<=50%``. A share counts as 100 % when it rounds to
    100 % (USGS prints whole percentages).

    Examples
    --------
    >>> [reliance_class(v, r) for v, r in ((1.0, ""), (0.996, ""), (0.76, ""), (0.5, ">"), (0.25, "<"))]
    ['100%', '100%', '>50%', '>50%', '<=50%']
    >>> reliance_class(math.nan), reliance_class(math.nan, "E")
    ('unknown', 'E')
    """
    if relation == "E":
        return "E"
    if math.isnan(value):
        return "unknown"
    if relation == ">":
        return ">50%" if value >= 0.5 else "unknown"
    if relation == "<":
        return "<=50%" if value <= 0.5 else "unknown"
    if round(value * 100) >= 100:
        return "100%"
    return ">50%" if value > 0.5 else "<=50%"


_STAGE_WORDS = (("sponge metal", "sponge metal"), ("refinery", "refinery"), ("smelter", "smelter"),
                ("plant", "plant"), ("mine", "mine"), ("primary", "primary metal"))


def output_stage(types: Sequence[str]) -> str:
    """Name the production stage of USGS world-data series (their ``TYPE`` column) in a word or two.

    The first of *sponge metal*, *refinery*, *smelter*, *plant*, *mine*, *primary*
    (read as *primary metal*) found in a series name, case-insensitive; a series
    without one keeps its own name. Several series of one stage give it once.

    Examples
    --------
    >>> output_stage(["Mine production, cobalt content, estimated", "Mine production, estimated"])
    'mine'
    >>> output_stage(["Refinery production, copper"]), output_stage(["Primary production"])
    ('refinery', 'primary metal')
    >>> output_stage(["Boron all types"])
    'boron all types'
    """
    stages: list[str] = []
    for series in types:
        low = series.lower()
        stage = next((name for word, name in _STAGE_WORDS if word in low), low)
        if stage not in stages:
            stages.append(stage)
    return " + ".join(stages)


def published_nir(release: Release, spec: CommoditySpec) -> tuple[Cell | None, str, str]:
    """Find the published NIR 2024 and where: T5 (USGS's critical-minerals table), else Fig2, else the salient file.

    The note names any other file that prints a different value (potash: Fig2 93, salient 94).
    """
    found: list[tuple[Cell, str]] = []
    t5 = release.t5.get(spec.t5 or "")
    if t5 is not None:
        found.append((t5.cell("Net_Import_Reliance"), f"{T5.rsplit('/', 1)[-1]} row {t5.line}"))
    fig2 = release.fig2.get(spec.fig2 or "")
    if fig2 is not None:
        found.append((fig2.nir, f"{FIG2.rsplit('/', 1)[-1]} row {fig2.line}"))
    if spec.salient is not None and spec.salient.nir and spec.salient.file in release.salient:
        sf = release.salient[spec.salient.file]
        row = sf.years.get(2024)
        found.append((sf.cell(2024, spec.salient.nir),
                      f"{spec.salient.file} row {row.line if row else 0}, {spec.salient.nir}"))
    found = [(c, ref) for c, ref in found if c.kind != "blank"]
    if not found:
        return None, "", ""
    cell, ref = found[0]
    other = [f"{ref2} says {c.label()}" for c, ref2 in found[1:] if c.label() != cell.label()]
    note = f"{'; '.join(other)}; {ref.split(' row')[0]} taken as published" if other else ""
    return cell, ref, note


def _share(cell: Cell | None) -> tuple[float, str]:
    if cell is None:
        return math.nan, ""
    if cell.kind == "exporter":
        return math.nan, "E"
    if cell.kind in ("number", "bound"):
        return cell.value / 100.0, cell.relation
    return math.nan, ""


def _row(release: Release, mineral: str, name: str, list_: str, cid: str | None) -> dict[str, object]:
    cat = load_catalogue()
    row: dict[str, object] = dict.fromkeys(ATLAS_COLUMNS, None)
    row.update(mineral=mineral, name=name, list=list_, usgs_commodity=cid or "", usgs_name="", nir_computed=math.nan,
               nir_published_value=math.nan, china_world_share=math.nan, china_import_share=math.nan,
               traced_share=math.nan, china_import_rank=pd.NA, nir_computed_note="", nir_computed_estimate=False,
               nir_published="—", nir_published_from="", world_excludes_us=False, china_world_stage="",
               china_world_series="", china_world_note="", import_sources="", china_import_share_basis="",
               traced_from="", notes="")
    spec = cat.commodities.get(cid or "")
    if spec is None:
        fuel = "not in the Mineral Commodity Summaries (a fuel)"
        row.update(nir_class="unknown", nir_class_published="unknown", nir_computed_note=fuel,
                   china_world_note=fuel, notes=fuel)
        return row
    row["usgs_name"] = spec.name
    notes = list(spec.notes)
    if spec.salient is not None:
        nir = computed_nir(us_figures(release, spec))
        row["nir_computed"] = nir.value
        row["nir_computed_note"] = nir.label or nir.method
        row["nir_computed_estimate"] = nir.estimate and not math.isnan(nir.value)
        computed_class = "E" if nir.label == "E" else reliance_class(nir.value)
    else:
        row["nir_computed_note"] = "no salient file"
        computed_class = "unknown"
    cell, ref, note = published_nir(release, spec)
    value, relation = _share(cell)
    row.update(nir_published=cell.label() if cell is not None else "—", nir_published_value=value,
               nir_published_from=ref)
    published_class = reliance_class(value, relation)
    row["nir_class_published"] = published_class
    row["nir_class"] = computed_class if computed_class != "unknown" else published_class
    if note:
        notes.append(note)
    if spec.world is not None:
        world = world_figures(release, spec)
        listed = any(c.country == "CN" for c in world.countries)
        row.update(china_world_share=world.share("CN") if listed else math.nan, china_listed=listed,
                   china_world_stage=output_stage(spec.world.types), china_world_series="; ".join(spec.world.types))
        basis = []
        if not listed:
            basis.append("China not listed by USGS (any Chinese output is inside 'Other countries'): not a 0 % share")
        row["world_excludes_us"] = world.excludes_us
        if world.excludes_us:
            basis.append("world total excludes US production")
        if not world.total_2024.known:
            basis.append(f"no world total ({world.total_2024.text()})")
        other = cat.commodities.get(mineral) if mineral != cid else None
        if other is not None and other.world is not None:
            share = world_figures(release, other).share("CN")
            basis.append(f"{mineral} {other.stage}, {output_stage(other.world.types)} output: China {share:.1%}")
        row["china_world_note"] = "; ".join(basis)
    else:
        row["china_world_note"] = "no world production by country in the release"
    sources = import_sources(release, spec)
    if sources.ranked:
        row["import_sources"] = ", ".join(sources.names)
        rank = sources.rank("CN")
        row["china_import_rank"] = rank if rank is not None else pd.NA
        row["china_import_share"] = sources.shares.get("CN", 0.0)
        row["china_import_share_basis"] = "chapter" if sources.sourced else "assumption: ranked split"
    if not spec.modelled and spec.why_not:
        notes.append(f"not modelled: {spec.why_not}")
    row["notes"] = "; ".join(notes)
    return row


def _traced(frame: pd.DataFrame, scenarios: Sequence[str | Path], year: int, source: str) -> None:
    """Fill ``traced_share``.

    A multi-stage chain (:data:`CHAIN_COMMODITIES`) in any scenario comes first,
    then the one-stage commodity, each in the order the scenarios are given.
    """
    from supplychain.io import load
    from supplychain.metrics import compute_measures

    traced: list[tuple[str, dict[str, float], set[str]]] = []
    for path in scenarios:
        scenario = load(path)
        m = compute_measures(scenario, year, source=source)
        m = m[(m["metric"] == "traced_share") & (m["country"] == "US")]
        values = dict(zip(m["commodity"], m["value"].astype(float), strict=True))
        traced.append((Path(path).name, values, assumed_split(scenario)))
    for i, cid in frame.loc[frame["usgs_commodity"].ne(""), "usgs_commodity"].items():
        candidates = [*CHAIN_COMMODITIES.get(str(cid), ()), str(cid)]
        found = next(((name, k, values[k], assumed) for k in candidates for name, values, assumed in traced
                      if k in values), None)
        if found is None:
            continue
        name, commodity, value, assumed = found
        flag = f"; {ASSUMED_SPLIT} assumed" if commodity in assumed else ""
        frame.at[i, "traced_share"] = value
        frame.at[i, "traced_from"] = f"{name}: {commodity} {year}{flag}"


def sort_atlas(frame: pd.DataFrame, key: str = "list") -> pd.DataFrame:
    """Sort an atlas by a :data:`SORT_KEYS` key (missing values last).

    Raises
    ------
    ValueError
        An unknown key (the message lists the keys).
    """
    if key not in SORT_KEYS:
        msg = f"unknown sort key {key!r}; choose one of {', '.join(SORT_KEYS)}"
        raise ValueError(msg)
    column, ascending = SORT_KEYS[key]
    if not column:
        return frame
    values = frame["nir_computed"].fillna(frame["nir_published_value"]) if column == "nir_sort" else frame[column]
    order = pd.Series(values, index=frame.index)
    if column == "china_import_rank":
        order = order.astype("Float64").astype(float)
    idx = order.sort_values(ascending=ascending, na_position="last", kind="stable").index
    return frame.loc[idx].reset_index(drop=True)


def atlas(
    data: str | Path | None = None,
    *,
    scenarios: Iterable[str | Path] = (),
    year: int = 2024,
    source: str = "CN",
    sort: str = "list",
) -> pd.DataFrame:
    """One row per critical mineral of the 2022 list and the 2025 additions, from the USGS release.

    Parameters
    ----------
    data : str or Path, optional
        A release folder (default: the bundled copy, :func:`bundled_release`).
    scenarios : iterable of paths, optional
        Scenario files whose traced share of ``source`` in US supply fills
        ``traced_share``: a bundled multi-stage chain (:data:`CHAIN_COMMODITIES`)
        in any of them before a one-stage commodity, then the first scenario
        given.
    year : int
        Year of the traced share (the release's figures are 2024).
    source : str
        Country whose share is traced (default ``"CN"``).
    sort : str
        A :data:`SORT_KEYS` key.

    Returns
    -------
    DataFrame
        :data:`ATLAS_COLUMNS`; shares in [0, 1] (NaN when unknown). ``nir_class``
        uses the computed value where the figures allow it, else the published one;
        ``nir_computed_estimate`` is True where it takes an unknown stock change as 0
        (US production withheld or NA). ``china_world_share`` is China's row over
        USGS's published (rounded) world total, of the stage ``china_world_stage``
        (:func:`output_stage` of the series ``china_world_series``); NaN with
        ``china_listed`` False where the release has no row for China (not 0 %).
        ``usgs_name`` names the commodity USGS measures (aluminum: bauxite).

    Raises
    ------
    ScenarioError
        The release or a scenario has problems (located).
    ValueError
        An unknown sort key.

    Examples
    --------
    >>> a = atlas()
    >>> a.set_index("mineral").loc["cobalt", ["nir_published", "china_import_rank"]].tolist()
    ['76', <NA>]
    >>> round(float(a.set_index("mineral").loc["cobalt", "nir_computed"]), 3)
    0.765
    """
    release = read_release(data if data is not None else bundled_release(),
                           salient_files=sorted({s.salient.file for s in load_catalogue().commodities.values()
                                                 if s.salient}))
    rows = [_row(release, m.id, m.name, m.list, m.commodity) for m in load_catalogue().minerals]
    frame = pd.DataFrame(rows, columns=list(ATLAS_COLUMNS))
    frame["china_import_rank"] = frame["china_import_rank"].astype("Int64")
    for col in ("nir_computed", "nir_published_value", "china_world_share", "china_import_share", "traced_share"):
        frame[col] = frame[col].astype(np.float64)
    paths = list(scenarios)
    if paths:
        _traced(frame, paths, year, source)
    return sort_atlas(frame, sort)
