"""The scenario language v1 as pydantic models.

A scenario file is a mapping of sections. Entities live in mappings keyed by
their id, so a scenario that ``extends`` a base world can override any entity (or
any single field of it) by id. The sections, in the order a reader meets them:

``scenario`` (metadata, years), ``extends``, ``sources``, ``countries``,
``regions``, ``groups``, ``commodities``, ``processes``, ``facilities``,
``flows``, ``imports``, ``demand``, ``stockpiles``, ``policies``, ``agreements``,
``toggles``, ``variants``, ``targets``.

See ``docs/scenario-format.md`` for a complete annotated example.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal

from pydantic import Field, PrivateAttr, model_validator

from supplychain.schema.types import (
    Date,
    EntityId,
    Flag,
    InvalidValueError,
    Money,
    MonthsQ,
    Quantity,
    Rate,
    Share,
    ShareQ,
    Stage,
    StrictModel,
    Tonnes,
    Year,
    YearKey,
    YearQ,
    YearsQ,
    unit_neutral,
    whole_years,
)
from supplychain.schema.units import basis_unit

__all__ = [
    "SWITCHABLE",
    "Agreement",
    "Commodity",
    "CountryInfo",
    "Demand",
    "Destinations",
    "ExportBan",
    "ExportLicensing",
    "ExportQuota",
    "ExportTax",
    "Facility",
    "Flow",
    "Group",
    "ImportBan",
    "ImportSources",
    "Investment",
    "InvestmentProject",
    "Offtake",
    "Owner",
    "Policy",
    "Process",
    "Region",
    "Scenario",
    "ScenarioMeta",
    "Selector",
    "Source",
    "Stockpile",
    "Target",
    "Tariff",
    "Toggle",
    "Variant",
]

CountryRef = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{1,15}$")]
"""An ISO 3166-1 alpha-2 code (``CN``), or the code of a region or group declared in the scenario."""

NodeRef = Annotated[str, Field(min_length=1, max_length=80)]
"""A facility id, or a country/region code meaning that country's market for the commodity."""

ElementSymbol = Annotated[str, Field(pattern=r"^[A-Z][a-z]?$")]
"""A chemical element symbol such as ``Dy``."""

ElementKey = Annotated[str, Field(pattern=r"^(?:[A-Z][a-z]?)+$", max_length=40)]
"""One element symbol (``Dy``) or several written together (``NdPr`` = Nd + Pr), as a content key."""

SWITCHABLE: tuple[str, ...] = ("policies", "agreements", "facilities", "flows", "stockpiles", "offtakes")
"""Sections whose entities a toggle can switch (offtakes by their ``id``)."""

_CONTROL_PATTERN = r"^(?:(?:policies|agreements|facilities|flows|stockpiles|offtakes)\.)?[A-Za-z][A-Za-z0-9_\-]{0,79}$"
ControlRef = Annotated[str, Field(pattern=_CONTROL_PATTERN)]
"""An entity a toggle switches: its id, or ``section.id`` where the id is used in two sections."""


# ------------------------------------------------------------------------- meta
class ScenarioMeta(StrictModel):
    """What the scenario is and which years it covers."""

    name: str = Field(min_length=1)
    """Short title."""
    question: str | None = None
    """The question this scenario answers, in one sentence."""
    description: str | None = None
    """Longer description."""
    base_year: Year
    """Year of the observed flows and production."""
    horizon: Year | None = None
    """Last simulated year (default: the base year)."""
    source_country: CountryRef = "CN"
    """Country (or group) whose exposure is measured by default."""

    @model_validator(mode="after")
    def _years(self) -> ScenarioMeta:
        if self.horizon is not None and self.horizon < self.base_year:
            msg = f"horizon {self.horizon} is before base_year {self.base_year}"
            raise InvalidValueError(msg, "set `horizon` to the base year or later")
        return self


def _check_span(start: dt.date, end: dt.date | None) -> None:
    """Refuse an ``end`` before ``start`` (a policy's or an agreement's span; ``None``: open-ended)."""
    if end is not None and end < start:
        msg = f"end {end} is before start {start}"
        raise InvalidValueError(msg, "set `end` on or after `start`, or leave `end` out (in force to the horizon)")


class Source(StrictModel):
    """A document that figures are read from (cite it by its id)."""

    title: str = Field(min_length=1)
    """Full title of the document."""
    publisher: str | None = None
    """Who published it (USGS, IEA, company …)."""
    year: Year | None = None
    """Publication year (or edition)."""
    url: str | None = None
    """Where the original is published."""
    where_read: str | None = None
    """Where the copy that was read is (page, table, file path)."""
    confidence: Literal["high", "medium-high", "medium", "low-medium", "low"] | None = None
    """How far to trust it."""
    notes: str | None = None
    """Caveats (vintage, basis, mirror statistics …)."""


