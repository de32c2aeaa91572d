"""The pieces the audits rely on to read a store of any size in pages, and the layout
that keeps each event's content once (its eventsourcing record, `[envelope, origin]`)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import pytest

from ledger.chain import (
    EMPTY,
    GENESIS,
    ChainHead,
    encoding,
    event_record_sha256,
    link,
    record_sha256,
)
from projections.audit import verify as audit_verify
from projections.audit.chain_walk import Finding, RangeReport, Walked, consecutive_events, walk
from projections.audit.rebuild_compare import differing, pages
from projections.audit_pages import INDEX_NAMES
from projections.chain_records import (
    event_content,
    event_originator_hex,
    library_state,
    originator_of,
)
from projections.store.schema import EVENT_COLUMNS

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
                event_originator_hex(fields["event_id"]),
            )
        )
    return rows


def test_the_fast_path_verifies_a_run_of_events_and_stops_at_the_first_bad_one() -> None:
    rows = _rows([_event(f"e-{n}", f"O-{n}") for n in range(1, 6)])
    head, failed = consecutive_events(rows, ChainHead(0, GENESIS, 0), {})
    assert (head.position, failed) == (5, None)
    assert head.sha256 == rows[-1][7]
    edits: tuple[tuple[int, Any], ...] = (
        (3, "incident"),  # an index column
        (6, str(rows[2][6])),  # the record time, as text
        (8, rows[2][8].replace(b"O-3", b"O-9")),  # the content
        (8, b" " + rows[2][8][1:]),  # the record's first byte, which the encoding skips
        (8, None),  # no record at that position
        (8, rows[2][8].decode()),  # the record as text
        (9, None),  # the record's topic or version are not an event's (the query's None)
        (9, "0" * 32),  # the record's originator id
        (1, b"e-3"),  # an event id that is no text
        (2, 7),  # a type that is no text
    )
    for column, value in edits:
        broken = [*rows]
        broken[2] = (*rows[2][:column], value, *rows[2][column + 1 :])
        head, failed = consecutive_events(broken, ChainHead(0, GENESIS, 0), {})
        assert (head.position, failed) == (2, 3), column
    head, failed = consecutive_events(rows, ChainHead(0, GENESIS, 0), {4: "f" * 64})
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


def test_a_table_is_read_in_pages_of_bounded_size_after_the_last_key() -> None:
    table = _Table([(f"k{i}", i) for i in range(6, -1, -1)])
    read = list(pages(table.rows_after, "t", ("k",), ("v",), 3))
    assert [row[0] for page in read for row in page] == [f"k{i}" for i in range(7)]
    assert [len(page) for page in read] == [3, 3, 1]
    assert table.calls == [(None, 3), (("k2",), 3), (("k5",), 3), (("k6",), 3)]


def test_two_streams_in_key_order_are_paired_by_key() -> None:
    """Pages of two rows: the streams fall out of step at the first row only one holds.
    Pairs of equal rows are counted, not listed; a pair with a differing value is."""
    live = iter([[(1, "a"), (2, "a")], [(4, "a"), (5, "a")], [(6, "a")]])
    rebuilt = iter([[(2, "a"), (3, "a")], [(4, "a"), (5, "b")], [(7, "a")]])
    compared = [0]
    pairs = [
        (None if a is None else a[0], None if b is None else b[0])
        for a, b in differing(live, rebuilt, 1, compared)
    ]
    assert pairs == [(1, None), (None, 3), (5, 5), (6, None), (None, 7)]
    assert compared == [7]


def test_equal_pages_are_passed_over_whole() -> None:
    page = [(1, "a"), (2, "b")]
    compared = [0]
    assert list(differing(iter([page, page]), iter([list(page), list(page)]), 1, compared)) == []
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

        def entry_bases_page(self, after: str, limit: int) -> list[Any]:
            return []

    monkeypatch.setattr(audit_verify, "CHUNK", 3)
    result = audit_verify._verify(Store(), None)  # type: ignore[arg-type]
    assert result.finding is None
    assert result.records == 7
    assert asked == [(0, 3), (3, 6), (6, 7)]


def _chain_pages(rows: list[tuple[Any, ...]]) -> Any:
    def page(after: int, through: int) -> tuple[list[Any], list[Any]]:
        return [r for r in rows if after < r[0] <= through], []

    return page


def test_a_page_whose_positions_repeat_goes_the_general_way() -> None:
    """Two rows of one position and none of the next (a store whose uniqueness was
    dropped): as many rows as positions, but the fast path is not taken."""
    rows = _rows([_event(f"e-{n}", f"O-{n}") for n in range(1, 5)])
    rows[2] = (2, *rows[1][1:])
    walked = walk(_chain_pages(rows), 0, 4, EMPTY, {}, 4)
    assert walked.finding is not None
    assert walked.finding.position == 2
    assert walked.finding.problem.startswith("2 records claim this position")


class _Snapshot:
    """This process's snapshot, for `_joined`: the pages and the link at a position."""

    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.chain_page = _chain_pages(rows)
        self.rows = rows

    def chain_link(self, position: int) -> tuple[str, int] | None:
        return self.rows[position - 1][7], self.rows[position - 1][6]


