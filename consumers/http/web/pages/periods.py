"""The periods the ledger knows, newest first: the desk's home page."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from consumers.http import params
from consumers.http.keys import ApiKey
from consumers.http.web.access import reader
from consumers.http.web.pages.common import AsOfField, blank_as_none, in_snapshot
from consumers.http.web.templating import render
from projections.queries.periods import periods, periods_json
from projections.store import StoreSnapshot

router = APIRouter(include_in_schema=False)


@router.get("/web/periods")
def periods_page(
    request: Request,
    holder: Annotated[ApiKey, Depends(reader("list_periods"))],
    as_of: AsOfField = None,
) -> Response:
    asked = blank_as_none(as_of)

    def compute(snapshot: StoreSnapshot) -> object:
        return json.loads(periods_json(periods(snapshot, params.as_of(snapshot, asked))))

    document = in_snapshot(request, compute)
    return render(request, "periods.html", {"document": document, "as_of": asked}, holder=holder)
