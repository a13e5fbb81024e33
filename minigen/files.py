"""Writing files: atomically (a reader sees the old file or the new one, never half of one), and output
paths checked at the edge, before any work starts, so a path that cannot be written is one line (a
`UserError`, exit code 2) instead of a traceback after minutes of work."""

from __future__ import annotations

import os
from pathlib import Path

from minigen.errors import UserError


def atomic_write(path: Path, write) -> None:
    """write(tmp_path) then rename over path."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _first_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def output_dir(path: Path, flag: str = "--out") -> Path:
    """Create directory `path` (and its parents) or refuse in one line: a file where a directory should
    be, or a place this process cannot write."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{flag} {path} is a file; give a directory (it will be created if missing)")
    base = _first_existing(path)
    if not base.is_dir():
        raise UserError(f"{flag} {path}: {base} is a file, so no directory can be made there; "
                        f"choose another path")
    if not os.access(base, os.W_OK | os.X_OK):
        raise UserError(f"{flag} {path}: {base} is not writable; choose a directory you can write")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(f"{flag} {path} cannot be created ({e.strerror}); choose another directory") from None
    return path


def output_file(path: Path, flag: str = "--out") -> Path:
    """Check that file `path` can be written (its directory is created): not a directory, not in a place
    this process cannot write."""
    path = Path(path)
    if path.is_dir():
        raise UserError(f"{flag} {path} is a directory; give a file name")
    output_dir(path.parent, flag=f"{flag} {path}: its directory")
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"{flag} {path} is not writable; choose another file")
    return path