class CountryInfo(StrictModel):
    """Optional facts about a country (keyed by ISO alpha-2 code)."""

    name: str | None = None
    """Display name (default: the ISO name)."""
    wgi: ShareQ | None = None
    """Worldwide Governance Indicator rescaled to [0, 1] (the JRC formula scales it to 0–10)."""
    trade_restriction: ShareQ | None = None
    """JRC export-restriction factor t_c in [0, 1] (0 = none)."""


class Region(StrictModel):
    """A non-ISO actor such as ``ROW`` (rest of world) or ``EU`` as one demand node."""

    name: str = Field(min_length=1)
    """Display name."""
    members: list[CountryRef] = Field(default_factory=list)
    """Countries it stands for (informational; may be empty for ``ROW``)."""


class Group(StrictModel):
    """A named set of countries used in policies, targets and ``--source`` (e.g. ``ASEAN``)."""

    name: str | None = None
    """Display name."""
    members: list[CountryRef] = Field(min_length=1)
    """Countries (or regions) in the group."""
    complement_of: CountryRef | None = None
    """If set, the group is every country *not* in this group (``members`` then lists it)."""


# ---------------------------------------------------------------- commodities
class Commodity(StrictModel):
    """A material at one stage of the chain, measured on one basis."""

    name: str = Field(min_length=1)
    """Display name (e.g. "NdPr oxide")."""
    stage: Stage
    """Stage in the chain."""
    basis: str = Field(default="t", min_length=1)
    """Unit of mass (t, kg, g, kt, Mt), then what is weighed: ``t REO``, ``kg Ga``; bases are never added."""
    family: EntityId | None = None
    """Commodity family (``rare_earths``, ``gallium``) that policies can target as a whole."""
    elements: list[ElementSymbol] = Field(default_factory=list)
    """Chemical elements it carries (``[Nd, Pr]``), for element-scoped export controls."""
    price_usd_per_t: Money | None = unit_neutral("price_usd_per_unit", "price_usd_per_t", default=None)
    """Reference price, USD per unit of the basis (t, kg …), for ad-valorem taxes and tariffs."""
    content: dict[ElementKey, ShareQ] = Field(default_factory=dict)
    """Element key → t of contained element (as metal) per t of this commodity (``NdPr`` = Nd + Pr); absent = 0."""

    @model_validator(mode="after")
    def _basis(self) -> Commodity:
        basis_unit(self.basis)
        return self

    @property
    def unit(self) -> str:
        """The unit of mass of its quantities (``t``, ``kg`` …), the first word of ``basis``."""
        return basis_unit(self.basis)


class Process(StrictModel):
    """A conversion with yields: ``outputs`` are produced from ``inputs`` per unit of activity.

    A facility's capacity and production are stated in tonnes of the process's
    ``reference`` output (default: the first output). Input coefficients are
    tonnes of input per unit of activity; output coefficients are tonnes of output
    per unit of activity; activity = reference output / its coefficient.
    """

    name: str | None = None
    """Display name."""
    inputs: dict[EntityId, Tonnes] = Field(default_factory=dict)
    """Commodity id → tonnes consumed per unit of activity (several inputs allowed)."""
    outputs: dict[EntityId, Tonnes] = Field(min_length=1)
    """Commodity id → tonnes produced per unit of activity (co-products allowed)."""
    reference: EntityId | None = None
    """Output whose tonnes measure capacity and production (default: first output)."""
    calibration: dict[ElementKey, str] = Field(default_factory=dict)
    """Element key (a key of the commodities' ``content``, e.g. ``NdPr``) → why the yields make more of it than the
    inputs carry (a disclosed calibration; without it ``validate`` warns of the element's creation)."""

    @model_validator(mode="after")
    def _reference(self) -> Process:
        if self.reference is not None and self.reference not in self.outputs:
            msg = f"reference {self.reference!r} is not one of the outputs {sorted(self.outputs)}"
            raise InvalidValueError(msg, f"use one of {', '.join(sorted(self.outputs))}, or leave `reference` out")
        if all(q.central == 0 for q in self.outputs.values()):
            msg = "at least one output coefficient must be positive"
            raise InvalidValueError(msg, "give the reference output a coefficient such as 1")
        return self

    @property
    def reference_output(self) -> str:
        """The reference output's commodity id."""
        return self.reference or next(iter(self.outputs))


# ------------------------------------------------------------------ facilities
class Owner(StrictModel):
    """An owner of a facility with its stake."""

    name: str = Field(min_length=1)
    """Company or state."""
    country: CountryRef
    """Home country of the owner (where it is headquartered / controlled)."""
    stake: ShareQ
    """Share of the facility owned, in [0, 1]."""


