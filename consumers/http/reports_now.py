"""The report of a period as of now, kept between askers: the API's report route and the
desk's period overview answer with the same rows, computed once.

A report as of now names its moment, new each time, so it cannot be kept as an answer
ready to send; its rows can (`app.state.reports_now`, an `AnswerCache` of `Report`s):
computed under the chain head, they stay those of any later moment until the first of
them changes with time alone (an ongoing outage at once; a closed month's only by a new
record), and until then are written as of the new moment, the command line's bytes for
it, without computing them again.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from consumers.http.answer_cache import AnswerCache
from consumers.http.routes.common import stores
from ledger.periods import Period
from projections.queries import as_of as moments
from projections.queries.report import Report, as_of_later, report, report_json, rows_json


def report_size(kept: Report[str]) -> int:
    return sum(len(part) for part in kept.parts)


def kept_reports() -> AnswerCache[Report[str]]:
    """Reports kept for the questions asked again (as of now, as of a close), bounded
    by their size."""
    return AnswerCache(report_size)


def report_now(request: Request, period: Period, contract: str | None) -> tuple[str, int]:
    """The report of `period` (every contract's rows, or only `contract`'s) as of now:
    its JSON document (`report_json`) and the chain position it names."""
    asked_at = datetime.now(UTC)
    reads = stores(request)
    head = reads.head_position()

    def compute() -> tuple[Report[str], bool]:
        with reads.reader() as snapshot:
            computed = report(snapshot, period, None, contract, render_part=rows_json)
            return computed, snapshot.chain_head().position == head

    kept: AnswerCache[Report[str]] = request.app.state.reports_now
    rows = kept.answer((period.label, contract, head), compute)
    if rows.as_of >= asked_at:  # computed since this request came: its answer as it is
        return report_json(rows), rows.chain_position
    with reads.reader() as snapshot:
        now = moments.now(snapshot)
        later = as_of_later(rows, now) if snapshot.chain_head().position == head else None
        if later is None:  # a row changed with time, or a record arrived: compute it now
            later = report(snapshot, period, None, contract, render_part=rows_json)
    return report_json(later), later.chain_position
