r"""Policies applied to the trade edges of one year.

For every cross-border edge e (``supplier_country ≠ buyer_country``) and every
active policy i that covers it, this module computes:

* the **blocked share** :math:`b_{i,e} \in [0, 1]`, already weighted by the part
  of the year the policy is in force and not lifted by an agreement;
* the **cost** per tonne :math:`c_{i,e}` (export taxes, tariffs), averaged over
  the year the same way;
* for export quotas, a cap on the covered edges (a constraint in the
  re-routing LP, a pro-rata cut in the ``fixed`` response).

Formulas (φ(I) is :func:`~supplychain.simulation.calendar.year_fraction` of the
interval set I; P the policy's period; A_e the union of the periods of the
agreements that exempt edge e from policy i; ``P \ A_e`` what is left;
:math:`c_k` the share of the edge's commodity k the policy's ``covers`` reaches,
:func:`~supplychain.schema.coverage.coverage_share` — 1 unless an element list
reaches only part of a mixed commodity):

* export ban / import ban: :math:`b = c_k \, s \, φ(P \setminus A_e)`, s = ``share_blocked``;
* export licensing with approved share a, delay d months, catch-up u and a share s shipped during the delay:
  :math:`b = c_k \, [(1 - s)(1 - u)\, φ(D \setminus A_e) + (1 - a)\, φ((P \setminus D) \setminus A_e)]`,
  D = the first d months of P (only s of the flow ships until licences arrive, ``shipped_during_delay``,
  0 by default); u = ``catch_up``, the share of what D held that ships later, counted only in a year in
  which its release starts (``release_lag_months`` after the licences; :func:`licence_calendar`; u = 0 by
  default: the held volume is lost);
* export tax / tariff: :math:`c = c_k (r \, p_k + u)\, φ(P \setminus A_e)`,
  r the ad-valorem rate, :math:`p_k` the commodity's price per unit, u ``usd_per_unit``;
* export quota Q per year (in the covered commodities' unit) over covered edges E_q, with weights
  :math:`w_e = c_k \, φ(P \setminus A_e) / φ(P)` (the covered, non-exempt part of its period):
  :math:`\sum_{e \in E_q} w_e f_e \le φ(P)\, Q + (1 - φ(P)) \sum_{e \in E_q} w_e f^0_e`
  (outside its period the quota does not bind and trade runs at the baseline rate).

Several restrictions on one edge combine as independent layers:
:math:`B_e = 1 - \prod_i (1 - b_{i,e})`; the tonnes lost,
:math:`f^0_e B_e`, are attributed to the policies in proportion to their
:math:`b_{i,e}` so that the attributed tonnes add up.

Agreements lift restrictions between their parties from their start date:
``exempt_parties`` lifts every restriction imposed by one party on trade with
another party (for the material the agreement covers); ``lifts`` lifts the
listed policies only, between the parties.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from collections.abc import Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from supplychain.errors import Problem, ScenarioError
from supplychain.graph.sums import group_sums
from supplychain.schema.coverage import coverage_share
from supplychain.schema.model import (
    Agreement,
    Commodity,
    Destinations,
    ExportBan,
    ExportLicensing,
    ExportQuota,
    ExportTax,
    Group,
    ImportBan,
    Policy,
    Scenario,
    Selector,
    Tariff,
)
from supplychain.simulation.calendar import Interval, subtract, year_fraction, year_fraction_of

__all__ = [
    "ATTRIBUTION_COLUMNS",
    "Coded",
    "LicenceCalendar",
    "Membership",
    "PolicyEffects",
    "Quota",
    "add_months",
    "apply_policies",
    "edge_text",
    "licence_calendar",
    "matches_selector",
    "scenario_policy_effects",
]

ATTRIBUTION_COLUMNS = [
    "year",
    "edge",
    "policy",
    "policy_type",
    "imposed_by",
    "supplier_country",
    "buyer_country",
    "commodity",
    "baseline_t",
    "blocked_share",
    "blocked_tonnes",
    "cost_per_t",
    "exempted_share",
    "exempted_by",
]
"""Columns of the per-edge, per-policy attribution table."""

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


# ------------------------------------------------------------------ membership
class Membership:
    """Answer "is country c covered by reference r" for codes, regions and groups.

    A reference is a country or region code (covers itself) or a group (covers
    its members, recursively; a group with ``complement_of: X`` covers every
    country not covered by X).

    Examples
    --------
    >>> from supplychain.schema.model import Group
    >>> m = Membership({"ASEAN": Group(members=["MY", "VN"]), "NOT_CN": Group(members=["CN"], complement_of="CN")})
    >>> m.contains("ASEAN", "MY"), m.contains("ASEAN", "CN"), m.contains("NOT_CN", "US"), m.contains("NOT_CN", "CN")
    (True, False, True, False)
    """

    def __init__(self, groups: Mapping[str, Group] | None = None) -> None:
        self.groups: Mapping[str, Group] = groups or {}

    def contains(self, ref: str, country: str, _seen: frozenset[str] = frozenset()) -> bool:
        """Tell whether ``country`` is ``ref`` or a member of group ``ref``."""
        if ref == country:
            return True
        group = self.groups.get(ref)
        if group is None or ref in _seen:
            return False
        seen = _seen | {ref}
        if group.complement_of is not None:
            return not self.contains(group.complement_of, country, seen)
        return any(self.contains(m, country, seen) for m in group.members)

    def any_of(self, refs: Iterable[str], country: str) -> bool:
        """Tell whether any reference covers ``country``."""
        return any(self.contains(r, country) for r in refs)

    def in_destinations(self, dest: Destinations, country: str) -> bool:
        """Tell whether ``country`` is among the partners a policy covers."""
        if dest.include is not None and not self.any_of(dest.include, country):
            return False
        return not self.any_of(dest.exclude, country)



def edge_text(edges: pd.DataFrame, *columns: str) -> list[npt.NDArray[np.object_]]:
    """Each of ``columns`` of ``edges`` as an object array of ``str`` (a missing column: ``""`` on every row).

    Examples
    --------
    >>> [a.tolist() for a in edge_text(pd.DataFrame({"commodity": ["x", "y"]}), "commodity", "stage")]
    [['x', 'y'], ['', '']]
    """
    n = len(edges)
    return [np.array([str(v) for v in edges[c].tolist()], dtype=object) if c in edges else np.full(n, "", dtype=object)
            for c in columns]


class Coded:
    """A column as its distinct values (in order of first appearance) and each row's position among them.

    A test or a lookup that depends only on the value runs once per distinct value
    (:meth:`where`, :meth:`lookup`), not once per row.

    Examples
    --------
    >>> c = Coded(["CN", "US", "CN"])
    >>> c.distinct, c.where(lambda v: v == "CN").tolist()
    (['CN', 'US'], [True, False, True])
    """

    def __init__(self, values: Iterable[Hashable]) -> None:
        pos: dict[Hashable, int] = {}
        self.codes: npt.NDArray[np.intp] = np.array([pos.setdefault(v, len(pos)) for v in values], dtype=np.intp)
        """Position of each row's value in :attr:`distinct`."""
        self.distinct: list[Any] = list(pos)
        """The distinct values."""

    def where(self, test: Callable[[Any], bool]) -> BoolArray:
        """Return ``test(value)`` of every row (evaluated once per distinct value)."""
        hit: BoolArray = np.array([bool(test(v)) for v in self.distinct], dtype=bool)
        return hit[self.codes]

    def lookup(self, f: Callable[[Any], float]) -> FloatArray:
        """Return ``f(value)`` of every row as floats (evaluated once per distinct value)."""
        out: FloatArray = np.array([f(v) for v in self.distinct], dtype=float)
        return out[self.codes]


