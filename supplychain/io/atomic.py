"""Safe output writes: never half a file, never anything that is not ours replaced.

Every file or folder the package writes goes through this module:

* **Atomic.** The content is written to a temporary name beside the target
  (``.NAME.PID.XXXXXXXX.tmp``) and moved onto it with :func:`os.replace`, so a
  reader (or a crash half-way) never sees a half-written output.
* **Only regular files are replaced.** A target that exists and is a folder, a
  device (``/dev/null``), a named pipe or a socket is refused with an
  :class:`OSError` naming it; nothing is written.
* **Symbolic links are written through.** A target that is a link is resolved
  first: the file it points to is replaced (atomically, in the link's target
  folder) and the link stays a link — as ``>`` does in a shell.
* **Leftovers are cleaned.** A temporary file or folder left by a process that
  was killed (SIGKILL, power loss) carries that process's id; the next write to
  the same target removes the ones whose process is gone
  (:func:`remove_stale`). SIGINT and SIGTERM clean up at once (the command line
  turns SIGTERM into a normal exit).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "atomic_write",
    "atomic_write_dir",
    "atomic_write_text",
    "check_writable",
    "file_kind",
    "output_path",
    "remove_stale",
    "replace_dir",
    "temp_dir",
    "temp_file",
]

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """Name the kind of a file that is not a regular one, from its ``st_mode``.

    Examples
    --------
    >>> import stat
    >>> file_kind(stat.S_IFIFO), file_kind(stat.S_IFDIR)
    ('a named pipe', 'a folder')
    """
    return next((what for test, what in _KINDS if test(mode)), "a special file")


def output_path(target: str | os.PathLike[str], *, folder: bool = False) -> Path:
    """Return where a write to ``target`` lands: symbolic links followed, non-regular targets refused.

    Parameters
    ----------
    target : path-like
        The output the user named.
    folder : bool, default False
        The output is a folder (a report): an existing folder is fine, a file is not.

    Returns
    -------
    Path
        The absolute path that will be replaced (``target`` itself unless it is a
        symbolic link); it may not exist yet.

    Raises
    ------
    OSError
        ``target`` is empty, or exists and is not what can be replaced: a folder
        (for a file), a file (for a folder), a device, a named pipe or a socket.
        ``filename`` is ``target`` as given.

    Examples
    --------
    >>> output_path("/dev/null")
    Traceback (most recent call last):
    ...
    OSError: [Errno 22] not a regular file (a character device); refusing to replace it: '/dev/null'
    """
    name = os.fspath(target)
    if not name:
        raise OSError(errno.EINVAL, "empty output path", name)
    final = Path(os.path.realpath(name))
    try:
        info = final.stat()
    except FileNotFoundError:
        return final
    if stat.S_ISDIR(info.st_mode):
        if folder:
            return final
        raise IsADirectoryError(errno.EISDIR, "is a folder; give a file name", name)
    if stat.S_ISREG(info.st_mode):
        if folder:
            raise NotADirectoryError(errno.ENOTDIR, "is a file, not a folder; choose another output", name)
        return final
    raise OSError(errno.EINVAL, f"not a regular file ({file_kind(info.st_mode)}); refusing to replace it", name)


def _cannot_write(target: str | os.PathLike[str], err: OSError, own: tuple[Path, ...]) -> OSError:
    """Say the error ``err`` met writing ``target`` as ``cannot write TARGET: reason`` (no temporary name).

    ``own`` are the paths of the write itself (the target, its temporary file or folder);
    a failure on one of them is the target's; on another path (a parent folder) it names that path too.
    """
    reason = err.strerror or str(err)
    where = os.fsdecode(err.filename) if err.filename is not None else ""
    if where and not any(Path(where) == p or Path(where).is_relative_to(p) for p in own):
        reason = f"{where}: {reason}"
    text = f"cannot write {os.fspath(target)}: {reason}"
    out = OSError(err.errno, text) if err.errno else OSError(text)  # with an errno: FileNotFoundError …
    out.strerror = text
    return out


def check_writable(target: str | os.PathLike[str], *, folder: bool = False) -> Path:
    """Check, before any work, that ``target`` can be written: :func:`output_path`, then a probe.

    The nearest folder of ``target`` that exists must be a folder in which a file can be
    created: a temporary file (named as :func:`remove_stale` knows) is created there and
    removed at once. The test is made by creating a file, not with :func:`os.access`, which
    says yes to root on a read-only file system (``/proc``).

    Returns
    -------
    Path
        As :func:`output_path`.

    Raises
    ------
    OSError
        ``cannot write TARGET: reason`` (its ``strerror``), or :func:`output_path`'s error.

    Examples
    --------
    >>> check_writable("/proc/x.svg")
    Traceback (most recent call last):
    ...
    FileNotFoundError: [Errno 2] cannot write /proc/x.svg: No such file or directory
    """
    final = output_path(target, folder=folder)
    probe = final.parent
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir():
        err = NotADirectoryError(errno.ENOTDIR, "is not a folder", os.fspath(probe))
        raise _cannot_write(target, err, ()) from None
    try:
        temp_file(probe / final.name).unlink()
    except OSError as err:
        raise _cannot_write(target, err, (probe,)) from None
    return final


def _prefix(target: Path) -> str:
    return f".{target.name}.{os.getpid()}."


_STALE = re.compile(r"\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]+\.(?:tmp|old)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. PermissionError: it exists, under another user
        return True
    return True


def remove_stale(target: str | os.PathLike[str]) -> list[Path]:
    """Remove temporary files and folders beside ``target`` left by processes that are gone.

    Only names this module makes for ``target`` (``.NAME.PID.XXXXXXXX.tmp`` and
    ``.NAME.PID.XXXXXXXX.old``) whose process no longer runs are removed.

    Returns
    -------
    list of Path
        What was removed.
    """
    path = Path(target)
    head = f".{path.name}"
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(head):
            continue
        match = _STALE.fullmatch(entry.name[len(head):])
        if match is None or _alive(int(match["pid"])):
            continue
        stale = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(stale)
            else:
                stale.unlink()
        except OSError:
            continue
        removed.append(stale)
    return removed


def temp_file(target: Path) -> Path:
    """Create an empty temporary file beside ``target`` (named for :func:`remove_stale`)."""
    fd, name = tempfile.mkstemp(prefix=_prefix(target), suffix=".tmp", dir=target.parent)
    os.close(fd)
    return Path(name)


def temp_dir(target: Path, suffix: str = ".tmp") -> Path:
    """Create an empty temporary folder beside ``target`` (named for :func:`remove_stale`)."""
    return Path(tempfile.mkdtemp(prefix=_prefix(target), suffix=suffix, dir=target.parent))


def _mode(final: Path) -> int:
    try:
        return stat.S_IMODE(final.stat().st_mode)
    except OSError:
        return 0o644  # a new file: readable by others (mkstemp makes 0600)


def atomic_write(target: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)`` and move the result onto ``target`` atomically.

    Parameters
    ----------
    target : path-like
        Final path; its folder is created when missing. A symbolic link is
        written through (see :func:`output_path`).
    write : callable
        Writes the content to the path it is given.

    Returns
    -------
    Path
        ``target`` as given.

    Raises
    ------
    OSError
        The target is not a regular file (:func:`output_path`), or its folder
        cannot be created or written; the temporary file is removed.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> atomic_write(d / "a.txt", lambda p: p.write_text("hi")).read_text()
    'hi'
    """
    return _write_atomically(target, write, folder=False)


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``target`` atomically (see :func:`atomic_write`)."""
    return atomic_write(target, lambda p: p.write_text(text, encoding="utf-8"))


def atomic_write_dir(target: str | os.PathLike[str], write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_folder)`` and put the folder in place of ``target`` in one rename.

    An existing ``target`` folder is moved aside (``.NAME.PID.XXXXXXXX.old``), the
    new one renamed into place, and the old one removed; if the second rename
    fails, the old folder is put back. Whether an existing folder may be replaced
    at all is the caller's decision, made before calling. ``write`` fills the
    (empty) folder it is given; a symbolic link to a folder is written through.
    Returns ``target`` as given.

    Raises
    ------
    OSError
        ``target`` is a file or a special file, or cannot be written; the
        temporary folder is removed and an existing ``target`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> out = atomic_write_dir(d / "r", lambda p: (p / "a.txt").write_text("hi"))
    >>> sorted(x.name for x in d.iterdir()), (out / "a.txt").read_text()
    (['r'], 'hi')
    """
    return _write_atomically(target, write, folder=True)


