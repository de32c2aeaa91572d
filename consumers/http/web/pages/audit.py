"""The audit page: the chain's head, the checkpoint each close recorded, the chain's
verification, and each closed period's audit bundle as a download. Compliance's.

Every figure is an API answer's: the head as the writers keep it is the last record of
the chained log (`GET /v1/events`), the checkpoints are the periods' (`GET /v1/periods`),
the verification is `GET /v1/audit/verify`'s document, and a bundle is the very zip of
`POST /v1/audit/exports` (`routes.audit.bundle_download`).

Verification runs when asked ("Verify now", `?verify=1`), not on every view: it walks
every position of the chain, so its cost grows with the whole history (on a large
SQLite store it starts a worker process per CPU), and a page reloaded, or opened by
several readers, would start it each time. What the page shows without it (the head,
the checkpoints) costs a few indexed reads. A bundle download verifies anyway, before
it writes a byte: a chain that does not verify is never exported (409).
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from consumers.http import params
from consumers.http.keys import ApiKey
from consumers.http.routes.audit import bundle_download
from consumers.http.web.access import reader
from consumers.http.web.pages.common import in_snapshot
from consumers.http.web.templating import HEADERS, render
from projections.audit.verify import verify, verify_json
from projections.queries.chain_log import chain_page, chain_page_json
from projections.queries.periods import periods, periods_json
from projections.store import StoreSnapshot

router = APIRouter(include_in_schema=False)


@router.get("/web/audit")
def audit_page(
    request: Request,
    holder: Annotated[ApiKey, Depends(reader("audit_verify"))],
    verify_now: Annotated[
        bool, Query(alias="verify", description="Verify the chain now (it walks all of it).")
    ] = False,
) -> Response:
    def compute(snapshot: StoreSnapshot) -> dict[str, Any]:
        # One snapshot: the head, the checkpoints and the verification are one moment's.
        head = snapshot.chain_head().position
        last = json.loads(chain_page_json(chain_page(snapshot, max(head - 1, 0), 1, None)))
        known = json.loads(periods_json(periods(snapshot, None)))
        verified = json.loads(verify_json(verify(snapshot))) if verify_now else None
        return {
            "head": last["records"][-1] if last["records"] else None,
            "chain_position": last["chain_position"],
            "closed": [p for p in known["periods"] if p["status"] == "closed"],
            "as_of": known["as_of"],
            "verified": verified,
        }

    return render(request, "audit.html", in_snapshot(request, compute), holder=holder)


@router.get("/web/audit/bundles/{period}")
def bundle_page(
    request: Request,
    period: str,
    _holder: Annotated[ApiKey, Depends(reader("audit_export"))],
) -> Response:
    """The period's audit bundle, exactly as the API exports it (a zip attachment); a
    chain that does not verify answers the 409 page."""
    answer = bundle_download(request, params.period(period), {})
    answer.headers.update(HEADERS)
    return answer
