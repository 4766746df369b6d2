"""The catalogue: where in the USGS release each critical mineral's figures are.

``supplychain/data/usgs_mcs2025_catalogue.yaml`` names, for every mineral of the
2022 list of critical minerals and the 2025 additions, the rows of the world-data
file, the columns of its salient-statistics file that count as US production,
imports, exports and apparent consumption (with the reason), and its names in
Fig2 and T5. It holds no figures. :func:`load_catalogue` reads and checks it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from supplychain.schema.model import Source

__all__ = [
    "Catalogue",
    "ChapterShares",
    "CommoditySpec",
    "Mineral",
    "SalientSpec",
    "WorldSpec",
    "load_catalogue",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WorldSpec(_Strict):
    """Rows of ``MCS2025_World_Data.csv`` for one commodity."""

    commodity: str
    """The ``COMMODITY`` column (typos corrected, spaces trimmed)."""
    types: list[str] = Field(min_length=1)
    """``TYPE`` values whose rows are read; several are added country by country."""
    reserves_hold_capacity: bool = False
    """The ``RESERVES_2024`` column holds capacity (magnesium metal): not read as reserves."""


class SalientSpec(_Strict):
    """Columns of one ``mcs2025-<x>_salient.csv`` file."""

    file: str
    """File name."""
    production: list[str]
    """Production columns counted in US apparent consumption (summed)."""
    t5_production: list[str] = Field(default_factory=list)
    """Columns of T5 added to production for 2024 (secondary output that only T5 gives)."""
    imports: list[str]
    """Import columns (summed)."""
    exports: list[str]
    """Export columns (summed)."""
    consumption: str | None
    """Apparent (or reported) consumption."""
    nir: str | None
    """Net import reliance, percent."""
    why: str
    """Why these production columns."""
    why_before_t5: str | None = None
    """What the production columns hold in the years T5 does not cover (2020–2023), when ``t5_production`` adds
    to 2024 only: the series then changes basis in 2024, and the notes and gap records must say so."""

    @model_validator(mode="after")
    def _t5_basis(self) -> SalientSpec:
        if self.t5_production and not self.why_before_t5:
            msg = "`t5_production` adds to 2024 only: say `why_before_t5` (what 2020-2023 production holds)"
            raise ValueError(msg)
        return self


class ChapterShares(_Strict):
    """US import shares by partner printed in a chapter of the MCS (not in the data release)."""

    source: str
    """Source id (in the catalogue's ``sources``)."""
    where: str
    """Page and line."""
    shares: dict[str, float]
    """ISO code → share of US imports 2020–23."""


class CommoditySpec(_Strict):
    """One USGS commodity as the scenarios model it (one stage)."""

    name: str
    stage: Literal["ore", "oxide", "metal"]
    unit: Literal["t", "kg"]
    basis: str
    elements: list[str] = Field(default_factory=list)
    world: WorldSpec | None
    salient: SalientSpec | None
    fig2: str | None
    t5: str | None
    modelled: bool = True
    why_not: str | None = None
    chapter_shares: ChapterShares | None = None
    notes: list[str] = Field(default_factory=list)
    extra: str | None = None
    """Why a commodity on neither list is in the catalogue."""

    @model_validator(mode="after")
    def _modelled(self) -> CommoditySpec:
        if self.modelled and (self.world is None or self.salient is None):
            msg = "a modelled commodity needs `world` and `salient`"
            raise ValueError(msg)
        if not self.modelled and not self.why_not:
            msg = "say `why_not` for a commodity that is not modelled"
            raise ValueError(msg)
        return self


class Mineral(_Strict):
    """One mineral of a list."""

    id: str
    name: str
    list: Literal["2022", "2025"]
    commodity: str | None
    """The catalogue commodity that stands for it (None: not covered by the release)."""


class Catalogue(_Strict):
    """The whole catalogue."""

    sources: dict[str, Source]
    commodities: dict[str, CommoditySpec]
    minerals: tuple[Mineral, ...]

    @model_validator(mode="after")
    def _refs(self) -> Catalogue:
        missing = sorted({m.commodity for m in self.minerals if m.commodity and m.commodity not in self.commodities})
        if missing:
            msg = f"minerals name unknown commodities: {missing}"
            raise ValueError(msg)
        bad = sorted(c for c, s in self.commodities.items()
                     if s.chapter_shares and s.chapter_shares.source not in self.sources)
        if bad:
            msg = f"chapter shares cite unknown sources: {bad}"
            raise ValueError(msg)
        return self


@cache
def load_catalogue() -> Catalogue:
    """Read the bundled catalogue (``supplychain/data/usgs_mcs2025_catalogue.yaml``).

    Examples
    --------
    >>> cat = load_catalogue()
    >>> [sum(m.list == y for m in cat.minerals) for y in ("2022", "2025")], cat.commodities["cobalt"].salient.production
    ([50, 10], ['USprod_Secondary_t'])
    """
    text = resources.files("supplychain").joinpath("data/usgs_mcs2025_catalogue.yaml").read_text(encoding="utf-8")
    raw = yaml.safe_load(text)
    minerals = [
        {"id": mid, "name": name, "list": year, "commodity": commodity}
        for year, rows in raw["lists"].items()
        for mid, name, commodity in rows
    ]
    return Catalogue.model_validate(
        {"sources": raw["sources"], "commodities": raw["commodities"], "minerals": minerals})
