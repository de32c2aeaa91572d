"""`audit rebuild` with its events derived in a worker process, on SQLite and on
PostgreSQL: a log replayed with the worker gives exactly the result of the replay in one
process (the same heads, counts and differences, wherever the tampering sits relative
to the pages), whether the worker derives every page, some of them (this process taking
back those it has not begun when it needs them), or none (it fails, answers anything
else, or is too slow): a worker only ever saves time.

The threshold and the page size are lowered, so that a small store takes the path a
large one takes, a page of four records at a time.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

from projections.audit import rebuild as audit_rebuild
from projections.audit import replay_worker
from projections.audit.rebuild import rebuild
from projections.audit.rebuild_compare import subject_index_differences
from projections.audit.replay_derivation import Piece, replay_page
from projections.audit_pages import LogRecord
from projections.chain_records import TOPIC_EVENT_ACCEPTED as EVENT
from projections.store import LedgerStore
from tests.tampering import edit_record, query, tamper

pytestmark = pytest.mark.integration

PAGE = 4
WITH_WORKER: dict[str, Any] = {"workers": 2, "parallel_from": 1}
IN_PROCESS: dict[str, Any] = {"workers": 1}


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_rebuild, "PAGE", PAGE)
    monkeypatch.setattr(audit_rebuild, "AHEAD", 3 * PAGE)


@pytest.fixture
def derived_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The positions of the events this process replays itself."""
    positions: list[int] = []

    def counted(records: list[LogRecord], with_records: bool) -> list[Piece]:
        positions.extend(position for position, topic, _, _ in records if topic == EVENT)
        return replay_page(records, with_records)

    monkeypatch.setattr(audit_rebuild, "replay_page", counted)
    monkeypatch.setattr(replay_worker, "replay_page", counted)
    return positions


