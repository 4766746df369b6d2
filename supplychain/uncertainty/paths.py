"""Key paths of a scenario's quantities → the rows of one year's tables, as kernel slots.

The compiled fast path (:class:`~supplychain.uncertainty.kernel.ExposureKernel`)
reads every number of a year's tables from a *slot*: a sampled parameter (a
column of the sample rows, named by its key path) or a constant (the central
value). :class:`Quantities` hands out the slots; the ``*_slots`` functions below
walk the scenario section by section, in the order of
:func:`~supplychain.graph.build.observed_edges` and
:func:`~supplychain.graph.allocate.demand_table`, and say which slot feeds which
table row. :func:`is_inert` and :func:`is_relevant` tell which sampled paths the
kernel may leave out; :class:`Unsupported` says the kernel cannot mirror the
scenario.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from supplychain.errors import KeyPath
from supplychain.schema.model import Facility, Scenario
from supplychain.schema.types import Quantity
from supplychain.uncertainty.sampling import SamplingSpec

if TYPE_CHECKING:
    from supplychain.graph.build import FacilityYear

__all__ = [
    "INERT",
    "Quantities",
    "Unsupported",
    "demand_slots",
    "facility_pairs",
    "facility_slots",
    "flow_slots",
    "import_slots",
    "is_inert",
    "is_relevant",
    "stock_slots",
]

INERT = (
    ("policies",),
    ("agreements",),
    ("countries",),
    ("toggles",),
    ("commodities",),
)
"""Key-path prefixes that cannot change the fast metrics of the unshocked network.

