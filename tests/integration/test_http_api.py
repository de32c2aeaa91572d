"""The HTTP API against a real `sla-ledger serve` process on a free loopback port, on
both stores: every endpoint, the role table, byte-identity with the command line, ETags,
problem documents, and pages that neither skip nor repeat while ingest runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from consumers.http.roles import ALLOWED, Role
from ledger.timeformat import format_utc
from tests.builders import ev, outage
from tests.cli_process import succeeded
from tests.http_server import Served, serving
from tests.infrastructure import fresh_postgres_database, sqlite_url
from tests.ledgers import two_closed_months

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def ledger_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A store of two closed months (`tests.ledgers.two_closed_months`), shared by the
    module's tests that only read."""
    directory = tmp_path_factory.mktemp("http-ledger")
    if request.param == "sqlite":
        yield two_closed_months(sqlite_url(directory), directory)
        return
    postgres: str = request.getfixturevalue("postgres_url")
    with fresh_postgres_database(postgres) as url:
        yield two_closed_months(url, directory)


@pytest.fixture(scope="module")
def served(ledger_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(ledger_url, tmp_path_factory.mktemp("http-keys")) as server:
        yield server


@pytest.fixture(scope="module")
def moment(served: Served) -> str:
    """A moment after the ledger was built: a past moment, so every answer as of it is
    the same every time it is asked."""
    return format_utc(datetime.now(UTC))


def entry_ids(document: dict[str, Any]) -> list[str]:
    return [entry["entry_id"] for entry in document["entries"]]


# One request per operation, against the two closed months (`{entry}`: a real entry id;
# `{event}`: a real event id).
REQUESTS: dict[str, tuple[str, str, dict[str, str]]] = {
    "list_periods": ("GET", "/v1/periods", {}),
    "period_report": ("GET", "/v1/periods/2026-03/report", {}),
    "list_credits": ("GET", "/v1/credits", {}),
    "credit_entry": ("GET", "/v1/credits/{entry}", {}),
    "statement": ("GET", "/v1/statements/C-1/2026-03", {}),
    "explain_row": ("GET", "/v1/rows/C-1/crm/2026-03/explain", {}),
    "period_diff": ("GET", "/v1/periods/2026-03/diff", {"from": "2026-01-01"}),
    "list_incidents": ("GET", "/v1/incidents", {}),
    "period_exposure": ("GET", "/v1/periods/2026-05/exposure", {}),
    "list_alerts": ("GET", "/v1/alerts", {}),
    "list_claims": ("GET", "/v1/claims", {}),
    "audit_verify": ("GET", "/v1/audit/verify", {}),
    "audit_export": ("POST", "/v1/audit/exports", {"period": "2026-03"}),
    "chained_log": ("GET", "/v1/events", {}),
    "event_record": ("GET", "/v1/events/{event}", {}),
    "list_rejections": ("GET", "/v1/rejections", {}),
    "close_period": ("POST", "/v1/periods/2026-03/close", {}),
    "preview_close": ("POST", "/v1/periods/2026-03/close/preview", {}),
    "post_events": ("POST", "/v1/events", {}),
}


def call(served: Served, operation: str, role: str | None) -> httpx.Response:
    method, path, params = REQUESTS[operation]
    if "{entry}" in path:
        path = path.replace("{entry}", served.get("/v1/credits").json()["entries"][0]["entry_id"])
    if "{event}" in path:
        log = served.get("/v1/events", limit=1).json()["records"]
        path = path.replace("{event}", log[0]["record"]["event_id"])
    with served.client(role) as client:
        if operation == "post_events":
            return client.post(path, content=b"", headers={"Content-Type": "application/x-ndjson"})
        return client.request(method, path, params=params)


def test_every_operation_is_in_the_role_table(served: Served) -> None:
    openapi = served.get("/openapi.json", role=None).json()
    operations = {
        op["operationId"]
        for path, methods in openapi["paths"].items()
        if path.startswith("/v1/")
        for op in methods.values()
    }
    assert operations == set(ALLOWED) == set(REQUESTS)


@pytest.mark.parametrize("operation", sorted(ALLOWED))
def test_who_may_do_what(served: Served, operation: str) -> None:
    """Every endpoint with every role, with no key and with a wrong key: 401 without a
    known key, 403 for a role the table does not allow, an answer for one it does."""
    for role in [*Role, None, "wrong"]:
        if role == "wrong":
            with httpx.Client(base_url=served.base, timeout=120) as client:
                method, path, params = REQUESTS[operation]
                answer = client.request(
                    method,
                    path.replace("{entry}", "x").replace("{event}", "x"),
                    params=params,
                    headers={"Authorization": "Bearer slk_not-a-key"},
                )
        else:
            answer = call(served, operation, None if role is None else str(role))
        if role is None or role == "wrong":
            expected = 401
        elif Role(role) in ALLOWED[operation]:
            expected = 200
        else:
            expected = 403
        assert answer.status_code == expected, (operation, role, answer.text)
        if expected != 200:
            assert answer.headers["content-type"] == PROBLEM
            problem = answer.json()
            assert problem["status"] == expected
            assert (
                problem["type"] == f"/problems/{'unauthorized' if expected == 401 else 'forbidden'}"
            )
            assert "slk_" not in answer.text  # the key is never echoed
        if expected == 401:
            assert answer.headers["www-authenticate"].startswith("Bearer")


# The same question of the CLI (`--format json`) and of the API: (CLI args, path, params).
def questions(moment: str) -> list[tuple[list[str], str, dict[str, str]]]:
    return [
        (["report", "--period", "2026-03"], "/v1/periods/2026-03/report", {}),
        (
            ["report", "--period", "2026-04", "--contract", "C-1"],
            "/v1/periods/2026-04/report",
            {"contract": "C-1"},
        ),
        (["credits"], "/v1/credits", {"limit": "1000"}),
        (["credits", "--period", "2026-03"], "/v1/credits", {"period": "2026-03"}),
        (
            ["explain", "--contract", "C-1", "--service", "crm", "--period", "2026-03"],
            "/v1/rows/C-1/crm/2026-03/explain",
            {},
        ),
        (["incidents"], "/v1/incidents", {}),
        (["exposure", "--period", "2026-03"], "/v1/periods/2026-03/exposure", {}),
        (["exposure", "--period", "2026-05"], "/v1/periods/2026-05/exposure", {}),
        (["alerts"], "/v1/alerts", {"limit": "1000"}),
        (["alerts", "--period", "2026-03"], "/v1/alerts", {"period": "2026-03"}),
        (["claims"], "/v1/claims", {"limit": "1000"}),
        (["claims", "--contract", "C-1"], "/v1/claims", {"contract": "C-1"}),
        (
            ["exposure", "--period", "2026-05", "--contract", "C-1"],
            "/v1/periods/2026-05/exposure",
            {"contract": "C-1"},
        ),
    ]


def test_answers_are_the_command_lines_to_the_byte(
    served: Served, ledger_url: str, moment: str
) -> None:
    for args, path, params in questions(moment):
        cli = succeeded(*args, "--as-of", moment, "--format", "json", store=ledger_url)
        answer = served.get(path, as_of=moment, **params)
        assert answer.status_code == 200, answer.text
        assert answer.content == cli.encode("utf-8"), path
        position = json.loads(cli)["chain_position"]
        assert answer.headers["SLA-Ledger-Chain-Position"] == str(position)
        again = served.get(path, as_of=moment, **params)
        assert again.content == answer.content
        assert again.headers["etag"] == answer.headers["etag"]
    diff = succeeded(
        "diff",
        "--period",
        "2026-03",
        "--from",
        "2026-01-01",
        "--to",
        moment,
        "--format",
        "json",
        store=ledger_url,
    )
    answer = served.get("/v1/periods/2026-03/diff", **{"from": "2026-01-01", "to": moment})
    assert answer.content == diff.encode("utf-8")
    verify = succeeded("audit", "verify", "--format", "json", store=ledger_url)
    assert served.get("/v1/audit/verify").content == verify.encode("utf-8")


def test_etags_answer_if_none_match_with_304(served: Served, moment: str) -> None:
    first = served.get("/v1/periods/2026-03/report", as_of=moment)
    etag = first.headers["etag"]
    assert etag.startswith('"')
    assert not etag.startswith("W/")
    with served.client() as client:
        cached = client.get(
            "/v1/periods/2026-03/report", params={"as_of": moment}, headers={"If-None-Match": etag}
        )
        assert cached.status_code == 304
        assert cached.content == b""
        other = client.get(
            "/v1/periods/2026-04/report", params={"as_of": moment}, headers={"If-None-Match": etag}
        )
        assert other.status_code == 200


@pytest.mark.parametrize(
    ("path", "params", "status", "kind", "field"),
    [
        ("/v1/periods/2026-13/report", {}, 400, "invalid-parameter", "period"),
        ("/v1/periods/2026-03/report", {"as_of": "yesterday"}, 400, "invalid-parameter", "as_of"),
        ("/v1/periods/2026-03/report", {"as_of": "2999-01-01"}, 422, "moment-in-future", "as_of"),
        ("/v1/credits", {"limit": "0"}, 400, "invalid-parameter", "limit"),
        ("/v1/credits", {"kind": "refund"}, 400, "invalid-parameter", "kind"),
        ("/v1/credits", {"cursor": "not-a-cursor"}, 400, "invalid-parameter", "cursor"),
        ("/v1/credits/no-such-entry", {}, 404, "not-found", None),
        ("/v1/rows/C-9/crm/2026-03/explain", {}, 404, "not-found", None),
        (
            "/v1/periods/2026-03/diff",
            {"from": "2026-05-01", "to": "2026-04-01"},
            422,
            "moments-reversed",
            "from",
        ),
        ("/v1/nothing-here", {}, 404, "not-found", None),
        # A NUL no id can hold: a client's mistake, not the store's (PostgreSQL cannot
        # take it in a query).
        (
            "/v1/periods/2026-03/exposure",
            {"contract": "C-\x001"},
            400,
            "invalid-parameter",
            "contract",
        ),
        ("/v1/alerts", {"contract": "C-\x001"}, 400, "invalid-parameter", "contract"),
        ("/v1/credits", {"customer": "K\x00"}, 400, "invalid-parameter", "customer"),
        ("/v1/credits/E%001", {}, 400, "invalid-parameter", "entry_id"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field(
    served: Served, path: str, params: dict[str, str], status: int, kind: str, field: str | None
) -> None:
    answer = served.get(path, **params)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["type"] == f"/problems/{kind}"
    assert problem["status"] == status
    assert "\n" not in problem["detail"]
    assert "Traceback" not in problem["detail"]
    if field is not None:
        assert problem["field"] == field
    described = served.get(problem["type"], role=None)
    assert described.status_code == 200
    assert problem["title"] in described.text


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v1/periods/2026-03/close/preview", "POST"),
        ("GET", "/v1/periods/2026-03/close", "POST"),
        ("POST", "/v1/alerts", "GET"),
        ("DELETE", "/v1/periods/2026-03/exposure", "GET"),
        # Two routers serve this path: the chained log (GET) and events in (POST).
        ("PUT", "/v1/events", "GET, POST"),
    ],
)
def test_a_method_not_taken_names_the_methods_that_are(
    served: Served, method: str, path: str, allowed: str
) -> None:
    """RFC 9110 §15.5.6: a 405 carries `Allow`, the methods the resource takes; a client
    told only "not this one" cannot correct its call."""
    with served.client() as client:
        answer = client.request(method, path)
    assert answer.status_code == 405, answer.text
    assert answer.headers["content-type"] == PROBLEM
    assert answer.headers["allow"] == allowed
    problem = answer.json()
    assert problem["type"] == "/problems/method-not-allowed"
    assert problem["detail"] == f"{method} is not taken here; the resource takes {allowed}"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/v1/alerts", "period"),
        ("/v1/alerts", "since"),
        ("/v1/periods/2026-03/exposure", "as_of"),
        ("/v1/credits", "contract"),
    ],
)
def test_a_parameter_given_twice_that_takes_one_value_is_refused(
    served: Served, path: str, name: str
) -> None:
    """Read as its last value, `?period=2026-03&period=2026-04` answered one of two
    questions without saying which."""
    values = {
        "period": ["2026-03", "2026-04"],
        "since": ["2026-03-01", "2026-04-01"],
        "as_of": ["2026-04-01", "2026-05-01"],
        "contract": ["C-1", "C-2"],
    }[name]
    with served.client() as client:
        answer = client.get(path, params=[(name, value) for value in values])
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["type"] == "/problems/invalid-parameter"
    assert (problem["field"], problem["rule"]) == (name, "given once")
    assert problem["detail"] == f"{name}: given 2 times, but it takes one value; send it once"


