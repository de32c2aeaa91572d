"""The shapes of the API's answers, for its OpenAPI document (and so for clients'
generated types and Schemathesis): the documents the queries write (outputs.md), their
fields named and typed. Answers are written by the queries' own serialisers, byte for
byte the command line's; these models only describe them. Documents may gain fields
(outputs.md: "Fields may be added"), so every model admits more.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Text = str | None  # an exact decimal, an instant or an id; null where it does not apply


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ProblemDocument(Open):
    type: str = Field(description="Stable per kind of error: `/problems/<slug>`.")
    title: str
    status: int
    detail: str = Field(description="One line: what is wrong and what to do.")
    instance: str
    field: str | None = Field(None, description="The parameter or part of the body at fault.")
    rule: str | None = Field(None, description="The rule it broke.")


class ReportRow(Open):
    contract_id: str
    customer_id: str
    service_id: str
    period: str
    status: Literal["provisional", "closed"]
    terms_version: int
    currency: str
    remedy: str
    window_seconds: str
    covered_seconds: str
    excluded_seconds: Text
    measured_seconds: Text
    downtime_seconds: Text
    availability_percent: Text
    availability_target_percent: Text
    availability_met: bool | None
    availability_credit_percent: str
    incidents_met: int | None
    incidents_missed: int | None
    incidents_pending: int | None
    response_attainment_percent: Text
    response_credit_percent: str
    # sla-math §11: null counts and attainment when the terms set no resolution targets.
    resolution_met: int | None
    resolution_missed: int | None
    resolution_pending: int | None
    resolution_attainment_percent: Text
    resolution_credit_percent: str
    credit_percent: str
    fee_basis: str
    credit_amount: str
    claim_status: Literal["claimed", "denied", "expired", "unclaimed"] | None = Field(
        None, description="Null when the row's terms need no claim (sla-math §10)."
    )
    payable_amount: str | None = Field(
        None,
        description="What the row's entries sum to once closed: the credit amount "
        "when no claim is needed or one counts, and it is above the threshold; else 0.",
    )


class ReportDocument(Open):
    period: str
    as_of: str
    chain_position: int
    rows: list[ReportRow]


class PendingIncident(Open):
    incident_id: str
    priority: str | None
    opened_at: str
    target_seconds: str = Field(description="The response target, in business seconds.")
    respond_by: str = Field(description="The latest instant a response is still met.")


class ExposureRow(Open):
    contract_id: str
    customer_id: str
    service_id: str
    period: str
    status: Literal["provisional"]
    currency: str
    availability_target_percent: Text
    availability_percent: Text
    downtime_seconds: Text
    credit_percent: str
    credit_amount: str
    projected_availability_percent: Text
    budget_consumed_percent: Text
    downtime_left_seconds: Text
    next_tier_credit_percent: Text
    projected_credit_amount: Text
    credit_at_risk: Text
    next_response_deadline: Text
    timezone: str = Field(description="The contract's IANA timezone.")
    pending_incidents: list[PendingIncident]


class ExposureDocument(Open):
    period: str
    as_of: str
    chain_position: int
    rows: list[ExposureRow] = Field(
        description="The provisional rows, most exposed first; none for a closed period."
    )


class AlertDocument(Open):
    alert_id: str
    kind: Literal["availability.budget", "availability.tier", "response.missed"]
    threshold: str = Field(description="A percent, or the missed incident's id.")
    contract_id: str
    customer_id: str
    service_id: str
    period: str
    observed: str = Field(description="The value that met the condition, or `missed`.")
    downtime_left_seconds: Text
    credit_at_risk: Text
    currency: str
    recorded_at: str


class AlertsDocument(Open):
    chain_position: int
    alerts: list[AlertDocument]


class ClaimDocument(Open):
    claim_id: str
    contract_id: Text
    customer_id: Text
    service_id: Text
    period: Text
    submitted_at: Text
    withdrawn: bool
    decision: Literal["approved", "denied"] | None
    decision_reason: Text
    counts: bool | None = Field(
        description="Not withdrawn, not denied, submitted before the deadline; null when "
        "the row needs no claim or does not exist."
    )
    row_exists: bool
    row_status: Literal["provisional", "closed"] | None
    claim_status: Literal["claimed", "denied", "expired", "unclaimed"] | None
    deadline: Text
    deadline_local: Text
    timezone: Text
    currency: Text
    credit_amount: Text
    payable_amount: Text


class ClaimsDocument(Open):
    as_of: str
    chain_position: int
    claims: list[ClaimDocument]


class CreditEntryDocument(Open):
    entry_id: str
    kind: Literal["issue", "reversal"]
    revision: int
    supersedes: str | None
    contract_id: str
    customer_id: str
    service_id: str
    period: str
    amount: str
    currency: str
    remedy: str
    credit_percent: str
    terms_version: int
    recorded_at: str
    basis_sha256: str
    basis_version: int


class CreditsDocument(Open):
    chain_position: int
    entries: list[CreditEntryDocument]


class LineageDocument(Open):
    entry: CreditEntryDocument


class StatementDocument(Open):
    contract_id: str
    period: str
    rows: list[dict[str, Any]]


class PeriodsDocument(Open):
    as_of: str
    chain_position: int
    periods: list[dict[str, Any]]


class ExplainDocument(Open):
    chain_position: int


class DiffDocument(Open):
    period: str
    rows: list[dict[str, Any]]


class IncidentsDocument(Open):
    as_of: str
    chain_position: int
    incidents: list[dict[str, Any]]


class RejectionDocument(Open):
    seq: int
    rejection_id: str
    rejected_at: str
    origin: dict[str, Any]
    field: str
    reason: str
    event_id: str | None
    resubmitted: bool
    raw: str | None
    raw_base64: str


class RejectionsDocument(Open):
    rejections: list[RejectionDocument]


class VerifyDocument(Open):
    ok: bool
    records_verified: int
    closes_verified: int
    head: dict[str, Any]
    first_mismatch: dict[str, Any] | None


class EventRecordDocument(Open):
    as_of: str
    chain_position: int
    event_id: str
    type: str
    subject_kind: str
    subject_id: str
    occurred_at: str
    recorded_at: str
    origin: dict[str, Any] = Field(
        description="Where it came from: `file` and `line`, or `topic`, `partition`, "
        "`offset` (and `key`)."
    )
    chain: dict[str, Any] = Field(
        description="Its chain line: `position`, `record_sha256`, `chain_sha256`."
    )
    content_sha256: str
    envelope: dict[str, Any] = Field(description="The envelope as accepted (canonical).")
    canonical_envelope: str = Field(
        description="The envelope's canonical JSON text, the bytes the chain covers."
    )


class ChainPageDocument(Open):
    chain_position: int
    records: list[dict[str, Any]]


class CloseDocument(Open):
    period: str
    closed_at: str
    newly_closed: bool
    checkpoint: str | None
    entries: list[CreditEntryDocument]


class ClosePreviewDocument(Open):
    period: str
    recorded: Literal[False]
    closed_at: str | None
    computed_at: str
    chain_position: int
    entries: list[CreditEntryDocument]


class IntakeRejection(Open):
    input: int
    rejection_id: str
    field: str
    reason: str
    event_id: str | None


class IntakeDocument(Open):
    request: str
    inputs: int
    accepted: int
    duplicates: int
    rejected: int
    blank_lines: int
    entries_appended: int
    alerts_raised: int
    rejections: list[IntakeRejection]


class Health(Open):
    status: Literal["ok", "unavailable"]
    detail: str | None = None