Policies, agreements and toggles act only through a shock (modes ``fixed`` and
``rebalance``); governance indicators, prices and ownership stakes feed other
metrics (supply risk, owner shares) that the fast path does not compute.
"""


def is_inert(path: KeyPath) -> bool:
    """Whether a sampled quantity cannot change the fast metrics (see :data:`INERT`)."""
    if any(path[: len(p)] == p for p in INERT):
        return True
    # ownership stakes and recycled shares feed owner_share / supply_risk only
    return len(path) >= 3 and path[0] == "facilities" and (path[2] == "owners" or path[2] == "recycled_share")


class Unsupported(Exception):  # noqa: N818 - internal signal, never leaves the fast path
    """The fast path cannot reproduce this scenario; use the per-sample path."""


class Quantities:
    """Every number the kernel reads, as columns: sampled parameters and constants.

    Slot ``i`` is either a sampled parameter (its column name) or a constant.
    """

    def __init__(self, spec: SamplingSpec) -> None:
        self.sampled = {p.path: p.name for p in spec if p.kind == "quantity"}
        self.used: set[KeyPath] = set()
        self.names: list[str | None] = []
        self.consts: list[float] = []
        self._slots: dict[KeyPath, int] = {}

    def slot(self, path: KeyPath, q: Quantity | None, default: float = 0.0) -> int:
        """Slot of the quantity at ``path`` (a constant ``default`` when absent)."""
        if path in self._slots:
            return self._slots[path]
        name = self.sampled.get(path)
        if name is not None:
            self.used.add(path)
        self.names.append(name)
        self.consts.append(q.central if q is not None else default)
        self._slots[path] = len(self.names) - 1
        return self._slots[path]

    def matrix(self, x: np.ndarray, columns: Sequence[str]) -> np.ndarray:
        """Return the ``(samples, slots)`` values of a block of sample rows (``x``: samples × ``columns``)."""
        q = np.empty((x.shape[0], len(self.names)))
        q[:] = np.asarray(self.consts)
        pos = {c: i for i, c in enumerate(columns)}
        slots = [i for i, name in enumerate(self.names) if name is not None]
        if slots:
            q[:, slots] = x[:, [pos[str(self.names[i])] for i in slots]]
        return q


def is_relevant(scenario: Scenario, path: KeyPath, year: int) -> bool:
    """Whether a quantity can change the tables of ``year`` at all (conservative: True when unsure)."""
    section = path[0]
    ident = path[1] if len(path) > 1 else None
    if section == "flows" and ident in scenario.flows:
        return scenario.flows[str(ident)].year == year
    if section == "imports" and ident in scenario.imports:
        return scenario.imports[str(ident)].year == year
    if section == "facilities" and ident in scenario.facilities and len(path) > 2:
        f = scenario.facilities[str(ident)]
        if path[2] == "production" and len(path) > 3:
            return path[3] == year
        if path[2] in ("capacity", "utilisation", "capacity_changes", "commissioning_year", "ramp_up_years"):
            return year not in f.production
    if section == "demand" and ident in scenario.demand and len(path) > 3 and path[2] == "by_year":
        return path[3] == year
    if section == "stockpiles" and ident in scenario.stockpiles:
        return scenario.stockpiles[str(ident)].year <= year
    return True


# ------------------------------------------------------------ table rows
def flow_slots(
    q: Quantities, scenario: Scenario, year: int, edge_pos: Mapping[str, int]
) -> tuple[list[int], list[int]]:
    """Observed edge and tonnes slot of every flow of ``year`` (``tonnes = value``)."""
    flow_edge, flow_slot = [], []
    for fid, f in sorted(scenario.flows.items()):
        if f.year == year:
            flow_edge.append(edge_pos[f"flows.{fid}"])
            flow_slot.append(q.slot(("flows", fid, "tonnes"), f.tonnes))
    return flow_edge, flow_slot


def facility_slots(
    q: Quantities, scenario: Scenario, fac: Mapping[str, FacilityYear], year: int
) -> tuple[list[str], list[list[int]], list[float]]:
    """Production of every facility as a product of three slots (−1 = 1) times a constant.

    ``production[year]``, else capacity × ramp-up × utilisation, else nothing.

    Returns
    -------
    fac_ids : list of str
        Facility ids, sorted.
    prod_slots : list of list of int
        Three slots per facility.
    prod_scale : list of float
        Constant factor per facility.
    """
    fac_ids = sorted(fac)
    prod_slots: list[list[int]] = []
    prod_scale: list[float] = []
    for fid in fac_ids:
        facility = scenario.facilities[fid]
        fy = fac[fid]
        base_path: KeyPath = ("facilities", fid)
        if fy.how == "production":
            prod_slots.append([q.slot((*base_path, "production", year), facility.production[year]), -1, -1])
            prod_scale.append(1.0)
        elif fy.how == "capacity x utilisation":
            slots, scale = _capacity_expression(q, facility, fid, year)
            prod_slots.append([*slots, q.slot((*base_path, "utilisation"), facility.utilisation)])
            prod_scale.append(scale)
        else:
            prod_slots.append([-1, -1, -1])
            prod_scale.append(0.0)
    return fac_ids, prod_slots, prod_scale


def facility_pairs(
    scenario: Scenario,
    fac: Mapping[str, FacilityYear],
    fac_ids: Sequence[str],
    year: int,
    edge_pos: Mapping[str, int],
    flow_edge: Sequence[int],
) -> tuple[list[int], list[int], list[float], np.ndarray, np.ndarray]:
    """Supply and input edges of the facilities, and the direct flows that leave or enter them.

    Returns
    -------
    pair_edge, pair_prod, pair_ratio : list
        Per facility supply/input edge: the observed edge, the facility's
        position in ``fac_ids`` and tonnes per tonne of reference output.
    d_out, d_in : numpy.ndarray
        Per flow of ``flow_edge``: the pair its tonnes are taken from (supplier)
        or added to (buyer); −1 for none.
    """
    pair_edge, pair_prod, pair_ratio, pair_key = [], [], [], []
    direct_out: dict[int, int] = {}
    direct_in: dict[int, int] = {}
    for fi, fid in enumerate(fac_ids):
        ratio_out, ratio_in = _process_ratios(scenario, scenario.facilities[fid])
        for kind, ratios in (("supply", ratio_out), ("input", ratio_in)):
            for commodity, ratio in ratios.items():
                e = edge_pos.get(f"{kind}.{fid}.{commodity}")
                if e is None:
                    continue
                pair_edge.append(e)
                pair_prod.append(fi)
                pair_ratio.append(ratio)
                pair_key.append((fid, commodity, kind))
    pair_index = {k: i for i, k in enumerate(pair_key)}
    for fid, f in sorted(scenario.flows.items()):
        if f.year != year:
            continue
        fe = edge_pos[f"flows.{fid}"]
        if f.supplier in fac:
            direct_out[fe] = pair_index.get((f.supplier, f.commodity, "supply"), -1)
        if f.buyer in fac:
            direct_in[fe] = pair_index.get((f.buyer, f.commodity, "input"), -1)
    d_out = np.array([direct_out.get(fe, -1) for fe in flow_edge], dtype=np.int64)
    d_in = np.array([direct_in.get(fe, -1) for fe in flow_edge], dtype=np.int64)
    return pair_edge, pair_prod, pair_ratio, d_out, d_in


def import_slots(
    q: Quantities, scenario: Scenario, year: int, edge_pos: Mapping[str, int]
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Import edges of ``year``: total × partner share, the remainder to ``remainder_to``.

    The slots of :func:`~supplychain.graph.build.import_split`'s arguments.

    Returns
    -------
    imp_edge, imp_total, imp_share, imp_rem : list of int
        Per row: the observed edge, the total's slot, the share's slot (−1 on
        the remainder row) and 1 on the remainder row (else −1).
    """
    imp_edge: list[int] = []
    imp_total: list[int] = []
    imp_share: list[int] = []
    imp_rem: list[int] = []
    for iid, imp in sorted(scenario.imports.items()):
        if imp.year != year:
            continue
        t_slot = q.slot(("imports", iid, "total"), imp.total)
        partners = sorted(imp.partners)
        start = len(imp_share)
        for p in partners:
            e = edge_pos.get(f"imports.{iid}.{p}")
            imp_edge.append(-1 if e is None else e)
            imp_total.append(t_slot)
            imp_share.append(q.slot(("imports", iid, "partners", p), imp.partners[p]))
            imp_rem.append(-1)
        rem_e = edge_pos.get(f"imports.{iid}.{imp.remainder_to}")
        uncertain = any(("imports", iid, "partners", p) in q.sampled for p in partners)
        if imp.remainder_to in imp.partners:
            raise Unsupported("an import's remainder goes to one of its listed partners")
        if rem_e is None and uncertain:
            raise Unsupported("an import's remainder edge appears only in some samples")
        if rem_e is not None:
            imp_edge.append(rem_e)
            imp_total.append(t_slot)
            imp_share.append(-1)
            imp_rem.append(1)
        if any(e < 0 for e in imp_edge[start:]):
            raise Unsupported("an import partner edge is missing from the central tables")
    return imp_edge, imp_total, imp_share, imp_rem


