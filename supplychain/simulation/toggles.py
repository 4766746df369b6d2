"""Resolve toggle states and the entities they switch on and off.

Order of precedence, lowest first (STYLE.md practice 2):

1. the ``default`` of each toggle in the scenario file;
2. the chosen ``variant`` (``variants.<name>.toggles``);
3. explicit overrides: ``toggles={"name": True}`` in the Python API,
   ``--toggle NAME=on|off`` on the command line.

Every toggle's final state is recorded with the layer that set it, so a user
can see why a policy was on. An entity that no toggle controls is always on; one
controlled by several toggles is on only when all of them are on. A toggle's
``switches_off`` lists entities the other way round: each is in force only while that
toggle is off (and every toggle controlling it is on), so one toggle can decide both
halves of one event (a renewed truce: its licences on, the controls it suspends off).

A toggle switches policies and agreements (they act on the year's trade edges,
:mod:`~supplychain.simulation.policies`) and also facilities, flows, stockpiles and
offtakes: :func:`apply_switches` returns the scenario without the switched-off ones,
*before* any table is built, so the world of that run simply does not have them — a
plant that is off never produces (a new plant declared with a ``commissioning_year``
is switched on and off this way), and a facility that is off takes the flows and
offtakes naming it with it. Controls name an entity by its id, or ``section.id``
where the id is used in two sections (``facilities.mp_10x``).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd

from supplychain.arguments import argument_problem
from supplychain.errors import Problem, ScenarioError
from supplychain.schema.model import Scenario
from supplychain.schema.references import did_you_mean, investment_projects, switchable_entities
from supplychain.schema.types import _parse_flag

__all__ = [
    "ToggleState",
    "apply_switches",
    "by_world",
    "check_cli_names",
    "controlled_entities",
    "parse_toggle_args",
    "read_overrides",
    "resolve_toggles",
    "run_key",
    "run_label",
    "same_runs",
    "switched_off_entities",
    "switches_world",
    "toggle_flag",
    "world_toggles",
]

_WORLD_SECTIONS = ("facilities", "flows", "stockpiles", "offtakes")
"""Sections whose switched-off entities :func:`apply_switches` removes from the scenario."""


@dataclass(frozen=True)
class ToggleState:
    """Resolved toggles of one run.

    Attributes
    ----------
    states : dict
        Toggle id → on (True) / off (False).
    set_by : dict
        Toggle id → ``"default"``, ``"variant:<name>"`` or ``"override"``.
    active : frozenset of str
        Ids of the policies and agreements in force.
    inactive : frozenset of str
        Policy and agreement ids switched off by a toggle.
    variant : str or None
        The variant applied.
    switched_off : frozenset of (str, str)
        ``(section, id)`` of the facilities, flows, stockpiles and offtakes switched off
        (:func:`apply_switches` removes them).
    notes : dict
        Toggle id → what the model cannot represent of the agreements it controls
        (:attr:`~supplychain.schema.model.Agreement.representation`, ``"<agreement>: <text>"``
        joined by ``"; "``); toggles without such agreements are absent.
    """

    states: dict[str, bool]
    set_by: dict[str, str]
    active: frozenset[str]
    inactive: frozenset[str]
    variant: str | None = None
    switched_off: frozenset[tuple[str, str]] = frozenset()
    notes: dict[str, str] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per toggle: ``toggle``, ``state``, ``set_by``, ``note`` (what is not representable, or empty)."""
        rows = [
            {"toggle": t, "state": "on" if on else "off", "set_by": self.set_by[t], "note": self.notes.get(t, "")}
            for t, on in sorted(self.states.items())
        ]
        return pd.DataFrame(rows, columns=["toggle", "state", "set_by", "note"])


def _unknown(name: str, known: Iterable[str], what: str, path: tuple[str | int, ...], source: str | None = None
             ) -> Problem:
    """Return the problem of an unknown name, with a did-you-mean hint.

    ``source``: where the name came from (``<cli>``, with ``path`` the option); default the API
    argument ``path[0]`` (``argument toggles=``, :func:`~supplychain.arguments.argument_problem`).
    """
    known = sorted(known)
    listed = f"known {what}s: {', '.join(known)}" if known else f"the scenario declares no {what}s"
    hint = did_you_mean(name, known, listed)
    if source is None:
        return argument_problem(str(path[0]), f"unknown {what} {name!r}", hint)
    return Problem(source, 0, 0, path, f"unknown {what} {name!r}", hint)


