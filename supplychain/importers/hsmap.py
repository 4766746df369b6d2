"""The mapping from HS codes to the tool's commodities, with basis conversion factors.

A mapping file (YAML) says, for each six-digit HS code, which commodity of a
scenario its trade is and how many tonnes of that commodity's basis one tonne of
traded weight carries. The shipped file, ``supplychain/data/hs_map.yaml``
(:data:`SHIPPED_MAPPING`), covers the commodities of the bundled world; a user
passes their own with ``--mapping FILE`` (start from a copy of the shipped one)::

    commodities:                 # every target commodity with its basis
      ree_compounds: {basis: t REO}
      gallium: {basis: kg Ga}
    codes:
      "284690":                  # six digits, quoted
        description: Compounds of rare-earth metals, other than cerium
        basket: "every rare-earth compound but cerium's, not only NdPr"
        targets:                 # the first is the default; --commodity picks another
          ree_compounds:
            factor: {value: 1.0, assumption: "counted as oxide: ..."}

A flow of ``w`` tonnes of traded weight becomes ``w × factor × unit`` in the
commodity's basis, where ``unit`` is the basis's units of mass in a tonne, read from its
first word (:func:`supplychain.schema.units.basis_unit`): 1 for ``t REO``, 1000 for ``kg Ga``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final

from pydantic import Field, ValidationError, model_validator

from supplychain.errors import KeyPath, Problem, ScenarioError
from supplychain.schema.model import Source
from supplychain.schema.types import EntityId, Quantity, StrictModel
from supplychain.schema.units import TONNES_PER
from supplychain.schema.units import basis_unit as mass_unit

__all__ = [
    "SHIPPED_MAPPING",
    "CommodityBasis",
    "HsCode",
    "HsMapping",
    "HsTarget",
    "Target",
    "basis_unit",
    "load_mapping",
    "normalise_hs",
]

SHIPPED_MAPPING: Final = Path(__file__).resolve().parent.parent / "data" / "hs_map.yaml"
"""The mapping shipped with supplychain (the bundled world's commodities)."""

HsSix = Annotated[str, Field(pattern=r"^\d{6}$")]
"""A six-digit HS subheading written without dots, e.g. ``"284690"``."""

_HS_TEXT = re.compile(r"^\d{2}(\d{2}(\d{2})?)?$")


def basis_unit(basis: str) -> float:
    """Tonnes-to-basis multiplier of a commodity basis: units of its first word in a tonne.

    ``1 / TONNES_PER[u]`` for the unit of mass ``u`` the basis starts with
    (:func:`supplychain.schema.units.basis_unit`): ``t`` → 1, ``kg`` → 1000, ``g`` → 10⁶,
    ``kt`` → 10⁻³, ``Mt`` → 10⁻⁶.

    Raises
    ------
    ValueError
        For a basis whose first word is not a unit of mass.

    Examples
    --------
    >>> basis_unit("t REO"), basis_unit("kg Ga"), basis_unit("g Ge")
    (1.0, 1000.0, 1000000.0)
    """
    return 1.0 / TONNES_PER[mass_unit(basis)]


def normalise_hs(text: str) -> str:
    """Return an HS code as digits only (``"2846.90"`` → ``"284690"``): 2, 4 or 6 digits.

    Raises
    ------
    ValueError
        For anything else.

    Examples
    --------
    >>> normalise_hs("2846.90"), normalise_hs(" 8505 ")
    ('284690', '8505')
    """
    code = text.strip().replace(".", "").replace(" ", "")
    if not _HS_TEXT.match(code):
        msg = f"{text!r} is not an HS code (2, 4 or 6 digits, dots allowed: 2846.90)"
        raise ValueError(msg)
    return code


class CommodityBasis(StrictModel):
    """A commodity the mapping converts to, with the basis it is measured on."""

    basis: str = Field(min_length=1)
    """Unit basis as in the scenario (``t REO``, ``kg Ga``); its first word is the unit of mass."""

    @model_validator(mode="after")
    def _unit(self) -> CommodityBasis:
        basis_unit(self.basis)
        return self


class HsTarget(StrictModel):
    """How one HS code converts to one commodity."""

    factor: Quantity
    """Tonnes of the commodity's basis (before the unit) per tonne of traded weight, with its source or assumption."""


class HsCode(StrictModel):
    """One six-digit HS code and the commodities its trade can be counted as."""

    description: str = Field(min_length=1)
    """The subheading's text (abridged)."""
    basket: str | None = None
    """Why the code is wider than its commodity; printed as a caveat whenever the code is imported."""
    note: str | None = None
    """Anything else a user should know (scope, sources of the scope)."""
    targets: dict[EntityId, HsTarget] = Field(min_length=1)
    """Commodity id → conversion; the first is the default, ``--commodity`` picks another."""


class HsMapping(StrictModel):
    """A whole mapping file."""

    sources: dict[EntityId, Source] = Field(default_factory=dict)
    """Documents that factors cite with ``source:``."""
    commodities: dict[EntityId, CommodityBasis] = Field(min_length=1)
    """Every target commodity with its basis."""
    codes: dict[HsSix, HsCode] = Field(min_length=1)
    """Six-digit HS code → its description and targets."""

    def target(self, code: str, commodity: str | None = None) -> Target:
        """Return the conversion of ``code`` to ``commodity`` (default: the code's first target).

        Raises
        ------
        KeyError
            When the code is not mapped, or not to that commodity.
        """
        entry = self.codes[code]
        name = commodity or next(iter(entry.targets))
        factor = entry.targets[name].factor
        basis = self.commodities[name].basis
        return Target(code, name, basis, factor.central, basis_unit(basis), factor, entry)


@dataclass(frozen=True)
class Target:
    """One HS code resolved to one commodity: ``tonnes in basis = traded t × factor × unit``."""

    hs: str
    commodity: str
    basis: str
    factor: float
    unit: float
    quantity: Quantity
    entry: HsCode

    @property
    def why(self) -> str:
        """The factor's provenance in words: ``source: id`` or ``assumption: text``."""
        q = self.quantity
        return f"source: {q.source}" if q.source else f"assumption: {q.assumption}" if q.assumption else "uncited"


def load_mapping(path: str | Path | None = None) -> HsMapping:
    """Read and check a mapping file (default: :data:`SHIPPED_MAPPING`).

    Raises
    ------
    ScenarioError
        Every problem, located file:line:column (unknown keys, a code that is not
        six quoted digits, a target without a declared basis …).

    Examples
    --------
    >>> m = load_mapping()
    >>> t = m.target("811292")
    >>> t.commodity, t.basis, t.unit
    ('gallium', 'kg Ga', 1000.0)
    """
    from supplychain.io.compose import Provenance
    from supplychain.io.load import problems_from_validation
    from supplychain.io.yamlsafe import read_yaml_file

    file = Path(path) if path is not None else SHIPPED_MAPPING
    doc = read_yaml_file(file, display_name=str(path) if path is not None else "supplychain/data/hs_map.yaml")
    if not isinstance(doc.data, dict):
        raise ScenarioError([Problem(doc.file, 1, 1, (), "a mapping file is a mapping with `commodities:` and "
                                                         "`codes:`", "start from a copy of the shipped hs_map.yaml")])
    try:
        mapping = HsMapping.model_validate(doc.data)
    except ValidationError as exc:
        provenance = Provenance(doc.file, (doc.file,), doc.marks)
        raise ScenarioError(problems_from_validation(exc, doc.data, provenance, HsMapping)) from None
    problems = [Problem(doc.file, mark.line, mark.column, path, message, hint)
                for path, message, hint in _cross_check(mapping) for mark in [doc.mark_for(path)]]  # fmt: skip
    if problems:
        raise ScenarioError(problems)
    return mapping


def _cross_check(mapping: HsMapping) -> list[tuple[KeyPath, str, str]]:
    """Targets have a declared basis, cited sources exist, factors are positive: (path, message, hint)."""
    out: list[tuple[KeyPath, str, str]] = []
    for code, entry in mapping.codes.items():
        for commodity, target in entry.targets.items():
            path: KeyPath = ("codes", code, "targets", commodity)
            if commodity not in mapping.commodities:
                out.append((path, f"commodity {commodity!r} has no basis",
                            f"declare it under `commodities:`, e.g. {commodity}: {{basis: t REO}}"))
            source = target.factor.source
            if source is not None and source not in mapping.sources:
                out.append(((*path, "factor", "source"), f"unknown source {source!r}",
                            "declare it under `sources:` in the mapping file"))
            if target.factor.central <= 0:
                out.append(((*path, "factor"), "a factor must be positive", "tonnes of content per tonne traded"))
    return out
