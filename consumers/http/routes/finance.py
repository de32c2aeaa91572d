"""What finance books: the periods, a period's report, the credit entries (paged, with
filters), one entry with its lineage, and a contract's statement for a period."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request, Response

from consumers.http import answers, params
from consumers.http.auth import allow
from consumers.http.cursors import filters_of
from consumers.http.problems import invalid
from consumers.http.reports_now import report_now
from consumers.http.routes.common import (
    AsOf,
    CursorParam,
    Limit,
    PeriodPath,
    documented_read,
    moment_query,
    next_page,
    period_query,
    read,
    read_page,
    walk,
)
from consumers.http.schemas import (
    CreditsDocument,
    LineageDocument,
    PeriodsDocument,
    ReportDocument,
    StatementDocument,
)
from projections.queries import as_of as moments
from projections.queries.credits import CreditFilter, Credits, credits_json, credits_page
from projections.queries.lineage import credit_lineage, lineage_json
from projections.queries.periods import periods, periods_json
from projections.queries.report import report, report_json, rows_json
from projections.queries.statements import statement, statement_json
from projections.store import StoreSnapshot

router = APIRouter(prefix="/v1", tags=["finance"])

Contract = Annotated[str | None, Query(description="Only this contract's rows or entries.")]


@router.get(
    "/periods",
    operation_id="list_periods",
    summary="Every period the ledger knows: open or closed, close time, checkpoint",
    response_class=Response,
    responses=documented_read(PeriodsDocument, "The periods."),
    dependencies=[Depends(allow("list_periods"))],
)
def list_periods(request: Request, as_of: AsOf = None) -> Response:
    def compute(snapshot: StoreSnapshot) -> tuple[str, int]:
        result = periods(snapshot, params.as_of(snapshot, as_of))
        return periods_json(result), result.chain_position

    return read(request, compute, about_the_past=as_of is not None)


@router.get(
    "/periods/{period}/report",
    operation_id="period_report",
    summary="Attainment and credit for each row of a period (`report --format json`)",
    response_class=Response,
    responses=documented_read(ReportDocument, "The report."),
    dependencies=[Depends(allow("period_report"))],
)
def period_report(
    request: Request, period: PeriodPath, as_of: AsOf = None, contract: Contract = None
) -> Response:
    asked_period = params.period(period)
    if as_of is None:
        text, position = report_now(request, asked_period, contract)
        return answers.document(request, text, chain_position=position)

    def compute(snapshot: StoreSnapshot) -> tuple[str, int]:
        asked = params.as_of(snapshot, as_of)
        result = report(snapshot, asked_period, asked, contract, render_part=rows_json)
        return report_json(result), result.chain_position

    return read(request, compute, about_the_past=True)


@router.get(
    "/credits",
    operation_id="list_credits",
    summary="The credit entries in record order, paged (`credits --format json`)",
    response_class=Response,
    responses=documented_read(CreditsDocument, "A page of entries.", paged=True),
    dependencies=[Depends(allow("list_credits"))],
)
def list_credits(
    request: Request,
    period: Annotated[str | None, period_query("Only this period's entries.")] = None,
    contract: Contract = None,
    customer: Annotated[str | None, Query(description="Only this customer's entries.")] = None,
    kind: Annotated[
        Literal["issue", "reversal"] | None, Query(description="Only issues or reversals.")
    ] = None,
    recorded_from: Annotated[
        str | None, moment_query("Only entries recorded at or after this moment.")
    ] = None,
    recorded_to: Annotated[
        str | None, moment_query("Only entries recorded before this moment.")
    ] = None,
    as_of: AsOf = None,
    limit: Limit = 100,
    cursor: CursorParam = None,
) -> Response:
    given = filters_of(
        period=period,
        contract=contract,
        customer=customer,
        kind=kind,
        recorded_from=recorded_from,
        recorded_to=recorded_to,
        as_of=as_of,
    )

    def compute(snapshot: StoreSnapshot) -> answers.Answer:
        walked = walk(snapshot, "list_credits", given, cursor, as_of)
        asked = walked.filters
        filters = CreditFilter(
            period=params.optional_period(asked.get("period")),
            contract_id=asked.get("contract"),
            customer_id=asked.get("customer"),
            kind=_kind(asked.get("kind")),
            recorded_from=params.moment(asked.get("recorded_from"), "recorded_from"),
            recorded_to=params.moment(asked.get("recorded_to"), "recorded_to"),
        )
        page = credits_page(snapshot, filters, walked.moment, walked.through, walked.after, limit)
        following = next_page(request, walked, page.last_seq if page.more else None)
        text = credits_json(Credits(entries=page.entries, chain_position=walked.through))
        return answers.answer(text, walked.through, following)

    # Entries are chained records and the document names no moment: the same question
    # under the same chain head has the same answer, as of now too.
    return read_page(request, compute, keep=True)


def _kind(text: str | None) -> Literal["issue", "reversal"] | None:
    if text == "issue":
        return "issue"
    if text == "reversal":
        return "reversal"
    if text is None:
        return None
    raise invalid("kind", "issue or reversal")


@router.get(
    "/credits/{entry_id}",
    operation_id="credit_entry",
    summary="One entry with its lineage: what it reverses, what reversed and re-issued it, why",
    response_class=Response,
    responses=documented_read(LineageDocument, "The entry and its lineage."),
    dependencies=[Depends(allow("credit_entry"))],
)
def credit_entry(request: Request, entry_id: str, as_of: AsOf = None) -> Response:
    def compute(snapshot: StoreSnapshot) -> tuple[str, int]:
        moment = params.as_of(snapshot, as_of)
        result = credit_lineage(snapshot, entry_id, moment)
        return lineage_json(result), moments.position_at(snapshot, moment)

    return read(request, compute, about_the_past=as_of is not None)


@router.get(
    "/statements/{contract_id}/{period}",
    operation_id="statement",
    summary="What finance books for a contract and period: its rows, entries and net amount",
    response_class=Response,
    responses=documented_read(StatementDocument, "The statement."),
    dependencies=[Depends(allow("statement"))],
)
def contract_statement(
    request: Request, contract_id: str, period: PeriodPath, as_of: AsOf = None
) -> Response:
    asked_period = params.period(period)

    def compute(snapshot: StoreSnapshot) -> tuple[str, int]:
        moment = params.as_of(snapshot, as_of)
        result = statement(snapshot, contract_id, asked_period, moment)
        return statement_json(result), moments.position_at(snapshot, moment)

    return read(request, compute, about_the_past=as_of is not None)
