"""Resolve toggle states and the policies and agreements they switch on.

Order of precedence, lowest first (STYLE.md practice 2):

1. the ``default`` of each toggle in the scenario file;
2. the chosen ``variant`` (``variants.<name>.toggles``);
3. explicit overrides: ``toggles={"name": True}`` in the Python API,
   ``--toggle NAME=on|off`` on the command line.

Every toggle's final state is recorded with the layer that set it, so a user
can see why a policy was on. A policy or agreement that no toggle controls is
always on; one controlled by several toggles is on only when all of them are on.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from supplychain.errors import Problem, ScenarioError
from supplychain.schema.model import Scenario
from supplychain.schema.types import _parse_flag

__all__ = ["ToggleState", "check_cli_names", "parse_toggle_args", "resolve_toggles"]


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
        Ids switched off by a toggle.
    variant : str or None
        The variant applied.
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
    notes: dict[str, str] = field(default_factory=dict)

    def table(self) -> pd.DataFrame:
        """One row per toggle: ``toggle``, ``state``, ``set_by``, ``note`` (what is not representable, or empty)."""
        rows = [
            {"toggle": t, "state": "on" if on else "off", "set_by": self.set_by[t], "note": self.notes.get(t, "")}
            for t, on in sorted(self.states.items())
        ]
        return pd.DataFrame(rows, columns=["toggle", "state", "set_by", "note"])


def _unknown(name: str, known: Iterable[str], what: str, path: tuple[str | int, ...], source: str = "<api>"
             ) -> Problem:
    """Return the problem of an unknown name, with a did-you-mean hint (``source``: where the name came from)."""
    known = sorted(known)
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        hint = f"did you mean {close[0]!r}?"
    elif known:
        hint = f"known {what}s: {', '.join(known)}"
    else:
        hint = f"the scenario declares no {what}s"
    return Problem(source, 0, 0, path, f"unknown {what} {name!r}", hint)


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
        Explicit states (API ``toggles=`` or CLI ``--toggle``).

    Returns
    -------
    ToggleState
        States, who set each, and the active policy/agreement ids.

    Raises
    ------
    ScenarioError
        An unknown variant or toggle name (with a did-you-mean hint); every
        unknown name is listed at once.

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
            problems.append(_unknown(variant, scenario.variants, "variant", ("variants", variant)))
        else:
            for t, on in scenario.variants[variant].toggles.items():
                if t not in states:
                    problems.append(_unknown(t, states, "toggle", ("variants", variant, "toggles", t)))
                    continue
                states[t] = bool(on)
                set_by[t] = f"variant:{variant}"
    for t, on in (overrides or {}).items():
        if t not in scenario.toggles:
            problems.append(_unknown(t, scenario.toggles, "toggle", ("toggles", t)))
            continue
        states[t] = bool(on)
        set_by[t] = "override"
    if problems:
        raise ScenarioError(problems)
    entities = set(scenario.policies) | set(scenario.agreements)
    off: set[str] = set()
    for t, tog in scenario.toggles.items():
        if not states[t]:
            off.update(tog.controls)
    notes = {}
    for t, tog in scenario.toggles.items():
        texts = [f"{a}: {scenario.agreements[a].representation}" for a in tog.controls
                 if a in scenario.agreements and scenario.agreements[a].representation]
        if texts:
            notes[t] = "; ".join(texts)
    return ToggleState(
        states=states,
        set_by=set_by,
        active=frozenset(entities - off),
        inactive=frozenset(entities & off),
        variant=variant,
        notes=notes,
    )


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
