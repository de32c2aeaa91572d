"""What compliance audits: the chain verified, a period's audit bundle as a download, the
chained log itself, paged, for consumers that replay it, and one event's envelope as
accepted (which a dispute handler reads too, following a derivation's event ids)."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path as FilePath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from consumers.http import answers, params
from consumers.http.auth import allow
from consumers.http.cursors import filters_of
from consumers.http.problems import invalid
from consumers.http.routes.common import (
    PROBLEMS,
    AsOf,
    CursorParam,
    documented_read,
    formed,
    next_page,
    period_query,
    read,
    stores,
    walk,
)
from consumers.http.schemas import ChainPageDocument, EventRecordDocument, VerifyDocument
from ledger.chain import parse_checkpoint
from ledger.periods import Period
from projections.audit.bundle import export_verified
from projections.audit.verify import verify, verify_json
from projections.queries.chain_log import chain_page, chain_page_json
from projections.queries.event_record import event_record, event_record_json
from projections.store import StoreSnapshot

router = APIRouter(prefix="/v1", tags=["compliance"])

Checkpoints = Annotated[
    list[str] | None,
    Query(
        json_schema_extra={"items": formed(r"^[0-9]+:[0-9a-f]{64}$")},
        alias="checkpoint",
        description="A checkpoint POSITION:SHA256 (as `close` prints it) the chain must pass "
        "through; repeatable.",
    ),
]
ZIP = "application/zip"
BUNDLE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The bundle's files in a zip archive; check it offline with "
        "`sla-ledger audit check DIR` once unpacked.",
        "content": {ZIP: {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _anchors(given: list[str] | None) -> dict[int, str]:
    anchors: dict[int, str] = {}
    for text in given or []:
        try:
            position, digest = parse_checkpoint(text)
        except ValueError as exc:
            raise invalid("checkpoint", "POSITION:SHA256", f"checkpoint: {exc}") from None
        anchors[position] = digest
    return anchors


@router.get(
    "/audit/verify",
    operation_id="audit_verify",
    summary="Recompute the hash chain; name the first position that does not match",
    response_class=Response,
    responses=documented_read(VerifyDocument, "The verification (`ok` false names the finding)."),
    dependencies=[Depends(allow("audit_verify"))],
)
def audit_verify(request: Request, checkpoint: Checkpoints = None) -> Response:
    anchors = _anchors(checkpoint)
    with stores(request).reader() as snapshot:
        result = verify(snapshot, anchors)
    return answers.document(request, verify_json(result), chain_position=result.head.position)


@router.post(
    "/audit/exports",
    operation_id="audit_export",
    summary="A period's audit bundle, verified, as a zip download (`audit export`)",
    response_class=Response,
    responses=BUNDLE
    | PROBLEMS
    | {
        409: PROBLEMS[400] | {"description": "The chain does not verify (through the checkpoints)."}
    },
    dependencies=[Depends(allow("audit_export"))],
)
def audit_export(
    request: Request,
    period: Annotated[str, period_query("The period to bundle, YYYY-MM or YYYY.")],
    checkpoint: Checkpoints = None,
) -> Response:
    return bundle_download(request, params.period(period), _anchors(checkpoint))


def bundle_download(request: Request, asked: Period, anchors: dict[int, str]) -> Response:
    """The audit bundle of `asked`, verified (through `anchors`), as a zip attachment:
    the API's export and the desk's download are this one answer. A chain that does not
    verify raises `UnverifiedChainError` (409)."""
    with tempfile.TemporaryDirectory(prefix="sla-ledger-bundle-") as scratch:
        out = FilePath(scratch) / "bundle"
        # Its README names the directory the zip unpacks to, not this scratch one: the
        # same head gives the same files, whoever downloads them.
        named = f"sla-ledger-{asked.label}"
        with stores(request).reader() as snapshot:
            exported = export_verified(snapshot, asked, out, anchors, named=named)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for path in sorted(out.rglob("*")):
                if path.is_file():
                    bundle.write(path, f"{named}/{path.relative_to(out)}")
    head = exported.manifest["head"]
    return Response(
        archive.getvalue(),
        media_type=ZIP,
        headers={
            "Content-Disposition": f'attachment; filename="{named}.zip"',
            answers.POSITION_HEADER: str(head["position"]),
        },
    )


@router.get(
    "/events",
    operation_id="chained_log",
    summary="The chained log (events, entries, closes) by position, paged, for replay",
    response_class=Response,
    responses=documented_read(ChainPageDocument, "A page of chained records.", paged=True),
    dependencies=[Depends(allow("chained_log"))],
)
def chained_log(
    request: Request,
    after: Annotated[
        int, Query(ge=0, description="Start after this chain position (0: the beginning).")
    ] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="Records per page (1-1000).")] = 100,
    as_of: AsOf = None,
    cursor: CursorParam = None,
) -> Response:
    given = filters_of(as_of=as_of)
    with stores(request).reader() as snapshot:
        # The log as recorded by the moment: up to that moment's chain position.
        walked = walk(snapshot, "chained_log", given, cursor, as_of, after=after)
        page = chain_page(snapshot, walked.after, limit, walked.through)
    return answers.document(
        request,
        chain_page_json(page),
        chain_position=walked.through,
        next_url=next_page(request, walked, page.next_after),
    )


@router.get(
    "/events/{event_id}",
    operation_id="event_record",
    summary="One accepted event: its envelope as accepted, record time, origin, chain line",
    response_class=Response,
    responses=documented_read(EventRecordDocument, "The event as recorded."),
    dependencies=[Depends(allow("event_record"))],
)
def event_record_read(request: Request, event_id: str, as_of: AsOf = None) -> Response:
    def compute(snapshot: StoreSnapshot) -> tuple[str, int]:
        moment = params.as_of(snapshot, as_of)
        result = event_record(snapshot, event_id, moment)
        return event_record_json(result), result.chain_position

    return read(request, compute, about_the_past=as_of is not None)
