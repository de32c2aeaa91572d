"""Property-based tests of the API from its own OpenAPI document (Schemathesis), against
a real server: whatever a client sends within (or outside) the documented shapes, no
answer is a server error, and every answer matches its documented status, content type
and schema."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from consumers.http.app import Settings, create_app
from consumers.http.keys import Keyring
from tests.http_server import ALL, Served, serving
from tests.infrastructure import sqlite_url
from tests.ledgers import two_closed_months

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("openapi")
    with serving(two_closed_months(sqlite_url(directory), directory), directory) as server:
        yield server


# The document the server publishes (the app opens no store until a request needs it);
# `test_the_served_document_is_this_one` checks the live server serves this same one.
DOCUMENT = create_app(Settings("sqlite:///unused.db", None, Keyring({}))).openapi()


def _without_security(document: dict[str, Any]) -> dict[str, Any]:
    """The document with no operation asking for a key: every request here sends one,
    so a case generated without it would be answered as if it had it. Who may call what
    without a key is `test_http_api.test_who_may_do_what`'s."""
    copied: dict[str, Any] = json.loads(json.dumps(document))
    for operations in copied["paths"].values():
        for operation in operations.values():
            operation.pop("security", None)
    return copied


schema = schemathesis.openapi.from_dict(_without_security(DOCUMENT))


def test_the_served_document_is_this_one(served: Served) -> None:
    assert served.get("/openapi.json", role=None).json() == DOCUMENT


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_every_answer_as_documented(
    case: schemathesis.Case[Any], served: Served
) -> None:
    # Every default check but "a schema-valid request is accepted": some requests of
    # the documented forms are refused on purpose, with a problem naming the rule (a
    # moment after now, a cursor this server did not give, a period outside the calendar).
    case.call_and_validate(
        base_url=served.base,
        headers={"Authorization": f"Bearer {served.keys[ALL]}"},
        excluded_checks=[positive_data_acceptance],
    )
