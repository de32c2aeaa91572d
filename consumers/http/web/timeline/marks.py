"""The marks of a row's month, built from its explain document: one lane per kind of
fact (sub-lanes where its facts overlap), each fact a `Mark` with its one-line label, and
each incident's wait for its first response. Every status, reason and interval is the
document's; this module only turns them into drawn marks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

from consumers.http.web.timeline.model import (
    AXIS_HEIGHT,
    AXIS_TOP,
    LANE_GAP,
    LANE_HEIGHT,
    NAME_CHARACTER,
    NAME_GAP,
    WIDTH,
    Lane,
    Mark,
    Wait,
)
from consumers.http.web.timeline.packing import pack
from consumers.http.web.timeline.scale import Scale, text, two_places, us, us_of_day
from consumers.http.web.timeline.words import SHORT_WORDS, without_status, words_for_status
from projections.queries.explain.wording import (
    duration_exact,
    local_range_text,
    local_text,
)


def _ids(values: Iterable[str | None]) -> tuple[str, ...]:
    return tuple(sorted({v for v in values if v}))


class Builder:
    """The lanes, marks and waits of one explain document, added to kind by kind (each
    kind's lanes below the ones before it)."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        coverage = document["coverage"]
        self.document = document
        self.timezone: str = coverage["timezone"]
        window = coverage["window"]
        self.window = (us(window["start"]), us(window["end"]))
        self.scale = Scale(*self.window)
        self.lanes: list[Lane] = []
        self.marks: list[Mark] = []
        self.waits: list[Wait] = []
        self.y = Decimal(AXIS_TOP + AXIS_HEIGHT)

    def lane(self, name: str) -> int:
        self.y += LANE_GAP
        self.lanes.append(Lane(name, self.y, Decimal(LANE_HEIGHT)))
        self.y += LANE_HEIGHT
        return len(self.lanes) - 1

    def local(self, at: int) -> str:
        return local_text(at, self.timezone)

    def mark(
        self,
        kind: str,
        ident: str,
        start: int,
        end: int,
        lane: int,
        status: str,
        why: str,
        headline: str,
        event_ids: Iterable[str | None],
        *,
        impact: str | None = None,
        ongoing: bool = False,
    ) -> None:
        row = self.lanes[lane]
        height, opacity = row.height, Decimal("1.00")
        top = row.y + row.height - height
        if kind == "incident-paused":
            # A band across the middle of the incident's lane, over its wait line.
            height = two_places(Fraction(row.height) * Fraction(2, 5))
            top = row.middle - height / 2
        if impact is not None:
            # A bar's height and shade both grow with the impact (a 50% degradation is
            # half as tall and lighter), so the two do not rest on colour alone.
            share = Fraction(Decimal(impact)) / 100
            height = two_places(Fraction(row.height) * max(share, Fraction(1, 5)))
            opacity = two_places(Fraction(3, 10) + Fraction(7, 10) * share)
            top = row.y + row.height - height
        instant = start == end
        when = (
            self.local(start)
            if instant
            else local_range_text(start, end, self.timezone)
            + f", {duration_exact(end - start)}"
            + (" so far, ongoing at the horizon" if ongoing else "")
        )
        words = words_for_status(kind, status)
        reason = without_status(why, words)
        label = f"{headline}: {when}. {words[0].upper()}{words[1:]}" + (
            f": {reason}" if reason else ""
        )
        self.marks.append(
            Mark(
                kind=kind,
                id=ident,
                start=text(start),
                end=text(end),
                local_start=self.local(start),
                local_end=self.local(end),
                duration="" if instant else duration_exact(end - start),
                x=self.scale.x(start),
                x_end=self.scale.x(end),
                lane=lane,
                y=top,
                height=height,
                status=status,
                why=why,
                label=label,
                event_ids=_ids(event_ids),
                before=start < self.window[0],
                after=end > self.window[1] or start > self.window[1],
                impact_percent=impact,
                opacity=opacity,
                ongoing=ongoing,
            )
        )

    # -- the facts -----------------------------------------------------------------

    def boundaries(self) -> None:
        coverage, terms = self.document["coverage"], self.document["terms"]
        covered = (us(coverage["covered"]["start"]), us(coverage["covered"]["end"]))
        starts = us_of_day(terms["effective_from"], self.timezone)
        shows_terms = self.window[0] <= starts < self.window[1]
        pro_rated = covered != self.window
        if not (pro_rated or shows_terms):
            return
        lane = self.lane("Coverage and terms")
        why = coverage["reason"]
        if covered[0] != self.window[0]:
            self.mark(
                "coverage",
                "start",
                covered[0],
                covered[0],
                lane,
                "pro_rated",
                why,
                "Coverage starts",
                coverage["event_ids"],
            )
        if covered[1] != self.window[1]:
            self.mark(
                "coverage",
                "end",
                covered[1],
                covered[1],
                lane,
                "pro_rated",
                why,
                "Coverage ends",
                coverage["event_ids"],
            )
        if shows_terms:
            version = terms["version"]
            self.mark(
                "terms",
                f"version-{version}",
                starts,
                starts,
                lane,
                "in_force",
                terms["reason"],
                f"Terms version {version} from {terms['effective_from']}",
                terms["event_ids"],
            )

    def maintenance(self, windows: Sequence[Mapping[str, Any]]) -> None:
        if not windows:
            return
        spans = [(us(w["scheduled"]["start"]), us(w["scheduled"]["end"]), w) for w in windows]
        spans.sort(key=lambda s: (s[0], s[2]["maintenance_id"]))
        subs = pack([(a, b) for a, b, _ in spans])
        lanes = [self.lane("Maintenance" if i == 0 else "") for i in range(max(subs) + 1)]
        for (start, end, window), sub in zip(spans, subs, strict=True):
            if window["cancelled"]:
                status = "cancelled"
            elif window["excluded"]:
                status = "excluded"
            else:
                status = "not_excluded"
            self.mark(
                "maintenance",
                window["maintenance_id"],
                start,
                end,
                lanes[sub],
                status,
                window["reason"],
                f"Maintenance {window['maintenance_id']}",
                window["event_ids"],
            )

    def outages(self, outages: Sequence[Mapping[str, Any]]) -> None:
        spans = [
            (us(o["corrected"]["start"]), us(o["corrected"]["end"]), o)
            for o in outages
            if o.get("corrected") is not None
        ]
        if not spans:
            return
        spans.sort(key=lambda s: (s[0], s[2]["outage_id"]))
        subs = pack([(a, b) for a, b, _ in spans])
        lanes = [self.lane("Outages" if i == 0 else "") for i in range(max(subs) + 1)]
        for (start, end, outage), sub in zip(spans, subs, strict=True):
            corrected = outage["corrected"]
            status = outage["status"]
            cause = outage.get("cause")
            headline = f"Outage {outage['outage_id']}, {corrected['impact_percent']}% impact" + (
                f", cause {cause}" if cause else ""
            )
            self.mark(
                "outage",
                outage["outage_id"],
                start,
                end,
                lanes[sub],
                status,
                outage["reason"],
                headline,
                outage["event_ids"],
                impact=corrected["impact_percent"],
                ongoing=bool(corrected.get("ongoing")),
            )

    def incidents(
        self,
        incidents: Sequence[Mapping[str, Any]],
        resolutions: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """Each incident on its lane: its response marks and, where the terms set
        resolution targets (`resolutions`, the document's resolution facts), its pauses,
        resolution and resolution target."""
        if not incidents:
            return
        resolved = {r["incident_id"]: r for r in resolutions}
        spans = []
        for incident in incidents:
            opened = us(incident["opened_at"])
            ends = [opened, us(incident["measured_to_at"])]
            if incident.get("target_at"):
                ends.append(us(incident["target_at"]))
            resolution = resolved.get(incident["incident_id"])
            if resolution is not None:
                ends += _resolution_ends(resolution)
            spans.append((opened, max(ends), incident))
        # Incidents are few: each gets room for its name (drawn before it, with its
        # verdict) when sub-lanes are shared, so no incident goes unnamed on the chart.
        window = self.window[1] - self.window[0]

        def room(incident: Mapping[str, Any]) -> int:
            word = SHORT_WORDS[("incident-opened", incident["status"] or "not_counted")]
            units = NAME_GAP + 12 + NAME_CHARACTER * len(f"{incident['incident_id']} ({word})")
            return int(units * window / WIDTH) + 1

        pad = int(12 * Fraction(window, WIDTH))
        spans.sort(key=lambda s: (s[0] - room(s[2]), s[2]["incident_id"]))
        subs = pack([(a - room(i), b + pad) for a, b, i in spans])
        lanes = [self.lane("Incidents" if i == 0 else "") for i in range(max(subs) + 1)]
        for (opened, _, incident), sub in zip(spans, subs, strict=True):
            ident, lane = incident["incident_id"], lanes[sub]
            status = incident["status"] or "not_counted"
            until = us(incident["measured_to_at"])
            self.waits.append(
                Wait(
                    self.scale.x(opened),
                    self.scale.x(until),
                    self.lanes[lane].middle,
                    status,
                    incident["first_response_at"] is not None,
                )
            )
            why = incident["verdict"]
            priority = incident["priority_used"] or "no priority"
            self.mark(
                "incident-opened",
                ident,
                opened,
                opened,
                lane,
                status,
                why,
                f"Incident {ident} ({priority}) opened",
                incident["event_ids"],
            )
            if incident["first_response_at"] is not None:
                responded = us(incident["first_response_at"])
                self.mark(
                    "incident-response",
                    ident,
                    responded,
                    responded,
                    lane,
                    status,
                    why,
                    f"Incident {ident}: first response",
                    [incident["first_response_event_id"]],
                )
            if incident.get("target_at") is not None:
                target = us(incident["target_at"])
                self.mark(
                    "incident-target",
                    ident,
                    target,
                    target,
                    lane,
                    status,
                    why,
                    f"Incident {ident}: target of {incident['target_text']} in business time "
                    "runs out",
                    [incident["priority_set_by"], *self.document["terms"]["event_ids"]],
                )
            resolution = resolved.get(ident)
            if resolution is not None:
                self.resolution(resolution, lane)

    def resolution(self, resolution: Mapping[str, Any], lane: int) -> None:
        """One incident's §11 facts on its lane: every paused interval (with the business
        time it removed), the resolution, and the instant the resolution target ran out."""
        ident = resolution["incident_id"]
        status = resolution["status"] or "not_counted"
        why = resolution["verdict"]
        for n, pause in enumerate(resolution["paused_intervals"], start=1):
            reason = f' "{pause["reason"]}"' if pause["reason"] else ""
            removed = f"removed {pause['removed_text']} of business time" + (
                ", still paused" if pause["open"] else ""
            )
            self.mark(
                "incident-paused",
                f"{ident} pause {n}",
                us(pause["start"]),
                us(pause["end"]),
                lane,
                status,
                f"{removed}; {why}",
                f"Incident {ident} paused{reason}",
                [pause["paused_by"], pause["resumed_by"]],
                ongoing=bool(pause["open"]) and resolution["resolved_at"] is None,
            )
        if resolution["resolved_at"] is not None:
            at = us(resolution["resolved_at"])
            self.mark(
                "incident-resolved",
                ident,
                at,
                at,
                lane,
                status,
                why,
                f"Incident {ident}: resolved after {resolution['resolution_text']} of "
                "business time less pauses",
                [resolution["resolution_event_id"]],
            )
        if resolution.get("target_at") is not None:
            target = us(resolution["target_at"])
            self.mark(
                "incident-resolution-target",
                ident,
                target,
                target,
                lane,
                status,
                why,
                f"Incident {ident}: resolution target of {resolution['target_text']} in "
                "business time, pauses excluded, runs out",
                [resolution["priority_set_by"], *self.document["terms"]["event_ids"]],
            )


def _resolution_ends(resolution: Mapping[str, Any]) -> list[int]:
    """The instants an incident's resolution facts reach to (its lane must hold them)."""
    ends = [us(resolution["measured_to_at"])]
    ends += [us(p["end"]) for p in resolution["paused_intervals"]]
    if resolution.get("target_at"):
        ends.append(us(resolution["target_at"]))
    return ends