class CapacityStep(StrictModel):
    """A change of capacity from a given year on (expansion or closure)."""

    year: Year
    """First year at the new capacity."""
    capacity: Tonnes
    """Capacity from that year, tonnes of the reference output per year."""


FacilityKind = Literal["mine", "separation", "refinery", "metal", "magnet", "recycler", "manufacturer", "aggregate"]


class Facility(StrictModel):
    """A plant or mine, or a country-level aggregate of one stage.

    Give ``output`` for a primary producer (a mine: no inputs) or ``process`` for a
    converter. ``capacity`` and ``production`` are tonnes of the reference output.
    """

    name: str = Field(min_length=1)
    """Display name."""
    country: CountryRef
    """Where it is (ISO code or a declared region)."""
    kind: FacilityKind
    """What it does."""
    output: EntityId | None = None
    """For a primary producer (kind mine, recycler or aggregate): the commodity it makes from no input."""
    process: EntityId | None = None
    """For a converter (kinds separation, refinery, metal, magnet, manufacturer): the id of its process."""
    owners: list[Owner] = Field(default_factory=list)
    """Owners and stakes (stakes sum to at most 1; the rest is unattributed)."""
    capacity: Tonnes | None = None
    """Nameplate capacity per year once fully ramped up."""
    commissioning_year: YearQ | None = None
    """First year of operation (default: operating before the base year); a distribution is sampled in whole years."""
    ramp_up_years: YearsQ = Field(default_factory=lambda: Quantity(value=0.0))
    """Years of linear ramp-up after commissioning (default 0: full capacity at once); sampled in whole years."""
    capacity_changes: list[CapacityStep] = Field(default_factory=list)
    """Later expansions or closures."""
    closure_year: Year | None = None
    """First year it no longer operates."""
    production: dict[YearKey, Tonnes] = Field(default_factory=dict)
    """Observed or planned production by year; after the base year an aggregate's figure is a path that rises,
    within its capacity, to meet demand the paths leave short (docs/measures.md)."""
    utilisation: ShareQ | None = None
    """Utilisation of capacity used when production is not given for a year."""
    recycled_share: ShareQ | None = None
    """For recyclers: share of output that is end-of-life material (JRC EoL-RIR)."""

    @model_validator(mode="after")
    def _output_or_process(self) -> Facility:
        if (self.output is None) == (self.process is None):
            msg = "give exactly one of `output` (a primary producer) or `process` (a converter)"
            raise InvalidValueError(msg, "keep `output:` for a mine, `process:` for a plant that converts inputs")
        total = sum(o.stake.central for o in self.owners)
        if total > 1.0 + 1e-9:
            msg = f"owner stakes sum to {total:g}, above 1"
            raise InvalidValueError(msg, "lower the stakes so they sum to at most 1 (0.51 for 51 %)")
        start, end = self.commissioning, self.closure_year
        if start is not None and end is not None and end <= start:
            msg = "closure_year must be after commissioning_year"
            raise InvalidValueError(msg, "set `closure_year` later than `commissioning_year`, or leave one out")
        return self

    @property
    def commissioning(self) -> int | None:
        """The commissioning year as a whole number (:func:`~supplychain.schema.types.whole_years`), or None."""
        return None if self.commissioning_year is None else whole_years(self.commissioning_year)

    @property
    def ramp_years(self) -> int:
        """The ramp-up as a whole number of years (:func:`~supplychain.schema.types.whole_years`)."""
        return whole_years(self.ramp_up_years)


# ------------------------------------------------------------------------ trade
class Flow(StrictModel):
    """An observed material flow from a supplier node to a buyer node in a year."""

    supplier: NodeRef
    """Facility id, or a country/region code (that country's market for the commodity)."""
    buyer: NodeRef
    """Facility id, or a country/region code."""
    commodity: EntityId
    """Commodity id."""
    year: Year
    """Year of the flow."""
    tonnes: Tonnes = unit_neutral("quantity", "tonnes")
    """Quantity in the year, in the commodity's unit and basis."""


