"""`sla-ledger explain`: the full derivation of one row (issue #5, point 3).

The derivation is built once (`projections.explanation.explain`) as a JSON-ready
document; `--format json` prints it as is and the text form is rendered from that same
document, so the two can never tell different stories. The text is for people who know
SLA contracts but not this code: plain sentences, exact numbers, and after each fact
the events it comes from.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from consumers import render
from ledger.explain import duration_text, grouped
from projections.explanation import explain


def add_parser(sub: argparse._SubParsersAction[Any], common: argparse.ArgumentParser) -> None:
    explain = sub.add_parser(
        "explain",
        parents=[common],
        help="the full derivation of one row, every fact with its event ids",
    )
    explain.add_argument("--contract", required=True, metavar="ID")
    explain.add_argument("--service", required=True, metavar="ID")
    explain.add_argument("--period", required=True, metavar="YYYY-MM")
    explain.add_argument("--as-of", metavar="T")
    explain.add_argument("--format", choices=["text", "json"], default="text")


def run(args: argparse.Namespace) -> int:
    # Imported here: consumers.cli imports this module to wire the subcommand.
    from consumers.cli import _as_of, _open, _period

    period = _period(args.period)
    as_of = _as_of(args.as_of) or datetime.now(UTC)
    store = _open(args)
    try:
        document = explain(store, args.contract, args.service, period, as_of)
    finally:
        store.close()
    print(render.to_json(document) if args.format == "json" else render_text(document))
    return 0


# -- text ----------------------------------------------------------------------------


def _events(event_ids: Iterable[str] | None) -> str:
    found = list(event_ids or ())
    return f"  [events: {', '.join(found)}]" if found else "  [events: none]"


def _seconds(text: str | None) -> str:
    return "-" if text is None else f"{grouped(text)} s"


def _span(value: Mapping[str, Any] | None) -> str:
    if value is None:
        return "none"
    ongoing = " (still ongoing: counted to the horizon)" if value.get("ongoing") else ""
    return f"{value['start']} to {value['end']} ({_seconds(value['seconds'])}){ongoing}"


def _spans(values: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(_span(v) for v in values) if values else "none"


def _tiers(tiers: Sequence[Mapping[str, str]]) -> str:
    return ", ".join(f"below {t['below_percent']}% → {t['credit_percent']}%" for t in tiers)


def _duration(seconds: str) -> str:
    return duration_text(int(Fraction(seconds) * 1_000_000))


def _notice(seconds: str | None) -> str:
    if seconds is None:
        return "none (maintenance is never excluded)"
    return f"{_seconds(seconds)} ({_duration(seconds)})"


def _hours(hours: Any, timezone: str) -> str:
    """`24x7`, or the weekly schedule and holidays as people write them."""
    if hours == "24x7":
        return "24x7 (plain elapsed time)"
    weekly = hours.get("weekly", {})
    days = [
        f"{day} " + ", ".join(f"{start}–{end}" for start, end in weekly[day])
        for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        if weekly.get(day)
    ]
    holidays = ", ".join(hours.get("holidays") or ()) or "none"
    return f"{'; '.join(days) or 'none'} ({timezone}), holidays: {holidays}"


def _section(title: str, lines: list[str]) -> list[str]:
    return ["", title, "-" * len(title), *lines]


def _contract(doc: Mapping[str, Any]) -> list[str]:
    c = doc["contract"]
    until = c["effective_to"] or "open-ended"
    return _section(
        "Contract",
        [
            f"{c['contract_id']} with customer {c['customer_id']} ({c['customer_name']}), "
            f"currency {c['currency']}, timezone {c['timezone']}, remedy {c['remedy']}, "
            f"in effect from {c['effective_from']} to {until}." + _events(c["event_ids"])
        ],
    )


def _terms(doc: Mapping[str, Any]) -> list[str]:
    t = doc["terms"]
    s = t["service"]
    currency = doc["contract"]["currency"]
    lines = [
        f"Terms version {t['version']}, effective from {t['effective_from']}: "
        f"{t['reason']}." + _events(t["event_ids"]),
        f"Service {s['service_id']}: monthly fee {s['monthly_fee']} {currency}, "
        f"credit cap {s['credit_cap_percent']}%.",
    ]
    a = s["availability"]
    if a is None:
        lines.append("Availability: no availability terms (no availability credit).")
    else:
        causes = ", ".join(a["excluded_causes"]) or "none"
        lines.append(
            f"Availability: target {a['target_percent']}%; "
            f"credit tiers {_tiers(a['credit_tiers'])}; "
            f"maintenance notice {_notice(a['maintenance_notice_seconds'])}; "
            f"downtime floor {_seconds(a['min_downtime_seconds'])}; excluded causes: {causes}."
        )
    r = s["incident_response"]
    if r is None:
        lines.append("Incident response: no response terms (no response credit).")
    else:
        targets = ", ".join(f"{p} {_duration(v)}" for p, v in r["targets_seconds"].items())
        lines.append(
            f"Incident response: targets {targets}; business hours "
            f"{_hours(r['business_hours'], doc['contract']['timezone'])}; "
            f"credit tiers {_tiers(r['credit_tiers'])}."
        )
    return _section("Terms in force", lines)


def _coverage(doc: Mapping[str, Any]) -> list[str]:
    c = doc["coverage"]
    return _section(
        "Coverage",
        [
            f"Period window W: {_span(c['window'])}, in {c['timezone']}.",
            f"Covered C: {_span(c['covered'])}: {c['reason']}." + _events(c["event_ids"]),
            f"Horizon {c['horizon']}: {c['measured_range_reason']}; measured range "
            f"{_span(c['measured_range'])}.",
        ],
    )


def _maintenance(windows: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for w in windows:
        announced = (
            f"announced at {w['announced_at']} (event {w['announcement_event_id']})"
            if w["announced_at"]
            else "never announced"
        )
        lines.append(
            f"{w['maintenance_id']}: scheduled {_span(w['scheduled'])}, {announced}; notice given "
            f"{_seconds(w['notice_given_seconds'])} versus required "
            f"{_seconds(w['notice_required_seconds'])}: {w['reason']}." + _events(w["event_ids"])
        )
        if w["excluded"]:
            lines.append(f"    excluded from the measured range: {_spans(w['excluded_measured'])}")
    return _section("Maintenance windows", lines or ["none for this service and customer"])


def _outage(o: Mapping[str, Any]) -> list[str]:
    lines = [f"{o['outage_id']}: {o['status']}: {o['reason']}." + _events(o["event_ids"])]
    raw = o["raw"]
    if raw is not None:
        lines.append(
            f"    as first reported: {_span(raw)}, impact {raw['impact_percent']}%"
            + _events(raw["event_ids"])
        )
    for c in o["corrections"]:
        why = f', reason "{c["reason"]}"' if c["reason"] else ""
        lines.append(
            f"    correction at {c['occurred_at']} (recorded {c['recorded_at']}): "
            f"{c['change']}{why}" + _events([c["event_id"]])
        )
    corrected = o["corrected"]
    cause = f", cause {o['cause']}" if o["cause"] else ""
    lines.append(
        f"    as corrected: {_span(corrected)}, impact "
        f"{corrected['impact_percent'] if corrected else '-'}%{cause}"
    )
    lines.append(f"    clipped to the measured range: {_spans(o['clipped'])}")
    for part in o["excluded"]:
        lines.append(
            f"    excluded: {_span(part['interval'])}: {part['reason']}"
            + _events(part["event_ids"])
        )
    lines.append(
        f"    counted: {_spans(o['counted'])}, {_seconds(o['counted_seconds'])} "
        f"at weight {o['weight_percent']}%"
    )
    return lines


def _downtime(d: Mapping[str, Any]) -> list[str]:
    lines = [
        f"Down intervals shorter than the floor of {_seconds(d['floor_seconds'])} are dropped."
    ]
    for run in d["runs"]:
        lines.append(f"{_span(run['interval'])}: {run['reason']}." + _events(run["event_ids"]))
        for s in run["segments"]:
            lines.append(
                f"    {_span(s['interval'])} × {s['weight_percent']}% = "
                f"{_seconds(s['weighted_seconds'])} (highest impact from outage "
                f"{', '.join(s['outage_ids'])})"
            )
    lines.append(d["arithmetic"] + "." + _events(d["event_ids"]))
    return lines


def _tier(t: Mapping[str, Any]) -> list[str]:
    lines = [f"Tier: {t['reason']}."]
    lines += [f"    {t[key]}." for key in ("next_lower_tier", "next_higher_tier") if t[key]]
    return lines


def _availability(a: Mapping[str, Any] | None) -> list[str]:
    if a is None:
        return _section("Availability", ["The service has no availability terms."])
    lines = _maintenance(a["maintenance"])
    outages = [line for o in a["outages"] for line in _outage(o)]
    lines += _section("Outages", outages or ["none for this service and customer"])
    excluded = [
        f"{_span(e['interval'])}: "
        + "; ".join(s["reason"] for s in e["sources"])
        + _events(e["event_ids"])
        for e in a["exclusions"]["intervals"]
    ]
    lines += _section("Excluded time", [*excluded, a["exclusions"]["arithmetic"] + "."])
    lines += _section("Downtime", _downtime(a["downtime"]))
    lines += _section(
        "Availability",
        [
            a["arithmetic_measured"] + ".",
            a["downtime"]["arithmetic"] + ".",
            a["arithmetic"] + ".",
            f"Target: {a['met_reason']}.",
            *_tier(a["tier"]),
            f"Availability credit: {a['credit_percent']}%." + _events(a["event_ids"]),
        ],
    )
    return lines


def _incidents(r: Mapping[str, Any] | None) -> list[str]:
    if r is None:
        return _section("Incident response", ["The service has no incident response terms."])
    lines = []
    for i in r["incidents"]:
        lines.append(
            f"{i['incident_id']}: opened {i['opened_at']}, priority {i['priority_used']} "
            f"(set by event {i['priority_set_by']}), business time to {i['measured_to']} "
            f"{_seconds(i['business_seconds'])}: {i['reason']}." + _events(i["event_ids"])
        )
    if not lines:
        lines.append("No incident was opened on this row in the period.")
    lines += [
        f"Met {r['met']}, missed {r['missed']}, pending {r['pending']}, "
        f"not counted {r['not_counted']}.",
        r["arithmetic"] + ".",
        *_tier(r["tier"]),
        f"Response credit: {r['credit_percent']}%." + _events(r["event_ids"]),
    ]
    return _section("Incident response", lines)


def _money(m: Mapping[str, Any]) -> list[str]:
    capped = " (capped)" if m["capped"] else ""
    return _section(
        "Money",
        [
            m["arithmetic_percent"] + capped + ".",
            m["arithmetic_fee_basis"] + ".",
            m["arithmetic_amount"] + ".",
        ],
    )


def _row(doc: Mapping[str, Any]) -> list[str]:
    row = doc["row"]
    return _section(
        "Row as reported",
        [
            f"{row['contract_id']} / {row['service_id']} / {row['period']} ({row['status']}): "
            f"{_figures(row)} of fee basis {row['fee_basis']} ({row['remedy']}).",
            f"basis_sha256 {doc['basis_sha256']}, the SHA-256 of the row's figures and the ids "
            "of every event that fed them:" + _events(doc["basis"]["event_ids"]),
        ],
    )


def _percent(value: str | None) -> str:
    return "-" if value is None else f"{value}%"


def _figures(row: Mapping[str, Any]) -> str:
    return (
        f"availability {_percent(row['availability_percent'])}, response attainment "
        f"{_percent(row['response_attainment_percent'])}, credit {row['credit_percent']}% = "
        f"{row['credit_amount']} {row['currency']}"
    )


def _entries(entries: Sequence[Mapping[str, Any]]) -> list[str]:
    lines = []
    for e in entries:
        supersedes = f", reversing {e['supersedes']}" if e["supersedes"] else ""
        proof = (
            "reproduced from the events recorded by then"
            if e["basis_reproduced"]
            else f"NOT reproduced: recomputed {e['basis_sha256_recomputed']}"
        )
        then = e["basis_at_recording"]
        figures = (
            f"; figures then: {_figures(then['row'])}"
            if then is not None
            else "; the row no longer existed then"
        )
        lines.append(
            f"{e['recorded_at']} {e['kind']} revision {e['revision']}: {e['amount']} "
            f"{e['currency']} ({e['credit_percent']}%), entry {e['entry_id']}{supersedes}; "
            f"basis_sha256 {e['basis_sha256']}: {proof}{figures}."
            + _events(then["event_ids"] if then else [])
        )
    return _section("Credit entries", lines or ["No credit entry has been recorded for this row."])


def render_text(doc: Mapping[str, Any]) -> str:
    """The derivation in plain English, one section per step, events after each fact."""
    closed = f"closed at {doc['closed_at']}" if doc["closed_at"] else "provisional (not closed)"
    lines = [
        f"How {doc['contract_id']} / {doc['service_id']} / {doc['period']} was derived, "
        f"as of {doc['as_of']} ({closed})",
        *_contract(doc),
        *_terms(doc),
        *_coverage(doc),
        *_availability(doc["availability"]),
        *_incidents(doc["incident_response"]),
        *_money(doc["money"]),
        *_row(doc),
        *_entries(doc.get("entries", [])),
    ]
    return "\n".join(lines)
