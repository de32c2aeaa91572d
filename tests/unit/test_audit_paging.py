"""The pieces the audits rely on to read a store of any size in pages, and the layout
that keeps each event's content once (its eventsourcing record, `[envelope, origin]`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

import pytest

from ledger.chain import (
    GENESIS,
    ChainHead,
    encoding,
    event_record_sha256,
    link,
    record_sha256,
)
from projections import audit_rebuild, audit_verify
from projections.audit_rebuild import _differing, _pages
from projections.audit_verify import _consecutive_events, event_originator_hex
from projections.store.chain_append import event_content, library_state
from projections.store.ledger_store import (
    TOPIC_EVENT_ACCEPTED,
    originator_of,
)

TRICKY = ["plain", 'quote " and \\ backslash', "é ✓ \u2028", "control \x01\n\t", ""]


def _event(event_id: str = "e-1", subject: str = "O-1") -> dict[str, Any]:
    envelope = json.dumps(
        {"event_id": event_id, "payload": {"outage_id": subject}, "type": "outage.started"},
        separators=(",", ":"),
        sort_keys=True,
        ensure_ascii=False,
    )
    return {
        "event_id": event_id,
        "type": "outage.started",
        "subject_kind": "outage",
        "subject_id": subject,
        "occurred_at": "2026-03-10T10:00:00Z",
        "recorded_us": 1_000,
        "content_sha256": "0" * 64,
        "envelope": envelope,
        "origin": '{"file":"a,{\\"b.jsonl","line":3}',
    }


def test_an_events_record_is_exactly_the_tail_of_its_chain_encoding() -> None:
    fields = _event()
    state = library_state("event", fields)
    assert state == f"[{fields['envelope']},{fields['origin']}]".encode()
    full = encoding("event", 7, fields)
    # What verify hashes: the plain fields, then the record's own bytes after its "[".
    assert full.endswith(b"," + state[1:])
    assert event_content(state) == (fields["envelope"], fields["origin"])


@pytest.mark.parametrize(
    "state", [b"", b"[]", b"{}", b'[{"a":1}]', b'x{"a":1},{"b":2}]', b'[\xff,{"a"]']
)
def test_a_record_not_of_the_events_shape_has_no_content(state: bytes) -> None:
    assert event_content(state) is None


@pytest.mark.parametrize("text", TRICKY)
def test_the_written_out_encoding_is_the_json_encoders(text: str) -> None:
    fields = {**_event(), "event_id": text, "subject_id": text}
    expected = json.dumps(
        ["event", 3, *(fields[k] for k in list(fields)[:7])],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert encoding("event", 3, fields) == (
        f"{expected[:-1]},{fields['envelope']},{fields['origin']}]".encode()
    )
    # A value of another type takes the encoder's own path: true is not 1.
    assert b",true," in encoding("event", 3, {**fields, "recorded_us": True})


@pytest.mark.parametrize("text", TRICKY)
def test_a_rebuilds_event_digest_is_the_chains(text: str) -> None:
    """A rebuild seals each event from its record with `event_record_sha256`: the same
    digest as `record_sha256` of its fields, whatever its strings hold."""
    fields = {**_event(), "event_id": text, "subject_id": text, "content_sha256": "ab" * 32}
    assert event_record_sha256(
        7,
        text,
        fields["type"],
        fields["subject_kind"],
        text,
        fields["occurred_at"],
        1_000,
        "ab" * 32,
        library_state("event", fields),
    ) == record_sha256("event", 7, fields)


@pytest.mark.parametrize("event_id", ["e-1", str(uuid.uuid4()), "é"])
def test_the_fast_originator_ids_are_the_name_based_uuids(event_id: str) -> None:
    assert event_originator_hex(event_id) == originator_of("event", event_id).hex


def _rows(fields_by_position: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
    rows, previous = [], GENESIS
    for position, fields in enumerate(fields_by_position, start=1):
        fields = {**fields}
        fields["content_sha256"] = (
            __import__("hashlib").sha256(fields["envelope"].encode()).hexdigest()
        )
        previous = link(previous, record_sha256("event", position, fields))
        rows.append(
            (
                position,
                *(fields[k] for k in ("event_id", "type", "subject_kind", "subject_id")),
                fields["occurred_at"],
                fields["recorded_us"],
                previous,
                library_state("event", fields),
                TOPIC_EVENT_ACCEPTED,
                event_originator_hex(fields["event_id"]),
                1,
            )
        )
    return rows


def test_the_fast_path_verifies_a_run_of_events_and_stops_at_the_first_bad_one() -> None:
    rows = _rows([_event(f"e-{n}", f"O-{n}") for n in range(1, 6)])
    head, failed = _consecutive_events(rows, ChainHead(0, GENESIS, 0), {})
    assert (head.position, failed) == (5, None)
    assert head.sha256 == rows[-1][7]
    edits = (
        (3, "incident"),  # an index column
        (8, rows[2][8].replace(b"O-3", b"O-9")),  # the content
        (8, b" " + rows[2][8][1:]),  # the record's first byte, which the encoding skips
        (9, "x"),  # the record's topic
        (10, "0" * 32),  # the record's originator id
        (11, 2),  # the record's version
    )
    for column, value in edits:
        broken = [*rows]
        broken[2] = (*rows[2][:column], value, *rows[2][column + 1 :])
        head, failed = _consecutive_events(broken, ChainHead(0, GENESIS, 0), {})
        assert (head.position, failed) == (2, 3), column
    head, failed = _consecutive_events(rows, ChainHead(0, GENESIS, 0), {4: "f" * 64})
    assert (head.position, failed) == (3, 4)


class _Table:
    """A store's `rows_after` over rows in memory, recording what each call asked."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows
        self.calls: list[tuple[Any, int]] = []

    def rows_after(
        self,
        table: str,
        key: Sequence[str],
        after: Sequence[Any] | None,
        limit: int,
        values: Sequence[str] = (),
    ) -> list[tuple[Any, ...]]:
        self.calls.append((None if after is None else tuple(after), limit))
        width = len(key)
        ordered = sorted(self.rows)
        found = [r for r in ordered if after is None or r[:width] > tuple(after)]
        return found[:limit]


