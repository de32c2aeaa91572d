"""API keys: each with a name and one or more roles, configured by their SHA-256 digest
only, never the key itself.

The configuration is JSON, in a file (`serve --keys FILE`) or in the environment
(`SLA_LEDGER_API_KEYS`):

    {"keys": [{"name": "billing", "roles": ["finance"], "sha256": "<64 hex digits>"}]}

`sla-ledger keys new --name billing --role finance` makes a key and prints the entry to
add. A key is 32 random bytes, so one SHA-256 (no salt, no stretching) is enough to keep
it from whoever reads the configuration: there is nothing to guess. A request's key is
hashed and looked up by its digest, so no comparison ever runs over the key itself, and
neither the key nor its digest is ever logged or echoed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from consumers.configuration import configured_list
from consumers.http.roles import Role, parse_role
from ledger.errors import LedgerError

KEYS_ENV = "SLA_LEDGER_API_KEYS"
KEY_PREFIX = "slk_"
_DIGEST = re.compile(r"[0-9a-f]{64}")


class KeysConfigError(LedgerError):
    """The API keys' configuration cannot be used (the server does not start)."""


@dataclass(frozen=True)
class ApiKey:
    name: str
    roles: frozenset[Role]


def digest(key: str) -> str:
    """The SHA-256 of a key, as the configuration holds it."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def config_entry(name: str, roles: list[Role], key: str) -> dict[str, Any]:
    """The configuration entry of `key` (its digest, never the key)."""
    return {"name": name, "roles": [r.value for r in roles], "sha256": digest(key)}


class Keyring:
    """The configured keys by digest."""

    def __init__(self, keys: dict[str, ApiKey]) -> None:
        self._by_digest = keys

    def __len__(self) -> int:
        return len(self._by_digest)

    def holder(self, key: str) -> ApiKey | None:
        """The key's name and roles, or None for a key that is not configured."""
        return self._by_digest.get(digest(key))


def load_keyring(path: Path | None, environ: Mapping[str, str]) -> Keyring:
    """The keys of the file at `path`, else of `$SLA_LEDGER_API_KEYS`, else none (a
    server without keys answers every protected call with 401)."""
    found = configured_list(path, "--keys", environ, KEYS_ENV, "keys", KeysConfigError)
    return Keyring({}) if found is None else parse_entries(*found)


def add_entry(path: Path, entry: dict[str, Any]) -> None:
    """Add `entry` to the keys file at `path` (made, readable by its owner only, if
    missing). The file is checked as `serve` reads it, with the entry added, before it
    is replaced whole, so a name used twice or a damaged file changes nothing."""
    entries: list[Any] = []
    if path.exists():
        found = configured_list(path, "--add-to", {}, KEYS_ENV, "keys", KeysConfigError)
        assert found is not None
        entries = found[1]
    parse_entries(f"--add-to {path}", [*entries, entry])
    text = json.dumps({"keys": [*entries, entry]}, indent=2) + "\n"
    partial = path.with_name(path.name + ".partial")
    try:
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise KeysConfigError(f"--add-to {path}: cannot write it: {exc.strerror}") from None


def parse_entries(where: str, entries: list[Any]) -> Keyring:
    """The keys of the configuration's list (`where`: what to call it in errors)."""
    keys: dict[str, ApiKey] = {}
    names: set[str] = set()
    for index, entry in enumerate(entries):
        at = f"{where}: keys[{index}]"
        if not isinstance(entry, dict):
            raise KeysConfigError(f"{at}: expected an object with name, roles and sha256")
        name, roles, sha = entry.get("name"), entry.get("roles"), entry.get("sha256")
        if not isinstance(name, str) or not name:
            raise KeysConfigError(f"{at}.name: required, a non-empty string")
        if name in names:
            raise KeysConfigError(f"{at}.name: {name!r} is used twice; give each key its own")
        if not isinstance(roles, list) or not roles or not all(isinstance(r, str) for r in roles):
            raise KeysConfigError(f"{at}.roles: required, a non-empty list of role names")
        try:
            held = frozenset(parse_role(r) for r in roles)
        except ValueError as exc:
            raise KeysConfigError(f"{at}.roles: {exc}") from None
        if not isinstance(sha, str) or not _DIGEST.fullmatch(sha):
            raise KeysConfigError(
                f"{at}.sha256: required, the key's SHA-256 as 64 lowercase hex digits "
                "(never the key itself)"
            )
        if sha in keys:
            raise KeysConfigError(f"{at}.sha256: the same key is configured twice")
        names.add(name)
        keys[sha] = ApiKey(name, held)
    return Keyring(keys)
