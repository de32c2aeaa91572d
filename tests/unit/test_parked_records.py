"""`release_parked_records`: the fetcher's emptied line is cleared only when records are
parked behind it (consumers/intake/parked_records.py says why)."""

from __future__ import annotations

from types import SimpleNamespace

from consumers.intake.parked_records import release_parked_records


class Line:
    """A fetcher's records in line: false once handed out, as kafka-python's are."""

    def __init__(self, left: int) -> None:
        self.left = left

    def __bool__(self) -> bool:
        return self.left > 0


def consumer(line: object, parked: dict[str, object]) -> SimpleNamespace:
    return SimpleNamespace(
        _fetcher=SimpleNamespace(_next_partition_records=line, _paused_partition_records=parked)
    )


def test_an_emptied_line_with_records_parked_behind_it_is_cleared() -> None:
    held = consumer(Line(0), {"outages-1": Line(5)})
    assert release_parked_records(held)
    assert held._fetcher._next_partition_records is None


def test_records_still_in_line_are_left_to_be_handed_out() -> None:
    line = Line(3)
    held = consumer(line, {"outages-1": Line(5)})
    assert not release_parked_records(held)
    assert held._fetcher._next_partition_records is line


def test_nothing_parked_leaves_the_fetcher_as_it_is() -> None:
    line = Line(0)
    held = consumer(line, {})
    assert not release_parked_records(held)
    assert held._fetcher._next_partition_records is line


def test_a_fetcher_laid_out_otherwise_is_left_alone() -> None:
    assert not release_parked_records(SimpleNamespace())
    assert not release_parked_records(SimpleNamespace(_fetcher=SimpleNamespace()))
