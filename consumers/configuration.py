"""Configuration a process reads when it starts: a JSON document holding one list under
one key, in a file an option names, else in an environment variable (API keys, webhook
subscriptions). Where it came from is said in every error, in one line, and a document
that is not JSON or has no such list is refused before any entry is read."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ledger.errors import LedgerError


def configured_list(
    path: Path | None,
    option: str,
    environ: Mapping[str, str],
    variable: str,
    key: str,
    error: type[LedgerError],
) -> tuple[str, list[Any]] | None:
    """Where the document was (for messages) and its list under `key`, read from the
    file at `path` (given as `option`), else from `$variable`; None when neither is
    set. Anything unusable raises `error`."""
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise error(f"{option} {path}: cannot read it: {exc.strerror}") from None
        where = f"{option} {path}"
    else:
        text = environ.get(variable, "")
        if not text.strip():
            return None
        where = f"${variable}"
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise error(f"{where}: not JSON ({exc})") from None
    listed = document.get(key) if isinstance(document, dict) else None
    if not isinstance(listed, list):
        raise error(f'{where}: expected {{"{key}": [...]}}')
    return where, listed
