"""Reading a JSON Lines input (a file, or `-` for standard input) line by line, with
bounded memory whatever it holds: the file intake and `publish --from-file` both read
their input through `file_lines`.
"""

from __future__ import annotations

import contextlib
import hashlib
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Final

from consumers.intake.validation import MAX_EVENT_BYTES
from consumers.interrupts import StopRequest

STDIN: Final = Path("-")
STDIN_ORIGIN: Final = "<stdin>"
_BYTE_ORDER_MARK: Final = b"\xef\xbb\xbf"


def input_name(path: Path) -> str:
    """The file an input's origin names: the absolute path, or `<stdin>` for `-`."""
    return STDIN_ORIGIN if path == STDIN else str(path.resolve())


def input_size(path: Path) -> int | None:
    """The bytes a file holds, when known before reading it (a regular file): a progress
    bar's total. Standard input, a pipe or a device has none."""
    if path == STDIN:
        return None
    status = path.stat()
    return status.st_size if stat.S_ISREG(status.st_mode) else None


_CHUNK: Final = 65_536


@dataclass(frozen=True)
class InputLine:
    """One line of a JSON Lines input, without its line break. A line longer than
    `MAX_EVENT_BYTES` is never held whole: `raw` is its first `MAX_EVENT_BYTES` bytes,
    and `size` and `sha256` describe the whole line (`oversize` is then True)."""

    number: int
    raw: bytes
    size: int
    sha256: str | None = None

    @property
    def oversize(self) -> bool:
        return self.sha256 is not None


def file_lines(path: Path, stop: StopRequest | None = None) -> Iterator[InputLine]:
    """The lines of a JSON Lines file (`-`: standard input), read with bounded memory
    whatever the input (a line of 5 GiB, /dev/zero). A UTF-8 byte order mark that an
    editor put at the start of the file is not part of the first line; anywhere else it
    is part of the input (and rejected).

    With `stop`, each open and read of the input is a window in which a signal ends the
    wait at once (`StopReading`): standard input or a FIFO may wait for ever."""
    window = stop.reading if stop is not None else contextlib.nullcontext
    with contextlib.ExitStack() as stack:
        if path == STDIN:
            # A closed standard input (`<&-`) is refused before: `cli.input_path`.
            assert sys.stdin is not None
            handle: BinaryIO = sys.stdin.buffer
        else:
            with window():
                handle = stack.enter_context(path.open("rb"))
        number = 0
        while True:
            with window():
                line = handle.readline(MAX_EVENT_BYTES + 2)  # + "\r\n"
            if not line:
                return
            number += 1
            whole = line.endswith(b"\n") or len(line) < MAX_EVENT_BYTES + 2
            if number == 1:
                line = line.removeprefix(_BYTE_ORDER_MARK)
            if whole:
                yield InputLine(number, _without_break(line), len(_without_break(line)))
                continue
            # Longer than any input may be: keep its head, count and hash the rest as it
            # streams past, up to its line break, never holding it.
            digest = hashlib.sha256()
            size = 0
            held = b""  # a "\r" that may end the line, held back until the next chunk
            chunk = line
            while True:
                data = held + chunk
                ended = data.endswith(b"\n")
                if ended:
                    data = _without_break(data)
                    held = b""
                elif data.endswith(b"\r"):
                    data, held = data[:-1], b"\r"
                else:
                    held = b""
                digest.update(data)
                size += len(data)
                if ended:
                    break
                with window():
                    chunk = handle.readline(_CHUNK)
                if not chunk:
                    digest.update(held)
                    size += len(held)
                    break
            yield InputLine(number, line[:MAX_EVENT_BYTES], size, digest.hexdigest())


def _without_break(line: bytes) -> bytes:
    return line.rstrip(b"\n").rstrip(b"\r")


Progress = Callable[[int, int | None, int], None]  # (bytes read, bytes in all, inputs read)