class ImportSources(StrictModel):
    """A country's total imports of a commodity split by partner shares (how USGS reports them).

    Expanded into one flow per partner: tonnes = total × share. Shares sum to at
    most 1; the remainder is attributed to ``remainder_to`` (default ``ROW``), or split
    over ``remainder_split`` in proportion to its weights.
    """

    importer: CountryRef
    """Importing country."""
    commodity: EntityId
    """Commodity id."""
    year: Year
    """Year of the imports."""
    total: Tonnes
    """Total imports in the year."""
    partners: dict[CountryRef, ShareQ] = Field(min_length=1)
    """Partner → share of the total."""
    remainder_to: CountryRef = "ROW"
    """Who supplies the part of the total the partner shares leave over."""
    remainder_split: dict[CountryRef, ShareQ] = Field(default_factory=dict)
    """Instead of ``remainder_to``: partner → weight of the part the partner shares leave over, which
    is split in proportion to the weights (normalised to sum 1; e.g. the shares of a recorded split, so
    that a sampled share of one partner leaves the others their proportions)."""

    @model_validator(mode="after")
    def _sum(self) -> ImportSources:
        s = sum(q.central for q in self.partners.values())
        if s > 1.0 + 1e-6:
            msg = f"partner shares sum to {s:g}, above 1"
            raise InvalidValueError(msg, "lower the shares so they sum to at most 1 (0.25 for 25 %)")
        if self.remainder_split:
            if "remainder_to" in self.model_fields_set:
                msg = "give `remainder_to` or `remainder_split`, not both"
                raise InvalidValueError(msg, "`remainder_split: {ROW: 1}` sends the whole remainder to ROW")
            both = sorted(set(self.partners) & set(self.remainder_split))
            if both:
                msg = f"{', '.join(both)} in both `partners` and `remainder_split`"
                hint = "a partner has a share of the total or a weight of the remainder, not both"
                raise InvalidValueError(msg, hint)
            if sum(q.central for q in self.remainder_split.values()) <= 0.0:
                msg = "the `remainder_split` weights sum to 0"
                raise InvalidValueError(msg, "give at least one partner a positive weight")
        return self


class Demand(StrictModel):
    """Final consumption of a commodity by a country, with growth."""

    country: CountryRef
    """Consuming country or region."""
    commodity: EntityId
    """Commodity id."""
    year: Year
    """Year of ``quantity``."""
    tonnes: Tonnes = unit_neutral("quantity", "tonnes")
    """Consumption in ``year``, in the commodity's unit."""
    growth: Rate | None = None
    """Compound yearly growth after ``year`` (0.08 = 8 % a year)."""
    by_year: dict[YearKey, Tonnes] = Field(default_factory=dict)
    """Explicit values for given years (take precedence over growth)."""


class Stockpile(StrictModel):
    """A strategic or industry stock of a commodity held in a country.

    It covers its holder's own users of the commodity left short by a shock: the country's final use of it
    and its plants that take it as an input (an oxide stock for the holder's magnet makers).
    """

    country: CountryRef
    """Holder."""
    commodity: EntityId
    """Commodity id: the stock covers the holder's final use of it and the holder's plants that take it as an input."""
    year: Year
    """Year the stock enters: it is available from the start of this year (also when after the first year)."""
    tonnes: Tonnes | None = unit_neutral("quantity", "tonnes", default=None)
    """Stock level in the commodity's unit."""
    months_of_cover: Tonnes | None = None
    """Stock level in months of that year's demand (alternative to ``quantity``)."""
    max_release_share: ShareQ | None = None
    """Largest share of the stock that may be released in one year, of its level at the year's start (default 1)."""

    @model_validator(mode="after")
    def _one_level(self) -> Stockpile:
        if (self.tonnes is None) == (self.months_of_cover is None):
            msg = "give exactly one of `quantity` or `months_of_cover`"
            raise InvalidValueError(msg, "keep one of the two")
        return self


# --------------------------------------------------------------------- policies
class Selector(StrictModel):
    """Which material a policy covers, and what share of each commodity.

    Empty lists mean "no restriction on this axis"; the axes combine with AND. A
    commodity matched only through ``elements`` that also carries elements not
    listed (NdFeB magnets for ``[Dy, Tb]``) is covered only at the share declared
    for it under ``coverage`` (sourced, or an assumption); ``supplychain validate``
    asks for the share.
    """

    commodities: list[EntityId] = Field(default_factory=list)
    """Commodity ids."""
    families: list[EntityId] = Field(default_factory=list)
    """Commodity families (e.g. ``rare_earths``)."""
    elements: list[Annotated[str, Field(pattern=r"^[A-Z][a-z]?$")]] = Field(default_factory=list)
    """Elements: a commodity carrying only these is covered in full, one carrying others too at its ``coverage``."""
    stages: list[Stage] = Field(default_factory=list)
    """Stages."""
    coverage: dict[EntityId, ShareQ] = Field(default_factory=dict)
    """Commodity id → share of its flows covered (default 1; required where ``elements`` reach part of it)."""


class Destinations(StrictModel):
    """Partner countries a policy applies to: all, a list, or all except a list."""

    include: list[CountryRef] | None = None
    """Only these countries/groups (default: everyone)."""
    exclude: list[CountryRef] = Field(default_factory=list)
    """Everyone except these countries/groups."""


