"""Where an event says its subject matters: its span and its scopes, from its payload.

The intake's rules, applied to each accepted event (`appends.subject_of`) and again
by `audit rebuild` to each event of the log (`replay_derivation`). Pure and free of the
store's code (the standard library and `ledger` only), so that a rebuild's worker process
(`replay_derivation.serve`) applies these very functions and starts in milliseconds; the
store's modules import them (and the constants) from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ledger.errors import InvalidInputError
from ledger.events import END_FIELDS, INSTANT_FIELDS
from ledger.periods import Period, to_us
from ledger.timeformat import parse_utc

# A span's `ended_us` while no end is known: the record time at which its end became
# known, once it is (an end never becomes unknown again).
NOT_ENDED_US = 2**62
# A subject's scopes: `SCOPE_SERVICE` + service + SEP + customer ('' for every customer)
# for outages and maintenance windows, `SCOPE_CONTRACT` + contract for incidents.
SCOPE_SEP = "\x1f"
SCOPE_SERVICE = "s" + SCOPE_SEP
SCOPE_CONTRACT = "c" + SCOPE_SEP
# A contract's own scopes: the services and the customer its terms name.
CONTRACT_SERVICE = "service" + SCOPE_SEP
CONTRACT_CUSTOMER = "customer" + SCOPE_SEP
SCOPED_KINDS = ("outage", "maintenance")
# The subjects whose events name one contract, the scope they reach.
CONTRACT_KINDS = ("incident", "claim")

SpanRow = tuple[str, str, int, int, int, int]  # kind, subject, lo, hi, has_end, ended_us


def payload_span(subject_kind: str, payload: Mapping[str, Any]) -> tuple[int, int, int] | None:
    """(lo, hi, has_end) over the instants an event of `subject_kind` with this
    (normalised) payload names: a superset of the time its subject can matter to (an
    outage with no end yet matters up to any horizon)."""
    if subject_kind == "claim":
        return claim_span(payload.get("period"))
    instants = [to_us(parse_utc(v)) for f in INSTANT_FIELDS if (v := payload.get(f)) is not None]
    if not instants:
        return None
    has_end = int(subject_kind == "incident" or any(payload.get(f) is not None for f in END_FIELDS))
    return min(instants), max(instants), has_end


# Timezones reach from UTC-12 to UTC+14: every contract's window of a period lies within
# this margin of the period's UTC window.
WINDOW_MARGIN_US = 15 * 3600 * 1_000_000


def claim_span(label: object) -> tuple[int, int, int] | None:
    """A claim matters to the row it names, whose window is its period's (a month
    `YYYY-MM` or a year `YYYY`) in the contract's timezone: the period's UTC window,
    widened by `WINDOW_MARGIN_US` either side (None: the event names no period)."""
    if not isinstance(label, str):
        return None
    try:
        lo, hi = Period.from_label(label).window("UTC")
    except InvalidInputError:
        return None
    return lo - WINDOW_MARGIN_US, hi + WINDOW_MARGIN_US, 1


def payload_scopes(subject_kind: str, payload: Mapping[str, Any]) -> set[str]:
    """The scopes an event of `subject_kind` with this (normalised) payload gives its
    subject (empty: it names none); for a contract, the services and the customer its
    terms name."""
    if subject_kind == "contract":
        found = {
            CONTRACT_SERVICE + s["service_id"]
            for s in payload.get("services") or ()
            if isinstance(s, dict) and isinstance(s.get("service_id"), str)
        }
        customer = payload.get("customer_id")
        return found | ({CONTRACT_CUSTOMER + customer} if isinstance(customer, str) else set())
    if subject_kind in CONTRACT_KINDS:
        contract = payload.get("contract_id")
        return {SCOPE_CONTRACT + contract} if isinstance(contract, str) else set()
    if subject_kind not in SCOPED_KINDS:
        return set()
    service = payload.get("service_id")
    if not isinstance(service, str):
        return set()
    customers = payload.get("customer_ids")
    if customers is None:
        return {service_scope(service, None)}
    return {service_scope(service, c) for c in customers if isinstance(c, str)}


def service_scope(service_id: str, customer_id: str | None) -> str:
    return f"{SCOPE_SERVICE}{service_id}{SCOPE_SEP}{customer_id or ''}"


def subject_rows(
    kind: str,
    subject: str,
    payload: Mapping[str, Any],
    recorded_us: int | None,
    spans: list[SpanRow],
    scopes: set[tuple[str, str, str]],
) -> None:
    """Add what an event of subject `kind` `subject` with this payload says about where
    its subject matters: its span (with the record time its end became known, if it
    names one and that time is given) and its scopes (a rebuild reads every event of the
    log this way, without an `InboundEvent` for each)."""
    span = payload_span(kind, payload)
    if span is not None:
        lo, hi, has_end = span
        ended = recorded_us if has_end and recorded_us is not None else NOT_ENDED_US
        spans.append((kind, subject, lo, hi, has_end, ended))
    for scope in payload_scopes(kind, payload):
        scopes.add((kind, subject, scope))