def toggle_flag(name: str, value: object, argument: str = "toggles") -> bool | Problem:
    """Read a toggle's state given in Python: ``True``/``False`` (numpy's too), or the command line's words.

    ``"on"``/``"off"`` (and ``yes``/``no``, ``true``/``false``, any case) are read as
    ``--toggle NAME=on|off`` reads them (:func:`~supplychain.schema.types._parse_flag`, the
    one parser of on/off words). Anything else — ``"maybe"``, ``1``, ``None`` — is a problem:
    Python's truthiness would read ``"off"`` as on.

    Parameters
    ----------
    name : str
        The toggle.
    value : object
        Its state as given.
    argument : str
        The argument it was given in (for the problem's location).

    Returns
    -------
    bool or Problem
        The state, or the problem of a value that is no state.

    Examples
    --------
    >>> import numpy as np
    >>> toggle_flag("deal", "off"), toggle_flag("deal", "ON"), toggle_flag("deal", np.bool_(True))
    (False, True, True)
    >>> print(toggle_flag("deal", "maybe"))
    argument toggles=: deal: 'maybe' is not on or off
        hint: give True or False (or 'on'/'off', as --toggle deal=on|off on the command line)
    """
    import numpy as np

    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, str):
        try:
            flag = _parse_flag(value)
        except ValueError:
            flag = None
        if isinstance(flag, bool):
            return flag
    return argument_problem(argument, f"{value!r} is not on or off",
                            f"give True or False (or 'on'/'off', as --toggle {name}=on|off on the command line)",
                            (name,))


def _read_overrides(scenario: Scenario, overrides: Mapping[str, object] | None, argument: str
                    ) -> tuple[dict[str, bool], list[Problem]]:
    """Read toggle overrides given in Python: the states of the known names, and the problems of the rest."""
    read: dict[str, bool] = {}
    problems: list[Problem] = []
    for t, on in (overrides or {}).items():
        if t not in scenario.toggles:
            problems.append(_unknown(t, scenario.toggles, "toggle", (argument, t)))
            continue
        flag = toggle_flag(t, on, argument)
        if isinstance(flag, Problem):
            problems.append(flag)
        else:
            read[t] = flag
    return read, problems


def read_overrides(scenario: Scenario, overrides: Mapping[str, object] | None, argument: str = "toggles"
                   ) -> dict[str, bool]:
    """Return toggle overrides given in Python as states: names checked, ``"off"`` read as off (:func:`toggle_flag`).

    What :func:`resolve_toggles` reads its ``overrides`` with; a sweep reads its
    ``toggles=`` (``fixed=`` of a toggle grid) with it before they reach its cache key.

    Raises
    ------
    ScenarioError
        Every unknown name (with a did-you-mean) and every state that is no on/off, at once,
        located at ``argument``.

    Examples
    --------
    >>> sc = Scenario.model_validate({"scenario": {"name": "t", "base_year": 2024},
    ...     "toggles": {"ban": {"default": True, "controls": ["cn_ban"]}}})
    >>> read_overrides(sc, {"ban": "off"})
    {'ban': False}
    """
    read, problems = _read_overrides(scenario, overrides, argument)
    if problems:
        raise ScenarioError(problems)
    return read


def run_label(variant: str | None, toggles: Mapping[str, object] | None) -> str:
    """Return a run's ``variant`` label: the variant's name, else ``"custom"`` with toggles set, else ``"base"``.

    Examples
    --------
    >>> run_label("full_ban", None), run_label(None, {"x": True}), run_label(None, None)
    ('full_ban', 'custom', 'base')
    """
    return variant if variant is not None else ("custom" if toggles else "base")


