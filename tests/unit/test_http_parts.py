"""The HTTP API's pure parts: splitting an events body, cursors, the keys' configuration."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from consumers.http import event_body
from consumers.http.answers import Answer
from consumers.http.cursors import Cursor, decode
from consumers.http.keys import KEYS_ENV, KeysConfigError, config_entry, load_keyring, new_key
from consumers.http.problems import ProblemError
from consumers.http.roles import Role

ENVELOPE = {"event_id": "e", "payload": {"a": [1, 2, {"b": "ü"}]}}


def test_an_array_is_cut_into_its_items_as_they_were_sent() -> None:
    items = [b'{"a": 1}', b'{ "b" : [1,2] }', b'"text, with ] and ,"', b"3"]
    body = b"[ " + b" ,\n".join(items) + b" ]\n"
    assert event_body.split(body, "application/json").items == items


@given(st.lists(st.dictionaries(st.text(), st.integers() | st.text()), max_size=5))
def test_any_array_of_objects_splits_into_its_items(documents: list[dict[str, object]]) -> None:
    texts = [json.dumps(d, ensure_ascii=False).encode() for d in documents]
    body = b"[" + b",".join(texts) + b"]"
    assert event_body.split(body, "application/json").items == texts


def test_a_single_envelope_is_an_array_of_one() -> None:
    body = json.dumps(ENVELOPE).encode()
    assert event_body.split(body, "application/json").items == [body]


@pytest.mark.parametrize(
    "body",
    [b"", b"[", b"[1,", b"[1 2]", b"[1] x", b"\xff[]", b"{} {}", b"nope", b"[" * 100_000],
)
def test_a_body_that_cannot_be_split_says_why(body: bytes) -> None:
    with pytest.raises(event_body.UnreadableBodyError) as raised:
        event_body.split(body, "application/json")
    assert "\n" not in str(raised.value)


def test_json_lines_skip_blank_lines_and_keep_each_line() -> None:
    body = b'{"a": 1}\r\n\n  \n{"b": 2}\n'
    split = event_body.split(body, "application/x-ndjson")
    assert split.items == [b'{"a": 1}', b'{"b": 2}']
    assert split.blank_lines == 2


def test_a_cursor_reads_back_what_it_carries() -> None:
    cursor = Cursor("list_credits", {"period": "2026-03", "kind": None}, datetime.now(UTC), 42, 7)
    assert decode(cursor.encode(), "list_credits", {"period": None}) == cursor
    assert decode(cursor.encode(), "list_credits", {"period": "2026-03"}) == cursor


@pytest.mark.parametrize("text", ["", "x", "e30", "bnVsbA", "W10", "!!!"])
def test_a_forged_cursor_is_a_parameter_problem(text: str) -> None:
    with pytest.raises(ProblemError) as raised:
        decode(text, "list_credits", {})
    assert raised.value.field == "cursor"


def test_a_cursor_answers_only_its_own_question() -> None:
    cursor = Cursor("list_credits", {"period": "2026-03"}, datetime.now(UTC), 1, 0).encode()
    with pytest.raises(ProblemError) as other_list:
        decode(cursor, "list_rejections", {})
    assert other_list.value.field == "cursor"
    with pytest.raises(ProblemError) as other_filter:
        decode(cursor, "list_credits", {"period": "2026-04"})
    assert other_filter.value.field == "period"


def test_keys_are_held_by_digest_and_admit_their_holder() -> None:
    key = new_key()
    entry = config_entry("billing", [Role.FINANCE, Role.DISPUTES], key)
    assert key not in json.dumps(entry)
    keyring = load_keyring(None, {KEYS_ENV: json.dumps({"keys": [entry]})})
    holder = keyring.holder(key)
    assert holder is not None
    assert holder.roles == {Role.FINANCE, Role.DISPUTES}
    assert keyring.holder(key + "x") is None


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("{", "not JSON"),
        ("[]", '{"keys"'),
        ('{"keys": [{"roles": ["finance"], "sha256": "' + "0" * 64 + '"}]}', "keys[0].name"),
        ('{"keys": [{"name": "a", "roles": ["boss"], "sha256": "' + "0" * 64 + '"}]}', "boss"),
        ('{"keys": [{"name": "a", "roles": ["finance"], "sha256": "slk_raw"}]}', "keys[0].sha256"),
    ],
)
def test_a_bad_keys_configuration_names_the_entry_and_rule(text: str, names: str) -> None:
    with pytest.raises(KeysConfigError) as raised:
        load_keyring(None, {KEYS_ENV: text})
    assert names in str(raised.value)
    assert str(raised.value).startswith(f"${KEYS_ENV}")


def test_many_asking_at_once_wait_for_one_computation() -> None:
    import threading
    import time

    from consumers.http.answer_cache import AnswerCache, answer_size
    from consumers.http.answers import answer

    cache: AnswerCache[Answer] = AnswerCache(answer_size)
    computed: list[int] = []

    def compute() -> tuple[Answer, bool]:
        computed.append(1)
        time.sleep(0.2)
        return answer('{"a": 1}', 7), True

    results: list[Answer] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.answer("k", compute)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(computed) == 1
    assert len({id(r) for r in results}) == 1
    assert cache.answer("k", compute) is results[0]
    assert len(computed) == 1


def test_an_answer_computed_under_another_head_is_not_kept() -> None:
    from consumers.http.answer_cache import AnswerCache, answer_size
    from consumers.http.answers import answer

    cache: AnswerCache[Answer] = AnswerCache(answer_size)
    calls: list[int] = []

    def compute() -> tuple[Answer, bool]:
        calls.append(1)
        return answer("{}", 1), False

    cache.answer("k", compute)
    cache.answer("k", compute)
    assert len(calls) == 2
