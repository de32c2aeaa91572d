"""Events from producers without Kafka: `POST /v1/events`, the same validation and
idempotency as any intake, every input accepted once or rejected and kept."""

from __future__ import annotations

import re
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.concurrency import run_in_threadpool

from consumers.http import answers, event_body
from consumers.http.auth import allow
from consumers.http.problems import ProblemError
from consumers.http.routes.common import PROBLEMS, stores
from consumers.http.schemas import IntakeDocument
from consumers.intake.request_intake import RequestOutcome, ingest_inputs, request_origin
from consumers.intake.validation import MAX_EVENT_BYTES
from consumers.metrics import Metrics
from ledger.events import Origin
from ledger.rejections import Rejection
from projections.queries.encoding import to_json

router = APIRouter(prefix="/v1", tags=["ingest"])

# At most this many bytes in one request: the inputs are appended in one transaction.
MAX_BODY_BYTES = 16 * 1024 * 1024
KEY_FORM = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@router.post(
    "/events",
    operation_id="post_events",
    summary="Append events: JSON Lines or a JSON array of envelopes",
    response_class=Response,
    responses={
        200: {
            "model": IntakeDocument,
            "description": "Every input accepted, a duplicate, or rejected and kept "
            "(`rejections` says which, with field and reason).",
        }
    }
    | PROBLEMS
    | {
        413: PROBLEMS[400] | {"description": "The body is larger than the limit."},
        415: PROBLEMS[400] | {"description": "Neither JSON Lines nor JSON."},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-ndjson": {
                    "schema": {"description": "JSON Lines: an envelope per line, each judged"}
                },
                # Any items: each is judged on its own, as a line of a file is, and an
                # item that is no envelope is a rejection kept, not a refused request.
                "application/json": {
                    "schema": {
                        "anyOf": [
                            {
                                "type": "array",
                                "items": {"description": "An event envelope (events.md)"},
                            },
                            {"type": "object", "description": "One envelope: an array of one"},
                        ]
                    }
                },
            },
        }
    },
    dependencies=[Depends(allow("post_events"))],
)
async def post_events(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            description="Names the request: sent again under the same key, its events are "
            "duplicates and its rejections the same ones (1-128 of A-Z a-z 0-9 . _ : -).",
            json_schema_extra={"pattern": KEY_FORM.pattern},
        ),
    ] = None,
) -> Response:
    kind = event_body.media_type(request.headers.get("content-type"))
    if kind not in event_body.LINES_TYPES and kind != event_body.ARRAY_TYPE:
        raise ProblemError(
            "unsupported-media-type",
            f"Content-Type {kind or '(none)'} is not taken: send application/x-ndjson "
            "(JSON Lines) or application/json (an array of envelopes)",
            field="Content-Type",
            rule="application/x-ndjson or application/json",
        )
    if idempotency_key is not None and not KEY_FORM.fullmatch(idempotency_key):
        raise ProblemError(
            "invalid-parameter",
            "Idempotency-Key: 1-128 characters of A-Z a-z 0-9 . _ : -",
            field="Idempotency-Key",
            rule="1-128 characters of A-Z a-z 0-9 . _ : -",
        )
    body = await _body(request)
    key = idempotency_key or str(uuid.uuid4())
    try:
        split = event_body.split(body, kind)
    except event_body.UnreadableBodyError as exc:
        # Kept whole, as one input that could not be read: nothing sent is lost.
        kept = body[:MAX_EVENT_BYTES]
        outcome = await run_in_threadpool(_ingest, request, [(kept, request_origin(key, 1))])
        rejection = outcome.rejected[0] if outcome.rejected else None
        detail = f"body: {exc}; kept as rejected input" + (
            f" {rejection.rejection_id}" if rejection else ""
        )
        raise ProblemError(
            "invalid-body", detail, field="body", rule="JSON Lines or a JSON array"
        ) from None
    inputs = [(raw, request_origin(key, place)) for place, raw in enumerate(split.items, 1)]
    outcome = await run_in_threadpool(_ingest, request, inputs)
    return Response(
        (to_json(_document(key, outcome, split.blank_lines)) + "\n").encode("utf-8"),
        media_type=answers.JSON,
    )


def _ingest(request: Request, inputs: list[tuple[bytes, Origin]]) -> RequestOutcome:
    with stores(request).writing() as store:
        outcome = ingest_inputs(store, inputs)
    metrics: Metrics = request.app.state.metrics
    metrics.intake("http").add(outcome.accepted, outcome.duplicates, len(outcome.rejected))
    return outcome


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise _too_large()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise _too_large()
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large() -> ProblemError:
    return ProblemError(
        "body-too-large",
        f"the body is larger than {MAX_BODY_BYTES:,} bytes: send the events in several requests",
        field="body",
        rule=f"at most {MAX_BODY_BYTES} bytes",
    )


def _document(key: str, outcome: RequestOutcome, blank_lines: int) -> dict[str, object]:
    return {
        "request": key,
        "inputs": outcome.inputs,
        "accepted": outcome.accepted,
        "duplicates": outcome.duplicates,
        "rejected": len(outcome.rejected),
        "blank_lines": blank_lines,
        "entries_appended": outcome.entries_appended,
        "alerts_raised": outcome.alerts_raised,
        "rejections": [_rejection(r) for r in outcome.rejected],
    }


def _rejection(rejection: Rejection) -> dict[str, object]:
    return {
        "input": rejection.origin.line,
        "rejection_id": rejection.rejection_id,
        "field": rejection.field,
        "reason": rejection.reason,
        "event_id": rejection.event_id,
    }