def resolve_toggles(
    scenario: Scenario,
    *,
    variant: str | None = None,
    overrides: Mapping[str, bool] | None = None,
) -> ToggleState:
    """Resolve toggle states: file defaults < variant < explicit overrides.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    variant : str, optional
        Name of a variant in ``scenario.variants``.
    overrides : mapping of str to bool, optional
        Explicit states (API ``toggles=`` or CLI ``--toggle``): ``True``/``False``, or the
        command line's ``"on"``/``"off"`` (:func:`toggle_flag`).

    Returns
    -------
    ToggleState
        States, who set each, and the active policy/agreement ids.

    Raises
    ------
    ScenarioError
        An unknown variant or toggle name (with a did-you-mean hint), or an override that
        is no on/off state (:func:`toggle_flag`); every problem is listed at once.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> sc = Scenario.model_validate({
    ...     "scenario": {"name": "t", "base_year": 2024},
    ...     "toggles": {"ban": {"default": False, "controls": ["cn_ban"]}},
    ... })
    >>> st = resolve_toggles(sc, overrides={"ban": True})
    >>> st.states, st.set_by
    ({'ban': True}, {'ban': 'override'})
    """
    problems: list[Problem] = []
    states = {t: bool(tog.default) for t, tog in scenario.toggles.items()}
    set_by = dict.fromkeys(states, "default")
    if variant is not None:
        if variant not in scenario.variants:
            problems.append(_unknown(variant, scenario.variants, "variant", ("variant",)))
        else:
            for t, on in scenario.variants[variant].toggles.items():
                if t not in states:
                    problems.append(_unknown(t, states, "toggle", ("variants", variant, "toggles", t), "<api>"))
                    continue
                states[t] = bool(on)
                set_by[t] = f"variant:{variant}"
    read, wrong = _read_overrides(scenario, overrides, "toggles")
    problems += wrong
    states.update(read)
    set_by.update(dict.fromkeys(read, "override"))
    if problems:
        raise ScenarioError(problems)
    controlled = controlled_entities(scenario)
    off = {e for t, of_t in controlled.items() if not states[t] for e in of_t}
    off |= {e for t, of_t in switched_off_entities(scenario).items() if states[t] for e in of_t}
    entities = set(scenario.policies) | set(scenario.agreements)
    off_ids = {eid for section, eid in off if section in ("policies", "agreements")}
    notes = {}
    for t, of_t in controlled.items():
        agreements = [eid for sec, eid in of_t if sec == "agreements"]
        texts = [f"{a}: {scenario.agreements[a].representation}" for a in agreements
                 if scenario.agreements[a].representation]
        if texts:
            notes[t] = "; ".join(texts)
    return ToggleState(
        states=states,
        set_by=set_by,
        active=frozenset(entities - off_ids),
        inactive=frozenset(entities & off_ids),
        variant=variant,
        switched_off=frozenset((sec, eid) for sec, eid in off if sec in _WORLD_SECTIONS),
        notes=notes,
    )


def controlled_entities(scenario: Scenario) -> dict[str, list[tuple[str, str]]]:
    """Toggle id → ``(section, id)`` of every entity it controls, in the order of its ``controls``.

    A name that is no switchable entity (:func:`~supplychain.schema.references.switchable_entities`)
    is read as a policy id, as the loader's reference check allows.

    Examples
    --------
    >>> sc = Scenario.model_validate({"scenario": {"name": "t", "base_year": 2024},
    ...     "policies": {"ban": {"type": "export_ban", "country": "CN", "start": 2025}},
    ...     "toggles": {"t": {"controls": ["ban"]}}})
    >>> controlled_entities(sc)
    {'t': [('policies', 'ban')]}
    """
    names = switchable_entities(scenario)
    return {t: [e for c in tog.controls for e in names.get(c, [("policies", c)])]
            for t, tog in scenario.toggles.items()}


def switched_off_entities(scenario: Scenario) -> dict[str, list[tuple[str, str]]]:
    """Toggle id → ``(section, id)`` of every entity it switches off while on (its ``switches_off``).

    Read as :func:`controlled_entities` reads ``controls``.

    Examples
    --------
    >>> sc = Scenario.model_validate({"scenario": {"name": "t", "base_year": 2024},
    ...     "policies": {"ban": {"type": "export_ban", "country": "CN", "start": 2025}},
    ...     "agreements": {"deal": {"name": "d", "parties": ["CN", "US"], "start": 2025}},
    ...     "toggles": {"t": {"controls": ["deal"], "switches_off": ["ban"]}}})
    >>> switched_off_entities(sc)
    {'t': [('policies', 'ban')]}
    >>> on, off = resolve_toggles(sc, overrides={"t": True}), resolve_toggles(sc, overrides={"t": False})
    >>> sorted(on.active), sorted(off.active)
    (['deal'], ['ban'])
    """
    names = switchable_entities(scenario)
    return {t: [e for c in tog.switches_off for e in names.get(c, [("policies", c)])]
            for t, tog in scenario.toggles.items() if tog.switches_off}