class _PolicyBase(StrictModel):
    country: CountryRef
    """Country imposing the measure."""
    covers: Selector = Field(default_factory=Selector)
    """Material covered."""
    partners: Destinations = Field(default_factory=Destinations)
    """Destinations (export measures) or origins (import measures) covered."""
    start: Date
    """First day in force."""
    end: Date | None = None
    """Last day in force (open-ended if omitted)."""
    name: str | None = None
    """Display name."""
    source: EntityId | None = None
    """Where the measure is documented."""
    assumption: str | None = None
    """Reasoning when the measure is hypothetical."""

    @model_validator(mode="after")
    def _dates(self) -> _PolicyBase:
        _check_span(self.start, self.end)
        return self


class ExportBan(_PolicyBase):
    """Exports of the covered material to the covered partners are blocked."""

    type: Literal["export_ban"]
    """Policy type."""
    share_blocked: ShareQ = Field(default_factory=lambda: Quantity(value=1.0))
    """Share of the flows blocked while in force (1 = full ban)."""


class ExportLicensing(_PolicyBase):
    """Exports need a licence: only a share is approved, after a delay."""

    type: Literal["export_licensing"]
    """Policy type."""
    share_approved: ShareQ
    """Share of the would-be exports that is licensed."""
    delay_months: MonthsQ = Field(default_factory=lambda: Quantity(value=0.0))
    """Months of licensing delay at the start (default 0: licences from the first day; during the delay only
    ``shipped_during_delay`` of the covered flow ships); a quantity, so a sweep can sample it, with its reason like
    every bundled figure (``{value: 2, dist: triangular, low: 1.8, mode: 2, high: 2.35, assumption: "read from the
    monthly exports ..."}``)."""
    catch_up: ShareQ = Field(default_factory=lambda: Quantity(value=0.0))
    """Share of the exports held during the delay that ship once licences arrive, in the same calendar year
    (default 0: the held volume is lost). The year's blocked share is
    ``(1 − shipped_during_delay)(1 − catch_up) φ(D) + (1 − a) φ(P \\ D)``
    (``supplychain.simulation.policies.licence_calendar``); a delay that runs into the next year releases
    nothing into the year it started in, nor does a release that starts in the next year."""
    shipped_during_delay: ShareQ = Field(default_factory=lambda: Quantity(value=0.0))
    """Share of the covered exports that ships during the delay all the same (licences approved early, shipments
    the customs let through; default 0: nothing covered flows until licences arrive). The delay then holds
    ``1 − shipped_during_delay`` of the flow, and ``catch_up`` is a share of that."""
    release_lag_months: MonthsQ = Field(default_factory=lambda: Quantity(value=0.0))
    """Months from the day licences arrive to the day the held volume starts to ship (default 0: with the licences).
    The release is counted in a year only if it starts in that year and before the licence ends; it spreads evenly
    over the rest of the licensed part of the year."""

    @property
    def delay(self) -> float:
        """The delay in months: ``delay_months``' central value (a sweep's sample once applied)."""
        return float(self.delay_months.central)


class ExportQuota(_PolicyBase):
    """A cap on yearly exports of the covered material (0 = export ban on that stage)."""

    type: Literal["export_quota"]
    """Policy type."""
    tonnes_per_year: Tonnes = unit_neutral("quantity_per_year", "tonnes_per_year")
    """Largest total export per year to the covered partners, in the covered commodities' unit."""


class ExportTax(_PolicyBase):
    """A tax on exports: a cost on the edge in the re-routing objective."""

    type: Literal["export_tax"]
    """Policy type."""
    rate: ShareQ | None = None
    """Ad-valorem rate (share of the commodity's price)."""
    usd_per_t: Money | None = unit_neutral("usd_per_unit", "usd_per_t", default=None)
    """Specific tax per unit of the commodity (USD per t, per kg …)."""


class Tariff(_PolicyBase):
    """An import tariff imposed by ``country`` on the covered origins."""

    type: Literal["tariff"]
    """Policy type."""
    rate: ShareQ | None = None
    """Ad-valorem rate (share of the commodity's price)."""
    usd_per_t: Money | None = unit_neutral("usd_per_unit", "usd_per_t", default=None)
    """Specific tariff per unit of the commodity (USD per t, per kg …)."""


class ImportBan(_PolicyBase):
    """Imports of the covered material from the covered origins are blocked."""

    type: Literal["import_ban"]
    """Policy type."""
    share_blocked: ShareQ = Field(default_factory=lambda: Quantity(value=1.0))
    """Share of the flows blocked while in force."""


Policy = Annotated[
    ExportBan | ExportLicensing | ExportQuota | ExportTax | Tariff | ImportBan,
    Field(discriminator="type"),
]
"""Any policy, told apart by its ``type``."""


