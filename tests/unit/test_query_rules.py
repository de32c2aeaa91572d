"""The rules every question shares (`projections.queries`): which moment "now" is and
which moments may be asked about, and which command may create or change a store.
The store-level rules hold on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from consumers.intake.file_ingest import ingest_file
from ledger.errors import InvalidInputError, LedgerError, StoreRefusedError
from ledger.periods import from_us
from projections.queries import as_of, store_access
from projections.store import LedgerStore
from tests.builders import contract


def test_a_moment_is_an_rfc_3339_instant_or_a_date_meaning_its_midnight_utc() -> None:
    assert as_of.parse_moment("2026-04-05") == datetime(2026, 4, 5, tzinfo=UTC)
    assert as_of.parse_moment("2026-04-05T09:30:00+02:00") == datetime(
        2026, 4, 5, 7, 30, tzinfo=UTC
    )
    with pytest.raises(InvalidInputError):
        as_of.parse_moment("5 April")


def test_only_ingest_creates_a_store_and_only_ingest_and_close_write() -> None:
    assert store_access.access_for("ingest") == "create"
    assert store_access.access_for("close") == "write"
    for reader in ("report", "credits", "rejections", "incidents", "explain", "diff", "audit"):
        assert store_access.access_for(reader) == "read"


def test_two_moments_to_compare_are_refused_later_first() -> None:
    early, late = datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 4, 2, tzinfo=UTC)
    as_of.ordered(early, late, names=("--from", "--to"))
    as_of.ordered(early, early, names=("--from", "--to"))
    with pytest.raises(as_of.MomentsReversedError, match=r"^--to must not be before --from$"):
        as_of.ordered(late, early, names=("--from", "--to"))


class _SlowClock(datetime):
    """A wall clock an hour behind: a store written by a writer whose clock ran ahead."""

    @classmethod
    def now(cls, tz: object = None) -> _SlowClock:
        real = datetime.now(UTC) - timedelta(hours=1)
        return cls.fromtimestamp(real.timestamp(), UTC)


def recorded_store(url: str, tmp_path: Path) -> LedgerStore:
    """A store at `url` with one recorded event, opened to read."""
    feed = tmp_path / "in.jsonl"
    feed.write_text(json.dumps(contract()) + "\n")
    with store_access.open_store(url, "ingest") as store:
        ingest_file(store, feed)
    return store_access.open_store(url, "report")


@pytest.mark.integration
def test_now_is_the_later_of_the_clock_and_the_last_record_time(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with recorded_store(store_url, tmp_path) as store:
        last_record = from_us(store.chain_head().recorded_us)
        before = datetime.now(UTC)
        assert before <= as_of.now(store) <= datetime.now(UTC)  # the clock: later
        monkeypatch.setattr(as_of, "datetime", _SlowClock)
        assert as_of.now(store) == last_record  # the last record: later than the clock
        assert as_of.moment(store, None) == last_record


@pytest.mark.integration
def test_a_moment_that_has_passed_is_answered_and_a_future_one_refused(
    store_url: str, tmp_path: Path
) -> None:
    with recorded_store(store_url, tmp_path) as store:
        past = datetime(2026, 1, 1, tzinfo=UTC)
        assert as_of.moment(store, past) == past
        future = datetime.now(UTC) + timedelta(days=1)
        with pytest.raises(as_of.FutureMomentError) as refused:
            as_of.moment(store, future, name="--to", typed="tomorrow")
    assert isinstance(refused.value, LedgerError)
    message = str(refused.value)
    assert message.startswith("--to tomorrow is in the future (now is ")
    assert message.endswith("): ask about a moment that has passed")
    assert "\n" not in message


@pytest.mark.integration
def test_a_reader_never_creates_a_store_only_ingest_does(store_url: str) -> None:
    for reader in ("report", "close", "audit"):
        with pytest.raises(StoreRefusedError):
            store_access.open_store(store_url, reader)
    with store_access.open_store(store_url, "ingest") as created:
        assert created.chain_head().position == 0
    with store_access.open_store(store_url, "report") as read:
        assert read.chain_head().position == 0