def test_a_parameter_that_takes_a_list_may_be_repeated(served: Served) -> None:
    with served.client() as client:
        answer = client.get(
            "/v1/audit/verify", params=[("checkpoint", "1:" + "0" * 64), ("checkpoint", "x")]
        )
    # Refused for the second checkpoint's form, not for being given twice.
    assert answer.status_code == 400, answer.text
    assert answer.json()["field"] == "checkpoint"
    assert answer.json()["rule"] != "given once"


def test_credit_pages_neither_skip_nor_repeat_while_ingest_runs(
    served_fresh: Served,
) -> None:
    """A client pages through the entries one at a time while corrections arrive (each a
    reversal and a re-issue): it sees exactly the entries of its first page's moment."""
    before = served_fresh.get("/v1/credits", limit=1000).json()
    seen: list[str] = []
    url: str | None = "/v1/credits?limit=1"
    day = 3
    with served_fresh.client() as reader, served_fresh.client(Role.INGEST.value) as writer:
        while url is not None:
            page = reader.get(url)
            assert page.status_code == 200, page.text
            entries = page.json()["entries"]
            assert entries, "an empty page before the end"
            seen += [entry["entry_id"] for entry in entries]
            url = _next(page)
            amended = ev(
                "outage.amended",
                datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                # Three days down, then twenty minutes again: each flips the row's tier,
                # so each is a reversal and a re-issue.
                {"outage_id": "M-3", "ended_at": ENDS[day % 2], "reason": "review"},
            )
            day += 1
            posted = writer.post(
                "/v1/events",
                content=json.dumps(amended).encode(),
                headers={"Content-Type": "application/x-ndjson"},
            )
            assert posted.status_code == 200
            assert posted.json()["accepted"] == 1, posted.text
    assert seen == entry_ids(before)
    after = served_fresh.get("/v1/credits", limit=1000).json()
    assert len(entry_ids(after)) > len(seen)  # entries were appended during the walk


