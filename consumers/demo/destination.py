"""Where the demo writes: only into its directory, and only over what it wrote there
itself (`DemoDirectory`); a store given with --store must be new or empty
(`refuse_a_store_in_use`). The demo's month and its credit entries are fictitious and
permanent: they must never replace or mix with a user's own ledger.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from contextlib import suppress
from pathlib import Path

from consumers.errors import UsageError
from ledger.errors import LedgerError
from ledger.inbound import RejectedInputError
from ledger.strict_json import parse_strict_json
from projections.store import LedgerStore, parse_store_url

# What the demo writes into its directory, and nothing else.
MARKER = ".sla-ledger-demo.json"
LEDGER_FILE = "ledger.db"
# SQLite's companions of the store file: there while it is open, or after a crash.
LEDGER_COMPANIONS = ("ledger.db-wal", "ledger.db-shm", "ledger.db-journal")
# The month in two parts: what producers sent up to part-way through it, then the rest.
MONTH_FILES = ("events-2026-10-part-1.jsonl", "events-2026-10-part-2.jsonl")
CORRECTION_FILE = "late-correction.jsonl"
BUNDLE_DIR = "audit-bundle"
DEMO_PATHS = (LEDGER_FILE, *LEDGER_COMPANIONS, *MONTH_FILES, CORRECTION_FILE, BUNDLE_DIR)


class DemoDirectory:
    """The demo's `--dir`: it writes there only over what it wrote there itself.

    A user's own files (a closed ledger named ledger.db, above all) must never be
    replaced by the demo's. Before writing anything else the demo writes `MARKER`,
    naming every path it is about to write; when it is done, the marker holds each
    file's SHA-256. A later run recognises its own output by that: a file the marker
    names with the same bytes (or, from a run that did not finish, with no digest yet)
    is the demo's; anything else is someone else's, and the demo refuses to run there
    unless told to (`--force`). Reading a SQLite store changes none of its bytes, so
    running the printed commands (all of them read) leaves the directory the demo's.
    Only the demo's fixed paths (`DEMO_PATHS`) are ever removed, never a path read from
    the marker, which anyone can edit.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.files: dict[str, str | None] = {}

    def claim(self, *, force: bool) -> None:
        """Refuse a directory holding what the demo did not write, unless `force`."""
        if self.directory.exists() and not self.directory.is_dir():
            raise UsageError(
                f"demo: --dir {_printable(str(self.directory))} is not a directory: choose another"
            )
        foreign = self.foreign_entries()
        if foreign and not force:
            listed = ", ".join(_printable(name) for name in foreign[:3]) + (
                f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
            )
            raise UsageError(
                f"demo: --dir {_printable(str(self.directory))} holds {listed}, which the demo "
                "did not write: "
                f"choose another --dir, or pass --force (it replaces {LEDGER_FILE}, "
                f"{', '.join(MONTH_FILES)}, {CORRECTION_FILE} and {BUNDLE_DIR}/ there, nothing "
                "else)"
            )

    def foreign_entries(self) -> list[str]:
        """The entries of the directory the demo did not write, as relative paths (a
        directory with a trailing slash, its contents not listed)."""
        if not self.directory.is_dir():
            return []
        written = self._written()
        foreign: list[str] = []
        if written is None:  # a marker the demo cannot read is not the demo's
            foreign.append(MARKER)
            written = {}

        def visit(folder: Path, prefix: str) -> None:
            for entry in sorted(folder.iterdir()):
                name = prefix + entry.name
                if not prefix and name in (MARKER, MARKER + ".tmp"):
                    continue
                if entry.is_symlink():
                    foreign.append(name)
                elif entry.is_dir():
                    if name + "/" in written:  # claimed whole by a run that did not finish
                        continue
                    if any(path.startswith(name + "/") for path in written):
                        visit(entry, name + "/")
                    else:
                        foreign.append(name + "/")
                elif not _is_demo_file(entry, written.get(name, _NOT_WRITTEN)):
                    foreign.append(name)

        visit(self.directory, "")
        return foreign

    def start(self, *, with_store: bool) -> None:
        """Name what this run writes (first), then remove the demo's earlier output.

        A directory that cannot be made or written (read-only, immutable, under /proc, a
        file in its path) is a `DemoDirectoryError` naming it and the system's reason;
        what this call created on the way (directories, the marker's temporary file) is
        removed again.
        """
        created = _missing_directories(self.directory)
        planned = [*MONTH_FILES, CORRECTION_FILE, *LEDGER_COMPANIONS]
        if with_store:
            planned.append(LEDGER_FILE)
        # The bundle's files are not known before it is written: claim its directory.
        self.files = dict.fromkeys([*planned, f"{BUNDLE_DIR}/"])
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._write_marker(self.files)
        except OSError as exc:
            with suppress(OSError):
                (self.directory / (MARKER + ".tmp")).unlink(missing_ok=True)
            for folder in reversed(created):  # the deepest first; only if still empty
                with suppress(OSError):
                    folder.rmdir()
            reason = exc.strerror or "it cannot be written"
            raise DemoDirectoryError(
                f"demo: cannot write into --dir {_printable(str(self.directory))}: "
                f"{reason[:1].lower() + reason[1:]}; choose a directory you can write to"
            ) from None
        for name in DEMO_PATHS:
            _remove(self.directory / name)

    def finish(self) -> None:
        """Record the digest of every file written, so later runs know them."""
        files: dict[str, str | None] = dict.fromkeys(LEDGER_COMPANIONS)
        for folder, _dirs, names in os.walk(self.directory):
            for name in names:
                path = Path(folder) / name
                relative = path.relative_to(self.directory).as_posix()
                ours = relative in self.files or relative.startswith(f"{BUNDLE_DIR}/")
                if ours and relative not in LEDGER_COMPANIONS:
                    files[relative] = _sha256(path)
        self._write_marker(files)

    def _written(self) -> dict[str, str | None] | None:
        """The marker's files: none when there is no marker, None when there is one the
        demo cannot read (too large, not strict JSON, not the demo's shape). Anyone may
        have written it, so it is parsed as untrusted bytes are (`parse_strict_json`)."""
        path = self.directory / MARKER
        try:
            with path.open("rb") as handle:
                raw = handle.read(_MARKER_MAX_BYTES + 1)
        except FileNotFoundError:
            return {}
        except OSError:
            return None
        if len(raw) > _MARKER_MAX_BYTES:
            return None
        try:
            document = parse_strict_json(raw)
        except RejectedInputError:
            return None
        files = document.get("files") if isinstance(document, dict) else None
        if not isinstance(files, dict):
            return None
        return {
            str(name): value if isinstance(value, str) else None for name, value in files.items()
        }

    def _write_marker(self, files: dict[str, str | None]) -> None:
        document = {
            "written_by": "sla-ledger demo",
            "about": "the files the demo wrote here, with their SHA-256 (null: being written); "
            "the demo replaces only these",
            "files": dict(sorted(files.items())),
        }
        temporary = self.directory / (MARKER + ".tmp")
        temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        temporary.replace(self.directory / MARKER)


