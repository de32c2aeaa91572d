"""Periods at the edges of the calendar the ledger covers (spec: sla-math §1)."""

from __future__ import annotations

import pytest

from ledger.errors import InvalidInputError
from ledger.inbound import validate_envelope
from ledger.periods import EARLIEST_DATE, FIRST_PERIOD, LAST_PERIOD, LATEST_DATE, Period
from tests.builders import contract

EXTREME_ZONES = ("Etc/GMT-14", "Pacific/Kiritimati", "Etc/GMT+12", "UTC")


def test_the_valid_periods_are_those_of_the_dates_validation_accepts() -> None:
    assert (FIRST_PERIOD.label, LAST_PERIOD.label) == ("1970-01", "9998-12")
    assert Period.containing(EARLIEST_DATE) == FIRST_PERIOD
    assert Period.containing(LATEST_DATE) == LAST_PERIOD
    # A contract in force from the first to the last accepted date is valid input.
    validate_envelope(
        contract(effective_from=EARLIEST_DATE.isoformat(), effective_to=LATEST_DATE.isoformat())
    )


@pytest.mark.parametrize("label", ["1970-01", "1970-02", "2026-03", "9998-11", "9998-12"])
def test_a_period_in_range_parses_and_its_window_fits_every_zone(label: str) -> None:
    period = Period.parse(label)
    assert period.label == label
    for zone in EXTREME_ZONES:
        start, end = period.window(zone)
        assert start < end


@pytest.mark.parametrize("label", ["0000-01", "0001-01", "1969-12", "9999-01", "9999-12"])
def test_a_period_outside_the_calendar_is_refused_naming_the_range(label: str) -> None:
    with pytest.raises(InvalidInputError) as refused:
        Period.parse(label)
    message = str(refused.value)
    assert f"period {label} is outside the calendar the ledger covers" in message
    assert "from 1970-01 to 9998-12" in message


@pytest.mark.parametrize("label", ["2026-13", "2026-00", "26-03", "2026-3", "abcd-ef", ""])
def test_a_malformed_period_is_refused_as_such(label: str) -> None:
    with pytest.raises(InvalidInputError, match="period must be YYYY-MM"):
        Period.parse(label)


def test_a_label_the_store_already_holds_stays_readable() -> None:
    """Closes recorded before the range existed (e.g. 1969-12) are still reconciled."""
    assert Period.from_label("1969-12") == Period(1969, 12)