@pytest.fixture
def compared_here(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """One item for each comparison of the subject index this process makes itself."""
    made: list[int] = []

    def counted(*args: Any) -> Any:
        made.append(1)
        return subject_index_differences(*args)

    monkeypatch.setattr(audit_rebuild, "subject_index_differences", counted)
    return made


@pytest.fixture
def patient(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process never takes a page back and waits for the worker's answer: the
    worker derives every page (and a test of it does not depend on timing)."""
    monkeypatch.setattr(replay_worker.Worker, "_take_back", lambda self, page: False)
    monkeypatch.setattr(replay_worker, "PAGE_PATIENCE", 60.0)


def _rebuild(url: str, tmp_path: Path, **options: Any) -> dict[str, Any]:
    scratch_path = tmp_path / f"scratch-{len(list(tmp_path.glob('scratch-*')))}.db"
    with (
        LedgerStore(url, access="create") as live,
        LedgerStore(f"sqlite:///{scratch_path}", access="create") as scratch,
    ):
        return asdict(rebuild(live, scratch, **options))


def _events(url: str) -> int:
    with LedgerStore(url, access="read") as store:
        return store.event_count()


@pytest.mark.usefixtures("patient")
def test_the_worker_rebuilds_what_one_process_rebuilds(
    ledger: str, tmp_path: Path, derived_here: list[int], compared_here: list[int]
) -> None:
    alone = _rebuild(ledger, tmp_path, **IN_PROCESS)
    assert alone["differences"] == []
    assert len(derived_here) == alone["events_compared"] == _events(ledger)
    assert len(compared_here) == 1
    derived_here.clear()
    compared_here.clear()
    assert _rebuild(ledger, tmp_path, **WITH_WORKER) == alone
    assert derived_here == []  # every event derived by the worker
    # On SQLite the worker, which reads the live file, compared the subject index too.
    assert len(compared_here) == (0 if ledger.startswith("sqlite") else 1)


@pytest.mark.usefixtures("patient")
@pytest.mark.parametrize("trouble", ["head moved", "worker stopped"])
def test_a_subject_index_the_worker_did_not_compare_is_compared_here(
    ledger: str,
    tmp_path: Path,
    compared_here: list[int],
    monkeypatch: pytest.MonkeyPatch,
    trouble: str,
) -> None:
    """The worker compares only in a snapshot holding the chain head this process's
    holds (a writer committing in between moves it): otherwise, or if it stops, the
    subject index is compared here, with the same findings."""
    tamper(ledger, "DELETE FROM sla_subject_spans WHERE subject_id = 'M-5'")
    alone = _rebuild(ledger, tmp_path, **IN_PROCESS)
    assert alone["differences"] != []
    asked = replay_worker.Worker.compare_subject_index

    def troubled(self: replay_worker.Worker, scratch: str, head: Any, *args: Any) -> None:
        if trouble == "head moved":
            asked(self, scratch, (head[0] + 1, head[1]), *args)
        else:
            self._process.kill()
            asked(self, scratch, head, *args)

    monkeypatch.setattr(replay_worker.Worker, "compare_subject_index", troubled)
    compared_here.clear()
    assert _rebuild(ledger, tmp_path, **WITH_WORKER) == alone
    assert len(compared_here) == 1


@pytest.mark.usefixtures("patient")
@pytest.mark.parametrize(
    "tampering",
    [
        "index",  # an index column edited: named, the replay goes on
        "content",  # an envelope edited: the chain's head differs
        "shape",  # a record that is no event: the replay stops there, named
        "span",  # a span deleted
    ],
)
def test_a_tampered_store_gets_the_same_findings_from_the_worker(
    ledger: str, tmp_path: Path, tampering: str, derived_here: list[int]
) -> None:
    events = sorted(int(str(p)) for (p,) in query(ledger, "SELECT chain_pos FROM sla_events"))
    middle = events[len(events) // 2]
    if tampering == "index":
        tamper(ledger, f"UPDATE sla_events SET subject_id = 'X-1' WHERE chain_pos = {middle}")
    elif tampering == "content":
        tamper(ledger, edit_record(ledger, middle, "T10:", "T11:"))
    elif tampering == "shape":
        tamper(ledger, edit_record(ledger, middle, '"event_id":', '"event":'))
    else:
        tamper(ledger, "DELETE FROM sla_subject_spans WHERE subject_id = 'M-5'")
    alone = _rebuild(ledger, tmp_path, **IN_PROCESS)
    assert alone["differences"] != []
    derived_here.clear()
    assert _rebuild(ledger, tmp_path, **WITH_WORKER) == alone
    assert derived_here == []  # a record that is no event: the worker names it


@pytest.mark.parametrize(
    "boot",
    [
        "raise SystemExit(3)",  # fails at once
        "import sys; sys.stdin.readline(); print('0')",  # answers a page it never derived
        "import sys\nfor line in sys.stdin: print('nonsense', flush=True)",
        "import time; time.sleep(30)",  # never answers
        # every page raises there (answered `N !`): each is replayed here
        "import sys; sys.path[:0] = sys.argv[1:]; import projections.audit.replay_derivation as d; "
        "d.replay_page = lambda *a: 1 / 0; d.serve()",
    ],
)
def test_a_worker_that_fails_leaves_the_replay_to_this_process(
    ledger: str, tmp_path: Path, boot: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    alone = _rebuild(ledger, tmp_path, **IN_PROCESS)
    monkeypatch.setattr(replay_worker, "BOOT", boot)
    monkeypatch.setattr(replay_worker, "PAGE_PATIENCE", 0.2)
    assert _rebuild(ledger, tmp_path, **WITH_WORKER) == alone


def test_pages_the_worker_has_not_begun_are_taken_back(
    ledger: str, tmp_path: Path, derived_here: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker that begins late (as one whose CPU others keep busy): this process
    derives the pages it needs first itself, the worker those it reaches first."""
    alone = _rebuild(ledger, tmp_path, **IN_PROCESS)
    late = (
        "import sys, time; sys.path[:0] = sys.argv[1:]; time.sleep(0.5); "
        "from projections.audit.replay_derivation import serve; serve()"
    )
    monkeypatch.setattr(replay_worker, "BOOT", late)
    slowed = replay_worker.Worker.receive

    def slow(self: replay_worker.Worker) -> Any:
        if self._next == 3:
            time.sleep(1.0)  # the worker catches up meanwhile
        return slowed(self)

    monkeypatch.setattr(replay_worker.Worker, "receive", slow)
    derived_here.clear()
    assert _rebuild(ledger, tmp_path, **WITH_WORKER) == alone
    assert 0 < len(derived_here) < alone["events_compared"]


def test_a_small_log_or_one_cpu_is_replayed_in_this_process(
    ledger: str, tmp_path: Path, derived_here: list[int]
) -> None:
    events = _events(ledger)
    _rebuild(ledger, tmp_path, workers=2)  # below PARALLEL_FROM
    _rebuild(ledger, tmp_path, workers=1, parallel_from=1)
    assert len(derived_here) == 2 * events
