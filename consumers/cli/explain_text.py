"""`sla-ledger explain`'s text form, rendered from the derivation's JSON-ready document
(`projections.queries.explain.inputs.explain`): plain sentences, exact numbers, and after each fact
the events it comes from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from fractions import Fraction
from typing import Any

from consumers import render
from ledger.periods import to_us
from ledger.timeformat import parse_utc
from projections.queries.explain.wording import (
    business_hours_text,
    duration_exact,
    duration_text,
    grouped,
    local_text,
)


def _events(event_ids: Iterable[str] | None) -> str:
    found = list(event_ids or ())
    return f"  [events: {', '.join(found)}]" if found else "  [events: none]"


def _seconds(text: str | None) -> str:
    return "-" if text is None else f"{grouped(text)} s"


def _us(seconds: str) -> Fraction:
    return Fraction(seconds) * 1_000_000


def _duration(seconds: str | None) -> str:
    """`3 h (10,800 s)`: hours and minutes for people, then the exact seconds."""
    if seconds is None:
        return "-"
    micro = _us(seconds)
    return duration_exact(micro.numerator if micro.denominator == 1 else micro)


def _spoken(seconds: str) -> str:
    """`3 h`, `1 h 15 min`: the duration alone, where the exact seconds are already shown."""
    micro = _us(seconds)
    return duration_text(int(micro)) if micro.denominator == 1 else _seconds(seconds)


def _length(seconds: str) -> str:
    """`3 h = 10,800 s`, or just `45 s`: for inside parentheses."""
    spoken, exact = _spoken(seconds), _seconds(seconds)
    return exact if spoken.replace(",", "") == exact.replace(",", "") else f"{spoken} = {exact}"


def _span(value: Mapping[str, Any] | None) -> str:
    if value is None:
        return "none"
    ongoing = " (still ongoing: counted up to the horizon)" if value.get("ongoing") else ""
    return f"{value['start']} to {value['end']} ({_length(value['seconds'])}){ongoing}"


def _parts(coverage: Mapping[str, Any], name: str) -> str:
    """The covered or measured range: one span, or an annual row's parts (its coverage
    may have gaps, sla-math §9) with what they hold in all."""
    parts = coverage.get(f"{name}_parts")
    if parts is None:
        return _span(coverage["covered" if name == "covered" else "measured_range"])
    if not parts:
        return "none"
    return f"{_spans(parts)}; in all {_length(coverage[f'{name}_seconds'])}"


def _spans(values: Sequence[Mapping[str, Any]]) -> str:
    return "; ".join(_span(v) for v in values) if values else "none"


def _local(text: str, timezone: str) -> str:
    return local_text(to_us(parse_utc(text)), timezone)


def _local_span(value: Mapping[str, Any], timezone: str) -> str:
    return (
        f"{_local(value['start'], timezone)} to {_local(value['end'], timezone)} "
        f"({_length(value['seconds'])})"
    )


def _tiers(tiers: Sequence[Mapping[str, str]]) -> str:
    return ", ".join(f"below {t['below_percent']}% → {t['credit_percent']}% credit" for t in tiers)


def _notice(seconds: str | None) -> str:
    if seconds is None:
        return "none set (maintenance is never excluded)"
    return _duration(seconds)


def _section(title: str, lines: list[str]) -> list[str]:
    return ["", title, "-" * len(title), *lines]


def _contract(doc: Mapping[str, Any]) -> list[str]:
    c = doc["contract"]
    until = c["effective_to"] or "open-ended"
    return _section(
        "Contract",
        [
            f"{c['contract_id']} with customer {c['customer_id']} ({c['customer_name']}), "
            f"currency {c['currency']}, timezone {c['timezone']}, "
            f"remedy {_REMEDIES.get(c['remedy'], c['remedy'])}, "
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
        f"total credit capped at {s['credit_cap_percent']}% of the fee.",
    ]
    a = s["availability"]
    if a is None:
        lines.append("Availability: no availability terms (no availability credit).")
    else:
        causes = ", ".join(a["excluded_causes"]) or "none"
        if a.get("window") == "year":
            lines.append("Availability is measured over the calendar year (an annual row).")
        floor = a["min_downtime_seconds"]
        lines.append(
            f"Availability: target {a['target_percent']}%; "
            f"credit tiers {_tiers(a['credit_tiers'])} (when several match, the lowest "
            f"threshold applies); maintenance is excluded only if announced at least "
            f"{_notice(a['maintenance_notice_seconds'])} ahead; "
            + (
                "no downtime floor (every down interval counts); "
                if Fraction(floor) == 0
                else f"down intervals shorter than {_duration(floor)} are ignored; "
            )
            + f"outages with these causes are excluded: {causes}."
        )
    r = s["incident_response"]
    if r is None:
        lines.append("Incident response: no response terms (no response credit).")
    else:
        targets = ", ".join(f"{p} {_duration(v)}" for p, v in r["targets_seconds"].items())
        lines.append(
            f"Incident response: time to first response, counted in business hours "
            f"({business_hours_text(r['business_hours'], doc['contract']['timezone'])}); "
            f"targets {targets}; credit tiers {_tiers(r['credit_tiers'])}."
        )
        lines += _resolution_terms(r.get("resolution"))
    return _section("Terms in force", lines)


def _resolution_terms(terms: Mapping[str, Any] | None) -> list[str]:
    if terms is None:
        return []
    targets = ", ".join(f"{p} {_duration(v)}" for p, v in terms["targets_seconds"].items())
    tiers = _tiers(terms["credit_tiers"]) if terms["credit_tiers"] else "none (no credit)"
    return [
        f"Incident resolution: time to resolution in the same business hours, less the "
        f"time paused; targets {targets or 'none'}; credit tiers {tiers}."
    ]


def _coverage(doc: Mapping[str, Any]) -> list[str]:
    c = doc["coverage"]
    zone = c["timezone"]
    return _section(
        "Coverage",
        [
            f"Period window W: {_span(c['window'])}, that is {_local(c['window']['start'], zone)}"
            f" to {_local(c['window']['end'], zone)} in {zone}.",
            f"Covered C: {_parts(c, 'covered')}: {c['reason']}." + _events(c["event_ids"]),
            f"Horizon (as of) {c['horizon']}: {c['measured_range_reason']}; measured range "
            f"{_parts(c, 'measured')}.",
        ],
    )


def _maintenance(windows: Sequence[Mapping[str, Any]], timezone: str) -> list[str]:
    lines = []
    for w in windows:
        if w["announced_at"]:
            given = w["notice_given_seconds"]
            ahead = (
                f"{_duration(given)} before it started"
                if Fraction(given) >= 0
                else f"{_duration(str(-Fraction(given)))} after it started"
            )
            announced = (
                f"announced at {w['announced_at']} (event {w['announcement_event_id']}), {ahead}"
            )
        else:
            announced = "never announced"
        required = w["notice_required_seconds"]
        needs = (
            "the terms set no notice, so maintenance is never excluded"
            if required is None
            else f"the terms require {_duration(required)} notice"
        )
        if w["cancelled"]:
            verdict = "cancelled: it excludes nothing"
        elif w["excluded"]:
            verdict = "enough notice: its time is excluded from measurement"
        elif required is None:
            verdict = "not excluded: outages in it count as downtime"
        else:
            verdict = "not enough notice: not excluded, outages in it count as downtime"
        lines.append(
            f"{w['maintenance_id']}: scheduled {_local_span(w['scheduled'], timezone)}; "
            f"{announced}; {needs}. Verdict: {verdict}." + _events(w["event_ids"])
        )
        if w["excluded"] and [dict(x) for x in w["excluded_measured"]] != [w["scheduled"]]:
            lines.append(
                f"    excluded part (inside the measured range): {_spans(w['excluded_measured'])}"
            )
    return _section("Maintenance windows", lines or ["none for this service and customer"])


def _first_report(raw: Mapping[str, Any]) -> str:
    started = f"started {raw['start']} (event {raw['started_event_id']})"
    if raw["resolved_event_id"] is None:
        ended = f"not yet resolved (counted up to the horizon {raw['end']})"
    else:
        ended = f"resolved {raw['end']} (event {raw['resolved_event_id']})"
    return f"{started}, {ended}: {_duration(raw['seconds'])} at {raw['impact_percent']}% impact"


def _outage(o: Mapping[str, Any]) -> list[str]:
    lines = [f"{o['outage_id']}: {o['reason']}." + _events(o["event_ids"])]
    raw = o["raw"]
    retraction = o.get("retraction")
    corrections = [
        c for c in o["corrections"] if retraction is None or c["event_id"] != retraction["event_id"]
    ]
    if raw is not None:
        first = "as first reported" if corrections or retraction else "as reported"
        lines.append(f"    {first}: {_first_report(raw)}.")
    if not o.get("applies_to_customer", True):
        # Said in the heading line; none of it is this row's business.
        return lines
    for number, c in enumerate(corrections, 1):
        why = f'; reason given: "{c["reason"]}"' if c["reason"] else ""
        lines.append(
            f"    correction {number} of {len(corrections)} (event {c['event_id']}, occurred "
            f"{c['occurred_at']}, recorded {c['recorded_at']}): {c['change']}{why}."
        )
    if retraction is not None:
        # Said once in the heading line; nothing of it is measured, clipped or excluded.
        lines.append(
            f"    retracted at {retraction['occurred_at']} (recorded "
            f"{retraction['recorded_at']}): nothing of it is measured."
        )
        return lines
    corrected = o["corrected"]
    cause = f", cause {o['cause']}" if o["cause"] else ""
    if corrections:
        impact = corrected["impact_percent"] if corrected else "-"
        lines.append(f"    after the corrections: {_span(corrected)}, {impact}% impact{cause}.")
    elif cause:
        lines.append(f"    cause: {o['cause']}.")
    if corrected is not None and [dict(x) for x in o["clipped"]] != [
        {k: corrected[k] for k in ("start", "end", "seconds")}
    ]:
        lines.append(f"    the part inside the measured range: {_spans(o['clipped'])}.")
    for part in o["excluded"]:
        lines.append(
            f"    excluded time, not measured: {_span(part['interval'])}: {part['reason']}."
            + _events(part["event_ids"])
        )
    if o["status"] == "counted":
        total = f", {_duration(o['counted_seconds'])} in all" if len(o["counted"]) > 1 else ""
        lines.append(
            f"    counted as down: {_spans(o['counted'])}{total} at {o['weight_percent']}% "
            "impact (overlaps and the floor: see Downtime)."
        )
    if o.get("below_floor"):
        lines.append(
            f"    dropped under the floor: {_spans(o['below_floor'])} (see Downtime): "
            "not counted as down."
        )
    return lines


def _downtime(d: Mapping[str, Any]) -> list[str]:
    floor = d["floor_seconds"]
    lines = [
        "No downtime floor: every down interval counts."
        if Fraction(floor) == 0
        else f"Down intervals shorter than the floor of {_duration(floor)} are dropped."
    ]
    for run in d["runs"]:
        lines.append(f"{_span(run['interval'])}: {run['reason']}." + _events(run["event_ids"]))
        for s in run["segments"]:
            outages = ", ".join(s["outage_ids"])
            lines.append(
                f"    {_span(s['interval'])} × {s['weight_percent']}% impact = "
                f"{_length(s['weighted_seconds'])} of downtime (the highest impact at that "
                f"time, from outage {outages})"
                if run["kept"]
                else f"    {_span(s['interval'])} at {s['weight_percent']}% impact "
                f"(outage {outages}): dropped with its interval, no downtime."
            )
    lines.append(f"{d['arithmetic']} ({_spoken(d['downtime_seconds'])})." + _events(d["event_ids"]))
    return lines


def _tier(t: Mapping[str, Any]) -> list[str]:
    lines = [f"Credit tier: {t['reason']}."]
    lines += [f"    {t[key]}." for key in ("next_lower_tier", "next_higher_tier") if t[key]]
    return lines


def _availability(doc: Mapping[str, Any]) -> list[str]:
    a = doc["availability"]
    if a is None:
        terms = doc["terms"]["service"]["availability"]
        if terms is not None and terms.get("window") == "year" and "-" in doc["period"]:
            year = doc["period"].split("-")[0]
            return _section(
                "Availability",
                [
                    "Measured yearly: this month's availability counts on the annual row "
                    f"{year}, not here (no availability figures or credit on the month)."
                ],
            )
        return _section("Availability", ["The service has no availability terms."])
    lines = _maintenance(a["maintenance"], doc["contract"]["timezone"])
    outages = [line for o in a["outages"] for line in _outage(o)]
    lines += _section("Outages", outages or ["none for this service"])
    excluded = [
        f"{_span(e['interval'])}: "
        + "; ".join(s["reason"] for s in e["sources"])
        + _events(e["event_ids"])
        for e in a["exclusions"]["intervals"]
    ]
    excluded_total = _duration(a["exclusions"]["excluded_seconds"])
    lines += _section(
        "Excluded time",
        [*excluded, f"Excluded in total: {excluded_total} of the measured range."]
        if excluded
        else ["None: nothing is excluded from measurement."],
    )
    lines += _section("Downtime", _downtime(a["downtime"]))
    lines += _section(
        "Availability",
        [
            f"Measured time: {a['arithmetic_measured']} ({_spoken(a['measured_seconds'])}).",
            f"Downtime: {a['downtime']['arithmetic']} "
            f"({_spoken(a['downtime']['downtime_seconds'])}).",
            a["arithmetic"] + ".",
            f"Target {a['target_percent']}%: {a['met_reason']}.",
            *_tier(a["tier"]),
            f"Availability credit: {a['credit_percent']}% of the fee." + _events(a["event_ids"]),
        ],
    )
    return lines


def _incident(i: Mapping[str, Any], hours: str) -> list[str]:
    lines = [f"{i['incident_id']}: {i['verdict']}." + _events(i["event_ids"])]
    if i["priority_used"] is not None:
        lines.append(
            f"    priority used: {i['priority_used']} (set by event {i['priority_set_by']}); "
            f"its target: {i['target_text'] or 'none in the terms'}."
        )
    lines.append(f"    opened:         {i['opened_at_local']}.")
    if i.get("target_at_local") is not None:
        lines.append(
            f"    target reached: {i['target_at_local']} (a first response by then meets it)."
        )
    if i["first_response_at_local"] is not None:
        event = i["first_response_event_id"]
        lines.append(
            f"    first response: {i['first_response_at_local']}"
            + (f" (event {event})." if event else ".")
        )
    else:
        lines.append(
            f"    first response: none yet; counted up to the horizon {i['measured_to_local']}."
        )
    lines.append(f"    business hours: {hours}.")
    pieces = i["business_intervals"]
    shown = [f"{p['local']} ({_length(p['seconds'])})" for p in pieces[:6]]
    if len(pieces) > 6:
        shown.append(f"… and {len(pieces) - 6} more")
    counted = "; ".join(shown) if shown else "none (no business hours in between)"
    lines.append(f"    business time counted: {counted}; in total {i['business_text']}.")
    return lines


def _incidents(doc: Mapping[str, Any]) -> list[str]:
    r = doc["incident_response"]
    if r is None:
        return _section("Incident response", ["The service has no incident response terms."])
    lines = []
    for i in r["incidents"]:
        lines += _incident(i, r["business_hours_text"])
    if not r["incidents"]:
        lines.append("No incident was opened on this row in the period.")
    lines += _tally(r, "target", "Response")
    return _section("Incident response", lines)


def _pause(p: Mapping[str, Any]) -> str:
    still = " (still paused: counted up to the end of measurement)" if p["open"] else ""
    why = f' "{p["reason"]}"' if p["reason"] else ""
    resumed = f", resumed by {p['resumed_by']}" if p["resumed_by"] else ""
    pieces = p["removed_intervals"]
    shown = [f"{x['local']}" for x in pieces[:6]]
    if len(pieces) > 6:
        shown.append(f"… and {len(pieces) - 6} more")
    within = f" ({'; '.join(shown)})" if shown else " (no business hours in it)"
    return (
        f"    paused {p['local']}{still}{why}, by {p['paused_by']}{resumed}: removed "
        f"{p['removed_text']} of business time{within}."
    )


def _resolution_incident(i: Mapping[str, Any]) -> list[str]:
    lines = [f"{i['incident_id']}: {i['verdict']}." + _events(i["event_ids"])]
    if i["priority_used"] is not None:
        lines.append(
            f"    priority used: {i['priority_used']} (set by event {i['priority_set_by']}); "
            f"its resolution target: {i['target_text'] or 'none in the terms'}."
        )
    lines.append(f"    opened:   {i['opened_at_local']}.")
    if i["target_at_local"] is not None:
        lines.append(f"    target reached: {i['target_at_local']} (a resolution by then meets it).")
    if i["resolved_at_local"] is not None:
        lines.append(
            f"    resolved: {i['resolved_at_local']} (the last resolution, event "
            f"{i['resolution_event_id']})."
        )
    else:
        lines.append(f"    resolved: not yet; counted up to the horizon {i['measured_to_local']}.")
    lines.append(f"    business time from opening: {i['business_text']}.")
    lines += [_pause(p) for p in i["paused_intervals"]]
    if not i["paused_intervals"]:
        lines.append("    never paused.")
    lines.append(f"    {i['arithmetic']}.")
    return lines


def _resolutions(doc: Mapping[str, Any]) -> list[str]:
    r = doc.get("incident_resolution")
    if r is None:
        return []
    lines = [f"Business hours: {r['business_hours_text']}."]
    for i in r["incidents"]:
        lines += _resolution_incident(i)
    if not r["incidents"]:
        lines.append("No incident was opened on this row in the period.")
    lines += _tally(r, "resolution target", "Resolution")
    return _section("Incident resolution", lines)


def _tally(r: Mapping[str, Any], target: str, credit: str) -> list[str]:
    """The counts, the attainment's arithmetic, the tier and the credit of a row's
    incidents against one kind of target (response, §4; resolution, §11)."""
    return [
        f"Met {r['met']}, missed {r['missed']}, pending (not yet decided) {r['pending']}, "
        f"not counted (no {target} for the priority) {r['not_counted']}.",
        r["arithmetic"] + ".",
        *_tier(r["tier"]),
        f"{credit} credit: {r['credit_percent']}% of the fee." + _events(r["event_ids"]),
    ]


def _money(m: Mapping[str, Any]) -> list[str]:
    capped = " (the cap applies)" if m["capped"] else ""
    return _section(
        "Money",
        [
            m["arithmetic_percent"] + capped + ".",
            m["arithmetic_fee_basis"] + ".",
            m["arithmetic_amount"] + ".",
        ],
    )


def _exposure(doc: Mapping[str, Any]) -> list[str]:
    """§8, for a provisional row: the projection's `M_end` and `D_end`, the error budget,
    the next tier and the money at risk, and each pending incident's deadline, as the
    derivation gives them (nothing is computed here). A closed row has none: no section."""
    e = doc.get("exposure")
    if e is None:
        return []
    row, timezone = doc["row"], doc["contract"]["timezone"]
    currency = row["currency"]
    lines = []
    if e["measured_end_seconds"] is None:
        lines.append("No projection: the row measures no availability of its own.")
    else:
        target = row["availability_target_percent"]
        measured, downtime = e["measured_end_seconds"], e["downtime_end_seconds"]
        lines += [
            f"If nothing more happens than what is recorded ({e['rule']}):",
            f"measured time to the end M_end = {_seconds(measured)}; "
            f"downtime D_end = {_seconds(downtime)}.",
        ]
        if e["projected_availability_percent"] is None:
            lines.append("No measured time: no projected availability, and no credit for it.")
        else:
            lines.append(
                "projected availability = 100 × (M_end − D_end) / M_end = "
                f"{e['projected_availability_percent']}%."
            )
        if e["budget_consumed_percent"] is None:
            lines.append(f"error budget at the target {target}%: none (B = 0 s).")
        else:
            lines.append(
                f"error budget at the target {target}%: B = M_end × (100 − {target}) / 100 = "
                f"{_seconds(e['budget_seconds'])}; consumed = 100 × D_end / B = "
                f"{e['budget_consumed_percent']}%."
            )
        lines.append(f"projected credit: {e['projected_credit_amount']} {currency}.")
        b = e["next_threshold_percent"]
        if b is None:
            lines.append("No next tier: the projection is in the worst tier already.")
        else:
            lines.append(
                f"next tier: below {b}% → {e['next_tier_credit_percent']}% credit; downtime "
                f"left before it = M_end × (100 − {b}) / 100 − D_end = "
                f"{_seconds(e['downtime_left_seconds'])} (full impact, to the microsecond, "
                f"no floor); credit at risk {e['credit_at_risk']} {currency}."
            )
    for pending in e["pending_incidents"]:
        lines.append(
            f"{pending['incident_id']} ({pending['priority'] or 'no priority'}) is pending: "
            f"a first response by {_local(pending['respond_by'], timezone)} meets its target."
        )
    if not e["pending_incidents"]:
        lines.append("No incident is pending a first response.")
    return _section("Where the row is heading (provisional)", lines)


def _claims(doc: Mapping[str, Any]) -> list[str]:
    """§10: the claim terms, the deadline, each claim naming the row and whether it
    counts, and what that leaves payable."""
    c = doc.get("claims")
    if c is None:
        return []
    currency = doc["row"]["currency"]
    timezone = doc["contract"]["timezone"]
    lines = []
    if c["claim_deadline_days"] is None:
        lines.append("No claim is needed: the credit is payable without one.")
    else:
        lines.append(
            f"A claim is needed, submitted before local midnight {c['claim_deadline_days']} "
            f"days after the period ends: the deadline is {_local(c['deadline'], timezone)}."
        )
        for claim in c["claims"]:
            state = "withdrawn" if claim["withdrawn"] else claim["decision"] or "undecided"
            reason = f" ({claim['decision_reason']})" if claim["decision_reason"] else ""
            counts = "counts" if claim["counts"] else "does not count"
            lines.append(
                f"Claim {claim['claim_id']}, submitted {claim['submitted_at']}: "
                f"{state}{reason}; it {counts}."
            )
        if not c["claims"]:
            lines.append("No claim names this row.")
        lines.append(f"Claim status: {c['claim_status']}.")
    threshold = c["credit_threshold_amount"]
    if threshold is not None:
        verdict = "above" if c["above_threshold"] else "not above"
        lines.append(
            f"Threshold {threshold} {currency}: the credit amount {c['credit_amount']} "
            f"{currency} is {verdict} it."
        )
    lines.append(f"Payable amount: {c['payable_amount']} {currency}.")
    return _section("Claim and threshold", lines)


_REMEDIES = {"credit": "service credit", "cash": "cash refund"}


def _row(doc: Mapping[str, Any]) -> list[str]:
    row = doc["row"]
    remedy = _REMEDIES.get(row["remedy"], row["remedy"])
    return _section(
        "Row as reported",
        [
            f"{row['contract_id']} / {row['service_id']} / {row['period']} ({row['status']}): "
            f"{_figures(row)}, of a fee basis of {row['fee_basis']} {row['currency']}; "
            f"paid as {remedy}.",
            f"basis_sha256 {doc['basis_sha256']}, the SHA-256 of the row's figures and the ids "
            "of every event that fed them:" + _events(doc["basis"]["event_ids"]),
        ],
    )


def _percent(value: str | None) -> str:
    return "-" if value is None else f"{value}%"


def _figures(row: Mapping[str, Any]) -> str:
    return (
        f"availability {_percent(row['availability_percent'])}, response attainment "
        f"{_percent(row['response_attainment_percent'])}"
        + _resolution_figure(row)
        + f", credit {row['credit_percent']}% = "
        f"{row['credit_amount']} {row['currency']}"
    )


def _resolution_figure(row: Mapping[str, Any]) -> str:
    """`, resolution attainment 75.0000%` where the row counts resolutions (a basis
    recorded before resolution targets existed has no such field)."""
    if row.get("resolution_met") is None:
        return ""
    return f", resolution attainment {_percent(row['resolution_attainment_percent'])}"


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
        *_availability(doc),
        *_incidents(doc),
        *_resolutions(doc),
        *_money(doc["money"]),
        *_exposure(doc),
        *_claims(doc),
        *_row(doc),
        *_entries(doc.get("entries", [])),
    ]
    return render.lines(lines)
