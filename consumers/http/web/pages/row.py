"""A row's page: its figures, its month as a timeline, its derivation (the one `explain`
shows) and its entries with their lineage. A dispute letter's attachment, so it prints.

The figures are the API's by construction: the page renders the explain document the
API answers `/v1/rows/{contract}/{service}/{period}/explain` with, and for each entry the
lineage `/v1/credits/{entry_id}` answers with, both parsed from the queries' own JSON
serialisers and computed in one snapshot as of one moment.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response

from consumers.http import params
from consumers.http.keys import ApiKey
from consumers.http.routes.common import PeriodPath
from consumers.http.web.access import reader
from consumers.http.web.pages.common import (
    AsOfField,
    IdPath,
    blank_as_none,
    in_snapshot,
    query_string,
)
from consumers.http.web.templating import local, render
from consumers.http.web.timeline import timeline
from projections.queries.explain.query import explanation, explanation_json
from projections.queries.explain.wording import duration_exact, duration_text, grouped
from projections.queries.lineage import Causes, credit_lineage, lineage_json
from projections.store import StoreSnapshot

router = APIRouter(include_in_schema=False)

# The row's figures shown as key figures, in the order a dispute letter reads them:
# (the row field, its label for people).
KEY_FIGURES = (
    ("availability_percent", "Availability"),
    ("availability_target_percent", "Availability target"),
    ("availability_met", "Target met"),
    ("downtime_seconds", "Downtime (weighted)"),
    ("measured_seconds", "Measured time"),
    ("excluded_seconds", "Excluded time"),
    ("covered_seconds", "Covered time"),
    ("window_seconds", "Period window"),
    ("availability_credit_percent", "Availability credit"),
    ("incidents_met", "Incidents met"),
    ("incidents_missed", "Incidents missed"),
    ("incidents_pending", "Incidents pending"),
    ("response_attainment_percent", "Response attainment"),
    ("response_credit_percent", "Response credit"),
    ("resolution_met", "Resolutions met"),
    ("resolution_missed", "Resolutions missed"),
    ("resolution_pending", "Resolutions pending"),
    ("resolution_attainment_percent", "Resolution attainment"),
    ("resolution_credit_percent", "Resolution credit"),
    ("credit_percent", "Credit"),
    ("fee_basis", "Fee basis"),
    ("credit_amount", "Credit amount"),
)
REMEDIES = {"credit": "service credit", "cash": "cash refund"}


@dataclass(frozen=True)
class Words:
    """How the page writes the document's values for people (none computes a figure)."""

    timezone: str

    def duration(self, seconds: str | None) -> str:
        """`3 h (10,800 s)`; a fraction of a second stays exact."""
        if seconds is None:
            return "–"
        micro = Fraction(seconds) * 1_000_000
        return duration_exact(micro.numerator if micro.denominator == 1 else micro)

    def spoken(self, seconds: str) -> str:
        micro = Fraction(seconds) * 1_000_000
        return duration_text(int(micro)) if micro.denominator == 1 else f"{grouped(seconds)} s"

    def when(self, instant: str | None) -> str:
        # A row's page writes the same few instants many times (an outage's start in
        # its report, its correction, its down run): each is worked out once.
        return _local(instant, self.timezone)

    def span(self, value: Mapping[str, Any] | None) -> str:
        if value is None:
            return "none"
        ongoing = " (still ongoing: counted up to the horizon)" if value.get("ongoing") else ""
        return (
            f"{self.when(value['start'])} to {self.when(value['end'])} "
            f"({self.duration(value['seconds'])}){ongoing}"
        )

    def tiers(self, tiers: list[Mapping[str, str]]) -> str:
        return ", ".join(
            f"below {t['below_percent']}% → {t['credit_percent']}% credit" for t in tiers
        )

    def is_zero(self, seconds: str | None) -> bool:
        return seconds is not None and Fraction(seconds) == 0

    def is_late(self, seconds: str) -> bool:
        return Fraction(seconds) < 0

    def negated(self, seconds: str) -> str:
        return str(-Fraction(seconds))


@lru_cache(maxsize=4096)
def _local(instant: str | None, timezone: str) -> str:
    return local(instant, timezone)


@router.get("/web/periods/{period}/rows/{contract_id}/{service_id}")
def row_page(
    request: Request,
    holder: Annotated[ApiKey, Depends(reader("explain_row"))],
    period: PeriodPath,
    contract_id: IdPath,
    service_id: IdPath,
    as_of: AsOfField = None,
) -> Response:
    asked_period = params.period(period)
    asked = blank_as_none(as_of)

    def compute(snapshot: StoreSnapshot) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        moment = params.as_of(snapshot, asked)
        document = json.loads(
            explanation_json(explanation(snapshot, contract_id, service_id, asked_period, moment))
        )
        shared: Causes = {}
        lineages = {
            e["entry_id"]: json.loads(
                lineage_json(credit_lineage(snapshot, e["entry_id"], moment, shared=shared))
            )
            for e in document["entries"]
        }
        return document, lineages

    document, lineages = in_snapshot(request, compute)
    closed_at = document["closed_at"]
    diff_link = (
        None
        if closed_at is None
        else f"/web/periods/{document['period']}/diff"
        # As of the moment shown: what changed from the close up to it.
        + query_string(
            {
                "from": closed_at,
                "to": document["as_of"] if asked else None,
                "contract": document["contract_id"],
            }
        )
    )
    return render(
        request,
        "row.html",
        {
            "document": document,
            "row": document["row"],
            "lineages": lineages,
            "as_of": asked,
            "timeline": timeline(document),
            "words": Words(document["contract"]["timezone"]),
            "key_figures": KEY_FIGURES,
            "remedies": REMEDIES,
            "diff_link": diff_link,
            "as_of_query": query_string({"as_of": asked}),
        },
        holder=holder,
    )
