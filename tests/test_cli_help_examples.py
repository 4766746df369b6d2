"""Every example in a command's ``--help`` names options, scenario files and toggles that exist.

A reader copies the examples of ``supplychain <command> --help``; on main the ``graph`` example named
``scenarios/us_japan.yaml``, a toggle ``china_ban`` and ``--compare-toggle us_japan_deal``, none of which exist.
The examples are read from the commands' help text (the text ``--help`` prints), each ``supplychain …`` line with
the indented lines that continue it, and checked against the command line itself (its options) and the bundled
scenarios (paths relative to the repository root, toggles of the scenario each example names).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from supplychain.cli.app import app
from supplychain.io import load

ROOT = Path(__file__).resolve().parent.parent

SCENARIO_COMMANDS = frozenset({"validate", "run", "compare", "sweep", "graph", "report"})
"""Commands whose first argument is a scenario file (or a folder of them)."""

TOGGLE_OPTIONS = frozenset({"-t", "--toggle", "--compare-toggle", "--grid"})
"""Options whose value names a toggle (``-t NAME=on`` or a bare ``NAME``)."""


def _commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """Every command of the (typer-built click) ``group``, by its words (``("import", "baci")``)."""
    for name, cmd in sorted(group.commands.items()):
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, (*prefix, name))
        else:
            yield (*prefix, name), cmd


def examples(help_text: str) -> list[list[str]]:
    """The ``supplychain …`` command lines of a help text (a line not starting a command continues the last one).

    >>> examples("Do it.\\n\\nExample:\\n\\n    supplychain run a.yaml -t x=on  # note\\n    --year 2030\\n")
    [['supplychain', 'run', 'a.yaml', '-t', 'x=on', '--year', '2030']]
    """
    commands: list[list[str]] = []
    seen = False
    for raw in help_text.splitlines():
        if raw.strip().startswith("Example"):
            seen = True
            continue
        words = shlex.split(raw.rstrip().removesuffix("\\"), comments=True) if seen else []  # a shell's \ continues
        if words[:1] == ["supplychain"]:
            commands.append(words)
        elif words and commands:
            commands[-1] += words
    return commands


CASES = [(path, cmd, argv) for path, cmd in _commands(typer.main.get_command(app))
         for argv in examples(cmd.help or "")]  # fmt: skip


def test_every_command_with_a_scenario_has_an_example() -> None:
    assert {path[0] for path, _, _ in CASES} >= SCENARIO_COMMANDS


@pytest.mark.parametrize(("path", "cmd", "argv"), CASES, ids=[" ".join(argv) for _, _, argv in CASES])
def test_help_example_names_what_exists(path: tuple[str, ...], cmd: Any, argv: list[str]) -> None:
    assert argv[: 1 + len(path)] == ["supplychain", *path], "the example runs the command it documents"
    args = argv[1 + len(path):]
    options = {opt: param for param in cmd.params for opt in (*param.opts, *param.secondary_opts)}
    positional: list[str] = []
    given: list[tuple[str, str | None]] = []
    i = 0
    while i < len(args):
        token = args[i]
        if token.startswith("-"):
            name, eq, inline = token.partition("=")
            assert name in options, f"{name} is not an option of `supplychain {' '.join(path)}`"
            param = options[name]
            if getattr(param, "is_flag", False):
                given.append((name, None))
            elif eq:
                given.append((name, inline))
            else:
                i += 1
                given.append((name, args[i]))
        else:
            positional.append(token)
        i += 1
    scenario = next((v for k, v in given if k == "--scenario"), None)
    if path[0] in SCENARIO_COMMANDS:
        assert positional, "the example names a scenario"
        scenario = positional[0]
    if scenario is None:
        return
    target = ROOT / scenario
    assert target.exists(), f"{scenario} does not exist"
    toggles = [v.partition("=")[0] for k, v in given if k in TOGGLE_OPTIONS and v is not None]
    if toggles:
        assert target.is_file(), "toggles are named for one scenario file"
        known = load(target).toggles
        assert [t for t in toggles if t not in known] == [], f"unknown toggle(s) for {scenario}"
