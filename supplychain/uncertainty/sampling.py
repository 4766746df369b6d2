"""Find the uncertain inputs of a scenario, draw samples of them, apply a sample.

A scenario states uncertainty in two ways (docs/domain.md, "Uncertainty"):

* any :class:`~supplychain.schema.types.Quantity` may carry a distribution
  (``uniform``, ``triangular``, ``normal`` with optional truncation at
  ``low``/``high``, or ``choice`` with weights);
* any :class:`~supplychain.schema.model.Toggle` may carry a ``probability`` that
  it is on (a Bernoulli draw per sample);
* either may carry a ``tie``: the members of one tie share one uniform draw per
  sample, each taking its own distribution's quantile at it (quantities) or being
  on when it is below its probability (toggles), so one fact written in several
  places (a range stated for every year of a path) is high in all or low in all.

:func:`find_parameters` walks the validated model and records every such input
with its key path; :func:`draw` samples them into a DataFrame (one row per
sample, one column per parameter); :func:`apply` returns a copy of the scenario
with one row of values patched in (:func:`parse_path` reads a parameter's name — a
rendered key path such as ``facilities.mp.production[2024]`` — back into keys).

Reproducibility
---------------
Every parameter has its own random stream, seeded from the sweep's seed and a
stable hash of the parameter's key path (:func:`parameter_stream`); every tie has
one, seeded from the hash of ``tie:<name>`` (:func:`tie_draws`). The values a
parameter takes therefore depend only on ``(seed, path, sample number)``, or
for a tied one ``(seed, tie name, sample number)``: not on which other parameters
exist, not on the order of the YAML, and not on how the samples are later split
among workers.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel

from supplychain.errors import KeyPath, format_path
from supplychain.schema.model import Scenario, Toggle
from supplychain.schema.types import Quantity

__all__ = [
    "Parameter",
    "SamplingSpec",
    "TieChange",
    "apply",
    "central_row",
    "draw",
    "entity_idle_reason",
    "find_parameters",
    "in_force_shares",
    "inert_parameters",
    "inverse_cdf",
    "parameter_stream",
    "parse_path",
    "sampled_toggles",
    "tie_draws",
]

ParameterKind = Literal["quantity", "toggle"]


@dataclass(frozen=True)
class Parameter:
    """One uncertain input of a scenario.

    Attributes
    ----------
    path : tuple of str or int
        Key path from the scenario root to the :class:`Quantity` (or, for a
        toggle, to the :class:`Toggle`), e.g. ``("flows", "cn_us", "tonnes")``.
    kind : {"quantity", "toggle"}
        A distribution on a number, or a toggle with a probability of being on.
    quantity : Quantity
        The quantity itself; for a toggle, its ``probability``.
    default : bool or None
        For a toggle, its deterministic state (``Toggle.default``).
    tie : str or None
        Name of the shared draw it belongs to (``tie:`` of the quantity or the
        toggle); defaults to the quantity's ``tie`` for a quantity.
    """

    path: KeyPath
    kind: ParameterKind
    quantity: Quantity
    default: bool | None = None
    tie: str | None = None

    def __post_init__(self) -> None:
        if self.kind == "quantity" and self.tie is None and self.quantity.tie is not None:
            object.__setattr__(self, "tie", self.quantity.tie)

    @property
    def name(self) -> str:
        """The key path as a user would type it (the DataFrame column name)."""
        return format_path(self.path)

    @property
    def central(self) -> float | bool:
        """Value used by deterministic runs: the quantity's central value, the toggle's default."""
        if self.kind == "toggle":
            return bool(self.default)
        return self.quantity.central

    def span(self, how: Literal["bounds", "p5-p95"] = "bounds") -> tuple[float | bool, float | bool]:
        """Low and high values for a one-at-a-time sweep.

        Parameters
        ----------
        how : {"bounds", "p5-p95"}
            ``bounds``: the distribution's ``low``/``high`` (for a normal without
            truncation, mean ± 1.96 sd; for a choice, the smallest and largest
            choice). ``p5-p95``: the 5th and 95th percentiles of the distribution.

        Returns
        -------
        tuple
            ``(low, high)``; ``(False, True)`` for a toggle.
        """
        if self.kind == "toggle":
            return (False, True)
        q = self.quantity
        if how == "p5-p95":
            lo, hi = _quantiles(q, (0.05, 0.95))
            return (lo, hi)
        if q.dist == "normal":
            mean = _normal_mean(q)
            sd = float(q.sd or 0.0)
            lo = q.low if q.low is not None else mean - 1.96 * sd
            hi = q.high if q.high is not None else mean + 1.96 * sd
            return (float(lo), float(hi))
        lo, hi = q.bounds()
        return (float(lo), float(hi))

    def describe(self) -> str:
        """Short text of the distribution, e.g. ``triangular(40000, 45000, 50000)``, and its tie.

        Examples
        --------
        >>> Parameter(("x",), "quantity", Quantity(dist="uniform", low=1, high=3)).describe()
        'uniform(1, 3)'
        >>> Parameter(("x",), "quantity", Quantity(dist="uniform", low=1, high=3, tie="cn_output")).describe()
        'uniform(1, 3), tie cn_output'
        """
        q = self.quantity
        if self.kind == "toggle":
            text = f"bernoulli(p={_fmt(q.central)})" if not q.is_uncertain else f"bernoulli(p~{_describe_q(q)})"
        else:
            text = _describe_q(q)
        if self.kind == "quantity" and q.truncated is not None:
            text = f"{text}, truncated {q.truncated}"
        return text if self.tie is None else f"{text}, tie {self.tie}"


def _fmt(x: float | None) -> str:
    return "?" if x is None else f"{x:g}"


def _describe_q(q: Quantity) -> str:
    if q.dist in ("uniform",):
        return f"uniform({_fmt(q.low)}, {_fmt(q.high)})"
    if q.dist == "triangular":
        return f"triangular({_fmt(q.low)}, {_fmt(_tri_mode(q))}, {_fmt(q.high)})"
    if q.dist == "normal":
        text = f"normal({_fmt(_normal_mean(q))}, sd={_fmt(q.sd)}"
        if q.low is not None or q.high is not None:
            text += f", truncated to [{_fmt(q.low)}, {_fmt(q.high)}]"
        return text + ")"
    if q.dist == "choice":
        return f"choice({', '.join(_fmt(c) for c in q.choices or [])})"
    return _fmt(q.central)


@dataclass(frozen=True)
class TieChange:
    """A tie that a selection (:meth:`SamplingSpec.select`) took whole: members added or dropped with others.

    Attributes
    ----------
    tie : str
        The tie's name.
    action : {"added", "dropped"}
        ``added``: the ``include`` patterns (``parameters=``, ``--param``) named some members and the
        others are sampled with them; ``dropped``: the ``exclude`` patterns matched some members and
        the others are held at their central values with them.
    by : tuple of str
        The members the patterns matched (named, or excluded).
    members : tuple of str
        The members sampled or held because of the tie (the patterns alone would have done otherwise).
    """

    tie: str
    action: Literal["added", "dropped"]
    by: tuple[str, ...]
    members: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        """Plain form for ``SweepResult.info["tie_selection"]``: ``tie``, ``action``, ``by``, ``members``."""
        return {"tie": self.tie, "action": self.action, "by": list(self.by), "members": list(self.members)}


@dataclass(frozen=True)
class SamplingSpec:
    """The uncertain inputs of a scenario, sorted by key path.

    Attributes
    ----------
    parameters : tuple of Parameter
        Every sampled input, in the order of the DataFrame columns.
    tie_changes : tuple of TieChange
        The ties :meth:`select` took whole although its patterns chose only some of their
        members (empty for a spec that no selection made).
    """

    parameters: tuple[Parameter, ...] = field(default_factory=tuple)
    tie_changes: tuple[TieChange, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        """Column names, one per parameter."""
        return [p.name for p in self.parameters]

    @property
    def tie_selection(self) -> list[dict[str, Any]]:
        """:attr:`tie_changes` as records (:meth:`TieChange.as_dict`): a sweep's ``info["tie_selection"]``."""
        return [c.as_dict() for c in self.tie_changes]

    def __len__(self) -> int:
        return len(self.parameters)

    def __iter__(self) -> Iterator[Parameter]:
        return iter(self.parameters)

    def __getitem__(self, name: str) -> Parameter:
        for p in self.parameters:
            if p.name == name:
                return p
        msg = f"no uncertain parameter named {name!r}; known: {', '.join(self.names) or '(none)'}"
        raise KeyError(msg)

    @property
    def quantities(self) -> SamplingSpec:
        """Only the numeric parameters."""
        return SamplingSpec(tuple(p for p in self.parameters if p.kind == "quantity"))

    @property
    def toggles(self) -> SamplingSpec:
        """Only the toggles."""
        return SamplingSpec(tuple(p for p in self.parameters if p.kind == "toggle"))

    def select(self, include: Iterable[str] | None = None, exclude: Iterable[str] = ()) -> SamplingSpec:
        """Keep the parameters whose name matches a glob of ``include`` and none of ``exclude``, ties whole.

        A tie is one fact drawn once for all its members (one ``u`` per sample), so it is
        sampled or held at its central values whole: a member matched by ``exclude`` holds
        every member of its tie at its central value, and otherwise a member matched by
        ``include`` brings every member of its tie into the sample. Split, the members would
        state two versions of the fact in one sample (a feed-limited circuit drawn high while
        the feed it needs stays central leaves its market short: every such sample fails).
        The members added or dropped this way are in :attr:`tie_changes`.

        Parameters
        ----------
        include : iterable of str, optional
            Shell-style patterns (``flows.*``, ``toggles.malaysia_*``); default: all.
        exclude : iterable of str
            Patterns to drop; excluding wins over including.

        Returns
        -------
        SamplingSpec
            The selected parameters, order kept, and the ties taken whole (``tie_changes``).

        Raises
        ------
        ValueError
            If an ``include`` pattern matches no parameter (a typo would otherwise
            silently sample nothing).

        Examples
        --------
        >>> q = Quantity(dist="uniform", low=1, high=3, tie="t")
        >>> spec = SamplingSpec((Parameter(("a", "x"), "quantity", q), Parameter(("b", "x"), "quantity", q)))
        >>> spec.select(exclude=["a.*"]).names, spec.select(exclude=["a.*"]).tie_changes[0].members
        ([], ('b.x',))
        >>> spec.select(["a.*"]).names, spec.select(["a.*"]).tie_changes[0].action
        (['a.x', 'b.x'], 'added')
        """
        inc = list(include) if include is not None else None
        exc = list(exclude)
        if inc is not None:
            unmatched = [pat for pat in inc if not any(fnmatchcase(p.name, pat) for p in self.parameters)]
            if unmatched:
                msg = (
                    f"no uncertain parameter matches {', '.join(map(repr, unmatched))}; "
                    f"known: {', '.join(self.names) or '(none)'}"
                )
                raise ValueError(msg)
        named = {p.name for p in self.parameters if inc is None or any(fnmatchcase(p.name, pat) for pat in inc)}
        excluded = {p.name for p in self.parameters if any(fnmatchcase(p.name, pat) for pat in exc)}
        chosen = named - excluded  # what the patterns alone choose
        changes: list[TieChange] = []
        for tie, members in self.ties.items():
            hit = [m for m in members if m in excluded]
            action: Literal["added", "dropped"]
            if hit:  # one member excluded: the tie is held whole
                action, by, moved = "dropped", hit, [m for m in members if m in chosen]
                excluded |= set(members)
            else:  # none excluded: one member named brings the others
                action, by, moved = "added", [m for m in members if m in named], [m for m in members if m not in named]
                if not by:
                    continue
                named |= set(members)
            if moved:
                changes.append(TieChange(tie, action, tuple(by), tuple(moved)))
        kept = tuple(p for p in self.parameters if p.name in named and p.name not in excluded)
        return SamplingSpec(kept, tuple(changes))

    def table(self) -> pd.DataFrame:
        """One row per parameter: name, kind, distribution, central value, low/high span, tie.

        Returns
        -------
        pandas.DataFrame
            Columns ``parameter``, ``kind``, ``distribution``, ``central``, ``low``, ``high``,
            ``tie`` (the shared draw's name, empty for a parameter drawn on its own).
        """
        rows = []
        for p in self.parameters:
            lo, hi = p.span()
            rows.append(
                {
                    "parameter": p.name,
                    "kind": p.kind,
                    "distribution": p.describe(),
                    "central": float(p.central),
                    "low": float(lo),
                    "high": float(hi),
                    "tie": p.tie or "",
                }
            )
        return pd.DataFrame(rows, columns=["parameter", "kind", "distribution", "central", "low", "high", "tie"])

    @property
    def ties(self) -> dict[str, list[str]]:
        """Tie name → the names of its parameters, in this spec's order."""
        out: dict[str, list[str]] = {}
        for p in self.parameters:
            if p.tie is not None:
                out.setdefault(p.tie, []).append(p.name)
        return out

    @property
    def truncated(self) -> dict[str, str]:
        """Parameter name → the end of its range cut at an engine limit (its quantity's ``truncated``).

        ``low``, ``high`` or ``both``, for the parameters that declare one, in this spec's order.
        """
        return {p.name: p.quantity.truncated for p in self.parameters
                if p.kind == "quantity" and p.quantity.truncated is not None}

    @property
    def undrawn_centrals(self) -> dict[str, dict[str, Any]]:
        """Parameter name → ``{"central": c, "choices": [...]}`` for a ``choice`` whose central is none of its choices.

        A sample draws one of the choices; the central run uses the central value. When that value
        is none of the choices (e.g. the weighted mean of two: ``choice(0.678, 1.0)`` with central
        0.92), the central run is a world no sample is, and the measures need not be monotone
        between the choices: the central may then lie outside the samples' spread
        (:meth:`~supplychain.uncertainty.result.SweepResult.caveats` says so). Equal within
        round-off (``math.isclose``, relative 1e-9) counts as one of the choices.

        Examples
        --------
        >>> q = Quantity(value=0.92, dist="choice", choices=[0.678, 1.0], weights=[0.25, 0.75])
        >>> SamplingSpec((Parameter(("policies", "p", "share_approved"), "quantity", q),)).undrawn_centrals
        {'policies.p.share_approved': {'central': 0.92, 'choices': [0.678, 1.0]}}
        """
        out: dict[str, dict[str, Any]] = {}
        for p in self.parameters:
            q = p.quantity
            if p.kind != "quantity" or q.dist != "choice" or not q.choices:
                continue
            c = float(q.central)
            choices = [float(x) for x in q.choices]
            if not any(math.isclose(c, x, rel_tol=1e-9, abs_tol=1e-12) for x in choices):
                out[p.name] = {"central": c, "choices": choices}
        return out


