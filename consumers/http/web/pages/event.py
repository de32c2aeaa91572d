"""One event's raw envelope, as the ledger accepted it: where a row page's derivation
links every event id. Drawn from the API's own answer (`GET /v1/events/{event_id}`),
so the envelope shown is the one the chain covers, byte for byte in `canonical_envelope`.

Times here are UTC only: an event is not read through a contract on this page (its
subject may be an outage or a maintenance window naming no contract), so no contract
timezone is asked for; the row page shows the same instants in the contract's time.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from consumers.http import params
from consumers.http.keys import ApiKey
from consumers.http.web.access import reader
from consumers.http.web.pages.common import AsOfField, IdPath, blank_as_none, in_snapshot
from consumers.http.web.templating import render
from projections.queries.event_record import event_record, event_record_json
from projections.store import StoreSnapshot

router = APIRouter(include_in_schema=False)


@router.get("/web/events/{event_id}")
def event_page(
    request: Request,
    event_id: IdPath,
    holder: Annotated[ApiKey, Depends(reader("event_record"))],
    as_of: AsOfField = None,
) -> Response:
    asked = blank_as_none(as_of)

    def compute(snapshot: StoreSnapshot) -> Any:
        moment = params.as_of(snapshot, asked)
        return json.loads(event_record_json(event_record(snapshot, event_id, moment)))

    document = in_snapshot(request, compute)
    return render(
        request,
        "event.html",
        {
            "document": document,
            "as_of": asked,
            # The envelope as people read it: indented, every key in the order accepted.
            "pretty": json.dumps(document["envelope"], indent=2, ensure_ascii=False),
        },
        holder=holder,
    )
