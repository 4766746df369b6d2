"""Apply one sample to a scenario: key paths parsed back, values patched into a frozen copy.

:func:`parse_path` reads a parameter name (a rendered key path such as
``facilities.mp.production[2024]``) back into keys; :func:`apply` returns a copy
of the scenario with one row of sampled values patched in, quantities made
deterministic and toggles set. Both are re-exported by
:mod:`supplychain.uncertainty.sampling`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd
from pydantic import BaseModel

from supplychain.errors import KeyPath, format_path
from supplychain.schema.model import Scenario, Toggle
from supplychain.schema.types import Quantity

__all__ = ["apply", "parse_path"]

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
    becomes a plain number: ``value`` is the sample, the distribution fields are
    cleared, so the patched scenario is deterministic. A toggle's ``default`` is
    set to the sampled state. Frozen models are rebuilt along each path with
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


_CLEARED = {"dist": None, "low": None, "mode": None, "high": None, "sd": None, "choices": None, "weights": None}


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
        return target.model_copy(update={"default": bool(leaf.value), "probability": None})
    msg = f"{leaf.name} is neither a quantity nor a toggle (it is a {type(target).__name__})"
    raise KeyError(msg)