def matches_selector(sel: Selector, commodity_id: str, commodity: Commodity | None, stage: str | None = None) -> bool:
    """Tell whether the selector covers any share of the material (``schema.coverage.coverage_share`` > 0).

    Examples
    --------
    >>> from supplychain.schema.model import Commodity, Selector
    >>> dy = Commodity(name="Dy oxide", stage="oxide", family="rare_earths", elements=["Dy"])
    >>> matches_selector(Selector(elements=["Dy", "Tb"]), "dy_oxide", dy)
    True
    >>> matches_selector(Selector(families=["rare_earths"], stages=["metal"]), "dy_oxide", dy)
    False
    """
    return coverage_share(sel, commodity_id, commodity, stage) > 0


def add_months(day: dt.date, months: float) -> dt.date:
    """Return the date ``months`` calendar months after ``day`` (fractions by days of the month reached).

    Examples
    --------
    >>> add_months(dt.date(2025, 4, 4), 2)
    datetime.date(2025, 6, 4)
    >>> add_months(dt.date(2025, 11, 1), 2.5)
    datetime.date(2026, 1, 17)
    >>> add_months(dt.date(2025, 1, 31), 1)
    datetime.date(2025, 2, 28)
    """
    whole = int(np.floor(months))
    frac = months - whole
    y, m = divmod(day.month - 1 + whole, 12)
    year, month = day.year + y, m + 1
    out = dt.date(year, month, min(day.day, _cal.monthrange(year, month)[1]))
    if frac > 0:
        out += dt.timedelta(days=round(frac * _cal.monthrange(out.year, out.month)[1]))
    return out


