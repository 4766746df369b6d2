r"""A command's ``--help`` text from its docstring, laid out for the terminal's width.

typer's rich help keeps every newline of a docstring and wraps again at the terminal's
width, so a hard-wrapped paragraph reads as lines of one or two words at 80 columns, and a
long example command wraps without ``\`` (pasting half a command runs it). :func:`help_text`
joins each prose paragraph into one line (rich wraps it) and cuts an example line longer than
:data:`WIDTH` into ``\``-continued lines that can be copied and pasted as they are.
"""

from __future__ import annotations

import inspect

__all__ = ["WIDTH", "help_text"]

WIDTH = 72
"""Longest example line kept whole: rich indents the help by one column and the example by four, so at 80 columns
a line of 72 characters and its `` \\`` still fit."""


def _units(tokens: list[str]) -> list[str]:
    """Group an option with its value (``--year 2030``) so a cut never separates them."""
    units: list[str] = []
    for tok in tokens:
        if units and units[-1].startswith("-") and " " not in units[-1] and not tok.startswith("-"):
            units[-1] += f" {tok}"
        else:
            units.append(tok)
    return units


def _cut(line: str) -> list[str]:
    r"""Cut one example line into ``\``-continued lines of at most :data:`WIDTH` characters (where it can).

    Examples
    --------
    >>> line = "    supplychain sweep scenarios/baseline_2024.yaml --mode exposure --samples 5000 --seed 7 -w 2"
    >>> for x in _cut(line):
    ...     print(x)
        supplychain sweep scenarios/baseline_2024.yaml --mode exposure \
            --samples 5000 --seed 7 -w 2
    """
    indent = line[: len(line) - len(line.lstrip())]
    body, _, comment = line.strip().partition("  # ")
    out = [f"{indent}# {comment.strip()}"] if comment else []
    if len(indent) + len(body) <= WIDTH:
        return [*out, indent + body]
    lines: list[str] = []
    current = ""
    for unit in _units(body.split()):
        lead = indent if not lines else indent + "    "
        if current and len(lead) + len(current) + 1 + len(unit) + 2 > WIDTH:
            lines.append(lead + current + " \\")
            current = unit
        else:
            current = f"{current} {unit}" if current else unit
    lines.append((indent + "    " if lines else indent) + current)
    return [*out, *lines]


def help_text(doc: str | None) -> str:
    r"""Lay out a docstring for ``--help``: prose paragraphs joined, long example lines cut with ``\``.

    A paragraph (lines between blank lines) whose lines are all indented is an example and
    keeps its lines; any other paragraph becomes one line.

    Examples
    --------
    >>> print(help_text('''Do a thing.
    ...
    ...     A first paragraph,
    ...     hard-wrapped.
    ...
    ...     Example:
    ...
    ...         supplychain run a.yaml
    ...     '''))
    Do a thing.
    <BLANKLINE>
    A first paragraph, hard-wrapped.
    <BLANKLINE>
    Example:
    <BLANKLINE>
        supplychain run a.yaml
    """
    text = inspect.cleandoc(doc or "")
    paragraphs = []
    for para in text.split("\n\n"):
        lines = para.split("\n")
        if all(line.startswith("    ") for line in lines if line.strip()):
            joined: list[str] = []  # a command continued with \ is one line, cut again to the width
            for line in lines:
                if joined and joined[-1].endswith("\\"):
                    joined[-1] = joined[-1][:-1].rstrip() + " " + line.strip()
                else:
                    joined.append(line)
            paragraphs.append("\n".join(cut for line in joined for cut in _cut(line)))
        else:
            paragraphs.append(" ".join(line.strip() for line in lines))
    return "\n\n".join(paragraphs)
