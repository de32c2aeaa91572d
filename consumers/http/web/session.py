"""Signed-in sessions: an API key given once on the sign-in form, then a random session
token in a cookie (HttpOnly, SameSite=Strict), so the key never sits in the browser.

Sessions live in this process's memory: a restart signs everyone out, which for a desk
of dispute handlers is a sign-in again, not a loss. A session idle for `IDLE_SECONDS`
ends; at most `MOST` are kept (the longest idle goes first), so no number of sign-ins
can grow the process without bound.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict

from consumers.http.keys import ApiKey

COOKIE = "sla_ledger_session"
IDLE_SECONDS = 8 * 3600
MOST = 10_000


class Sessions:
    def __init__(self, *, idle_seconds: float = IDLE_SECONDS, most: int = MOST) -> None:
        self._idle = idle_seconds
        self._most = most
        self._held: OrderedDict[str, tuple[ApiKey, float]] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, holder: ApiKey) -> str:
        """A new session for `holder`: its token, for the cookie."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._held[token] = (holder, time.monotonic())
            while len(self._held) > self._most:
                self._held.popitem(last=False)
        return token

    def holder(self, token: str | None) -> ApiKey | None:
        """Who the session `token` belongs to (None: no such session, or it idled out);
        a use keeps it alive."""
        if not token:
            return None
        now = time.monotonic()
        with self._lock:
            found = self._held.get(token)
            if found is None:
                return None
            holder, seen = found
            if now - seen > self._idle:
                del self._held[token]
                return None
            self._held[token] = (holder, now)
            self._held.move_to_end(token)
            return holder

    def close(self, token: str | None) -> None:
        with self._lock:
            self._held.pop(token or "", None)