ENDS = ("2026-03-06T10:00:00Z", "2026-03-03T10:20:00Z")


def _next(page: httpx.Response) -> str | None:
    link: str | None = page.headers.get("link")
    if link is None:
        return None
    assert link.endswith('>; rel="next"')
    return link[1 : link.index(">")]


@pytest.fixture
def served_fresh(store_url: str, tmp_path: Path) -> Iterator[Served]:
    """A server of its own, on a store of its own, for a test that writes."""
    with serving(two_closed_months(store_url, tmp_path), tmp_path) as server:
        yield server


def test_the_chained_log_pages_to_its_first_head(served_fresh: Served) -> None:
    first = served_fresh.get("/v1/events", limit=7)
    through = int(first.headers["SLA-Ledger-Chain-Position"])
    positions = [r["position"] for r in first.json()["records"]]
    url = _next(first)
    with served_fresh.client(Role.INGEST.value) as writer:
        writer.post(
            "/v1/events",
            content=b"\n".join(
                json.dumps(d).encode() for d in outage("X-1", "2026-05-02T10:00:00Z", None)
            ),
            headers={"Content-Type": "application/x-ndjson"},
        )
    with served_fresh.client() as reader:
        while url is not None:
            page = reader.get(url)
            records = page.json()["records"]
            assert records
            positions += [r["position"] for r in records]
            url = _next(page)
    assert positions == list(range(1, through + 1))