# ---------------------------------------------------------------------- results
@dataclass(frozen=True)
class Quota:
    """An export quota as a constraint on covered edges in one year.

    The constraint is ``Σ weights · f[edges] ≤ cap_t`` (see the module formulas).
    """

    policy: str
    """Policy id."""
    edges: tuple[str, ...]
    """Covered edge ids."""
    weights: tuple[float, ...]
    """Covered share of the commodity times the non-exempt share of the quota's period, per covered edge."""
    cap_t: float
    """Right-hand side: φ·Q + (1 − φ)·Σ w f⁰."""
    in_force: float
    """φ, the year fraction in force."""
    tonnes_per_year: float
    """Q."""


@dataclass(frozen=True)
class PolicyEffects:
    """Everything the responses need to know about the policies of one year.

    Attributes
    ----------
    year : int
        The year.
    edges : pandas.DataFrame
        One row per edge of the input table (same order): ``edge``,
        ``blocked_share`` (bans and licensing combined), ``quota_share`` (pro-rata
        cut by quotas on the remaining flow, used by ``fixed``), ``total_blocked_share``,
        ``cost_per_t``, ``exempt`` (True where an agreement lifted some restriction).
    attribution : pandas.DataFrame
        Per edge and policy, columns :data:`ATTRIBUTION_COLUMNS`; assembled from ``parts`` when first
        read (a sweep or ``compare`` reads it only for the dating of stock gaps, and only with stocks).
    quotas : tuple of Quota
        Quota constraints of the year (empty when none is in force).
    parts : tuple
        The arguments of the attribution's assembly (:func:`_attribution`): the policies' rows, the quotas'
        blocked shares, the edges' text columns, their baseline tonnes and total blocked shares, the year.
    """

    year: int
    edges: pd.DataFrame
    quotas: tuple[Quota, ...] = field(default_factory=tuple)
    parts: tuple[Any, ...] = field(default=(), repr=False, compare=False)

    @cached_property
    def attribution(self) -> pd.DataFrame:
        """The attribution table (:data:`ATTRIBUTION_COLUMNS`), assembled on first read (:func:`_attribution`)."""
        return _attribution(*self.parts)


