"""The early warning (sla-math §8): a period's exposure, most exposed first, and the
alerts raised; for the provider's people who watch money at risk (`roles`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from consumers.http import params
from consumers.http.auth import allow
from consumers.http.routes.common import PERIOD_FORM, AsOf, documented_read, formed, read
from consumers.http.schemas import ExposureDocument
from projections.queries.exposure import exposure, exposure_json
from projections.store import StoreSnapshot

router = APIRouter(prefix="/v1", tags=["early warning"])

PeriodPath = Annotated[
    str,
    Path(
        description="A calendar month, YYYY-MM.",
        examples=["2026-03"],
        json_schema_extra=formed(PERIOD_FORM),
    ),
]
Contract = Annotated[str | None, Query(description="Only this contract's rows or alerts.")]


@router.get(
    "/periods/{period}/exposure",
    operation_id="period_exposure",
    summary="A period's provisional rows, most exposed first (`exposure --format json`)",
    response_class=Response,
    responses=documented_read(ExposureDocument, "The exposure."),
    dependencies=[Depends(allow("period_exposure"))],
)
def period_exposure(
    request: Request, period: PeriodPath, as_of: AsOf = None, contract: Contract = None
) -> Response:
    asked_period = params.period(period)

    def compute(snapshot: StoreSnapshot) -> tuple[str, int]:
        asked = params.as_of(snapshot, as_of)
        result = exposure(snapshot, asked_period, asked, contract)
        return exposure_json(result), result.chain_position

    # Now, the exposure changes with time alone (an outage running, a deadline passing):
    # only an answer about a past moment is kept.
    return read(request, compute, about_the_past=as_of is not None)