def demand_slots(
    q: Quantities, scenario: Scenario, year: int, dem: pd.DataFrame
) -> tuple[list[int], list[int], list[float]]:
    """Given demand per row of ``demand_table``: ``by_year``, else ``tonnes × (1 + growth)^(year − year₀)``.

    The slots of :func:`~supplychain.graph.build.grown`'s arguments.

    Returns
    -------
    dem_slots, dem_growth, dem_power : list
        Tonnes slot, growth slot (−1: none) and exponent per row.
    """
    dem_slots, dem_growth, dem_power = [], [], []
    for ent in dem["entity"]:
        did = str(ent).split(".", 1)[1]
        d = scenario.demand[did]
        if year in d.by_year:
            dem_slots.append(q.slot(("demand", did, "by_year", year), d.by_year[year]))
            dem_growth.append(-1)
            dem_power.append(0.0)
        else:
            dem_slots.append(q.slot(("demand", did, "tonnes"), d.tonnes))
            dem_growth.append(q.slot(("demand", did, "growth"), d.growth, 0.0))
            dem_power.append(float(year - d.year))
    return dem_slots, dem_growth, dem_power


def stock_slots(
    q: Quantities, scenario: Scenario, stocks: pd.DataFrame, m_pos: Mapping[str, int]
) -> tuple[list[int], list[int], list[int], list[int], list[tuple[str, str]]]:
    """Releasable stock per row of ``stock_table`` whose market is in ``m_pos``.

    The slots of :func:`~supplychain.graph.allocate.releasable`'s arguments.

    Returns
    -------
    st_market, st_level, st_months, st_share : list of int
        Market position; slot of the level in tonnes or of the months of cover
        (the other −1); slot of the release share.
    st_nodes : list of tuple of str
        Entity and stock node of each row.
    """
    from supplychain.graph.build import stock_id

    st_market, st_level, st_months, st_share, st_nodes = [], [], [], [], []
    for rec in stocks.to_dict("records"):
        sid = str(rec["entity"]).split(".", 1)[1]
        sp = scenario.stockpiles[sid]
        mk = str(rec["market"])
        if mk not in m_pos:
            continue
        st_market.append(m_pos[mk])
        share = q.slot(("stockpiles", sid, "max_release_share"), sp.max_release_share, 1.0)
        if sp.tonnes is not None:
            st_level.append(q.slot(("stockpiles", sid, "tonnes"), sp.tonnes))
            st_months.append(-1)
        else:
            st_level.append(-1)
            st_months.append(q.slot(("stockpiles", sid, "months_of_cover"), sp.months_of_cover))
        st_share.append(share)
        st_nodes.append((str(rec["entity"]), stock_id(str(rec["country"]), str(rec["commodity"]))))
    return st_market, st_level, st_months, st_share, st_nodes


# ------------------------------------------------------------ helpers
def _capacity_expression(q: Quantities, f: Facility, fid: str, year: int) -> tuple[list[int], float]:
    """Slots and constant factor of ``capacity_in_year(f, year)`` (see ``graph.build.capacity_in_year``)."""
    from supplychain.graph.build import ramp_share

    scale = ramp_share(f, year)
    if scale == 0.0:
        return [-1, -1], 0.0
    slot = q.slot(("facilities", fid, "capacity"), f.capacity) if f.capacity is not None else -1
    steps = sorted(enumerate(f.capacity_changes), key=lambda s: s[1].year)
    for i, step in steps:
        if step.year <= year:
            slot = q.slot(("facilities", fid, "capacity_changes", i, "capacity"), step.capacity)
    if slot < 0:
        msg = f"facility {fid} has no capacity in {year}"
        raise Unsupported(msg)
    return [slot, -1], scale


def _process_ratios(scenario: Scenario, f: Facility) -> tuple[dict[str, float], dict[str, float]]:
    """Tonnes of each output and input per tonne of reference output."""
    if f.output is not None:
        return {f.output: 1.0}, {}
    process = scenario.processes.get(f.process or "")
    if process is None:
        raise Unsupported("a facility's process is not declared")
    c_ref = process.outputs[process.reference_output].central
    if c_ref <= 0:
        raise Unsupported("a process has a non-positive reference coefficient")
    outs = {c: q.central / c_ref for c, q in sorted(process.outputs.items())}
    ins = {c: q.central / c_ref for c, q in sorted(process.inputs.items())}
    return outs, ins
