"""Claims (sla-math §10): every claim with its row, the row's claim status and
deadline, and the claim's decision, paged; for finance (who books what a claim makes
payable), the dispute desk (who decides claims) and the operator (`roles`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from consumers.http import answers, params
from consumers.http.auth import allow
from consumers.http.cursors import filters_of
from consumers.http.routes.common import (
    AsOf,
    CursorParam,
    Limit,
    documented_read,
    next_page,
    period_query,
    read_page,
    walk,
)
from consumers.http.schemas import ClaimsDocument
from projections.queries.claims import ClaimFilter, Claims, claims_json, claims_page
from projections.store import StoreSnapshot

router = APIRouter(prefix="/v1", tags=["claims"])


@router.get(
    "/claims",
    operation_id="list_claims",
    summary="Every claim with its row, status, deadline and decision, paged "
    "(`claims --format json`)",
    response_class=Response,
    responses=documented_read(ClaimsDocument, "A page of claims.", paged=True),
    dependencies=[Depends(allow("list_claims"))],
)
def list_claims(
    request: Request,
    period: Annotated[str | None, period_query("Only the claims naming this period.")] = None,
    contract: Annotated[str | None, Query(description="Only this contract's claims.")] = None,
    as_of: AsOf = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Response:
    given = filters_of(period=period, contract=contract, as_of=as_of)

    def compute(snapshot: StoreSnapshot) -> answers.Answer:
        walked = walk(snapshot, "list_claims", given, cursor, as_of)
        asked = walked.filters
        chosen = params.optional_period(asked.get("period"))
        filters = ClaimFilter(None if chosen is None else chosen.label, asked.get("contract"))
        page = claims_page(snapshot, filters, walked.moment, walked.after, limit)
        following = next_page(request, walked, page.last if page.more else None)
        text = claims_json(Claims(walked.moment, walked.through, page.claims))
        return answers.answer(text, walked.through, following)

    # A claim's row status changes with time alone (a deadline passing): only an answer
    # about a past moment, or a later page of a walk (its moment fixed), is kept.
    return read_page(request, compute, keep=as_of is not None or cursor is not None)