# ---------------------------------------------------------------------- finding
def find_parameters(scenario: Scenario, *, fixed_toggles: Iterable[str] = ()) -> SamplingSpec:
    """Every uncertain quantity and every toggle with a probability in a scenario.

    The validated model is walked field by field (mappings by key, lists by
    index); a :class:`Quantity` with a ``dist`` becomes a ``quantity`` parameter
    at its key path, a :class:`Toggle` with a ``probability`` becomes a
    ``toggle`` parameter at ``("toggles", id)``; each keeps its ``tie``. The probability of a toggle is
    not a separate parameter: when it is itself uncertain, each sample draws the
    probability first and then the Bernoulli state (see :func:`draw`).

    Parameters
    ----------
    scenario : Scenario
        A validated scenario.
    fixed_toggles : iterable of str
        Toggle ids that the caller sets explicitly (``--toggle``); they are not sampled.

    Returns
    -------
    SamplingSpec
        Parameters sorted by name.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({
    ...     "scenario": {"name": "demo", "base_year": 2024},
    ...     "flows": {"cn_us": {"supplier": "CN", "buyer": "US", "commodity": "ndpr_oxide", "year": 2024,
    ...               "tonnes": {"dist": "uniform", "low": 10, "high": 20}}},
    ... })
    >>> find_parameters(s).names
    ['flows.cn_us.tonnes']
    """
    fixed = set(fixed_toggles)
    found: list[Parameter] = []
    for path, obj in _walk(scenario, ()):
        if isinstance(obj, Quantity):
            if obj.is_uncertain:
                found.append(Parameter(path, "quantity", obj))
        elif isinstance(obj, Toggle):
            tid = path[-1]
            if obj.probability is not None and tid not in fixed:
                found.append(Parameter(path, "toggle", obj.probability, default=bool(obj.default), tie=obj.tie))
    found.sort(key=lambda p: p.name)
    return SamplingSpec(tuple(found))


