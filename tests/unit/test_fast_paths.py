"""The report's fast paths give exactly what the general, slower arithmetic gives.

Each fast path is checked against a reference: the code it replaced, kept here verbatim
(Fraction arithmetic, per-character width, per-segment sums). Same inputs, same result,
to the last digit and character.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consumers.render import (
    display_width,
    for_humans,
    table_cells,
    table_of_cells,
    to_table,
)
from ledger import contracts, intervals
from ledger.attainment import HUNDRED, _downtime, above_floor, below
from ledger.business_time import BusinessCalendar, calendar_for
from ledger.errors import InvalidInputError
from ledger.money import round_half_even, round_half_up
from ledger.timeformat import decimal_text, exact_seconds, parse_duration
from ledger.value_keys import value_key
from projections.queries.encoding import JsonText, joined_json_lists, to_csv, to_json
from projections.store.mappers import parsed as _parsed

# -- references: the general paths, as they were ------------------------------------


def reference_exact_seconds(microseconds: int | Fraction | Decimal) -> str:
    return decimal_text(Fraction(microseconds) / 1_000_000)


def reference_round_half_up(value: Fraction, places: int) -> Decimal:
    scaled = value * 10**places
    magnitude = math.floor(abs(scaled) + Fraction(1, 2))
    units = magnitude if scaled >= 0 else -magnitude
    return Decimal(units).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def reference_round_half_even(value: Fraction, places: int) -> Decimal:
    units = round(value * 10**places)
    return Decimal(units).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def reference_display_width(text: str) -> int:
    width = 0
    for char in text:
        if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me"):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def reference_to_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    numeric: frozenset[str] = frozenset(),
) -> str:
    cells = [[for_humans(str(row.get(key))) for key, _ in columns] for row in rows]
    headings = [heading for _, heading in columns]
    widths = [
        max([reference_display_width(h)] + [reference_display_width(r[i]) for r in cells])
        for i, h in enumerate(headings)
    ]

    def line(values: Sequence[str]) -> str:
        out = []
        for i, value in enumerate(values):
            pad = " " * (widths[i] - reference_display_width(value))
            out.append(pad + value if columns[i][0] in numeric else value + pad)
        return "  ".join(out).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(headings), rule, *(line(r) for r in cells)])


def reference_cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def reference_full_table(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[tuple[str, str]],
    numeric: frozenset[str] = frozenset(),
) -> str:
    """`reference_to_table` with the cells of the report (null, booleans)."""
    shown = [{key: reference_cell(row.get(key)) for key, _ in columns} for row in rows]
    return reference_to_table(shown, columns, numeric)


def reference_to_csv(rows: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for row in rows:
        writer.writerow(
            [
                ""
                if row.get(f) is None
                else ("true" if row.get(f) else "false")
                if isinstance(row.get(f), bool)
                else str(row.get(f))
                for f in fields
            ]
        )
    return buffer.getvalue()


def reference_downtime(
    pieces: Sequence[tuple[int, int, Decimal]], region: list[intervals.Interval], floor_us: int
) -> Fraction:
    weighted = [(s, e, Fraction(impact) / HUNDRED) for s, e, impact in pieces]
    downtime = Fraction(0)
    segments = intervals.intersect_weighted(intervals.max_weight_segments(weighted), region)
    for run in intervals.maximal_runs(segments):
        if not above_floor(run, floor_us):
            continue
        downtime += sum(((end - start) * weight for start, end, weight in run), Fraction(0))
    return downtime


# -- strategies ---------------------------------------------------------------------

microseconds = st.integers(min_value=-(10**15), max_value=10**15)
fractions = st.fractions(max_denominator=10**9).filter(lambda f: abs(f) < 10**12)
decimals = st.decimals(
    min_value=Decimal("-1e9"), max_value=Decimal("1e9"), allow_nan=False, places=6
)
impacts = st.sampled_from(
    [Decimal(x) for x in ("0", "1", "12.5", "33.333", "40", "50", "50.0", "99.99", "100")]
)


@st.composite
def spans(draw: st.DrawFn) -> tuple[int, int]:
    start = draw(st.integers(min_value=0, max_value=10_000))
    return start, start + draw(st.integers(min_value=-5, max_value=3_000))


# -- the checks ---------------------------------------------------------------------


@settings(max_examples=500)
@given(microseconds)
def test_exact_seconds_of_whole_microseconds_equals_the_fraction_path(value: int) -> None:
    assert exact_seconds(value) == reference_exact_seconds(value)
    assert exact_seconds(Fraction(value)) == reference_exact_seconds(value)


EDGES = [0, 1, -1, 10, 999_999, 1_000_000, 1_500_000, -1_500_000, 2_678_400_000_000]
HUGE = [10**27 - 1, -(10**27) + 1, 10**27, 10**30 + 7]  # beyond: the general path's rounding


@pytest.mark.parametrize("value", EDGES + HUGE)
def test_exact_seconds_edges(value: int) -> None:
    assert exact_seconds(value) == reference_exact_seconds(value)


@given(st.integers(min_value=-(10**12), max_value=10**12), st.sampled_from([2, 4, 8, 5, 10]))
def test_exact_seconds_of_fractional_microseconds_is_unchanged(value: int, by: int) -> None:
    assert exact_seconds(Fraction(value, by)) == reference_exact_seconds(Fraction(value, by))


@settings(max_examples=500)
@given(fractions, st.integers(min_value=0, max_value=4))
def test_rounding_with_integers_equals_fraction_rounding(value: Fraction, places: int) -> None:
    assert round_half_up(value, places) == reference_round_half_up(value, places)
    assert str(round_half_up(value, places)) == str(reference_round_half_up(value, places))
    assert str(round_half_even(value, places)) == str(reference_round_half_even(value, places))


@pytest.mark.parametrize(
    "value", [Fraction(1, 2), Fraction(-1, 2), Fraction(3, 2), Fraction(-3, 2), Fraction(5, 2)]
)
def test_rounding_halves(value: Fraction) -> None:
    for places in (0, 1, 2):
        shifted = value / 10**places
        assert str(round_half_up(shifted, places)) == str(reference_round_half_up(shifted, places))
        assert str(round_half_even(shifted, places)) == str(
            reference_round_half_even(shifted, places)
        )


@given(decimals, st.integers(min_value=0, max_value=4))
def test_rounding_of_decimals_and_ints_as_before(value: Decimal, places: int) -> None:
    as_fraction = Fraction(value)
    assert str(round_half_up(as_fraction, places)) == str(
        reference_round_half_up(as_fraction, places)
    )
    assert str(round_half_even(value, places)) == str(reference_round_half_even(value, places))  # type: ignore[arg-type]


@settings(max_examples=300)
@given(fractions, fractions)
def test_below_is_less_than(a: Fraction, b: Fraction) -> None:
    assert below(a, b) == (a < b)


@settings(max_examples=300)
@given(st.text())
def test_display_width_fast_path_equals_per_character_width(text: str) -> None:
    shown = for_humans(text)
    assert display_width(shown) == reference_display_width(shown)


def test_display_width_of_every_ascii_character_is_one() -> None:
    for code in range(128):
        assert display_width(chr(code)) == reference_display_width(chr(code)) == 1


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(st.text(max_size=6), st.integers(-999, 99_999), st.sampled_from(["a", "漢字"])),
        max_size=6,
    )
)
def test_table_equals_the_one_measuring_each_cell_twice(
    values: list[tuple[str, int, str]],
) -> None:
    rows = [{"name": name, "amount": amount, "note": note} for name, amount, note in values]
    columns = [("name", "name"), ("amount", "amount ¥"), ("note", "note")]
    numeric = frozenset({"amount"})
    assert to_table(rows, columns, numeric) == reference_to_table(rows, columns, numeric)


@settings(max_examples=500)
@given(
    st.lists(st.tuples(spans(), impacts), max_size=8),
    st.lists(spans(), max_size=4),
    st.sampled_from([0, 1, 100, 1_000]),
)
def test_downtime_summed_per_impact_equals_the_per_segment_sum(
    outages: list[tuple[tuple[int, int], Decimal]],
    holes: list[tuple[int, int]],
    floor_us: int,
) -> None:
    pieces = [(start, end, impact) for (start, end), impact in outages]
    region = intervals.subtract([(0, 12_000)], intervals.normalise(holes))
    fast = _downtime(pieces, region, floor_us)
    assert fast == reference_downtime(pieces, region, floor_us)
    assert isinstance(fast, Fraction)


def test_calendar_for_is_the_calendar_and_is_shared() -> None:
    hours = {"weekly": {"mon": [["08:00", "18:00"]]}, "holidays": ["2026-12-25"]}
    calendar = calendar_for("Europe/Berlin", hours)
    assert calendar == BusinessCalendar("Europe/Berlin", hours)
    assert calendar_for("Europe/Berlin", dict(hours)) is calendar
    assert calendar_for("UTC", hours) != calendar
    assert calendar_for("UTC", "24x7").is_24x7
    other = {"weekly": {"mon": [["08:00", "17:00"]]}, "holidays": ["2026-12-25"]}
    assert calendar_for("Europe/Berlin", other) != calendar


def test_calendar_for_refuses_what_the_constructor_refuses_every_time() -> None:
    for _ in range(2):
        with pytest.raises(InvalidInputError):
            calendar_for("UTC", {"weekly": {"mon": [["18:00", "08:00"]]}})
        with pytest.raises(InvalidInputError):
            calendar_for("Not/AZone", "24x7")


def test_parse_duration_is_cached_but_still_refuses_every_time() -> None:
    assert parse_duration("PT15M") is parse_duration("PT15M")
    for _ in range(2):
        with pytest.raises(InvalidInputError):
            parse_duration("P1M")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False).map(str),
    lambda children: (
        st.lists(children, max_size=4)
        | st.lists(children, max_size=3).map(tuple)
        | st.dictionaries(st.text(max_size=5), children, max_size=4)
        | st.dictionaries(st.integers(), children, max_size=2)
    ),
    max_leaves=30,
)


@settings(max_examples=500)
@given(json_values)
def test_to_json_equals_json_dumps_with_an_indent(document: Any) -> None:
    assert to_json(document) == json.dumps(document, indent=2, ensure_ascii=False)


def test_to_json_of_a_report_document() -> None:
    document = {
        "period": "2026-03",
        "rows": [{"id": "C-1\u202e漢", "met": True, "n": 3, "none": None, "empty": [], "o": {}}],
    }
    assert to_json(document) == json.dumps(document, indent=2, ensure_ascii=False)


def test_terms_parsed_once_are_the_terms_parsed_each_time() -> None:
    availability = {
        "target_percent": "99.9",
        "credit_tiers": [
            {"below_percent": "99.9", "credit_percent": "10"},
            {"below_percent": "99.0", "credit_percent": "25"},
        ],
        "maintenance_notice": "PT48H",
        "min_downtime_seconds": 60,
    }
    response = {
        "targets": {"P1": "PT15M"},
        "business_hours": "24x7",
        "credit_tiers": [{"below_percent": "100", "credit_percent": "5"}],
    }
    kept = contracts._kept(contracts._availability_terms, availability)
    assert kept == contracts._availability_terms(availability)
    assert contracts._kept(contracts._availability_terms, dict(availability)) is kept
    other = {**availability, "min_downtime_seconds": 61}
    assert contracts._kept(contracts._availability_terms, other).min_downtime_us == 61_000_000
    assert contracts._kept(contracts._response_terms, response) == contracts._response_terms(
        response
    )


cell_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-999, 99_999),
    st.text(max_size=6),
    st.sampled_from(["", "漢字", "e\u0301", "a\u202eb", "\x1b[31m", "x y", "{0}", "a,b", 'q"']),
)
table_rows = st.lists(
    st.fixed_dictionaries({"name": cell_values, "amount": cell_values, "empty": st.just("")}),
    max_size=8,
)
TABLE_COLUMNS = [("name", "name"), ("amount", "amount ¥"), ("empty", ""), ("gone", "gone")]


@settings(max_examples=300)
@given(table_rows, st.integers(0, 8))
def test_a_table_of_parts_is_the_table_of_all_their_rows(
    rows: list[dict[str, Any]], cut: int
) -> None:
    numeric = frozenset({"amount"})
    expected = reference_full_table(rows, TABLE_COLUMNS, numeric)
    assert to_table(rows, TABLE_COLUMNS, numeric) == expected
    parts = [table_cells(rows[:cut], TABLE_COLUMNS), table_cells(rows[cut:], TABLE_COLUMNS)]
    assert table_of_cells(parts, TABLE_COLUMNS, numeric) == expected


@settings(max_examples=300)
@given(st.lists(json_values, max_size=6), st.integers(0, 6), st.integers(0, 6))
def test_json_lists_joined_are_the_list_of_all_their_items(
    items: list[Any], cut: int, other: int
) -> None:
    first, second, third = items[:cut], items[cut : max(cut, other)], items[max(cut, other) :]
    joined = joined_json_lists([to_json(first), to_json(second), to_json(third)])
    document = {"period": "2026-03", "rows": joined, "after": [1, {"deeper": joined}]}
    expected = {"period": "2026-03", "rows": items, "after": [1, {"deeper": items}]}
    assert to_json(document) == json.dumps(expected, indent=2, ensure_ascii=False)
    assert to_json(joined) == json.dumps(items, indent=2, ensure_ascii=False)
    assert to_json([JsonText(to_json(items))]) == json.dumps([items], indent=2, ensure_ascii=False)


@settings(max_examples=300)
@given(table_rows)
def test_csv_is_the_csv_written_value_by_value(rows: list[dict[str, Any]]) -> None:
    fields = ["name", "amount", "empty", "gone"]
    assert to_csv(rows, fields) == reference_to_csv(rows, fields)


@settings(max_examples=500)
@given(
    json_values,
    st.sampled_from([None, 0, 2]),
    st.sampled_from(["", " ", "\n", "\ufeff"]),
    st.sampled_from(["", " ", "\r\n", "x", "]"]),
    st.sampled_from(["utf-8", "utf-16", "utf-32-le", "utf-8-sig", None]),
)
def test_parsed_is_json_loads(
    value: Any, indent: int | None, before: str, after: str, encoding: str | None
) -> None:
    text = before + json.dumps(value, indent=indent, ensure_ascii=indent == 2) + after
    given_as: str | bytes = text if encoding is None else text.encode(encoding)
    try:
        expected = json.loads(given_as)
    except ValueError as exc:
        with pytest.raises(type(exc), match="^" + re.escape(str(exc)) + "$"):
            _parsed(given_as)
        return
    assert repr(_parsed(given_as)) == repr(expected)


def test_parsed_takes_what_json_loads_takes_and_refuses_what_it_refuses() -> None:
    assert _parsed('[{"a":1},{"b":"\\ud800"}]') == [{"a": 1}, {"b": "\ud800"}]
    assert _parsed(b'[1,"\xed\xa0\x80"]') == json.loads(b'[1,"\xed\xa0\x80"]')  # surrogate
    for damaged in ("", "[1,]", "[1] [2]", "{", "nul", b"\xff[1]"):
        try:
            json.loads(damaged)
        except ValueError as exc:
            refused = exc
        with pytest.raises(type(refused), match="^" + re.escape(str(refused)) + "$"):
            _parsed(damaged)
    with pytest.raises(RecursionError):
        _parsed("[" * 100_000 + "]" * 100_000)


@settings(max_examples=500)
@given(json_values, json_values)
def test_value_key_tells_parsed_json_values_apart(a: Any, b: Any) -> None:
    a, b = json.loads(json.dumps(a)), json.loads(json.dumps(b))
    assert value_key(a) == value_key(json.loads(json.dumps(a)))
    if value_key(a) == value_key(b):
        assert repr(a) == repr(b)
    if repr(a) != repr(b):
        assert value_key(a) != value_key(b)


def test_value_key_tells_types_apart_and_keys_other_values_by_repr() -> None:
    assert len({value_key(1), value_key(True), value_key(1.0), value_key("1")}) == 4
    assert value_key([1]) != value_key((1,))
    assert value_key({"a": Decimal(1)}) == repr({"a": Decimal(1)})  # not JSON: its repr
