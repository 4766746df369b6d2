"""Progress bars for long sweeps: rich in a terminal, tqdm in a notebook, silent otherwise.

:func:`progress_bar` picks the display from where the code runs:

* ``quiet=True`` or ``kind="none"`` → nothing is shown;
* inside a Jupyter kernel → :mod:`tqdm.auto` (a widget when ``ipywidgets`` is
  installed, plain text otherwise);
* on a terminal (standard error is a TTY) → a :mod:`rich` progress bar on stderr;
* anywhere else (pipes, CI logs, pytest) → nothing, unless ``kind="lines"`` is asked for
  (the ``sweep`` command does when its standard error is not a terminal): one plain line
  on stderr at the start and one each tenth of the work, for a log or a pipe.

A caller may also pass a plain callable ``f(done, total)`` to receive updates.
"""

from __future__ import annotations

import sys
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal, Protocol

__all__ = ["ProgressBar", "ProgressLike", "in_notebook", "progress_bar"]

ProgressKind = Literal["auto", "rich", "tqdm", "lines", "none"]
ProgressLike = bool | str | Callable[[int, int], object] | None
"""What ``progress=`` accepts: ``None``/``True`` (auto), ``False`` (silent), a kind name, or ``f(done, total)``."""


class ProgressBar(Protocol):
    """What a sweep needs from a progress display."""

    def advance(self, n: int = 1) -> None:
        """Record ``n`` more finished items."""


class _Silent:
    def advance(self, n: int = 1) -> None:
        """Do nothing."""


class _Callback:
    def __init__(self, func: Callable[[int, int], object], total: int) -> None:
        self.func = func
        self.total = total
        self.done = 0

    def advance(self, n: int = 1) -> None:
        """Count and report ``(done, total)``."""
        self.done += n
        self.func(self.done, self.total)


class _Lines:
    """One plain line on stderr at the start and at each tenth of ``total`` (a log, a pipe: no bar)."""

    def __init__(self, description: str, total: int) -> None:
        self.description, self.total, self.done, self.shown = description, total, 0, 0
        self.start = time.monotonic()
        self._line()

    def _line(self) -> None:
        seconds = time.monotonic() - self.start
        share = 100 * self.done // max(self.total, 1)
        print(f"{self.description}: {self.done:,}/{self.total:,} ({share} %), {seconds:.0f} s", file=sys.stderr,
              flush=True)

    def advance(self, n: int = 1) -> None:
        """Count ``n`` more; print a line when a further tenth of the work is done."""
        self.done += n
        tenth = 10 * self.done // max(self.total, 1)
        if tenth > self.shown:
            self.shown = tenth
            self._line()


class _Rich:
    def __init__(self, progress: Any, task: Any) -> None:
        self.progress = progress
        self.task = task

    def advance(self, n: int = 1) -> None:
        """Advance the rich task."""
        self.progress.advance(self.task, n)


class _Tqdm:
    def __init__(self, bar: Any) -> None:
        self.bar = bar

    def advance(self, n: int = 1) -> None:
        """Advance the tqdm bar."""
        self.bar.update(n)


def in_notebook() -> bool:
    """Tell whether the code runs inside a Jupyter kernel.

    Returns
    -------
    bool
        Whether an IPython kernel (``ZMQInteractiveShell``) is active.
    """
    ipython = sys.modules.get("IPython")
    if ipython is None or "ipykernel" not in sys.modules:
        return False
    get = getattr(ipython, "get_ipython", None)
    shell = get() if get is not None else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _resolve(kind: ProgressLike, quiet: bool) -> ProgressKind | Callable[[int, int], object]:
    if quiet or kind is False:
        return "none"
    if callable(kind):
        return kind
    if kind is None or kind is True or kind == "auto":
        if in_notebook():
            return "tqdm"
        stream = sys.stderr
        isatty = getattr(stream, "isatty", None)
        return "rich" if isatty is not None and isatty() else "none"
    if kind in ("rich", "tqdm", "lines", "none"):
        return kind  # type: ignore[return-value]
    msg = f"unknown progress display {kind!r}; use 'auto', 'rich', 'tqdm', 'lines', 'none', a bool or a callable"
    raise ValueError(msg)


@contextmanager
def progress_bar(
    total: int, description: str = "samples", *, kind: ProgressLike = None, quiet: bool = False
) -> Iterator[ProgressBar]:
    """Show progress of ``total`` items; the display is closed on exit.

    Parameters
    ----------
    total : int
        Number of items (samples) to expect.
    description : str
        Label shown next to the bar.
    kind : None, bool, str or callable
        ``None``/``True``/``"auto"``: choose from the environment (see module
        docstring); ``False``/``"none"``: silent; ``"rich"``, ``"tqdm"`` or ``"lines"``
        (plain lines on stderr, one per tenth): force one; a callable: called as ``f(done, total)`` after each update.
    quiet : bool
        Silence every display (overrides ``kind``).

    Yields
    ------
    ProgressBar
        Call ``.advance(n)`` as items finish.

    Raises
    ------
    ValueError
        If ``kind`` names no known display.

    Examples
    --------
    >>> seen = []
    >>> with progress_bar(3, kind=lambda done, total: seen.append((done, total))) as bar:
    ...     bar.advance(2)
    ...     bar.advance(1)
    >>> seen
    [(2, 3), (3, 3)]
    """
    from supplychain.report.escape import clean_text

    description = clean_text(description)  # a scenario's name must not drive the terminal
    chosen = _resolve(kind, quiet)
    if callable(chosen):
        yield _Callback(chosen, total)
        return
    if chosen == "none":
        yield _Silent()
        return
    if chosen == "lines":
        yield _Lines(description, total)
        return
    if chosen == "tqdm":
        with warnings.catch_warnings():
            # tqdm.auto warns when ipywidgets is missing and falls back to text; that is fine here.
            warnings.simplefilter("ignore")
            from tqdm.auto import tqdm

            bar = tqdm(total=total, desc=description, unit="sample", leave=True)
        try:
            yield _Tqdm(bar)
        finally:
            bar.close()
        return
    from rich.console import Console
    from rich.markup import escape as rich_escape
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=False,
    )
    with progress:
        task = progress.add_task(rich_escape(description), total=total)
        yield _Rich(progress, task)
