"""Outputs that are whole or absent: checks made before any work starts, and atomic writes.

* ``check_not_input``: an output that is the input (same resolved path, or the same file under
  another name: a hard link, a symlink) is refused before anything is opened.
* ``check_folder``: the folder an output goes into exists, is a folder, and takes a new file.
* ``atomic_file``: every file is written to its own temporary file in the target folder
  (``.NAME.PID-RANDOM.partial.SUFFIX``, made with ``O_EXCL`` so two writers never share one)
  and renamed over the target only when complete. A failure removes the temporary file, so
  nothing new is left in the folder. Temporary files left by killed processes (their PID no
  longer runs) are removed by the next write into the same folder.
* ``claim_new_file``: a name that does not exist yet, created exclusively (no check-then-create
  race between two windows).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

from colorme_live.core.errors import ColormeError, InputError

log = logging.getLogger(__name__)

PARTIAL_TAG = ".partial"


class OutputError(ColormeError):
    """An output cannot be written: missing or read-only folder, disk full, same as the input."""


def reason(e: BaseException) -> str:
    """The short reason of an OS error ("Read-only file system"), else its text."""
    strerror = getattr(e, "strerror", None)
    return strerror if isinstance(strerror, str) and strerror else str(e)


def same_file(a: Path, b: Path) -> bool:
    """True if ``a`` and ``b`` name the same file: equal resolved paths, or (both existing)
    the same device and inode (hard links, symlinks, bind mounts)."""
    try:
        if a.resolve() == b.resolve():
            return True
    except (OSError, RuntimeError):  # a symlink loop
        pass
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_not_input(inputs: Path | list[Path], output: Path, what: str = "output") -> None:
    """Raise ``InputError`` if ``output`` is one of ``inputs`` (before anything is opened)."""
    for source in [inputs] if isinstance(inputs, Path) else inputs:
        if same_file(source, output):
            raise InputError(
                f"the {what} {output} is the input {source}: choose another name "
                f"(it would be destroyed)"
            )


def check_folder(folder: Path, for_what: Path | None = None) -> None:
    """Raise ``OutputError`` unless ``folder`` exists, is a folder, and a file can be created
    in it (tried for real, with a temporary file that is removed at once)."""
    name = f"{for_what}" if for_what is not None else f"{folder}"
    if not folder.exists():
        raise OutputError(f"cannot write {name}: folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputError(f"cannot write {name}: {folder} is not a folder")
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".colorme-check."):
            pass
    except OSError as e:
        raise OutputError(f"cannot write {name}: {reason(e)}") from e


def make_folder(folder: Path) -> None:
    """Create ``folder`` (and its parents) if missing, then ``check_folder`` it."""
    if not folder.exists():
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(f"cannot create the folder {folder}: {reason(e)}") from e
    check_folder(folder)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def _temp_prefix(target: Path) -> str:
    return f".{target.name}."


def _temp_suffix(target: Path) -> str:
    return f"{PARTIAL_TAG}{target.suffix}"


def is_temp_file(name: str) -> bool:
    """True for a name ``atomic_file`` uses for its temporary files."""
    return _TEMP_RE.match(name) is not None


_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)-[A-Za-z0-9_]+\.partial(\.[^.]*)?$")
"""``.NAME.PID-RANDOM.partial.SUFFIX``, as ``new_temp_file`` names them."""


def clean_stale(folder: Path) -> list[Path]:
    """Remove the temporary files in ``folder`` left by colorme-live processes that no longer
    run (killed with ``kill -9``, or by a power cut); the paths removed. Files of running
    writers (this one included) are left alone."""
    removed: list[Path] = []
    try:
        names = [n for n in os.listdir(folder) if n.startswith(".") and PARTIAL_TAG in n]
    except OSError:
        return removed
    for name in names:
        match = _TEMP_RE.match(name)
        if match is None or _pid_alive(int(match["pid"])):
            continue
        path = folder / name
        try:
            path.unlink()
        except OSError as e:
            log.debug("cannot remove the stale %s: %s", path, e)
            continue
        log.info("removed %s, left by a process that was killed", path)
        removed.append(path)
    return removed


def new_temp_file(target: Path) -> Path:
    """A new, empty, uniquely named temporary file next to ``target`` (created with
    ``O_EXCL``). Stale ones of dead processes are removed first. Raises ``OutputError``."""
    check_target(target)
    clean_stale(target.parent)
    try:
        fd, name = tempfile.mkstemp(
            prefix=f"{_temp_prefix(target)}{os.getpid()}-",
            suffix=_temp_suffix(target),
            dir=target.parent,
        )
    except OSError as e:
        raise OutputError(f"cannot write {target}: {reason(e)}") from e
    os.close(fd)
    return Path(name)


def check_target(target: Path) -> None:
    """An output file's folder must exist and ``target`` must not be a folder."""
    folder = target.parent
    if not folder.exists():
        raise OutputError(f"cannot write {target}: folder {folder} does not exist")
    if not folder.is_dir():
        raise OutputError(f"cannot write {target}: {folder} is not a folder")
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a folder")


def discard(path: Path) -> None:
    """Remove ``path`` if it is there; never raises (used while another error is raised)."""
    try:
        path.unlink(missing_ok=True)
    except OSError as e:
        log.debug("cannot remove %s: %s", path, e)


def discard_if_empty(path: Path) -> None:
    """Remove ``path`` if it is an empty file (a claimed name nothing was written to)."""
    try:
        if path.stat().st_size == 0:
            path.unlink()
    except OSError:
        pass


def publish(temp: Path, target: Path) -> None:
    """Rename the finished ``temp`` over ``target`` (atomic on one file system)."""
    try:
        os.replace(temp, target)
    except OSError as e:
        discard(temp)
        raise OutputError(f"cannot write {target}: {reason(e)}") from e


@contextlib.contextmanager
def atomic_file(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write ``target``'s content to; on a normal exit it replaces
    ``target``; on any exception (KeyboardInterrupt included) it is removed."""
    temp = new_temp_file(target)
    try:
        yield temp
    except BaseException:
        discard(temp)
        raise
    publish(temp, target)


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """``target`` holds exactly ``data`` afterwards, or is unchanged (``OutputError``)."""
    with atomic_file(target) as temp:
        try:
            with temp.open("wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        except OSError as e:
            raise OutputError(f"cannot write {target}: {reason(e)}") from e


def claim_new_file(folder: Path, name_for: Callable[[int], str], *, attempts: int = 1000) -> Path:
    """Create, exclusively, the first free name ``name_for(1)``, ``name_for(2)``, ... in
    ``folder`` and return it (an empty file the caller now owns). Raises ``OutputError``."""
    last: OSError | None = None
    for n in range(1, attempts + 1):
        path = folder / name_for(n)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        except OSError as e:
            if e.errno == errno.EEXIST:
                continue
            last = e
            break
        os.close(fd)
        return path
    detail = reason(last) if last is not None else "no free name"
    raise OutputError(f"cannot create a new file in {folder}: {detail}")


def timestamped(prefix: str, suffix: str, now: datetime | None = None) -> Callable[[int], str]:
    """Names ``PREFIX-2024-05-01_14-03-22.mp4``, then ``...-2.mp4``, ``...-3.mp4``."""
    stamp = (now or datetime.now()).strftime("%Y-%m-%d_%H-%M-%S")

    def name(n: int) -> str:
        return f"{prefix}-{stamp}{suffix}" if n == 1 else f"{prefix}-{stamp}-{n}{suffix}"

    return name