def world_toggles(scenario: Scenario) -> list[str]:
    """List the toggles that control a facility, flow, stockpile or offtake (a different world when off).

    Examples
    --------
    >>> sc = Scenario.model_validate({"scenario": {"name": "t", "base_year": 2024},
    ...     "policies": {"ban": {"type": "export_ban", "country": "CN", "start": 2025}},
    ...     "toggles": {"t": {"controls": ["ban"]}}})
    >>> world_toggles(sc)
    []
    """
    off = switched_off_entities(scenario)
    return sorted(t for t, entities in controlled_entities(scenario).items()
                  if any(sec in _WORLD_SECTIONS for sec, _ in [*entities, *off.get(t, [])]))


def switches_world(scenario: Scenario) -> bool:
    """Tell whether some toggle controls a facility, flow, stockpile or offtake (:func:`world_toggles`)."""
    return bool(world_toggles(scenario))


def apply_switches(scenario: Scenario, state: ToggleState) -> Scenario:
    """Return the scenario without the facilities, flows, stockpiles and offtakes its toggles switch off.

    A facility that is off takes with it the flows from or to it and the offtakes it
    supplies. Nothing else changes (the copy is not re-validated, so its provenance
    still locates problems in the files); with nothing switched off the scenario
    itself is returned.

    Parameters
    ----------
    scenario : Scenario
        The validated scenario.
    state : ToggleState
        Resolved toggles (:func:`resolve_toggles`).

    Returns
    -------
    Scenario

    Examples
    --------
    >>> sc = Scenario.model_validate({
    ...     "scenario": {"name": "t", "base_year": 2024},
    ...     "commodities": {"ore": {"name": "Ore", "stage": "ore"}},
    ...     "facilities": {"new_mine": {"name": "New", "country": "AU", "kind": "mine", "output": "ore",
    ...                                 "capacity": 100, "commissioning_year": 2026}},
    ...     "toggles": {"plant": {"default": False, "controls": ["new_mine"]}},
    ... })
    >>> sorted(apply_switches(sc, resolve_toggles(sc)).facilities), sorted(sc.facilities)
    ([], ['new_mine'])
    """
    if not state.switched_off:
        return scenario
    off = {sec: {eid for s, eid in state.switched_off if s == sec} for sec in _WORLD_SECTIONS}
    facilities = {k: v for k, v in scenario.facilities.items() if k not in off["facilities"]}
    projects = investment_projects(scenario)

    def gone(node: str) -> bool:
        return node in off["facilities"] or projects.get(node, "") in off["facilities"]

    flows = {k: f for k, f in scenario.flows.items()
             if k not in off["flows"] and not gone(f.supplier) and not gone(f.buyer)}
    agreements = {}
    for aid, ag in scenario.agreements.items():
        kept = [o for o in ag.offtakes if not gone(o.supplier) and (o.id is None or o.id not in off["offtakes"])]
        agreements[aid] = ag if len(kept) == len(ag.offtakes) else ag.model_copy(update={"offtakes": kept})
    stockpiles = {k: v for k, v in scenario.stockpiles.items() if k not in off["stockpiles"]}
    return scenario.model_copy(update={"facilities": facilities, "flows": flows, "agreements": agreements,
                                       "stockpiles": stockpiles})


def by_world(states: Sequence[ToggleState]) -> list[list[int]]:
    """Group resolved toggles by the world they leave: positions of the states that switch off the same entities.

    Two runs share a world when their :attr:`ToggleState.switched_off` are equal
    (:func:`apply_switches` then returns the same scenario for both).

    Parameters
    ----------
    states : sequence of ToggleState
        Resolved toggles (:func:`resolve_toggles`), one per run.

    Returns
    -------
    list of list of int
        Positions in ``states``, in their order; worlds in the order of their first state.

    Examples
    --------
    >>> off = ToggleState({}, {}, frozenset(), frozenset(), switched_off=frozenset({("facilities", "mine")}))
    >>> on = ToggleState({}, {}, frozenset(), frozenset())
    >>> by_world([on, off, on, off, off])
    [[0, 2], [1, 3, 4]]
    """
    return _grouped(states, lambda state: state.switched_off)


