"""Signed-in sessions: an API key given once on the sign-in form, then a random session
token in a cookie (HttpOnly, SameSite=Strict), so the key never sits in the browser.

Sessions live in this process's memory: a restart signs everyone out, which for a desk
of dispute handlers is a sign-in again, not a loss. A session ends `LIFETIME_SECONDS`
after signing in (when the cookie does too), or sooner when idle for `IDLE_SECONDS`, so
a copied token does not live on by being used; at most `MOST` are kept (the longest idle
goes first), so no number of sign-ins can grow the process without bound, and at most
`PER_KEY` of one key (its longest idle goes first), so one key's holder signing in again
and again cannot push everyone else's sessions out.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict

from consumers.http.keys import ApiKey

COOKIE = "sla_ledger_session"
LIFETIME_SECONDS = 8 * 3600
IDLE_SECONDS = 2 * 3600
MOST = 10_000
PER_KEY = 20


class Sessions:
    def __init__(
        self,
        *,
        lifetime_seconds: float = LIFETIME_SECONDS,
        idle_seconds: float = IDLE_SECONDS,
        most: int = MOST,
        per_key: int = PER_KEY,
    ) -> None:
        self._lifetime = lifetime_seconds
        self._idle = idle_seconds
        self._most = most
        self._per_key = per_key
        # token -> (holder, opened, last used), the longest idle first
        self._held: OrderedDict[str, tuple[ApiKey, float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, holder: ApiKey) -> str:
        """A new session for `holder`: its token, for the cookie."""
        token = secrets.token_urlsafe(32)
        now = time.monotonic()
        with self._lock:
            same_key = [t for t, (h, _, _) in self._held.items() if h.name == holder.name]
            for oldest in same_key[: max(0, len(same_key) - self._per_key + 1)]:
                del self._held[oldest]
            self._held[token] = (holder, now, now)
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
            holder, opened, used = found
            if now - used > self._idle or now - opened > self._lifetime:
                del self._held[token]
                return None
            self._held[token] = (holder, opened, now)
            self._held.move_to_end(token)
            return holder

    def close(self, token: str | None) -> None:
        with self._lock:
            self._held.pop(token or "", None)
