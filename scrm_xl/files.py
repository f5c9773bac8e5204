"""Replacing a file whole or not at all: every file scrm_xl writes goes through here. And where
the bundled templates are, and the error for a workbook that cannot be written (here, not in
write.py, so the faces can catch it without loading the writer before the renderer forks)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path


class WriteError(Exception):
    """The workbook could not be written; the message says why in plain words."""

    exit_code = 2


def templates_dir() -> Path:
    """The bundled templates: inside the installed package, else the source checkout's templates/."""
    packaged = resources.files("scrm_xl") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "templates"


@contextlib.contextmanager
def replacing(target: str | os.PathLike[str], *, mode: int | None = None) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; when the block ends without error the file
    written there is flushed to disk and renamed over ``target``, otherwise it is removed and
    ``target`` is left as it was.

    ``mode``: the new file's permissions; by default the replaced file's own, or what a plain
    new file would get (mkstemp makes temporary files private).
    """
    target = Path(target)
    final_mode = _mode_for(target) if mode is None else mode
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        _fsync(tmp, os.O_RDONLY)
        os.chmod(tmp, final_mode)
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # make the rename itself durable; not possible on every platform
    with contextlib.suppress(OSError):
        _fsync(target.parent, os.O_RDONLY)


def _fsync(path: Path, flags: int) -> None:
    fd = os.open(path, flags)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _mode_for(target: Path) -> int:
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