def run_key(state: ToggleState) -> tuple[frozenset[str], frozenset[tuple[str, str]]]:
    """Return what a run reads of its toggles: the policies and agreements in force and the entities switched off.

    Two runs with equal keys are one case, whatever their toggle states (``base`` and a
    variant that repeats the defaults; two toggles that control one policy, either of them
    off): :meth:`~supplychain.simulation.run.Simulator.run_many` simulates them once and
    :func:`supplychain.api.same_toggles` lists them together (:func:`same_runs`).

    Examples
    --------
    >>> a = ToggleState({"x": False}, {}, frozenset(), frozenset({"ban"}))
    >>> b = ToggleState({"y": False}, {}, frozenset(), frozenset({"ban"}))
    >>> run_key(a) == run_key(b)
    True
    """
    return state.active, state.switched_off


def same_runs(states: Sequence[ToggleState]) -> list[list[int]]:
    """Group resolved toggles into cases: positions of the states with equal :func:`run_key`.

    Returns
    -------
    list of list of int
        Positions in ``states``, in their order; cases in the order of their first state.

    Examples
    --------
    >>> on = ToggleState({}, {}, frozenset({"ban"}), frozenset())
    >>> dropped = ToggleState({}, {}, frozenset({"ban"}), frozenset(), switched_off=frozenset({("flows", "f")}))
    >>> same_runs([on, dropped, on])
    [[0, 2], [1]]
    """
    return _grouped(states, run_key)


def _grouped(states: Sequence[ToggleState], key: Callable[[ToggleState], Hashable]) -> list[list[int]]:
    """Positions of the states with equal ``key``, in their order; groups in the order of their first state."""
    groups: dict[Hashable, list[int]] = {}
    for i, state in enumerate(states):
        groups.setdefault(key(state), []).append(i)
    return list(groups.values())


def check_cli_names(scenario: Scenario, *, toggles: Iterable[str] = (), variants: Iterable[str] = (),
                    grid: Iterable[str] = ()) -> None:
    """Check toggle and variant names given on the command line against ``scenario``.

    The API reports an unknown name at its argument (``toggles.x``); given as
    ``--toggle x=on``, ``--variant x`` or ``--grid x`` it is reported at that option.

    Raises
    ------
    ScenarioError
        Every unknown name at once, each with a did-you-mean hint.

    Examples
    --------
    >>> from supplychain.schema.model import Scenario
    >>> sc = Scenario.model_validate({
    ...     "scenario": {"name": "t", "base_year": 2024},
    ...     "toggles": {"ban": {"default": False, "controls": ["cn_ban"]}},
    ... })
    >>> check_cli_names(sc, toggles=["bann"])
    Traceback (most recent call last):
    ...
    supplychain.errors.ScenarioError: 1 problem found:
    <cli>: --toggle.bann: unknown toggle 'bann'
        hint: did you mean 'ban'?
    """
    problems = [_unknown(t, scenario.toggles, "toggle", ("--toggle", t), "<cli>")
                for t in toggles if t not in scenario.toggles]
    problems += [_unknown(v, scenario.variants, "variant", ("--variant", v), "<cli>")
                 for v in variants if v != "base" and v not in scenario.variants]
    problems += [_unknown(g, scenario.toggles, "toggle", ("--grid", g), "<cli>")
                 for g in grid if g not in scenario.toggles]
    if problems:
        raise ScenarioError(problems)


def parse_toggle_args(args: Iterable[str]) -> dict[str, bool]:
    """Parse command-line ``NAME=on|off`` pairs into overrides.

    Parameters
    ----------
    args : iterable of str
        Items such as ``"us_japan_deal=on"``; ``yes/no`` and ``true/false`` work too.

    Returns
    -------
    dict of str to bool

    Raises
    ------
    ScenarioError
        A malformed item or state.

    Examples
    --------
    >>> parse_toggle_args(["deal=on", "ban=off"])
    {'deal': True, 'ban': False}
    """
    out: dict[str, bool] = {}
    problems: list[Problem] = []
    for arg in args:
        name, sep, value = arg.partition("=")
        try:
            flag = _parse_flag(value) if sep else None
        except ValueError as exc:
            flag = None
            problems.append(Problem("<cli>", 0, 0, ("--toggle",), f"{arg!r}: {exc}", "write NAME=on or NAME=off"))
            continue
        if not isinstance(flag, bool) or not name.strip():
            hint = "write NAME=on or NAME=off"
            problems.append(Problem("<cli>", 0, 0, ("--toggle",), f"malformed toggle {arg!r}", hint))
            continue
        out[name.strip()] = flag
    if problems:
        raise ScenarioError(problems)
    return out