def entity_idle_reason(
    scenario: Scenario,
    *,
    years: Sequence[int],
    fixed: Mapping[str, bool],
    shocks_act: bool = True,
) -> Callable[[str, str], str | None]:
    """Return the rule that tells why a policy or agreement cannot act in the years a run computes.

    The one rule of :func:`inert_parameters` (a sampled input of such an entity cannot act) and
    :func:`in_force_shares` (such an entity's share of samples in force says nothing): the
    returned function maps ``(section, id)`` to the reason, or ``None`` when the entity can act
    (or is no policy or agreement). An entity cannot act when a toggle that is not sampled keeps
    it out (``fixed``: one that controls it is off, or one that lists it under ``switches_off``
    is on), when it is in force in none of the years from the base year to ``max(years)``
    (:func:`~supplychain.simulation.calendar.never_in_force`), or when policies and agreements do
    not act at all (``shocks_act=False``, mode exposure).
    """
    from supplychain.simulation.calendar import never_in_force
    from supplychain.simulation.toggles import controlled_entities, switched_off_entities

    off_by: dict[tuple[str, str], str] = {}  # entity -> the fixed toggle that keeps it out
    for tid, entities in sorted(controlled_entities(scenario).items()):
        if tid in fixed and not fixed[tid]:
            for entity in entities:
                off_by.setdefault(entity, f"toggle {tid} off")
    for tid, entities in sorted(switched_off_entities(scenario).items()):
        if fixed.get(tid, False):
            for entity in entities:
                off_by.setdefault(entity, f"toggle {tid} on")
    last = max(years) if len(years) else scenario.scenario.base_year
    base = scenario.scenario.base_year

    def why(section: str, eid: str) -> str | None:
        if section not in ("policies", "agreements"):
            return None
        kind = "policy" if section == "policies" else "agreement"
        entity = getattr(scenario, section).get(eid)
        if entity is None:
            return None
        if (section, eid) in off_by:
            return f"{kind} {eid} is switched off ({off_by[(section, eid)]}, not sampled)"
        never = never_in_force(entity.start, entity.end, base, last)
        if never == "after":
            return f"{kind} {eid} starts {entity.start.isoformat()}, after {last}"
        if never == "before" and entity.end is not None:
            return f"{kind} {eid} ended {entity.end.isoformat()}, before the base year {base}"
        if not shocks_act:
            return f"{section} do not act on the unshocked network (mode exposure)"
        return None

    return why


