"""Reading scenario files (hardened YAML, composition of ``extends``, loading) and writing outputs safely.

The public entry points are :func:`load` (a file) and :func:`load_text` (YAML
text), which return a validated :class:`~supplychain.schema.model.Scenario` or
raise one :class:`~supplychain.errors.ScenarioError` listing every problem with
file:line:column; :func:`validate_paths` checks many files and folders at once.

What the package writes: every output atomically (:mod:`~supplychain.io.atomic`), and the
on-disk cache of sweep results (:mod:`~supplychain.io.cache`).
"""

from supplychain.io.compose import AppliedOverride, Provenance
from supplychain.io.load import FileReport, applied_overrides, load, load_text, problem_at, validate_paths

__all__ = [
    "AppliedOverride",
    "FileReport",
    "Provenance",
    "applied_overrides",
    "load",
    "load_text",
    "problem_at",
    "validate_paths",
]
