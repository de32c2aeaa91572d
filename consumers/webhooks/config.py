"""Webhook subscriptions, from a JSON file or the environment.

    {"subscriptions": [
        {"name": "billing", "url": "https://erp.example/hooks/sla",
         "secret": "whsec_...", "event_types": ["sla.credit.issued", "sla.alert.raised"]}
    ]}

`--config FILE` names the file; without it `$SLA_LEDGER_WEBHOOKS` holds the same JSON
text. A secret may instead be named by `secret_env`, the environment variable that holds
it, so the file itself holds none. `event_types` is optional (default: the credit types,
`sla.credit.issued` and `sla.credit.reversed`, as before alerts existed: a receiver built
for credits is not sent alerts it never asked for); alerts (`sla.alert.raised`) are sent
to a subscription that lists them.

A secret is the Standard Webhooks form `whsec_` + base64 of the key. It is never
printed: not by `repr`, not in an error (which names the subscription and the field).
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from consumers.cloud_events import CREDITS, EVENT_TYPES, FEEDS, Feed
from consumers.configuration import configured_list
from consumers.errors import UsageError

CONFIG_ENV = "SLA_LEDGER_WEBHOOKS"
NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_KEYS = {"name", "url", "secret", "secret_env", "event_types"}


@dataclass(frozen=True)
class Subscription:
    name: str
    url: str
    secret: str = field(repr=False)
    event_types: frozenset[str] = CREDITS.types

    @property
    def position_name(self) -> str:
        """Its tracked position and lease in the credits feed."""
        return self.feed_position(CREDITS)

    def feed_position(self, feed: Feed) -> str:
        """Its tracked position and lease in one feed: one per subscription and feed.
        The credits' is `webhooks:NAME`, as before alerts existed, so the positions
        subscriptions already have keep their meaning; other feeds add `:FEED` (a name
        cannot hold a colon, so no subscription's name is another's feed)."""
        base = f"webhooks:{self.name}"
        return base if feed is CREDITS else f"{base}:{feed.name}"

    def feeds(self) -> list[Feed]:
        """The feeds holding a type it wants: only those are delivered from."""
        return [feed for feed in FEEDS if feed.types & self.event_types]

    def wants(self, event_type: str) -> bool:
        return event_type in self.event_types


def load_subscriptions(
    path: Path | None, environ: Mapping[str, str] = os.environ
) -> list[Subscription]:
    """The subscriptions `path` lists, else `$SLA_LEDGER_WEBHOOKS`'s (none if unset)."""
    found = configured_list(path, "--config", environ, CONFIG_ENV, "subscriptions", UsageError)
    if found is None:
        return []
    where, listed = found
    subscriptions = [_subscription(where, n, item, environ) for n, item in enumerate(listed)]
    names = [s.name for s in subscriptions]
    if len(set(names)) != len(names):
        raise UsageError(f"{where}: subscription names must be unique, got {names}")
    return subscriptions


def _subscription(where: str, n: int, item: Any, environ: Mapping[str, str]) -> Subscription:
    if not isinstance(item, dict):
        raise UsageError(f"{where}: subscription {n} is not an object")
    name = item.get("name")
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise UsageError(
            f"{where}: subscription {n}: name must be 1-64 of a-z 0-9 _ . - , got {name!r}"
        )
    at = f"{where}: subscription {name}"
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise UsageError(f"{at}: unknown field(s) {unknown} (known: {sorted(_KEYS)})")
    url = item.get("url")
    if not isinstance(url, str) or not re.match(r"https?://[^/\s]+", url):
        raise UsageError(f"{at}: url must be an http:// or https:// URL")
    secret = _secret(at, item, environ)
    types = item.get("event_types", sorted(CREDITS.types))
    if (
        not isinstance(types, list)
        or not types
        or not all(isinstance(t, str) and t in EVENT_TYPES for t in types)
    ):
        raise UsageError(f"{at}: event_types must be a non-empty list of {list(EVENT_TYPES)}")
    return Subscription(name, url, secret, frozenset(types))


def _secret(at: str, item: Mapping[str, Any], environ: Mapping[str, str]) -> str:
    if ("secret" in item) == ("secret_env" in item):
        raise UsageError(f"{at}: give exactly one of secret and secret_env")
    if "secret_env" in item:
        variable = item["secret_env"]
        if not isinstance(variable, str) or variable not in environ:
            raise UsageError(f"{at}: secret_env names no set environment variable")
        secret = environ[variable]
    else:
        secret = item["secret"]
    if not isinstance(secret, str) or not secret.startswith("whsec_"):
        raise UsageError(f"{at}: the secret must be whsec_ followed by base64")
    try:
        key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError):
        raise UsageError(f"{at}: the secret must be whsec_ followed by base64") from None
    if len(key) < 24:
        raise UsageError(f"{at}: the secret's key is {len(key)} bytes; give 24 to 64")
    return secret