@dataclass(frozen=True)
class LicenceCalendar:
    """An export licence's year: the delay, the licensed rest and when what the delay held ships.

    The one description of a licence's timing that the annual blocked share (:func:`apply_policies`) and
    the monthly hindcast (``supplychain.report.hindcast.monthly_factor``) both read.
    """

    held: Interval | None
    """D: from the start to the day before licences arrive (only ``shipped`` of the flow ships); None without a
    delay."""
    licensed: Interval | None
    """P \\ D: from the day licences arrive to the end; None if they never arrive within the period."""
    approved: float
    """a: share of the flow licensed once licences arrive."""
    catch_up: float
    """u: share of the volume held in D ∩ year that ships in this year (0 unless the release starts in it)."""
    shipped: float = 0.0
    """s: share of the covered flow that ships during D all the same; D holds 1 − s of it."""
    released: Interval | None = None
    """R: the part of P \\ D over which the held volume ships, from ``release_lag_months`` after licences arrive;
    None when nothing is released in this year."""

    def pieces(self) -> list[tuple[Interval, float]]:
        r"""Sub-periods with their blocked intensity: D at ``(1 − s)(1 − u)``, P \ D at ``1 − a``.

        The release (u of what D held, 1 − s of D's flow) is booked against D's interval, which gives the year's
        total; :attr:`released` says when in the year it ships (the hindcast's months).
        """
        out: list[tuple[Interval, float]] = []
        if self.held is not None:
            out.append((self.held, (1.0 - self.shipped) * (1.0 - self.catch_up)))
        if self.licensed is not None:
            out.append((self.licensed, 1.0 - self.approved))
        return out


def licence_calendar(pol: ExportLicensing, year: int) -> LicenceCalendar:
    r"""Split an export licence's period at the day licences arrive, for one calendar year.

    Parameters
    ----------
    pol : ExportLicensing
        ``start``, ``end``, ``share_approved`` a, ``delay_months`` d, ``catch_up`` u, ``shipped_during_delay`` s
        and ``release_lag_months`` ℓ (central values).
    year : int
        Calendar year.

    Returns
    -------
    LicenceCalendar
        D = [start, start + d months − 1 day], P \ D = [start + d months, end], the release
        R = [start + d months + ℓ months, end]. The year's blocked share of a covered flow is

        .. math:: b = (1 - s)(1 - u')\, φ(D) + (1 - a)\, φ(P \setminus D)

        with :math:`u' = u` if R starts in ``year`` (the volume held in this year ships later in it) and 0
        otherwise (a delay or a release that runs into the next year: what D holds in this year is not
        released in it).

    Examples
    --------
    From 2025-01-01, 3 months' delay, a = 0.5, u = 0.6: D = Jan-Mar, licences from 1 April;
    b = 0.4 · 3/12 + 0.5 · 9/12 = 0.475.

    >>> p = ExportLicensing(type="export_licensing", country="CN", start="2025-01-01", share_approved=0.5,
    ...                     delay_months=3, catch_up=0.6)
    >>> c = licence_calendar(p, 2025)
    >>> c.held, c.licensed[0], c.catch_up
    ((datetime.date(2025, 1, 1), datetime.date(2025, 3, 31)), datetime.date(2025, 4, 1), 0.6)

    With s = 0.1 shipped during the delay and the release 2 months after the licences (from 1 June):
    b = 0.9 · 0.4 · 3/12 + 0.5 · 9/12 = 0.465.

    >>> p = ExportLicensing(type="export_licensing", country="CN", start="2025-01-01", share_approved=0.5,
    ...                     delay_months=3, catch_up=0.6, shipped_during_delay=0.1, release_lag_months=2)
    >>> c = licence_calendar(p, 2025)
    >>> c.released[0], [round(x, 4) for _, x in c.pieces()]
    (datetime.date(2025, 6, 1), [0.36, 0.5])
    """
    approved = pol.share_approved.central
    shipped = pol.shipped_during_delay.central
    if pol.delay <= 0:
        return LicenceCalendar(None, (pol.start, pol.end), approved, 0.0)
    licensed_from = add_months(pol.start, pol.delay)
    delay_end = licensed_from - dt.timedelta(days=1)
    if pol.end is not None and delay_end >= pol.end:
        return LicenceCalendar((pol.start, pol.end), None, approved, 0.0, shipped)
    release_from = add_months(licensed_from, pol.release_lag_months.central)
    releases = release_from.year == year and (pol.end is None or release_from <= pol.end)
    u = pol.catch_up.central if releases and pol.catch_up.central > 0 else 0.0
    return LicenceCalendar((pol.start, delay_end), (licensed_from, pol.end), approved, u, shipped,
                           (release_from, pol.end) if u > 0 else None)