def inert_parameters(
    scenario: Scenario,
    spec: SamplingSpec,
    *,
    years: Sequence[int],
    fixed: Mapping[str, bool],
    shocks_act: bool = True,
) -> dict[str, str]:
    """Find the sampled inputs that cannot act in the years a run computes, each with the reason.

    Decided from the scenario's structure only, never from sampled values. An input is
    inert when it belongs to a policy or agreement (its key path starts with
    ``policies.<id>`` / ``agreements.<id>``) that is in force in no year of the run:

    * a toggle that controls it is off and not sampled (``fixed``: the states of the
      toggles that are not sampled, after defaults, variant and overrides; an entity
      controlled by several toggles is on only when all of them are on), or a toggle that
      lists it under ``switches_off`` is on and not sampled;
    * it is in force in none of the years from the scenario's base year to the last year run
      (:func:`~supplychain.simulation.calendar.never_in_force`, the rule of validation's
      "never in force" warning): it starts after ``max(years)``, or ended before the base
      year (a policy that ended before the base year cannot have left a stock or a shortfall
      either); an offtake's input (``agreements.<id>.offtakes.<i>``) also when the offtake
      itself is (:func:`~supplychain.simulation.calendar.offtake_span`: its ``start_year`` is
      after ``max(years)`` or after its agreement ends), as validation warns of it;
    * ``shocks_act=False`` (``mode="exposure"``: the unshocked network, where policies and
      agreements do not act; :data:`~supplychain.uncertainty.kernel.INERT` says the same for the
      compiled path).

    A toggle with a probability is inert when every entity it controls or switches off is a policy or
    agreement that is inert for one of those reasons (a toggle that switches a facility,
    flow, stockpile or offtake is never called inert).

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    spec : SamplingSpec
        The sampled inputs.
    years : sequence of int
        Years the run computes.
    fixed : mapping of str to bool
        Toggle id → state, for the toggles that are not sampled.
    shocks_act : bool
        Whether policies and agreements act in the run (``False`` in ``mode="exposure"``).

    Returns
    -------
    dict of str to str
        Parameter name → why it cannot act (absent: it can).

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({"scenario": {"name": "t", "base_year": 2024, "horizon": 2025},
    ...     "policies": {"later": {"type": "export_licensing", "country": "CN", "start": "2026-11-10",
    ...                            "share_approved": {"dist": "uniform", "low": 0.5, "high": 1}}}})
    >>> inert_parameters(s, find_parameters(s), years=[2024, 2025], fixed={})
    {'policies.later.share_approved': 'policy later starts 2026-11-10, after 2025'}
    """
    from supplychain.simulation.calendar import never_in_force, offtake_span
    from supplychain.simulation.toggles import controlled_entities, switched_off_entities

    controlled = controlled_entities(scenario)
    switched = switched_off_entities(scenario)
    why = entity_idle_reason(scenario, years=years, fixed=fixed, shocks_act=shocks_act)
    last = max(years) if len(years) else scenario.scenario.base_year
    base = scenario.scenario.base_year

    def offtake_why(aid: str, i: int) -> str | None:
        """Why offtake ``i`` of agreement ``aid`` (in force itself) never commits a tonne in the years run."""
        agr = scenario.agreements[aid]
        o = agr.offtakes[i]
        start, end = offtake_span(agr.start, agr.end, o.start_year)
        never = never_in_force(start, end, base, last)
        what = f"offtake {o.id or i} of agreement {aid} starts {start.isoformat()}"
        if never == "after":
            return f"{what}, after {last}"
        if never == "empty" and end is not None:
            return f"{what}, after its agreement ends {end.isoformat()}"
        return None

    out: dict[str, str] = {}
    for p in spec:
        if p.kind == "quantity":
            if len(p.path) >= 2 and p.path[0] in ("policies", "agreements"):
                reason = why(str(p.path[0]), str(p.path[1]))
                if reason is None and len(p.path) >= 4 and p.path[0] == "agreements" and p.path[2] == "offtakes":
                    reason = offtake_why(str(p.path[1]), int(p.path[3]))
                if reason is not None:
                    out[p.name] = reason
            continue
        entities = [*controlled.get(str(p.path[-1]), []), *switched.get(str(p.path[-1]), [])]
        reasons = [why(sec, eid) if sec in ("policies", "agreements") else None for sec, eid in entities]
        if entities and all(r is not None for r in reasons):
            out[p.name] = "; ".join(dict.fromkeys(r for r in reasons if r is not None))
    return out