def _write_atomically(target: str | os.PathLike[str], write: Callable[[Path], object], *, folder: bool) -> Path:
    """Write a file or a folder beside ``target`` and rename it into place (the body of both public writers)."""
    final = output_path(target, folder=folder)
    try:
        final.parent.mkdir(parents=True, exist_ok=True)
        remove_stale(final)
        # mkstemp/mkdtemp make 0600/0700; outputs are for others to read (a replaced file keeps its mode)
        mode = 0o755 if folder else _mode(final)
        tmp = temp_dir(final) if folder else temp_file(final)
    except OSError as err:  # the folder cannot be made or written: say so of the user's path
        raise _cannot_write(target, err, (final.parent,)) from None
    try:
        write(tmp)
        tmp.chmod(mode)
        if folder:
            replace_dir(tmp, final)
        else:
            tmp.replace(final)
    except BaseException as err:
        if folder:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        if isinstance(err, OSError) and err.filename is not None and Path(os.fsdecode(err.filename)) in (tmp, final):
            raise _cannot_write(target, err, (tmp, final)) from None  # never the temporary name
        raise
    return Path(target)


def replace_dir(tmp: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Move the finished folder ``tmp`` onto ``out``; an existing ``out`` is swapped out, then removed.

    ``tmp`` must be a sibling of ``out`` (same file system), so each rename is
    atomic; the old folder is moved aside as ``.NAME.PID.XXXXXXXX.old`` (so a
    killed process's leftover is found by :func:`remove_stale`), and put back if
    the second rename fails.

    Returns
    -------
    Path
        ``out``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> (d / "new").mkdir(); _ = (d / "new" / "a").write_text("1")
    >>> replace_dir(d / "new", d / "out").joinpath("a").read_text()
    '1'
    """
    new, final = Path(tmp), Path(out)
    new.chmod(0o755)
    if not final.exists():
        new.rename(final)
        return final
    old = temp_dir(final, ".old")
    old.rmdir()
    final.rename(old)
    try:
        new.rename(final)
    except BaseException:
        old.rename(final)
        raise
    shutil.rmtree(old, ignore_errors=True)
    return final