# ------------------------------------------------------------------- agreements
class Offtake(StrictModel):
    """A commitment of a supplier to deliver to a buyer."""

    id: EntityId | None = None
    """Name of the offtake, unique among all offtakes, so that a toggle can switch it (``controls: [<id>]``)."""
    supplier: NodeRef
    """Facility, country, or an investment project of an agreement (``<project>`` or ``<agreement>.<project>``)."""
    buyer: CountryRef
    """Buying country."""
    commodity: EntityId
    """Commodity id."""
    tonnes_per_year: Tonnes | None = unit_neutral("quantity_per_year", "tonnes_per_year", default=None)
    """Committed quantity per year, in the commodity's unit (a floor on the route). Omitted: the buyer takes all the
    supplier's output, with no floor (the supplier must be a plant): in the re-routing response the plant's output then
    comes before that of plants with no offtake."""
    start_year: Year
    """First year of deliveries."""


class InvestmentProject(StrictModel):
    """A project a fund turns into new capacity: capacity = allocation / capital intensity."""

    name: str | None = None
    """Display name."""
    country: CountryRef
    """Where the capacity is built."""
    kind: FacilityKind
    """Type of facility created."""
    output: EntityId | None = None
    """Commodity made from no input (for kind mine, recycler or aggregate)."""
    process: EntityId | None = None
    """Process run (for a converter)."""
    share_of_fund: ShareQ
    """Share of the fund allocated to this project."""
    capital_intensity_usd_per_tpa: Money = unit_neutral(
        "capital_intensity_usd_per_unit_pa", "capital_intensity_usd_per_tpa")
    """Capital cost per unit-per-year of reference output capacity (USD per t/yr, per kg/yr …)."""
    lead_time_years: YearsQ
    """Years from the agreement's start year to commissioning; a distribution is sampled in whole years. The
    commissioning year is the start's calendar year plus the lead time, and the plant counts from January of it:
    for a deal signed late in a year the lead time reads up to a year shorter (write one year more if it must)."""
    ramp_up_years: YearsQ = Field(default_factory=lambda: Quantity(value=0.0))
    """Years of linear ramp-up after commissioning (default 0); sampled in whole years."""
    owners: list[Owner] = Field(default_factory=list)
    """Owners of the new facility."""

    @model_validator(mode="after")
    def _output_or_process(self) -> InvestmentProject:
        if (self.output is None) == (self.process is None):
            msg = "give exactly one of `output` (a mine) or `process` (a converter)"
            raise InvalidValueError(msg, "keep `output:` for a mine, `process:` for a plant that converts inputs")
        return self


class Investment(StrictModel):
    """A fund that finances new capacity."""

    fund_usd: Money
    """Size of the fund."""
    projects: dict[EntityId, InvestmentProject] = Field(min_length=1)
    """Projects by id; their ``share_of_fund`` sum to at most 1."""

    @model_validator(mode="after")
    def _shares(self) -> Investment:
        s = sum(p.share_of_fund.central for p in self.projects.values())
        if s > 1.0 + 1e-6:
            msg = f"project shares of the fund sum to {s:g}, above 1"
            raise InvalidValueError(msg, "lower the shares so they sum to at most 1 (0.25 for 25 %)")
        return self


class Agreement(StrictModel):
    """A deal between parties: exemptions, preferred sourcing, offtakes, investment."""

    name: str = Field(min_length=1)
    """Display name."""
    parties: list[CountryRef] = Field(min_length=1)
    """Countries (or groups) that signed; one party is a domestic programme (e.g. a government's deal with a firm)."""
    covers: Selector = Field(default_factory=Selector)
    """Material covered."""
    start: Date
    """Date it takes effect."""
    end: Date | None = None
    """Last day in force (open-ended if omitted), as a policy's."""
    exempt_parties: Flag = False
    """Lift the parties' restrictions on trade with each other (bans, licensing, quotas, taxes)."""
    lifts: list[EntityId] = Field(default_factory=list)
    """Specific policy ids this agreement lifts between the parties."""
    preference: ShareQ | None = None
    """Partners first in re-routing: any positive value puts a party's spare supply to its partners first and
    surcharges its imports from non-parties by this share of the price (every covered commodity has one). The size
    counts only against export taxes, tariffs and another preference of the same party; otherwise any positive value
    gives the same results (an on/off priority, ``docs/rebalance.md``, level 3)."""
    offtakes: list[Offtake] = Field(default_factory=list)
    """Supply commitments."""
    investment: Investment | None = None
    """Fund turned into capacity."""
    source: EntityId | None = None
    """Where the agreement is documented."""
    assumption: str | None = None
    """Reasoning when effects are assumed."""
    not_representable: str | None = Field(default=None, min_length=3)
    """What the agreement contains that the model cannot represent, and why (e.g. a non-binding memorandum
    without quantities, a price floor); outputs then say "not representable", not "no effect"."""

    @model_validator(mode="after")
    def _dates(self) -> Agreement:
        _check_span(self.start, self.end)
        return self

    @property
    def effects(self) -> list[str]:
        """Name the effects the model represents.

        Of ``exempt_parties``, ``lifts``, ``preference``, ``offtakes`` and ``investment``, those set.

        Examples
        --------
        >>> Agreement.model_validate({"name": "MOU", "parties": ["US", "TH"], "start": "2025-10-26",
        ...                           "not_representable": "non-binding; no quantities"}).effects
        []
        """
        found = [("exempt_parties", bool(self.exempt_parties)), ("lifts", bool(self.lifts)),
                 ("preference", self.preference is not None), ("offtakes", bool(self.offtakes)),
                 ("investment", self.investment is not None)]
        return [name for name, present in found if present]

    @property
    def representation(self) -> str:
        """What outputs say about the agreement's representation (empty when nothing is left out).

        ``"not representable: <why>"`` when the model represents none of its effects,
        ``"partly representable, left out: <what>"`` when it represents some.

        Examples
        --------
        >>> a = Agreement.model_validate({"name": "MOU", "parties": ["US", "TH"], "start": "2025-10-26",
        ...                               "not_representable": "non-binding; no quantities"})
        >>> a.representation
        'not representable: non-binding; no quantities'
        >>> a.model_copy(update={"exempt_parties": True}).representation
        'partly representable, left out: non-binding; no quantities'
        """
        if self.not_representable is None:
            return ""
        if not self.effects:
            return f"not representable: {self.not_representable}"
        return f"partly representable, left out: {self.not_representable}"