def test_events_in_are_accepted_once_or_rejected_and_kept(served_fresh: Served) -> None:
    docs = outage("P-1", "2026-05-04T10:00:00Z", "2026-05-04T10:05:00Z")
    lines = b"\n".join(json.dumps(d).encode() for d in docs) + b"\n{not json}\n"
    with served_fresh.client(Role.INGEST.value) as writer:
        first = writer.post(
            "/v1/events",
            content=lines,
            headers={"Content-Type": "application/x-ndjson", "Idempotency-Key": "batch-1"},
        ).json()
        assert (first["accepted"], first["duplicates"], first["rejected"]) == (2, 0, 1)
        assert first["rejections"][0]["input"] == 3
        assert first["rejections"][0]["field"]
        again = writer.post(
            "/v1/events",
            content=lines,
            headers={"Content-Type": "application/x-ndjson", "Idempotency-Key": "batch-1"},
        ).json()
        assert (again["accepted"], again["duplicates"], again["rejected"]) == (0, 2, 1)
        assert again["rejections"][0]["rejection_id"] == first["rejections"][0]["rejection_id"]
        array = writer.post("/v1/events", json=outage("P-2", "2026-05-05T10:00:00Z", None)).json()
        assert (array["accepted"], array["rejected"]) == (1, 0)
        broken = writer.post(
            "/v1/events", content=b'[{"a": 1}, {', headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 400
        assert broken.json()["type"] == "/problems/invalid-body"
        wrong_type = writer.post("/v1/events", content=b"x", headers={"Content-Type": "text/csv"})
        assert wrong_type.status_code == 415
    with served_fresh.client(Role.OPERATOR.value) as operator:
        kept = operator.get("/v1/rejections").json()["rejections"]
    # The bad line once (the second request re-sent it under the same key), and the
    # broken body whole.
    assert len(kept) == 2
    assert kept[0]["raw"] == "{not json}"
    assert kept[1]["raw"] == '[{"a": 1}, {'


def test_preview_shows_what_the_close_then_issues(served_fresh: Served) -> None:
    with served_fresh.client(Role.INGEST.value) as writer:
        writer.post(
            "/v1/events",
            content=b"\n".join(
                json.dumps(d).encode()
                for d in outage("Q-1", "2026-05-04T10:00:00Z", "2026-05-04T19:00:00Z")
            ),
            headers={"Content-Type": "application/x-ndjson"},
        )
    with served_fresh.client(Role.OPERATOR.value) as operator:
        preview = operator.post("/v1/periods/2026-05/close/preview")
        assert preview.status_code == 200, preview.text
        assert preview.json()["recorded"] is False
        assert served_fresh.get("/v1/periods/2026-05/report").json()["rows"][0]["status"] == (
            "provisional"
        )
        closed = operator.post("/v1/periods/2026-05/close")
        assert closed.status_code == 200, closed.text
    assert entry_ids(closed.json()) == entry_ids(preview.json())
    assert closed.json()["entries"]
    assert closed.json()["newly_closed"] is True
    not_ended = served_fresh.client(Role.OPERATOR.value).post("/v1/periods/2099-01/close")
    assert not_ended.status_code == 409
    assert not_ended.json()["type"] == "/problems/period-not-ended"


def test_an_unreachable_store_is_503_with_retry_after(tmp_path: Path) -> None:
    url = "postgresql://nobody:secret@127.0.0.1:9/ledger?connect_timeout=2"
    with serving(url, tmp_path) as served:
        answer = served.get("/v1/periods")
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"].isdigit()
        assert answer.json()["type"] == "/problems/store-unavailable"
        assert "secret" not in answer.text
        assert served.get("/readyz", role=None).status_code == 503
        assert served.get("/healthz", role=None).status_code == 200
    assert "secret" not in served.log()


def test_a_report_asked_again_now_is_the_clis_as_of_its_moment(
    served: Served, ledger_url: str
) -> None:
    """Asked again as of now, a report whose rows stay the same is written from the rows
    kept (a closed month's change only with a record): still the CLI's bytes as of the
    moment it names."""
    for _ in range(3):
        answer = served.get("/v1/periods/2026-03/report")
        moment = answer.json()["as_of"]
        cli = succeeded(
            "report",
            "--period",
            "2026-03",
            "--as-of",
            moment,
            "--format",
            "json",
            store=ledger_url,
        )
        assert answer.content == cli.encode("utf-8")


def test_a_report_of_a_running_outage_is_computed_each_time(served_fresh: Served) -> None:
    """An ongoing outage's downtime grows with time alone: each answer as of now is of
    its own moment (the kept rows are not used for it)."""
    started = datetime.now(UTC) - timedelta(seconds=5)
    period = started.strftime("%Y-%m")  # the month running now, whatever day this runs
    running = outage("R-1", started.strftime("%Y-%m-%dT%H:%M:%SZ"), None)
    with served_fresh.client(Role.INGEST.value) as writer:
        writer.post(
            "/v1/events",
            content=b"\n".join(json.dumps(d).encode() for d in running),
            headers={"Content-Type": "application/x-ndjson"},
        )
    downtimes = []
    for _ in range(2):
        rows = served_fresh.get(f"/v1/periods/{period}/report").json()["rows"]
        downtimes.append(Decimal(rows[0]["downtime_seconds"]))
    assert downtimes[1] > downtimes[0] > 0


def test_the_chained_log_as_of_a_moment_ends_at_that_moments_position(served: Served) -> None:
    everything = served.get("/v1/events", limit=1000).json()["records"]
    recorded = [
        (r["position"], r["record"].get("recorded_us") or r["record"].get("closed_us"))
        for r in everything
    ]
    middle = everything[len(everything) // 2]["record"]["recorded_us"]
    moment = format_utc(datetime.fromtimestamp(middle / 1_000_000, UTC))
    answer = served.get("/v1/events", limit=1000, as_of=moment)
    assert answer.status_code == 200, answer.text
    expected = max(p for p, at in recorded if at is not None and at <= middle)
    positions = [r["position"] for r in answer.json()["records"]]
    assert positions == list(range(1, expected + 1))
    assert answer.headers["SLA-Ledger-Chain-Position"] == str(expected)