def test_a_table_is_read_in_pages_of_bounded_size_after_the_last_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(audit_rebuild, "PAGE", 3)
    table = _Table([(f"k{i}", i) for i in range(6, -1, -1)])
    pages = list(_pages(table, "t", ("k",), ("v",)))  # type: ignore[arg-type]
    assert [row[0] for page in pages for row in page] == [f"k{i}" for i in range(7)]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert table.calls == [(None, 3), (("k2",), 3), (("k5",), 3), (("k6",), 3)]


def test_two_streams_in_key_order_are_paired_by_key() -> None:
    """Pages of two rows: the streams fall out of step at the first row only one holds.
    Pairs of equal rows are counted, not listed; a pair with a differing value is."""
    live = iter([[(1, "a"), (2, "a")], [(4, "a"), (5, "a")], [(6, "a")]])
    rebuilt = iter([[(2, "a"), (3, "a")], [(4, "a"), (5, "b")], [(7, "a")]])
    compared = [0]
    pairs = [
        (None if a is None else a[0], None if b is None else b[0])
        for a, b in _differing(live, rebuilt, 1, compared)
    ]
    assert pairs == [(1, None), (None, 3), (5, 5), (6, None), (None, 7)]
    assert compared == [7]


def test_equal_pages_are_passed_over_whole() -> None:
    page = [(1, "a"), (2, "b")]
    compared = [0]
    assert list(_differing(iter([page, page]), iter([list(page), list(page)]), 1, compared)) == []
    assert compared == [4]


def test_verify_reads_the_chain_in_pages_of_positions(monkeypatch: pytest.MonkeyPatch) -> None:
    rows = _rows([_event(f"e-{n}", f"O-{n}") for n in range(1, 8)])
    asked: list[tuple[int, int]] = []

    class Store:
        def chain_end(self) -> int:
            return 7

        def min_chain_position(self) -> int:
            return 1

        def chain_page(self, after: int, through: int) -> tuple[list[Any], list[Any]]:
            asked.append((after, through))
            return [r for r in rows if after < r[0] <= through], []

        def chain_head(self) -> ChainHead:
            return ChainHead(7, rows[-1][7], 1_000)

        def library_count(self) -> int:
            return 7

    monkeypatch.setattr(audit_verify, "CHUNK", 3)
    result = audit_verify._verify(Store(), None)  # type: ignore[arg-type]
    assert result.finding is None
    assert result.records == 7
    assert asked == [(0, 3), (3, 6), (6, 7)]
