"""Where the replay commands read and write, as Unix tools do.

`-` is stdin or stdout. A device, pipe or socket (`/dev/stdout`, `/dev/stdin`, a named
pipe) is read or written directly, in order, without seeking. A regular output file is
written to `OUT.partial` and renamed over `OUT` only when the replay finished, so a failed
run never leaves half an output (a `.partial` left by a killed run is overwritten by the
next), unless the replay streams its output line by line. Missing folders and unreadable or
unwritable paths are InputErrors (exit 2).
"""

from __future__ import annotations

import io
import os
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from sidecar.errors import InputError

__all__ = ["STDIO", "Input", "display_name", "open_input", "open_output"]

STDIO = "-"


def display_name(path: str, stdio: str) -> str:
    """How messages name `path` (`-` reads as `<stdin>` or `<stdout>`)."""
    return stdio if path == STDIO else path


@dataclass(frozen=True, slots=True)
class Input:
    """An open text input: the stream, and its size in bytes when it is a regular file."""

    stream: TextIO
    size: int | None

    def position(self) -> int | None:
        """Bytes read so far (a buffer ahead of the parser), or None when not seekable."""
        if self.size is None:
            return None
        return os.lseek(self.stream.fileno(), 0, os.SEEK_CUR)


@contextmanager
def open_input(src: str, encoding: str = "utf-8") -> Iterator[Input]:
    """`src` as text (newline translation off, for the csv module); `-` is stdin."""
    if src == STDIO:
        stream = io.TextIOWrapper(sys.stdin.buffer, encoding=encoding, newline="")
        try:
            yield Input(stream, None)
        finally:
            stream.detach()  # stdin stays open for the caller
        return
    try:
        fh = open(src, newline="", encoding=encoding)  # noqa: SIM115 (closed below)
        mode = os.fstat(fh.fileno()).st_mode
    except OSError as exc:
        raise InputError(src, None, f"cannot read: {exc.strerror}") from None
    with fh:
        yield Input(fh, os.fstat(fh.fileno()).st_size if stat.S_ISREG(mode) else None)


@contextmanager
def open_output(dst: str, *, atomic: bool = True) -> Iterator[TextIO]:
    """A text stream for `dst` (`-` is stdout). An `atomic` regular file appears only when
    complete; otherwise it is written in place, line by line (a streaming replay's output
    then keeps every line written before an error)."""
    if dst == STDIO:
        yield sys.stdout
        sys.stdout.flush()
        return
    path = Path(dst)
    if not path.parent.is_dir():
        raise InputError(dst, None, f"cannot write: folder {str(path.parent)!r} does not exist")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        mode = stat.S_IFREG
    except OSError as exc:
        raise InputError(dst, None, f"cannot write: {exc.strerror}") from None
    if stat.S_ISDIR(mode):
        raise InputError(dst, None, "cannot write: it is a folder")
    direct = not (atomic and stat.S_ISREG(mode))  # a device, pipe or socket: never replace it
    target = path if direct else path.with_name(path.name + ".partial")
    try:
        fh = open(target, "w", newline="", encoding="utf-8")  # noqa: SIM115 (closed below)
    except OSError as exc:
        raise InputError(dst, None, f"cannot write: {exc.strerror}") from None
    if direct:
        with fh:
            yield fh
        return
    try:
        with fh:
            yield fh
        os.replace(target, path)
    finally:
        target.unlink(missing_ok=True)