def sampled_toggles(inputs: pd.DataFrame) -> list[str]:
    """Ids of the toggles drawn on/off: the ``toggles.<id>`` columns of the drawn inputs (:func:`draw`), in order.

    Examples
    --------
    >>> sampled_toggles(pd.DataFrame(columns=["flows.a.tonnes", "toggles.deal"]))
    ['deal']
    """
    return [str(c).split(".", 1)[1] for c in inputs.columns if str(c).startswith("toggles.")]


def in_force_shares(scenario: Scenario, inputs: pd.DataFrame, fixed: Mapping[str, bool], *,
                    years: Sequence[int] | None = None, shocks_act: bool = True) -> dict[str, dict[str, Any]]:
    """Share of the samples in which each entity switched by several toggles is in force, against what was drawn.

    An entity that several toggles control is in force only when all of them are on, and one
    in a toggle's ``switches_off`` only while that toggle is off
    (:func:`~supplychain.simulation.toggles.resolve_toggles`): its probability in a sweep is
    not the probability written on any one toggle. For every entity so switched by at least
    one sampled toggle (several toggles, or a ``switches_off``), the share of the samples in
    which it is in force, each sample's toggles resolved as a run resolves them. With ``years``,
    a policy or agreement that cannot act in them (:func:`entity_idle_reason`: it starts after
    the last year, ended before the base year, is kept out by a toggle that is not sampled, or
    ``shocks_act=False``) is left out: whether it is in force moves nothing in such a sweep.

    Parameters
    ----------
    scenario : Scenario
        The scenario.
    inputs : pandas.DataFrame
        The drawn inputs (:func:`draw`): the ``toggles.<id>`` columns are read.
    fixed : mapping of str to bool
        States of the toggles that are not sampled.
    years : sequence of int, optional
        The years the sweep computes; ``None``: every entity, whenever it acts.
    shocks_act : bool
        Whether policies and agreements act in the sweep (``False`` in ``mode="exposure"``).

    Returns
    -------
    dict
        Entity id → ``{"in_force": share, "toggles": {toggle: share of samples on (drawn) or the fixed
        state as 1.0 / 0.0}, "switches_off": [the toggles that switch it off while on]}``.

    Examples
    --------
    >>> s = Scenario.model_validate({"scenario": {"name": "t", "base_year": 2024},
    ...     "agreements": {"lift": {"name": "l", "parties": ["US", "MY"], "start": 2025}},
    ...     "toggles": {"mou": {"controls": ["lift"], "probability": 0.6},
    ...                 "lifted": {"controls": ["lift"], "probability": 0.2}}})
    >>> inputs = pd.DataFrame({"toggles.mou": [True, True, False, True, False],
    ...                        "toggles.lifted": [True, False, True, False, False]})
    >>> in_force_shares(s, inputs, {})["lift"]
    {'in_force': 0.2, 'toggles': {'mou': 0.6, 'lifted': 0.4}, 'switches_off': []}
    """
    from supplychain.simulation.toggles import controlled_entities, resolve_toggles, switched_off_entities

    sampled = sampled_toggles(inputs)
    if not sampled or not len(inputs):
        return {}
    by: dict[tuple[str, str], list[str]] = {}
    offs: dict[tuple[str, str], list[str]] = {}
    for t, entities in controlled_entities(scenario).items():
        for e in entities:
            by.setdefault(e, []).append(t)
    for t, entities in switched_off_entities(scenario).items():
        for e in entities:
            by.setdefault(e, []).append(t)
            offs.setdefault(e, []).append(t)
    idle = (entity_idle_reason(scenario, years=years, fixed=fixed, shocks_act=shocks_act) if years is not None
            else lambda section, eid: None)
    chosen = {e: ts for e, ts in by.items()
              if set(ts) & set(sampled) and (len(ts) > 1 or e in offs) and idle(*e) is None}
    if not chosen:
        return {}
    states = inputs[[f"toggles.{t}" for t in sampled]].astype(bool)
    combos = Counter(tuple(bool(x) for x in row) for row in states.to_numpy(dtype=bool))
    n = len(states)
    in_force = dict.fromkeys(chosen, 0)
    for combo, count in combos.items():
        drawn = dict(zip(sampled, combo, strict=True))
        st = resolve_toggles(scenario, overrides={**{k: v for k, v in fixed.items() if k in scenario.toggles},
                                                  **drawn})
        for sec, eid in chosen:
            on = (sec, eid) not in st.switched_off and not (sec in ("policies", "agreements") and eid in st.inactive)
            in_force[(sec, eid)] += int(count) if on else 0
    out: dict[str, dict[str, Any]] = {}
    for entity, ts in chosen.items():
        shares = {t: float(states[f"toggles.{t}"].mean()) if t in sampled else float(bool(fixed.get(t, True)))
                  for t in ts}
        out[entity[1]] = {"in_force": in_force[entity] / n, "toggles": shares, "switches_off": offs.get(entity, [])}
    return out


