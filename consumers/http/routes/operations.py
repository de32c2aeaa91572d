"""What an operator runs: the rejected inputs (paged), a period's close and its dry run."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request, Response

from consumers.http import answers, params
from consumers.http.auth import allow
from consumers.http.cursors import filters_of
from consumers.http.routes.common import (
    PROBLEMS,
    AsOf,
    CursorParam,
    Limit,
    PeriodPath,
    documented_read,
    next_page,
    stores,
    walk,
)
from consumers.http.schemas import CloseDocument, ClosePreviewDocument, RejectionsDocument
from ledger.periods import to_us
from projections.credit_entries import close_period, preview_close
from projections.queries.close import close_json, close_preview_json
from projections.queries.rejections import rejections_json, rejections_page

router = APIRouter(prefix="/v1", tags=["operator"])


@router.get(
    "/rejections",
    operation_id="list_rejections",
    summary="Every rejected input with its origin, field and reason, paged",
    response_class=Response,
    responses=documented_read(RejectionsDocument, "A page of rejected inputs.", paged=True),
    dependencies=[Depends(allow("list_rejections"))],
)
def list_rejections(
    request: Request, as_of: AsOf = None, limit: Limit = 100, cursor: CursorParam = None
) -> Response:
    given = filters_of(as_of=as_of)
    with stores(request).reader() as snapshot:
        # Rejections are not chained: a walk goes through the last one recorded by then.
        walked = walk(
            snapshot,
            "list_rejections",
            given,
            cursor,
            as_of,
            through=lambda reads, moment: reads.last_rejection_seq(to_us(moment)),
        )
        page = rejections_page(snapshot, walked.after, walked.through, walked.moment, limit)
        position = snapshot.chain_head().position
    stored = page.rejections.stored
    return answers.document(
        request,
        rejections_json(page.rejections),
        chain_position=position,
        next_url=next_page(request, walked, stored[-1].seq if page.more and stored else None),
    )


@router.post(
    "/periods/{period}/close",
    operation_id="close_period",
    summary="Close a period and issue its credit entries (permanent; `close --format json`)",
    response_class=Response,
    responses={
        200: {"model": CloseDocument, "description": "Closed now, or found closed and reconciled."}
    }
    | PROBLEMS
    | {409: PROBLEMS[400] | {"description": "The period has not ended, or has no rows."}},
    dependencies=[Depends(allow("close_period"))],
)
def close(request: Request, period: PeriodPath) -> Response:
    asked = params.period(period)
    with stores(request).writing() as store:
        outcome = close_period(store, asked, datetime.now(UTC))
    return Response((close_json(outcome) + "\n").encode("utf-8"), media_type=answers.JSON)


@router.post(
    "/periods/{period}/close/preview",
    operation_id="preview_close",
    summary="What closing the period now would issue; records nothing",
    response_class=Response,
    responses={200: {"model": ClosePreviewDocument, "description": "The dry run."}}
    | PROBLEMS
    | {409: PROBLEMS[400] | {"description": "The period has not ended, or has no rows."}},
    dependencies=[Depends(allow("preview_close"))],
)
def preview(request: Request, period: PeriodPath) -> Response:
    asked = params.period(period)
    with stores(request).reader() as snapshot:
        result = preview_close(snapshot, asked, datetime.now(UTC))
    return Response(
        (close_preview_json(result) + "\n").encode("utf-8"),
        media_type=answers.JSON,
        headers={answers.POSITION_HEADER: str(result.chain_position)},
    )