class Toggle(StrictModel):
    """A named switch that turns entities on or off: policies, agreements, facilities, flows, offtakes, stockpiles."""

    description: str | None = None
    """What switching it means."""
    default: Flag = True
    """State when nothing overrides it."""
    controls: list[ControlRef] = Field(min_length=1)
    """Ids it switches: policies, agreements, facilities, flows, stockpiles, offtakes (``section.id`` if ambiguous)."""
    switches_off: list[ControlRef] = Field(default_factory=list)
    """Ids in force only while it is off (the reverse of ``controls``): e.g. the controls a renewed truce keeps
    suspended, so that one toggle decides both halves of one event."""
    probability: ShareQ | None = None
    """Probability that it is on, for Monte Carlo (default: the ``default`` state)."""
    tie: EntityId | None = None
    """Name of a shared draw: toggles with the same ``tie`` are switched by one uniform draw per Monte Carlo
    sample (each is on when that draw is below its probability)."""

    @model_validator(mode="after")
    def _check_tie(self) -> Toggle:
        if self.probability is not None and self.probability.tie is not None:
            msg = "`tie` on a toggle's probability: the draw a toggle shares is its on/off draw"
            raise InvalidValueError(msg, f"move `tie: {self.probability.tie}` up to the toggle itself")
        if self.tie is not None and self.probability is None:
            msg = f"`tie: {self.tie}` on a toggle without a `probability`: it is not drawn"
            raise InvalidValueError(msg, "add `probability:` (the chance it is on), or remove `tie:`")
        return self


class Variant(StrictModel):
    """A named setting of toggles, compared side by side."""

    description: str | None = None
    """What the variant represents."""
    toggles: dict[EntityId, Flag] = Field(default_factory=dict)
    """Toggle → state."""


MetricName = Literal["exposed_share", "traced_share", "direct_share", "net_import_reliance", "shortfall_share",
                     "element_exposed_share", "element_dependence"]


class Target(StrictModel):
    """A goal checked per year, e.g. traced China share of US NdPr oxide ≤ 25 % by 2030."""

    description: str | None = None
    """The goal in words."""
    country: CountryRef
    """Country whose exposure is measured."""
    commodity: EntityId
    """Commodity id; for an element metric (``element_exposed_share``, ``element_dependence``) an element key of
    the commodities' ``content`` (``NdPr``)."""
    metric: MetricName = "exposed_share"
    """Measure compared with the threshold. The default, ``exposed_share``, counts unmet demand as
    exposed, so a ban that starves a country cannot pass a dependence target (``element_exposed_share``
    likewise for the element inside products) — though under `rebalance` a ban can *lower* it, as freed supply
    from outside the source is re-routed to the short (docs/measures.md §3b), so `run`, `compare` and the report
    show the unmet share beside every verdict; ``traced_share`` and ``element_dependence`` (traced shares
    of what is delivered) pass with unmet demand, and the verdict says so. ``direct_share`` reads the
    measure ``direct_import_share`` (in ``run``, ``sweep`` and ``compare`` alike)."""
    source_country: CountryRef = "CN"
    """Country (or group) the exposure is to."""
    max: Share | None = None
    """Pass when the measure is at most this."""
    min: Share | None = None
    """Pass when the measure is at least this."""
    by: Year
    """Year from which the goal must hold."""
    max_shortfall_share: Share | None = None
    """Also require at most this share of demand unmet (an exposure share can fall to 0 because nothing arrives)."""
    source: EntityId | None = None
    """Where the goal is stated."""

    key_synonyms: ClassVar[Mapping[str, str]] = {"year": "by"}

    @model_validator(mode="after")
    def _bound(self) -> Target:
        if (self.max is None) == (self.min is None):
            msg = "give exactly one of `max` or `min`"
            raise InvalidValueError(msg, "keep `max:` for a ceiling (at most) or `min:` for a floor (at least)")
        return self


