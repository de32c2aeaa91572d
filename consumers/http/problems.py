"""Errors a client can act on: RFC 9457 `application/problem+json`.

Each kind of error has a stable `type` (a URI reference, `/problems/<slug>`, which this
server also answers with the type's description), a status, and a title; `detail` is the
one-line message the command line gives for the same mistake. Bad input names the
`field` and the `rule` it broke. The mapping from the ledger's errors to these types is
`problem_of`, the one place that decides an error's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ledger.errors import (
    InvalidInputError,
    LedgerError,
    NotFoundError,
    NothingToCloseError,
    PeriodNotEndedError,
    StoreError,
    StoreRefusedError,
)
from projections.audit.bundle import UnverifiedChainError
from projections.queries.as_of import (
    FutureMomentError,
    MomentRefusedError,
    MomentsReversedError,
)

MEDIA_TYPE = "application/problem+json"
# How long a client should wait before asking again when the store is unreachable.
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True)
class ProblemType:
    slug: str
    status: int
    title: str
    description: str  # what it means and what to do: the type's own page

    @property
    def uri(self) -> str:
        return f"/problems/{self.slug}"


def _types(*types: ProblemType) -> dict[str, ProblemType]:
    return {t.slug: t for t in types}


TYPES = _types(
    ProblemType(
        "invalid-parameter",
        400,
        "A parameter is invalid",
        "A path or query parameter does not follow its rule; `field` names it and `rule` "
        "says what it must be. Correct it and ask again.",
    ),
    ProblemType(
        "invalid-body",
        400,
        "The request body cannot be read",
        "The body is not what the operation takes (JSON Lines, or a JSON array of event "
        "envelopes). Nothing in it was recorded as an event; the body was kept as a "
        "rejected input (`GET /v1/rejections`).",
    ),
    ProblemType(
        "moment-in-future",
        422,
        "The moment asked about has not happened yet",
        "`as_of` (or `to`) is after the ledger's now; about the future it would answer "
        "differently later. Ask about a moment that has passed.",
    ),
    ProblemType(
        "moments-reversed",
        422,
        "The moments are in the wrong order",
        "`from` must not be after `to`.",
    ),
    ProblemType(
        "unauthorized",
        401,
        "An API key is required",
        "Send `Authorization: Bearer <key>` with a key configured on this server.",
    ),
    ProblemType(
        "forbidden",
        403,
        "The key's roles do not allow this",
        "The API key is valid but none of its roles may call this operation; use a key "
        "with a role that may (the README's table of roles).",
    ),
    ProblemType(
        "not-found",
        404,
        "Not found",
        "No such resource, row, entry or contract as of the moment asked about.",
    ),
    ProblemType(
        "method-not-allowed", 405, "Method not allowed", "The resource does not take this method."
    ),
    ProblemType(
        "period-not-ended",
        409,
        "The period has not ended",
        "A period is closed only once it has ended in every contract's timezone.",
    ),
    ProblemType(
        "nothing-to-close",
        409,
        "The period has no rows",
        "No contract is in force in the period, so there is nothing to close.",
    ),
    ProblemType(
        "chain-not-verified",
        409,
        "The chain does not verify",
        "The hash chain does not verify, or does not pass through a checkpoint given, so "
        "no bundle was made: `detail` names the first position that does not match. Check "
        "the checkpoint, or investigate the store (`GET /v1/audit/verify`).",
    ),
    ProblemType(
        "unknown-parameter",
        400,
        "An unknown parameter was given",
        "The operation takes no parameter of that name (a misspelt filter would otherwise "
        "be ignored and answer a wider question than asked): see the operation's parameters "
        "in /openapi.json.",
    ),
    ProblemType(
        "body-too-large",
        413,
        "The request body is too large",
        "Send the events in several requests, each within the limit `detail` names.",
    ),
    ProblemType(
        "unsupported-media-type",
        415,
        "Unsupported content type",
        "Send `application/x-ndjson` (JSON Lines) or `application/json` (an array).",
    ),
    ProblemType(
        "store-unavailable",
        503,
        "The store cannot be reached",
        "The ledger's store did not answer; nothing was changed. Ask again after the "
        "`Retry-After` seconds.",
    ),
    ProblemType(
        "store-refused",
        503,
        "The store cannot be used as configured",
        "The store is reachable but cannot do this (no store at the URL, a role that may "
        "not write): an operator must fix the server's configuration.",
    ),
    ProblemType(
        "internal",
        500,
        "Internal error",
        "A bug: the server logged it. Please report it with the time of the request.",
    ),
)


class ProblemError(Exception):
    """An error answered as a problem document."""

    def __init__(
        self,
        slug: str,
        detail: str,
        *,
        field: str | None = None,
        rule: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.type = TYPES[slug]
        self.detail = detail
        self.field = field
        self.rule = rule
        self.headers = headers or {}

    def document(self, instance: str) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": self.type.uri,
            "title": self.type.title,
            "status": self.type.status,
            "detail": self.detail,
            "instance": instance,
        }
        if self.field is not None:
            document["field"] = self.field
        if self.rule is not None:
            document["rule"] = self.rule
        return document


def invalid(field: str, rule: str, detail: str | None = None) -> ProblemError:
    """A parameter that broke its rule: `field: rule` unless `detail` words it."""
    return ProblemError("invalid-parameter", detail or f"{field}: {rule}", field=field, rule=rule)


def problem_of(exc: LedgerError) -> ProblemError:
    """The problem an error of the ledger is answered with (its message as `detail`)."""
    detail = str(exc)
    if isinstance(exc, ProblemError):
        return exc
    if isinstance(exc, FutureMomentError):
        return ProblemError("moment-in-future", detail, field="as_of", rule="not after now")
    if isinstance(exc, MomentsReversedError):
        return ProblemError("moments-reversed", detail, field="from", rule="not after to")
    if isinstance(exc, MomentRefusedError):  # a position or page out of range
        return ProblemError("invalid-parameter", detail)
    if isinstance(exc, PeriodNotEndedError):
        return ProblemError("period-not-ended", detail)
    if isinstance(exc, NothingToCloseError):
        return ProblemError("nothing-to-close", detail)
    if isinstance(exc, UnverifiedChainError):
        return ProblemError("chain-not-verified", detail)
    if isinstance(exc, StoreRefusedError):
        return ProblemError("store-refused", detail)
    if isinstance(exc, StoreError):
        return ProblemError(
            "store-unavailable", detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
        )
    if isinstance(exc, InvalidInputError):
        return ProblemError("invalid-parameter", detail)
    if isinstance(exc, NotFoundError):
        return ProblemError("not-found", detail)
    return ProblemError("internal", detail)