def _policy_pieces(pol: Policy, year: int) -> list[tuple[Interval, float]]:
    """Sub-periods of a restricting policy with their intensity (share blocked)."""
    if isinstance(pol, ExportBan | ImportBan):
        return [((pol.start, pol.end), pol.share_blocked.central)]
    if isinstance(pol, ExportLicensing):
        return licence_calendar(pol, year).pieces()
    return [((pol.start, pol.end), 1.0)]


def _is_import(pol: Policy) -> bool:
    return isinstance(pol, ImportBan | Tariff)


def _exempting_agreements(
    pid: str,
    pol: Policy,
    agreements: Mapping[str, Agreement],
    member: Membership,
) -> list[tuple[str, Agreement]]:
    """Agreements that may lift policy ``pid`` (the imposing country is a party)."""
    out = []
    for aid, ag in agreements.items():
        if not (ag.exempt_parties or pid in ag.lifts):
            continue
        if member.any_of(ag.parties, pol.country):
            out.append((aid, ag))
    return out


def apply_policies(
    edges: pd.DataFrame,
    *,
    year: int,
    policies: Mapping[str, Policy],
    agreements: Mapping[str, Agreement] | None = None,
    commodities: Mapping[str, Commodity] | None = None,
    groups: Mapping[str, Group] | None = None,
    active: Collection[str] | None = None,
) -> PolicyEffects:
    """Blocked shares, costs, quotas and their attribution for one year's edges.

    Parameters
    ----------
    edges : pandas.DataFrame
        Edge table (docs/architecture.md): at least ``edge``, ``supplier_country``,
        ``buyer_country``, ``commodity``, ``tonnes`` (baseline) and optionally ``stage``.
    year : int
        Calendar year.
    policies, agreements : mapping
        Policy and agreement entities by id.
    commodities : mapping, optional
        Commodity definitions (families, elements, stage, price).
    groups : mapping, optional
        Country groups referenced by policies and agreements.
    active : collection of str, optional
        Ids of the policies/agreements in force (default: all).

    Returns
    -------
    PolicyEffects

    Raises
    ------
    ScenarioError
        An ad-valorem tax or tariff on a commodity without ``price_usd_per_unit``.

    Notes
    -----
    See the module docstring for the formulas.
    """
    agreements = agreements or {}
    commodities = commodities or {}
    member = Membership(groups)
    n = len(edges)
    if active is not None:
        policies = {k: v for k, v in policies.items() if k in active}
        agreements = {k: v for k, v in agreements.items() if k in active}
    edge_ids, sc, bc, com, stage = edge_text(edges, "edge", "supplier_country", "buyer_country", "commodity", "stage")
    f0 = edges["tonnes"].to_numpy(dtype=float) if n else np.zeros(0)
    cross = sc != bc
    sc_coded, bc_coded = Coded(sc.tolist()), Coded(bc.tolist())
    com_stage = Coded(zip(com.tolist(), stage.tolist(), strict=True))

    def covered(sel: Selector) -> FloatArray:
        """Share of each edge's commodity the selector covers (``schema.coverage``)."""
        return com_stage.lookup(lambda cs: coverage_share(sel, cs[0], commodities.get(cs[0]), cs[1]))

    blocked = np.zeros(n, dtype=float)  # 1 − Π (1 − b_i), accumulated as B + b − B b (exact for one layer)
    cost = np.zeros(n)
    exempt_any = np.zeros(n, dtype=bool)
    rows: list[_Rows] = []
    quota_specs: list[tuple[str, ExportQuota, npt.NDArray[np.intp], FloatArray, float]] = []
    problems: list[Problem] = []

    for pid in sorted(policies):
        pol = policies[pid]
        phi_full = year_fraction(pol.start, pol.end, year)
        if phi_full <= 0:
            continue
        imposer, partner = (bc_coded, sc_coded) if _is_import(pol) else (sc_coded, bc_coded)
        share = covered(pol.covers)
        mask = cross & (share > 0)
        mask &= imposer.where(partial(member.contains, pol.country))
        mask &= partner.where(partial(member.in_destinations, pol.partners))
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            continue
        # exemption intervals per edge: which agreements apply
        ex_lists: list[list[str]] = [[] for _ in range(idx.size)]
        holes_by_ag: dict[str, Interval] = {}
        for aid, ag in _exempting_agreements(pid, pol, agreements, member):
            in_parties = partial(member.any_of, ag.parties)
            amask = (covered(ag.covers) > 0) & sc_coded.where(in_parties) & bc_coded.where(in_parties)
            hits = np.flatnonzero(amask[idx]).tolist()
            if not hits:
                continue
            holes_by_ag[aid] = (ag.start, ag.end)
            for hit_pos in hits:
                ex_lists[hit_pos].append(aid)
        pieces = _policy_pieces(pol, year)
        c_k = share[idx]  # covered share of each edge's commodity
        cache: dict[tuple[str, ...], tuple[float, float, str]] = {}
        b_pol = np.zeros(idx.size)
        remaining = np.zeros(idx.size)  # φ(P \ A_e)
        exempted_by: list[str] = []
        for j, ags in enumerate(ex_lists):
            key = tuple(ags)
            if key not in cache:
                holes = [holes_by_ag[a] for a in key]
                b_key = 0.0
                for iv, intensity in pieces:
                    b_key += intensity * year_fraction_of(subtract(iv, holes, year), year)
                used = [
                    a
                    for a in key
                    if year_fraction_of(subtract((pol.start, pol.end), [holes_by_ag[a]], year), year) < phi_full
                ]
                cache[key] = (b_key, year_fraction_of(subtract((pol.start, pol.end), holes, year), year),
                              ",".join(used))
            b_pol[j], remaining[j], used_by = cache[key]
            exempted_by.append(used_by)
        b = c_k * b_pol
        w = c_k * remaining / phi_full  # φ(P \ A_e) / φ(P)
        ex_share = 1.0 - remaining / phi_full
        exempt_any[idx[np.array([bool(x) for x in exempted_by], dtype=bool)]] = True
        c = np.zeros(idx.size)
        if isinstance(pol, ExportTax | Tariff):
            rate = pol.rate.central if pol.rate is not None else 0.0
            per_t = pol.usd_per_t.central if pol.usd_per_t is not None else 0.0
            unit = np.full(idx.size, per_t)
            if rate:
                for j, k in enumerate(com[idx].tolist()):
                    cdef = commodities.get(k)
                    if cdef is None or cdef.price_usd_per_t is None:
                        problems.append(
                            Problem(
                                "<api>", 0, 0, ("policies", pid, "rate"),
                                f"ad-valorem rate on commodity {k!r} which has no price_usd_per_unit",
                                f"add commodities.{k}.price_usd_per_unit or give usd_per_unit instead of rate",
                            )
                        )
                        break
                    unit[j] += rate * cdef.price_usd_per_t.central
            c = unit * w * phi_full
            cost[idx] += c
            b = np.zeros(idx.size)
        elif isinstance(pol, ExportQuota):
            quota_specs.append((pid, pol, idx, w, phi_full))
            b = np.zeros(idx.size)
        else:
            blocked[idx] = blocked[idx] + b - blocked[idx] * b
        rows.append(_Rows(pid, pol, idx, b, c, ex_share, exempted_by))
    if problems:
        raise ScenarioError(problems)

    keep = 1.0 - blocked
    # quotas: constraint specs and the pro-rata cut of the fixed response
    quota_share = np.zeros(n)
    quotas: list[Quota] = []
    quota_b: dict[str, FloatArray] = {}
    for pid, pol, idx, w, phi in quota_specs:
        q = pol.tonnes_per_year.central
        base = float(np.sum(w * f0[idx]))
        cap = phi * q + (1.0 - phi) * base
        quotas.append(Quota(pid, tuple(edge_ids[idx].tolist()), tuple(w.tolist()), cap, phi, q))
        avail = float(np.sum(w * f0[idx] * keep[idx]))
        r = 1.0 if avail <= cap or avail <= 0 else cap / avail
        bq = w * (1.0 - r)
        quota_b[pid] = bq
        quota_share[idx] = quota_share[idx] + bq - quota_share[idx] * bq
    total = blocked + quota_share - blocked * quota_share

    labels = {"edge": edge_ids, "supplier_country": sc, "buyer_country": bc, "commodity": com}
    out = pd.DataFrame({
        "edge": edge_ids,
        "blocked_share": blocked,
        "quota_share": quota_share,
        "total_blocked_share": total,
        "cost_per_t": cost,
        "exempt": exempt_any,
    })
    return PolicyEffects(year=year, edges=out, quotas=tuple(quotas),
                         parts=(rows, quota_b, labels, f0.copy(), total, year))