def _report(rows: list[tuple[Any, ...]], after: int, through: int) -> RangeReport:
    seed = (GENESIS, 0) if after == 0 else (rows[after - 1][7], rows[after - 1][6])
    head = ChainHead(after, *seed) if after else EMPTY
    return RangeReport(seed, walk(_chain_pages(rows), after, through, head, {}, 2))


def test_ranges_walked_apart_join_into_the_walk_from_the_genesis() -> None:
    rows = _rows([_event(f"e-{n}", f"O-{n}") for n in range(1, 8)])
    store: Any = _Snapshot(rows)
    whole = walk(store.chain_page, 0, 7, EMPTY, {}, 2)
    reports: list[RangeReport | None] = [_report(rows, 0, 3), _report(rows, 3, 7)]
    assert audit_verify._joined(store, reports, 7, {}, 2) == whole
    # Bytes edited in the second range: named, again in this process's snapshot.
    rows[4] = (*rows[4][:8], rows[4][8].replace(b"O-5", b"O-9"), rows[4][9])
    reports = [_report(rows, 0, 3), _report(rows, 3, 7)]
    joined = audit_verify._joined(store, reports, 7, {}, 2)
    assert joined == walk(store.chain_page, 0, 7, EMPTY, {}, 2)
    assert joined is not None
    assert joined.finding is not None
    assert joined.finding.position == 5


def test_ranges_that_do_not_join_up_are_not_joined() -> None:
    """Each range must start from the link the one before it ended at, and the last end
    at the link this process reads at the end; a finding must be found here too."""
    rows = _rows([_event(f"e-{n}", f"O-{n}") for n in range(1, 8)])
    store: Any = _Snapshot(rows)
    first, second = _report(rows, 0, 3), _report(rows, 3, 7)
    assert second.seed is not None
    assert second.walked is not None
    for reports in (
        [first, replace(second, seed=("f" * 64, second.seed[1]))],  # another link before it
        [first, replace(second, seed=(second.seed[0], second.seed[1] - 1))],  # another time
        [first, RangeReport(None, None)],  # not exactly one row before it, for that worker
        [first, None],  # a worker that failed
        [first],  # a range missing
    ):
        assert audit_verify._joined(store, reports, 7, {}, 2) is None
    other: Any = _Snapshot([*rows[:6], (*rows[6][:7], "f" * 64, *rows[6][8:])])
    assert audit_verify._joined(other, [first, second], 7, {}, 2) is None
    # A finding a worker made that this process's snapshot does not show, or past the end.
    at_four = ChainHead(4, rows[3][7], rows[3][6])
    for walked in (
        Walked(at_four, 0, Finding(5, "x")),
        Walked(second.walked.head, 0, Finding(8, "x")),
    ):
        unconfirmed = [first, replace(second, walked=walked)]
        assert audit_verify._joined(store, unconfirmed, 7, {}, 2) is None


def test_pages_reported_in_any_order_are_joined_in_order() -> None:
    """Only the reports that came before an earlier page's are held."""
    rows = _rows([_event(f"e-{n}", f"O-{n}") for n in range(1, 9)])
    store: Any = _Snapshot(rows)
    reports = [_report(rows, after, after + 2) for after in range(0, 8, 2)]
    joined = audit_verify._Joined()
    for index in (2, 1, 3):
        assert joined.add(index, reports[index])
    assert (joined.pages, sorted(joined.early)) == (0, [1, 2, 3])
    assert joined.add(0, reports[0])
    assert (joined.pages, joined.early) == (4, {})
    whole = walk(store.chain_page, 0, 8, EMPTY, {}, 2)
    assert audit_verify._finish(store, joined, 8, {}, 2) == whole
    # A page that does not join up stops the handing out, whenever it comes.
    joined = audit_verify._Joined()
    assert joined.add(1, replace(reports[1], seed=("f" * 64, 1_000)))
    assert not joined.add(0, reports[0])
    assert joined.broken
    assert audit_verify._finish(store, joined, 8, {}, 2) is None


def test_a_rebuild_reads_the_index_row_in_the_tables_column_order() -> None:
    """`replay_derivation` reads the `sla_events` columns the store's log statement
    selects (`EVENT_COLUMNS`) by their places: the two must name the same columns."""
    assert [name for name, _ in EVENT_COLUMNS] == list(INDEX_NAMES)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_worker_reads_the_statements_it_is_handed_as_they_were_made(dialect: str) -> None:
    """`audit verify` hands its workers the chain's statements as JSON: one per kind the
    store holds (an older store, read as it is, may lack the alerts' table)."""
    from dataclasses import asdict

    from projections.audit_pages import PageQueries
    from projections.store.audit_reads import chain_queries

    table = "stored_events" if dialect == "sqlite" else "sla_ledger_events"
    every = chain_queries(dialect, table)
    older = chain_queries(dialect, table, frozenset(), ("event", "entry", "close"))
    assert [kind for kind, _, _ in every.others] == ["entry", "close", "alert"]
    assert [kind for kind, _, _ in older.others] == ["entry", "close"]
    assert (every.link_tables, older.link_tables) == (4, 3)
    assert "sla_alerts" not in older.link
    for queries in (every, older):
        assert queries.link.count("?") == queries.link_tables
        assert PageQueries.from_json(json.loads(json.dumps(asdict(queries)))) == queries
