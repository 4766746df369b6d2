"""What a sweep may ask of the machine: memory for its tables, worker processes for its CPUs.

A sweep keeps every sample's inputs and measure values in memory (``8`` bytes a
value; while the chunks are assembled and the quantiles taken, about three copies
of the values). :func:`check_memory` refuses a sweep whose tables would take more
than :data:`MEMORY_SHARE` of the memory available now, before anything is drawn,
with the largest number of samples that would fit; :func:`usable_cpus` is the
number of CPUs this process may run on, the most worker processes that help.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

from supplychain.errors import SupplyChainError
from supplychain.processes import usable_cpus  # defined beside how worker processes start, importable alone

__all__ = ["MEMORY_SHARE", "SweepTooLargeError", "available_memory", "check_memory", "usable_cpus"]

MEMORY_SHARE: Final = 0.5
"""Largest share of the available memory a sweep's tables may take."""

VALUE_BYTES: Final = 8
"""Bytes per stored value (float64)."""


class SweepTooLargeError(SupplyChainError, ValueError):
    """A sweep's tables would not fit in memory; the message says how many samples would."""


def available_memory() -> int | None:
    """Bytes of memory available to new allocations now (Linux ``MemAvailable``), or ``None`` when unknown."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def _size(n: float) -> str:
    """Bytes in words: ``_size(3 * 2**40) == '3.0 TB'``."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if n < 1024:
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} PB"


def check_memory(samples: int, values_per_sample: int, *, available: int | None = None) -> None:
    """Refuse a sweep whose tables would take more than :data:`MEMORY_SHARE` of the available memory.

    Parameters
    ----------
    samples : int
        Number of samples.
    values_per_sample : int
        Values kept per sample (inputs, and three copies of the measures while
        they are assembled and summarised).
    available : int, optional
        Bytes available (default: :func:`available_memory`; no check when unknown).

    Raises
    ------
    SweepTooLargeError
        Saying how much memory it would need and how many samples fit.

    Examples
    --------
    >>> check_memory(1000, 50, available=2**30)
    >>> check_memory(10**7, 30_000, available=16 * 2**30)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    supplychain.uncertainty.resources.SweepTooLargeError: 10,000,000 samples of 30,000 values need about 2.2 TB ...
    """
    free = available_memory() if available is None else available
    if free is None:
        return
    per_sample = max(values_per_sample, 1) * VALUE_BYTES
    need = samples * per_sample
    budget = free * MEMORY_SHARE
    if need <= budget:
        return
    fits = int(budget // per_sample)
    msg = (f"{samples:,} samples of {values_per_sample:,} values need about {_size(need)} of memory, more than "
           f"half of the {_size(free)} available; use at most {fits:,} samples, or fewer measures "
           "(--measure, --country, --commodity, --years)")  # fmt: skip
    raise SweepTooLargeError(msg)
