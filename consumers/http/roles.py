"""Who may do what: the roles of API keys and the one table of the operations each role
may call.

The roles follow the people the ledger serves: finance books credits, a dispute handler
replays history, compliance audits, an operator runs the ledger, and a producer without
Kafka sends events. Every route names its operation, and the app refuses a key none of
whose roles allows it (403). The tests walk this same table with every role.

Where the roles overlap, it is on purpose: a dispute ("you owe us more for March")
starts from the report, the entries and the statement that finance booked, so the
`disputes` role reads those too; every reading role may list the periods, the index of
everything else. The chained log and audit exports are compliance's alone: they hold
every event's full envelope, walked in bulk. One event's envelope by its id
(`event_record`) is compliance's too, and also the dispute handler's: the derivation
`explain_row` shows names every event id a figure came from, and the dispute is settled
by what those events said, exactly as accepted. A dispute handler reads the events it is
shown the ids of, one at a time: it cannot walk the log.

The early warning (a period's exposure, the alerts raised) is for the provider's people
who watch money at risk while the month runs: finance, who will book the credit a breach
costs, and the operator, who runs the services and the ledger and can still act (answer
the incident, stop the outage). A dispute is about a row's past figures, and the report
and `explain` serve it; compliance audits what was recorded, not what may come.

Claims (which credit was claimed, in time or not, and how each was decided) are read by
finance, who books what a claim makes payable, by the dispute handler, who decides the
claims, and by the operator, who runs the intake they arrive through.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    FINANCE = "finance"
    DISPUTES = "disputes"
    COMPLIANCE = "compliance"
    OPERATOR = "operator"
    INGEST = "ingest"


FINANCE, DISPUTES, COMPLIANCE = Role.FINANCE, Role.DISPUTES, Role.COMPLIANCE
OPERATOR, INGEST = Role.OPERATOR, Role.INGEST
READERS = frozenset({FINANCE, DISPUTES, COMPLIANCE, OPERATOR})

# operation -> the roles that may call it.
ALLOWED: dict[str, frozenset[Role]] = {
    "list_periods": READERS,
    "period_report": frozenset({FINANCE, DISPUTES}),
    "list_credits": frozenset({FINANCE, DISPUTES}),
    "credit_entry": frozenset({FINANCE, DISPUTES}),
    "statement": frozenset({FINANCE, DISPUTES}),
    "explain_row": frozenset({DISPUTES}),
    "period_diff": frozenset({DISPUTES}),
    "list_incidents": frozenset({DISPUTES}),
    "period_exposure": frozenset({FINANCE, OPERATOR}),
    "list_alerts": frozenset({FINANCE, OPERATOR}),
    "list_claims": frozenset({FINANCE, DISPUTES, OPERATOR}),
    "audit_verify": frozenset({COMPLIANCE}),
    "audit_export": frozenset({COMPLIANCE}),
    "chained_log": frozenset({COMPLIANCE}),
    "event_record": frozenset({DISPUTES, COMPLIANCE}),
    "list_rejections": frozenset({OPERATOR}),
    "close_period": frozenset({OPERATOR}),
    "preview_close": frozenset({OPERATOR}),
    "post_events": frozenset({INGEST}),
}


def may(roles: frozenset[Role], operation: str) -> bool:
    """Whether a key holding `roles` may call `operation`."""
    return bool(roles & ALLOWED[operation])


def parse_role(text: str) -> Role:
    """A role by name (`ValueError` naming the known ones if there is none)."""
    try:
        return Role(text)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ValueError(f"unknown role {text!r} (known: {known})") from None