def _walk(obj: Any, path: KeyPath) -> Iterator[tuple[KeyPath, Any]]:
    """Yield ``(path, value)`` for every quantity and toggle below ``obj``.

    Quantities are leaves; a toggle is yielded and not descended into (its
    ``probability`` belongs to the toggle parameter).
    """
    if isinstance(obj, Quantity | Toggle):
        yield path, obj
        return
    if isinstance(obj, BaseModel):
        for name in type(obj).model_fields:
            yield from _walk(getattr(obj, name), (*path, name))
    elif isinstance(obj, Mapping):
        for key, value in obj.items():
            yield from _walk(value, (*path, key))
    elif isinstance(obj, list | tuple):
        for i, value in enumerate(obj):
            yield from _walk(value, (*path, i))


# ---------------------------------------------------------------------- drawing
def parameter_stream(seed: int, path: KeyPath | str, *, sub: int = 0) -> np.random.Generator:
    """Return the random generator of one parameter.

    ``numpy.random.default_rng(SeedSequence(seed, spawn_key=(h,)))`` where ``h``
    is the first 64 bits of the SHA-256 of the parameter's name. Streams of
    different parameters are statistically independent (the spawn-key mechanism
    of :class:`numpy.random.SeedSequence`) and do not depend on which other
    parameters exist.

    Parameters
    ----------
    seed : int
        The sweep's seed (non-negative).
    path : tuple or str
        Key path, or its rendered name.
    sub : int
        Index of an independent sub-stream of the same parameter (0 = the main one).

    Returns
    -------
    numpy.random.Generator
        A fresh generator.

    Examples
    --------
    >>> a = parameter_stream(1, "flows.x.tonnes").random(3)
    >>> b = parameter_stream(1, ("flows", "x", "tonnes")).random(3)
    >>> bool((a == b).all())
    True
    """
    if seed < 0:
        msg = f"seed must be a non-negative integer, got {seed}"
        raise ValueError(msg)
    name = path if isinstance(path, str) else format_path(path)
    digest = hashlib.sha256(name.encode("utf-8")).digest()
    key = int.from_bytes(digest[:8], "little")
    spawn_key = (key,) if sub == 0 else (key, int(sub))
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=spawn_key))


def tie_draws(seed: int, name: str, n: int) -> np.ndarray:
    """Return the shared uniform draws of one tie, one per sample.

    ``parameter_stream(seed, "tie:" + name).random(n)``: the stream of the text
    ``tie:<name>``, which no key path can spell (a rendered key path starts with a
    section name and a ``.``; ids hold no ``:``), so a tie's stream is never a
    parameter's. The draws depend only on ``(seed, name, sample number)``, and the
    first ``k`` of ``n`` are the draws of ``k``.

    Parameters
    ----------
    seed : int
        The sweep's seed.
    name : str
        The tie's name (``tie:`` in the scenario).
    n : int
        Number of samples.

    Returns
    -------
    numpy.ndarray
        ``n`` floats in [0, 1).

    Examples
    --------
    >>> bool((tie_draws(7, "cn_output", 5)[:3] == tie_draws(7, "cn_output", 3)).all())
    True
    """
    return parameter_stream(seed, f"tie:{name}").random(n)


def draw(spec: SamplingSpec | Scenario, n: int, seed: int) -> pd.DataFrame:
    """Draw ``n`` samples of every parameter.

    Parameters
    ----------
    spec : SamplingSpec or Scenario
        The parameters (a scenario is passed through :func:`find_parameters`).
    n : int
        Number of samples (≥ 0).
    seed : int
        Seed of the sweep; the same seed gives the same table.

    Returns
    -------
    pandas.DataFrame
        Index ``sample`` (0 … n−1); one float column per quantity and one bool
        column per toggle, named by key path.

    Notes
    -----
    A parameter drawn on its own uses its stream (:func:`parameter_stream`):

    * ``uniform``, ``triangular`` and a ``normal`` truncated on at least one side:
      the inverse CDF (:func:`inverse_cdf`) at ``u ~ U(0, 1)`` from
      :meth:`numpy.random.Generator.random` (the very numbers
      :meth:`~numpy.random.Generator.uniform`, :meth:`~numpy.random.Generator.triangular`
      and :data:`scipy.stats.truncnorm` draw from that stream); a degenerate
      ``low == high`` is constant.
    * ``normal(mean, sd)`` without truncation: :meth:`numpy.random.Generator.normal`.
    * ``choice(choices, weights)``: :meth:`numpy.random.Generator.choice` with the
      weights renormalised to sum to exactly 1.
    * toggle with probability ``p``: on when ``u < p``, ``u ~ U(0, 1)`` from the
      toggle's sub-stream 1; if ``p`` itself has a distribution, it is drawn from
      the main stream (the marginal probability of "on" is then the mean of ``p``).

    The parameters of one tie share ``u = tie_draws(seed, tie, n)``: a quantity is
    its distribution's inverse CDF at ``u`` (:func:`inverse_cdf`; every distribution,
    ``choice`` with its values in increasing order), so the members are comonotonic
    (rank correlation 1); a toggle is on when ``u < p``. Each member's marginal
    distribution is the same as drawn on its own.

    Examples
    --------
    >>> spec = SamplingSpec((Parameter(("a",), "quantity", Quantity(dist="uniform", low=0, high=1)),))
    >>> df = draw(spec, 4, seed=42)
    >>> df.shape, df.index.name
    ((4, 1), 'sample')
    >>> bool(df.equals(draw(spec, 4, seed=42)))
    True
    """
    if isinstance(spec, Scenario):
        spec = find_parameters(spec)
    if n < 0:
        msg = f"the number of samples must be ≥ 0, got {n}"
        raise ValueError(msg)
    shared = {tie: tie_draws(seed, tie, n) for tie in spec.ties}
    columns: dict[str, np.ndarray] = {}
    for p in spec:
        rng = parameter_stream(seed, p.path)
        if p.kind == "toggle":
            # the probability and the on/off draw use separate streams, so that the first k
            # samples of a sweep of n are the samples of a sweep of k
            u = shared[p.tie] if p.tie is not None else parameter_stream(seed, p.path, sub=1).random(n)
            prob = _sample_quantity(p.quantity, n, rng) if p.quantity.is_uncertain else np.full(n, p.quantity.central)
            columns[p.name] = u < np.clip(prob, 0.0, 1.0)
        elif p.tie is not None:
            columns[p.name] = inverse_cdf(p.quantity, shared[p.tie])
        else:
            columns[p.name] = _sample_quantity(p.quantity, n, rng)
    return pd.DataFrame(columns, index=pd.RangeIndex(n, name="sample"), columns=spec.names)


