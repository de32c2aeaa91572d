"""The chart in one sentence, for a screen reader: its month, zone and counts of marks."""

from __future__ import annotations

from consumers.http.web.timeline.marks import Builder
from consumers.http.web.timeline.words import STATUS_WORDS


def summary(builder: Builder, month: str, zones: str) -> str:
    """The chart in one sentence, for a screen reader (the table below has it all)."""
    marks = builder.marks
    counts: dict[str, int] = {}
    for mark in marks:
        if mark.kind == "outage":
            counts[mark.status] = counts.get(mark.status, 0) + 1
    outages = sum(counts.values())
    windows = sum(1 for m in marks if m.kind == "maintenance")
    incidents = sum(1 for m in marks if m.kind == "incident-opened")
    by_status = ", ".join(
        f"{n} {STATUS_WORDS.get(('outage', s), s)}" for s, n in sorted(counts.items())
    )
    parts = [
        f"{outages} outage{'s' if outages != 1 else ''}" + (f" ({by_status})" if outages else "")
    ]
    parts.append(f"{windows} maintenance window{'s' if windows != 1 else ''}")
    if builder.document.get("incident_response") is not None:
        parts.append(f"{incidents} incident{'s' if incidents != 1 else ''}")
    pauses = sum(1 for m in marks if m.kind == "incident-paused")
    if pauses:
        parts.append(f"{pauses} incident pause{'s' if pauses != 1 else ''}")
    return (
        f"Timeline of {month} in {builder.timezone} ({zones}): {', '.join(parts)}. "
        "The table below lists every mark."
    )
