"""Sessions of the desk: a session ends at its lifetime however much it is used, and
when idle; a closed one is gone; their number is bounded."""

from __future__ import annotations

import time

from consumers.http.keys import ApiKey
from consumers.http.roles import Role
from consumers.http.web.session import Sessions

HOLDER = ApiKey("desk", frozenset({Role.DISPUTES}))


def test_a_session_in_use_still_ends_at_its_lifetime() -> None:
    sessions = Sessions(lifetime_seconds=0.3, idle_seconds=10)
    token = sessions.open(HOLDER)
    deadline = time.monotonic() + 0.25
    while time.monotonic() < deadline:
        assert sessions.holder(token) == HOLDER
        time.sleep(0.02)
    time.sleep(0.1)
    assert sessions.holder(token) is None


def test_an_idle_session_ends_and_use_keeps_it() -> None:
    sessions = Sessions(lifetime_seconds=10, idle_seconds=0.2)
    used, idle = sessions.open(HOLDER), sessions.open(HOLDER)
    for _ in range(4):
        time.sleep(0.1)
        assert sessions.holder(used) == HOLDER
    assert sessions.holder(idle) is None


def test_closed_unknown_and_evicted_sessions_hold_no_one() -> None:
    sessions = Sessions(most=2)
    first, second = sessions.open(HOLDER), sessions.open(HOLDER)
    sessions.close(second)
    assert sessions.holder(second) is None
    assert sessions.holder("not-a-token") is None
    assert sessions.holder(None) is None
    sessions.open(HOLDER)
    sessions.open(HOLDER)  # a third held: the longest idle, `first`, goes
    assert sessions.holder(first) is None


def test_one_key_signing_in_again_and_again_pushes_out_only_its_own_sessions() -> None:
    sessions = Sessions(most=10, per_key=3)
    other = sessions.open(ApiKey("audit", frozenset({Role.COMPLIANCE})))
    mine = [sessions.open(HOLDER) for _ in range(50)]
    assert sessions.holder(other) is not None
    assert [sessions.holder(t) is not None for t in mine[-4:]] == [False, True, True, True]