_NOT_WRITTEN = "not written by the demo"
_MARKER_MAX_BYTES = 16 * 1024 * 1024  # far more than the demo writes (a few KiB)


class DemoDirectoryError(LedgerError):
    """The demo's --dir cannot be made or written."""


def _missing_directories(directory: Path) -> list[Path]:
    """The directories `mkdir(parents=True)` would create for `directory`, outermost first."""
    missing: list[Path] = []
    path = directory.absolute()
    while not path.exists() and path != path.parent:
        missing.append(path)
        path = path.parent
    return missing[::-1]


def _is_demo_file(path: Path, digest: str | None) -> bool:
    """Whether the marker's entry for `path` (a digest, None while being written, or
    `_NOT_WRITTEN`) makes it the demo's."""
    if digest is None:
        return True
    return digest != _NOT_WRITTEN and _sha256(path) == digest


def _printable(name: str) -> str:
    """A file name fit for a one-line message: control and bidirectional characters
    (a newline, U+202E) escaped, so that a name can neither break the line nor reverse it."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in name)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _remove(path: Path) -> None:
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.is_dir():
        shutil.rmtree(path)


def refuse_a_store_in_use(store_url: str) -> None:
    """`demo --store` takes only a new or empty store: the demo's fictitious month and
    its credit entries are permanent, and would be mixed into a user's ledger."""
    dialect, params = parse_store_url(store_url)
    if dialect == "sqlite":
        path = Path(params["path"])
        if path.exists() and not (path.is_file() and path.stat().st_size == 0):
            raise UsageError(
                f"demo: --store: {_printable(str(path))} already exists; the demo writes only "
                "into a new or empty store (its entries are permanent): give a new file, or "
                "leave --store out to use the store in --dir"
            )
        return
    with LedgerStore(store_url, access="create") as store:
        empty = store.is_empty()
    if not empty:
        raise UsageError(
            "demo: --store already holds records; the demo writes only into a new or empty "
            "store (its entries are permanent): give an empty database, or leave --store out "
            "to use the store in --dir"
        )