# --------------------------------------------------------------------- response
AllocationRule = Literal["contracts_first", "home_first", "proportional", "max_delivery"]


class Response(StrictModel):
    """How the ``rebalance`` response shares scarce supply (``docs/rebalance.md``, "Allocation rules")."""

    allocation: AllocationRule = "contracts_first"
    """Who goes short: ``contracts_first`` (surviving deliveries kept, so nobody is worse off than
    under ``fixed``; freed supply rationed max-min fair, partners first where an agreement grants a
    preference), ``home_first`` (a country's own output serves its own final use before it is
    exported), ``proportional`` (every user loses the same share) or ``max_delivery`` (the most
    tonnes delivered: an upper bound). The command line's ``--allocation`` and the API's
    ``allocation=`` override it."""


# --------------------------------------------------------------------- scenario
class Scenario(StrictModel):
    """A whole scenario after ``extends`` have been merged.

    Precedence (highest first): API/CLI overrides (toggles) → the scenario file →
    its ``extends`` bases, later bases over earlier ones. Mappings merge key by
    key; lists and scalars are replaced; ``null`` removes an inherited entity.
    """

    scenario: ScenarioMeta
    """Metadata and years."""
    extends: list[str] = Field(default_factory=list)
    """Base files this scenario was composed from (relative paths)."""
    sources: dict[EntityId, Source] = Field(default_factory=dict)
    """Documents cited by ``source:``."""
    countries: dict[CountryRef, CountryInfo] = Field(default_factory=dict)
    """Optional facts per ISO country."""
    regions: dict[CountryRef, Region] = Field(default_factory=dict)
    """Non-ISO actors (``ROW``, ``EU``)."""
    groups: dict[CountryRef, Group] = Field(default_factory=dict)
    """Named country sets."""
    commodities: dict[EntityId, Commodity] = Field(default_factory=dict)
    """Materials by id."""
    processes: dict[EntityId, Process] = Field(default_factory=dict)
    """Conversions by id."""
    facilities: dict[EntityId, Facility] = Field(default_factory=dict)
    """Plants, mines and aggregates by id."""
    flows: dict[EntityId, Flow] = Field(default_factory=dict)
    """Observed flows by id."""
    imports: dict[EntityId, ImportSources] = Field(default_factory=dict)
    """Import totals split by partner shares."""
    demand: dict[EntityId, Demand] = Field(default_factory=dict)
    """Final consumption by id."""
    stockpiles: dict[EntityId, Stockpile] = Field(default_factory=dict)
    """Stocks by id."""
    policies: dict[EntityId, Policy] = Field(default_factory=dict)
    """Bans, licensing, quotas, taxes, tariffs by id."""
    agreements: dict[EntityId, Agreement] = Field(default_factory=dict)
    """Deals by id."""
    toggles: dict[EntityId, Toggle] = Field(default_factory=dict)
    """Named switches."""
    variants: dict[EntityId, Variant] = Field(default_factory=dict)
    """Named toggle settings for ``compare``."""
    targets: dict[EntityId, Target] = Field(default_factory=dict)
    """Goals checked per year."""
    response: Response = Field(default_factory=Response)
    """How the re-routing response shares scarce supply."""

    _provenance: Any = PrivateAttr(default=None)
    # Where each value was written (set by ``supplychain.io.load``; None when built
    # in Python). Never part of equality. Read it with ``supplychain.io.problem_at``.

    @property
    def years(self) -> list[int]:
        """Every simulated year, base year to horizon."""
        meta = self.scenario
        return list(range(meta.base_year, (meta.horizon or meta.base_year) + 1))

    def __repr__(self) -> str:
        """Summarise in one line (the whole model is ``model_dump()``): name, years and counts."""
        years = self.years
        return (f"Scenario(name={self.scenario.name!r}, years={years[0]}–{years[-1]}, "
                f"facilities={len(self.facilities)}, flows={len(self.flows)}, policies={len(self.policies)}, "
                f"variants={len(self.variants)}, targets={len(self.targets)})")

    def _repr_html_(self) -> str:
        """Show a compact summary in a notebook (:func:`supplychain.report.notebook.scenario_html`)."""
        from supplychain.report.notebook import scenario_html

        return scenario_html(self)