def _tri_mode(q: Quantity) -> float:
    return float(q.mode if q.mode is not None else q.central)


def _normal_mean(q: Quantity) -> float:
    return float(q.value if q.value is not None else q.mode if q.mode is not None else q.central)


def _truncnorm_args(q: Quantity) -> tuple[float, float, float, float]:
    mean = _normal_mean(q)
    sd = float(q.sd or 0.0)
    a = (q.low - mean) / sd if q.low is not None else -math.inf
    b = (q.high - mean) / sd if q.high is not None else math.inf
    return a, b, mean, sd


def _sample_quantity(q: Quantity, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` values of a quantity drawn on its own, from its stream ``rng`` (see :func:`draw`, Notes)."""
    if q.dist == "normal":
        a, b, mean, sd = _truncnorm_args(q)
        if math.isinf(a) and math.isinf(b):
            return rng.normal(mean, sd, n)
    if q.dist in ("uniform", "triangular", "normal"):
        return inverse_cdf(q, rng.random(n))
    if q.dist == "choice":
        choices = np.asarray(q.choices, dtype=float)
        if q.weights is None:
            return rng.choice(choices, size=n)
        w = np.asarray(q.weights, dtype=float)
        return rng.choice(choices, size=n, p=w / w.sum())
    return np.full(n, q.central)


def inverse_cdf(q: Quantity, u: np.ndarray) -> np.ndarray:
    r"""Inverse CDF of a quantity's distribution at the probabilities ``u`` (the one implementation).

    * uniform: :math:`l + u\,(h - l)`;
    * triangular (``l``, ``m``, ``h``), with :math:`b = h - l`: :math:`l + \sqrt{u\,(m - l)\,b}` for
      :math:`u \le (m - l)/b`, else :math:`h - \sqrt{(1 - u)\,(h - m)\,b}`, products grouped as
      :meth:`numpy.random.Generator.triangular` groups them, so that a draw on its own is that
      method's, bit for bit; ``l == h`` is constant;
    * normal, truncated to ``[low, high]`` (either open): :data:`scipy.stats.truncnorm` ``ppf``
      with ``a = (low − mean)/sd``, ``b = (high − mean)/sd`` (:data:`scipy.stats.norm` when both are open);
    * choice: the smallest value, in increasing order, whose cumulative weight reaches ``u``
      (a tolerance of 1e-12 absorbs the round-off of the cumulative sum), so that a larger ``u``
      never gives a smaller value;
    * no distribution: the central value.

    Parameters
    ----------
    q : Quantity
        The quantity.
    u : numpy.ndarray
        Probabilities in [0, 1].

    Returns
    -------
    numpy.ndarray
        One value per probability.

    Examples
    --------
    >>> inverse_cdf(Quantity(dist="triangular", low=0, mode=1, high=2), np.array([0.125, 0.5, 0.875])).tolist()
    [0.5, 1.0, 1.5]
    """
    u = np.asarray(u, dtype=float)
    if q.dist == "uniform":
        assert q.low is not None  # validated by Quantity
        assert q.high is not None
        return q.low + u * (q.high - q.low)
    if q.dist == "triangular":
        assert q.low is not None
        assert q.high is not None
        lo, mo, hi = float(q.low), _tri_mode(q), float(q.high)
        if lo == hi:
            return np.full(u.shape, lo)
        base = hi - lo
        left = lo + np.sqrt(u * ((mo - lo) * base))
        right = hi - np.sqrt((1.0 - u) * ((hi - mo) * base))
        return np.where(u <= (mo - lo) / base, left, right)
    if q.dist == "normal":
        from scipy.stats import truncnorm

        a, b, mean, sd = _truncnorm_args(q)
        return np.asarray(truncnorm.ppf(u, a, b, loc=mean, scale=sd), dtype=float)
    if q.dist == "choice":
        choices = np.asarray(q.choices, dtype=float)
        w = np.asarray(q.weights if q.weights is not None else [1.0] * len(choices), dtype=float)
        order = np.argsort(choices, kind="stable")
        cdf = np.cumsum(w[order]) / w.sum()
        idx = np.minimum(np.searchsorted(cdf, u - 1e-12), len(choices) - 1)
        return np.asarray(choices[order][idx], dtype=float)
    return np.full(u.shape, q.central)


def _quantiles(q: Quantity, probs: Sequence[float]) -> list[float]:
    """Quantiles of a quantity's distribution (exact, not sampled): :func:`inverse_cdf` at ``probs``."""
    return [float(x) for x in inverse_cdf(q, np.asarray(probs, dtype=float))]


def central_row(spec: SamplingSpec) -> pd.Series:
    """Every parameter at its central value (the deterministic run).

    Parameters
    ----------
    spec : SamplingSpec
        The parameters.

    Returns
    -------
    pandas.Series
        Indexed by parameter name.
    """
    return pd.Series({p.name: p.central for p in spec}, dtype=object)

_TOKEN = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def parse_path(name: str) -> KeyPath:
    """Parse a rendered key path back into keys and indices.

    Ids in the scenario language cannot contain ``.``, ``[`` or ``]``, so the
    rendering of :func:`~supplychain.errors.format_path` is unambiguous.

    Parameters
    ----------
    name : str
        E.g. ``facilities.mp.production[2024]``.

    Returns
    -------
    tuple of str or int
        Bracketed numbers become ints (list indices or integer mapping keys).

    Raises
    ------
    ValueError
        If the text is not a key path.

    Examples
    --------
    >>> parse_path("facilities.mp.owners[0].stake")
    ('facilities', 'mp', 'owners', 0, 'stake')
    """
    parts: list[str | int] = []
    pos = 0
    text = name.strip()
    while pos < len(text):
        if text[pos] == "." and parts:
            pos += 1
        m = _TOKEN.match(text, pos)
        if m is None:
            msg = f"not a key path: {name!r}"
            raise ValueError(msg)
        parts.append(m[1] if m[1] is not None else int(m[2]))
        pos = m.end()
    if not parts:
        msg = f"not a key path: {name!r}"
        raise ValueError(msg)
    return tuple(parts)


def apply(scenario: Scenario, sample_row: Mapping[str, Any] | pd.Series) -> Scenario:
    """Return a copy of the scenario with one sample's values patched in.

    A quantity keeps its provenance (``source``, ``assumption``, ``note``) and
    becomes a plain number: ``value`` is the sample, the distribution fields and
    ``tie`` are cleared, so the patched scenario is deterministic. A toggle's
    ``default`` is set to the sampled state (its ``probability`` and ``tie``
    cleared). Frozen models are rebuilt along each path with
    ``model_copy(update=...)``; untouched branches are shared, not copied.

    Parameters
    ----------
    scenario : Scenario
        The scenario the sample was drawn from.
    sample_row : mapping or pandas.Series
        Parameter name (key path) → value, e.g. one row of :func:`draw`.

    Returns
    -------
    Scenario
        The patched copy (the input is not changed).

    Raises
    ------
    KeyError
        If a name does not lead to a quantity or toggle of the scenario.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> s = Scenario.model_validate({
    ...     "scenario": {"name": "demo", "base_year": 2024},
    ...     "flows": {"cn_us": {"supplier": "CN", "buyer": "US", "commodity": "ndpr_oxide", "year": 2024,
    ...               "tonnes": {"dist": "uniform", "low": 10, "high": 20, "source": "usgs"}}},
    ... })
    >>> t = apply(s, {"flows.cn_us.tonnes": 12.5}).flows["cn_us"].tonnes
    >>> t.value, t.dist, t.source
    (12.5, None, 'usgs')
    """
    tree: dict[Any, Any] = {}
    items = sample_row.items()
    for name, value in items:
        path = parse_path(str(name))
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
            if not isinstance(node, dict):
                msg = f"{name!r} overlaps another patched path"
                raise KeyError(msg)
        node[path[-1]] = _Leaf(value, str(name))
    if not tree:
        return scenario
    patched = _patch(scenario, tree, ())
    assert isinstance(patched, Scenario)
    return patched


@dataclass(frozen=True)
class _Leaf:
    value: Any
    name: str


_CLEARED = {"dist": None, "low": None, "mode": None, "high": None, "sd": None, "choices": None, "weights": None,
            "tie": None}


def _patch(obj: Any, tree: dict[Any, Any], path: KeyPath) -> Any:
    if isinstance(obj, BaseModel):
        updates: dict[str, Any] = {}
        for key, sub in tree.items():
            if not isinstance(key, str) or key not in type(obj).model_fields:
                msg = f"{format_path((*path, key))} is not a field of {type(obj).__name__}"
                raise KeyError(msg)
            updates[key] = _patch_child(getattr(obj, key), sub, (*path, key))
        return obj.model_copy(update=updates)
    if isinstance(obj, Mapping):
        new = dict(obj)
        for key, sub in tree.items():
            k = _mapping_key(obj, key)
            if k is None:
                msg = f"{format_path((*path, key))} does not exist in the scenario"
                raise KeyError(msg)
            new[k] = _patch_child(obj[k], sub, (*path, k))
        return new
    if isinstance(obj, list):
        new_list = list(obj)
        for key, sub in tree.items():
            if not isinstance(key, int) or not 0 <= key < len(obj):
                msg = f"{format_path((*path, key))} does not exist in the scenario"
                raise KeyError(msg)
            new_list[key] = _patch_child(obj[key], sub, (*path, key))
        return new_list
    msg = f"cannot descend into {format_path(path)} ({type(obj).__name__})"
    raise KeyError(msg)


def _mapping_key(obj: Mapping[Any, Any], key: str | int) -> Any:
    if key in obj:
        return key
    alt: Any = str(key) if isinstance(key, int) else (int(key) if key.isdigit() else None)
    return alt if alt is not None and alt in obj else None


def _patch_child(child: Any, sub: Any, path: KeyPath) -> Any:
    if isinstance(sub, _Leaf):
        return _leaf_value(child, sub)
    return _patch(child, sub, path)


def _leaf_value(target: Any, leaf: _Leaf) -> Any:
    if isinstance(target, Quantity):
        value = float(leaf.value)
        if not math.isfinite(value):
            msg = f"{leaf.name}: sampled value {value} is not finite"
            raise ValueError(msg)
        return target.model_copy(update={"value": value, **_CLEARED})
    if isinstance(target, Toggle):
        return target.model_copy(update={"default": bool(leaf.value), "probability": None, "tie": None})
    msg = f"{leaf.name} is neither a quantity nor a toggle (it is a {type(target).__name__})"
    raise KeyError(msg)