@dataclass(frozen=True)
class _Rows:
    """The attribution rows of one policy: the edges it covers (positions) and its effect on each."""

    policy: str
    pol: Policy
    idx: npt.NDArray[np.intp]
    b: FloatArray
    cost_per_t: FloatArray
    exempted_share: FloatArray
    exempted_by: list[str]


def _attribution(
    parts: list[_Rows],
    quota_b: Mapping[str, FloatArray],
    labels: Mapping[str, npt.NDArray[Any]],
    f0: FloatArray,
    total: FloatArray,
    year: int,
) -> pd.DataFrame:
    """Attribution table (:data:`ATTRIBUTION_COLUMNS`) of the policies' rows; ``labels``: the edges' text columns."""
    if not parts:
        return pd.DataFrame({c: np.zeros(0, dtype=_dtype(c)) for c in ATTRIBUTION_COLUMNS})
    pos = np.concatenate([p.idx for p in parts])
    b = np.concatenate([quota_b[p.policy] if isinstance(p.pol, ExportQuota) else p.b for p in parts])

    def repeat(text: Callable[[_Rows], str]) -> npt.NDArray[Any]:
        return np.array([text(p) for p in parts for _ in range(p.idx.size)], dtype=object)

    cols: dict[str, Any] = {
        "year": np.full(len(pos), year, dtype=np.int64),
        **{c: labels[c][pos] for c in ("edge", "supplier_country", "buyer_country", "commodity")},
        "policy": repeat(lambda p: p.policy),
        "policy_type": repeat(lambda p: p.pol.type),
        "imposed_by": repeat(lambda p: p.pol.country),
        "baseline_t": f0[pos],
        "blocked_share": b,
        "cost_per_t": np.concatenate([p.cost_per_t for p in parts]),
        "exempted_share": np.concatenate([p.exempted_share for p in parts]),
        "exempted_by": np.array([e for p in parts for e in p.exempted_by], dtype=object),
    }
    b_sums = group_sums(pos.tolist(), b.tolist())
    sum_b = np.array([b_sums[p] for p in pos.tolist()], dtype=float)
    lost = f0[pos] * total[pos]
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["blocked_tonnes"] = np.where(sum_b > 0, lost * b / sum_b, 0.0)
    order = np.lexsort((cols["policy"], cols["edge"]))  # stable: by edge, then policy
    return pd.DataFrame({c: cols[c][order] for c in ATTRIBUTION_COLUMNS})


def _dtype(col: str) -> str:
    if col == "year":
        return "int64"
    if col in {"baseline_t", "blocked_share", "blocked_tonnes", "cost_per_t", "exempted_share"}:
        return "float64"
    return "object"


def scenario_policy_effects(
    scenario: Scenario,
    edges: pd.DataFrame,
    year: int,
    active: Collection[str] | None = None,
) -> PolicyEffects:
    """:func:`apply_policies` with the scenario's policies, agreements, commodities and groups.

    Parameters
    ----------
    scenario : Scenario
        Source of the entities.
    edges : pandas.DataFrame
        The year's edge table.
    year : int
        Calendar year.
    active : collection of str, optional
        Active policy/agreement ids (from :func:`~supplychain.simulation.toggles.resolve_toggles`).

    Returns
    -------
    PolicyEffects
    """
    return apply_policies(
        edges,
        year=year,
        policies=scenario.policies,
        agreements=scenario.agreements,
        commodities=scenario.commodities,
        groups=scenario.groups,
        active=active,
    )
