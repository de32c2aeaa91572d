"""Usable by people (issue #14, point 2), checked in a real browser on every page of the
desk, on both stores, signed in with the key of every role so every page opens:
keyboard (the skip link first, every control reached by Tab, a visible focus on each
stop), structure (one h1, no skipped heading level, labels, captions and scoped header
cells, named SVGs, the page's language), times (each one with its zone named), money
(written per currency), colours (the Okabe-Ito palette, never colour alone), contrast
(WCAG AA) and print (the row page as a dispute letter's attachment, a real PDF)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Browser, Page

from ledger.timeformat import format_utc
from tests.http_server import ALL
from tests.integration.web.conftest import Desk
from tests.web_browser import artifacts, sign_in

pytestmark = pytest.mark.integration

PERIOD = "/web/periods/2026-10"
ROWS = {
    "USD": f"{PERIOD}/rows/C-1001/api",
    "AUD": f"{PERIOD}/rows/C-2002/crm",
    "EUR": f"{PERIOD}/rows/C-3003/managed-ops",
}
# The demo's credits as each currency writes them (CLDR, English).
CREDITS = {"USD": "$1,200.00", "AUD": "A$300.00", "EUR": "€400.00"}
ROW = ROWS["AUD"]  # Sydney, across its DST change, with the late correction

# The Okabe-Ito palette (Okabe & Ito, "Color Universal Design", 2002).
OKABE_ITO = {
    "#000000",
    "#e69f00",
    "#56b4e9",
    "#009e73",
    "#f0e442",
    "#0072b2",
    "#d55e00",
    "#cc79a7",
}
STATUS_COLOURS = (
    "--outage",
    "--partial",
    "--excluded",
    "--maintenance",
    "--met",
    "--missed",
    "--pending",
)

# A wall time as the pages write it: a date, hours and minutes (seconds and a fraction
# maybe), or a range of hours on one day; it must be followed by its zone's
# abbreviation, and that maybe by the same instant in UTC in parentheses.
WALL_TIME = re.compile(
    r"\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:–\d{2}:\d{2})?"
    r"(?P<after>.{0,40})",
)
ZONE_NAMED = re.compile(
    r"^ (?P<zone>[A-Z]{2,5}|[+-]\d{2}(?::?\d{2})?)\b(?: \(\d{4}-\d{2}-\d{2}T[^)]*Z\))?"
)
# An RFC 3339 instant: it must end in Z (UTC) or an offset, never be a bare local time.
ISO_INSTANT = re.compile(
    r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?P<zone>Z|[+-]\d{2}:\d{2})?"
)
UTC_ZONES = {"UTC", "GMT"}
# A local time with its zone, then the same instant in UTC: "… 12:00 AEDT (…T01:00:00Z)".
LOCAL_THEN_UTC = re.compile(
    r"(\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?) ([A-Z]{2,5}) "
    r"\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?Z)\)"
)

# Every element a person must be able to reach with Tab (those shown: not in a closed
# <details>, not display:none, not disabled).
FOCUSABLE = 'a[href], button, input:not([type="hidden"]), select, textarea, [tabindex="0"]'

MARK_FOCUSABLES = f"""
() => {{
  const shown = (e) => e.checkVisibility({{visibilityProperty: true}}) && !e.disabled
    && !e.closest('[inert]');
  const all = [...document.querySelectorAll('{FOCUSABLE}')].filter(shown);
  all.forEach((e, i) => e.setAttribute('data-a11y-stop', String(i)));
  return all.map((e) => e.tagName.toLowerCase() + ' ' + (e.id || e.getAttribute('href')
    || e.getAttribute('aria-label') || e.textContent.trim().slice(0, 40)));
}}
"""

# Focus navigation from the top of the document, whatever had the focus (the sign-in
# form's autofocused key field): the root takes the focus for a moment, then lets go.
FROM_THE_TOP = """
() => {
  const root = document.documentElement;
  root.setAttribute('tabindex', '-1');
  root.focus();
  root.removeAttribute('tabindex');
}
"""

# What is focused now, and how its focus shows: an outline, a box shadow, or (an SVG
# mark of the timeline) a part of it stroked in the focus colour.
FOCUSED = """
() => {
  const e = document.activeElement;
  if (!e || e === document.body) { return null; }
  const s = getComputedStyle(e);
  const focusColour = getComputedStyle(document.documentElement).getPropertyValue('--focus').trim();
  let svgRing = false;
  if (e instanceof SVGElement) {
    const probe = document.createElement('span');
    probe.style.color = focusColour;  // via the CSSOM, which the CSP allows
    document.body.appendChild(probe);
    const rgb = getComputedStyle(probe).color;
    probe.remove();
    svgRing = [...e.querySelectorAll('.hit, .shape')].some((part) => {
      const p = getComputedStyle(part);
      return p.stroke === rgb && parseFloat(p.strokeWidth) >= 2;
    });
  }
  return {
    stop: e.getAttribute('data-a11y-stop'),
    tag: e.tagName.toLowerCase(),
    text: (e.getAttribute('aria-label') || e.textContent || '').trim().slice(0, 60),
    outlineStyle: s.outlineStyle,
    outlineWidth: parseFloat(s.outlineWidth),
    boxShadow: s.boxShadow,
    svgRing: svgRing,
    focusVisible: e.matches(':focus-visible'),
  };
}
"""

STRUCTURE = """
() => {
  const problems = [];
  const lang = document.documentElement.getAttribute('lang');
  if (!lang || !lang.trim()) { problems.push('<html> has no lang'); }
  const h1 = document.querySelectorAll('h1').length;
  if (h1 !== 1) { problems.push(`${h1} h1 elements, not one`); }
  let previous = 0;
  for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const level = Number(h.tagName[1]);
    if (level > previous + 1) {
      problems.push(`heading "${h.textContent.trim()}" is h${level} after h${previous}`);
    }
    previous = level;
  }
  for (const c of document.querySelectorAll('input:not([type="hidden"]), select, textarea')) {
    const labelled = (c.id && document.querySelector(`label[for="${CSS.escape(c.id)}"]`))
      || (c.getAttribute('aria-label') || '').trim() || c.getAttribute('aria-labelledby');
    if (!labelled) { problems.push(`${c.tagName} ${c.name} has no label`); }
  }
  for (const t of document.querySelectorAll('table')) {
    const caption = t.querySelector(':scope > caption');
    if (!(caption && caption.textContent.trim()) && !(t.getAttribute('aria-label') || '').trim()) {
      problems.push(`a table (${t.className}) has no caption`);
    }
    const headers = t.querySelectorAll('th');
    if (headers.length === 0) { problems.push(`a table (${t.className}) has no header cells`); }
    for (const th of headers) {
      if (!['col', 'row', 'colgroup', 'rowgroup'].includes(th.getAttribute('scope'))) {
        problems.push(`header "${th.textContent.trim()}" has no scope`);
      }
    }
  }
  for (const svg of document.querySelectorAll('svg')) {
    if (svg.closest('[aria-hidden="true"]')) { continue; }
    const title = svg.querySelector(':scope > title');
    const named = (svg.getAttribute('aria-label') || '').trim()
      || svg.getAttribute('aria-labelledby') || (title && title.textContent.trim());
    if (!named) { problems.push(`an svg (${svg.getAttribute('class')}) has no accessible name`); }
  }
  return problems;
}
"""

CONTRAST = """
(selectors) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) { return null; }
    const parts = m[1].split(/[ ,/]+/).filter(Boolean).map(Number);
    return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
  };
  const background = (e) => {
    for (let n = e; n; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.backgroundImage !== 'none') { return null; }  // a gradient: not judged here
      const c = parse(s.backgroundColor);
      if (c && c.a === 1) { return c; }
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };
  const channel = (v) => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const found = [];
  for (const [kind, selector] of Object.entries(selectors)) {
    for (const e of document.querySelectorAll(selector)) {
      if (!e.checkVisibility() || !e.textContent.trim()) { continue; }
      const fg = parse(getComputedStyle(e).color);
      const bg = background(e);
      if (!fg || !bg) { continue; }
      const [light, dark] = [luminance(fg), luminance(bg)].sort((x, y) => y - x);
      found.push({kind: kind, text: e.textContent.trim().slice(0, 40),
                  ratio: (light + 0.05) / (dark + 0.05)});
    }
  }
  return found;
}
"""


def rgb(hex_colour: str) -> str:
    value = hex_colour.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({r}, {g}, {b})"


@pytest.fixture(scope="module")
def everyone(desk: Desk, browser: Browser) -> Iterator[Page]:
    page = sign_in(browser, desk.served, ALL)
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def pages(desk: Desk) -> dict[str, str]:
    """Every page of the desk, by name: the paths the issue lists, with real ids."""
    explained = desk.served.get("/v1/rows/C-2002/crm/2026-10/explain")
    assert explained.status_code == 200, explained.text
    event_id = explained.json()["contract"]["event_ids"][0]
    return {
        "periods": "/web/periods",
        "overview": PERIOD,
        # As of one microsecond before the close: every row provisional, with a budget.
        "exposure": f"{PERIOD}/exposure?as_of="
        + format_utc(desk.closed_at - timedelta(microseconds=1)),
        "exposure closed": f"{PERIOD}/exposure",
        **{f"row {currency}": path for currency, path in ROWS.items()},
        "diff": f"{PERIOD}/diff?from={desk.close_moment}",
        "event": f"/web/events/{event_id}",
        "audit": "/web/audit?verify=1",
        "sign-in": "/web/sign-in",
    }


def opened(page: Page, desk: Desk, path: str) -> Page:
    answer = page.goto(desk.served.base + path)
    assert answer is not None, path
    assert answer.status == 200, path
    page.wait_for_load_state()
    return page


def test_tab_reaches_the_skip_link_first_and_every_control(
    desk: Desk, everyone: Page, pages: dict[str, str]
) -> None:
    for name, path in pages.items():
        page = opened(everyone, desk, path)
        expected = page.evaluate(MARK_FOCUSABLES)
        assert expected, name
        page.evaluate(FROM_THE_TOP)

        # The skip link comes first, and Enter on it puts the focus on <main>.
        page.keyboard.press("Tab")
        first = page.evaluate(FOCUSED)
        assert first is not None, name
        assert first["text"] == "Skip to the content", (name, first)
        page.keyboard.press("Enter")
        assert page.evaluate("() => document.activeElement.id") == "main", name
        assert page.evaluate("() => document.activeElement.tagName") == "MAIN", name

        # From the top again: Tab through the whole page, once round.
        opened(page, desk, path)
        page.evaluate(MARK_FOCUSABLES)
        page.evaluate(FROM_THE_TOP)
        reached: list[dict[str, Any]] = []
        for _ in range(len(expected) * 2 + 10):
            page.keyboard.press("Tab")
            now = page.evaluate(FOCUSED)
            if now is None or (reached and now["stop"] == reached[0]["stop"]):
                break  # past the last stop: back to the document, or round to the first
            reached.append(now)
        stops = {r["stop"] for r in reached if r["stop"] is not None}
        missed = [label for index, label in enumerate(expected) if str(index) not in stops]
        assert not missed, f"{name}: Tab never reaches {missed}"
        others = {r["tag"] for r in reached if r["stop"] is None}
        assert others <= {"summary"}, f"{name}: Tab stops on {others}"

        # Every stop shows where the focus is (at least ten a page where it has them).
        assert len(reached) >= min(10, len(expected)), name
        for stop in reached:
            visible = (
                (stop["outlineStyle"] != "none" and stop["outlineWidth"] > 0)
                or stop["boxShadow"] != "none"
                or stop["svgRing"]
            )
            assert visible, f"{name}: no visible focus on {stop}"


def test_keyboard_focus_screenshot(desk: Desk, everyone: Page) -> None:
    """A timeline mark focused by keyboard on the row page: its ring, and its row in
    the table lit with it."""
    page = opened(everyone, desk, ROW)
    page.evaluate(FROM_THE_TOP)
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.matches('g.mark')"):
            break
    else:
        pytest.fail("Tab never reached a timeline mark")
    focused = page.evaluate(FOCUSED)
    assert focused is not None
    assert focused["svgRing"], focused
    lit = page.locator("table.timeline-facts tr.is-linked")
    assert lit.count() == 1
    page.evaluate("() => document.activeElement.scrollIntoView({block: 'center'})")
    if desk.kind == "sqlite":
        path = artifacts() / "keyboard-focus.png"
        page.screenshot(path=str(path))  # the viewport: the focused mark in the middle
        assert path.stat().st_size > 0


def test_structure(desk: Desk, everyone: Page, pages: dict[str, str]) -> None:
    for name, path in pages.items():
        problems = opened(everyone, desk, path).evaluate(STRUCTURE)
        assert not problems, f"{name}: {problems}"


def zones_shown(text: str) -> tuple[list[str], list[str]]:
    """The zones named after each wall time and each RFC 3339 instant of `text`, and
    every time that names none."""
    named: list[str] = []
    unnamed: list[str] = []
    for found in WALL_TIME.finditer(text):
        zone = ZONE_NAMED.match(found["after"])
        if zone is None:
            unnamed.append(found[0])
        else:
            named.append(zone["zone"])
    for found in ISO_INSTANT.finditer(text):
        if found["zone"] is None:
            unnamed.append(found[0])
        else:
            named.append("UTC" if found["zone"] == "Z" else found["zone"])
    return named, unnamed


def test_every_time_names_its_zone_and_the_footer_says_which(
    desk: Desk, everyone: Page, pages: dict[str, str]
) -> None:
    for name, path in pages.items():
        page = opened(everyone, desk, path)
        text = page.inner_text("main")
        named, unnamed = zones_shown(text)
        assert not unnamed, f"{name}: times without a zone: {unnamed[:5]}"
        local = set(named) - UTC_ZONES
        footer = page.inner_text("footer")
        if name.startswith("row"):
            assert named, f"{name}: no time shown"
            assert local, f"{name}: no local time shown"
        if local:
            assert "contract's timezone" in footer, (name, footer)
        else:
            assert "UTC" in footer, (name, footer)
            assert "contract's timezone" not in footer, (name, footer)

    # Each local time on a row page is its UTC instant's wall time in the contract's
    # zone, under that zone's own abbreviation then (computed here with zoneinfo).
    for currency, path in ROWS.items():
        contract, service = path.rsplit("/", 2)[-2:]
        answer = desk.served.get(f"/v1/rows/{contract}/{service}/2026-10/explain")
        assert answer.status_code == 200, answer.text
        zone = ZoneInfo(answer.json()["contract"]["timezone"])
        text = opened(everyone, desk, path).inner_text("main")
        pairs = LOCAL_THEN_UTC.findall(text)
        assert len(pairs) >= 10, currency
        for wall, abbreviation, instant in pairs:
            there = datetime.fromisoformat(instant.replace("Z", "+00:00")).astimezone(zone)
            written = there.strftime("%Y-%m-%d %H:%M:%S.%f")[: len(wall)]
            assert (wall, abbreviation) == (written, there.tzname()), (currency, instant)


def test_money_is_written_per_currency(desk: Desk, everyone: Page) -> None:
    overview = opened(everyone, desk, PERIOD)
    for currency, path in ROWS.items():
        contract, service = path.rsplit("/", 2)[-2:]
        cell = overview.locator(
            f'tr[data-row="{contract}/{service}"] td[data-field="credit_amount"]'
        )
        assert cell.inner_text().strip() == CREDITS[currency], currency
    for currency, path in ROWS.items():
        page = opened(everyone, desk, path)
        shown = page.locator('dd[data-field="credit_amount"]').inner_text().strip()
        assert shown == CREDITS[currency], currency


def test_status_colours_are_okabe_ito_and_never_alone(desk: Desk, everyone: Page) -> None:
    page = opened(everyone, desk, ROWS["EUR"])
    palette: dict[str, str] = page.evaluate(
        """(names) => Object.fromEntries(names.map((n) => [n,
             getComputedStyle(document.documentElement).getPropertyValue(n).trim().toLowerCase()]))""",
        list(STATUS_COLOURS),
    )
    assert set(palette.values()) <= OKABE_ITO, palette
    assert len(set(palette.values())) == len(palette), "two statuses share a colour"

    # The incidents' marks are filled with the palette's status colours, and each mark
    # also has its words: a <title>, and a row of the table under the chart. (A pause is
    # a hatched band, not a mark of one instant: its words say the status.)
    fills = page.evaluate(
        """() => [...document.querySelectorAll(
             'g.mark[data-kind^="incident"]:not([data-kind="incident-paused"])')].map((m) => ({
             status: m.getAttribute('data-status'), kind: m.getAttribute('data-kind'),
             id: m.getAttribute('data-id'),
             fill: getComputedStyle(m.querySelector('.shape')).fill,
             title: (m.querySelector(':scope > title') || {textContent: ''}).textContent}))"""
    )
    statuses = {f["status"] for f in fills}
    assert {"met", "missed"} <= statuses, statuses
    for mark in fills:
        if mark["status"] in ("met", "missed", "pending"):
            assert mark["fill"] == rgb(palette["--" + mark["status"]]), mark
        assert mark["status"] in mark["title"].lower(), mark
        row = page.locator(
            f'table.timeline-facts tr[data-kind="{mark["kind"]}"][data-id="{mark["id"]}"]'
        )
        assert row.count() >= 1, mark
        assert mark["status"] in row.first.locator(".status").inner_text(), mark

    # Outage bars: a counted one is vermillion, an excluded one hatched, each titled.
    page = opened(everyone, desk, ROW)
    bars = page.evaluate(
        """() => [...document.querySelectorAll('g.mark-outage')].map((m) => ({
             status: m.getAttribute('data-status'), id: m.getAttribute('data-id'),
             fill: getComputedStyle(m.querySelector('.bar')).fill,
             title: m.querySelector(':scope > title').textContent}))"""
    )
    assert {b["status"] for b in bars} == {"counted", "excluded"}, bars
    for bar in bars:
        if bar["status"] == "counted":
            assert bar["fill"] == rgb(palette["--outage"]), bar
            assert "counted" in bar["title"].lower(), bar
        else:
            assert bar["fill"].startswith("url("), bar  # the hatch pattern
            assert "excluded" in bar["title"].lower(), bar

    # The overview's "changed" mark: the vermillion edge, and the word.
    overview = opened(everyone, desk, PERIOD)
    changed = overview.locator('tr.changed[data-row="C-2002/crm"]')
    assert overview.locator("tr.changed").count() == 2  # and C-1001/api, by its claim
    mark = changed.locator(".mark.changed")
    assert mark.inner_text().strip().endswith("changed")
    border = mark.evaluate("(e) => getComputedStyle(e).borderTopColor")
    assert border == rgb(palette["--outage"])


def test_text_contrast_meets_wcag_aa(desk: Desk, everyone: Page, pages: dict[str, str]) -> None:
    selectors = {
        "body text": "main p, main td, main dd, main li",
        "muted text": ".help",
        "table header": "th",
        "link": "a[href]:not(.skip):not(.timeline-skip)",
    }
    for name, path in pages.items():
        found = opened(everyone, desk, path).evaluate(CONTRAST, selectors)
        kinds = {f["kind"] for f in found}
        assert {"body text", "link"} <= kinds, (name, kinds)
        poor = [f for f in found if f["ratio"] < 4.5]
        assert not poor, f"{name}: below 4.5:1: {poor[:5]}"


def test_row_page_prints(desk: Desk, everyone: Page) -> None:
    page = opened(everyone, desk, ROW)
    page.emulate_media(media="print")
    try:
        for hidden in (".masthead nav", "form.who", "form.as-of", ".skip", ".timeline-skip"):
            assert page.locator(hidden).count() >= 1, hidden
            assert not page.locator(hidden).first.is_visible(), hidden
        # No form of any kind, no control, is printed: paper cannot be clicked.
        for control in page.locator("form, button, input, select").all():
            assert not control.is_visible(), control.evaluate("(e) => e.outerHTML.slice(0, 80)")
        for shown in ("svg.timeline-chart", "table.timeline-facts", "h1", ".key-figures"):
            assert page.locator(shown).first.is_visible(), shown
        path = artifacts() / f"row-page{'' if desk.kind == 'sqlite' else '-' + desk.kind}.pdf"
        pdf = page.pdf(path=str(path), format="A4", print_background=True)
    finally:
        page.emulate_media(media="screen")
    assert pdf.startswith(b"%PDF-")
    count = len(re.findall(rb"/Type\s*/Page(?!s)\b", pdf))
    assert 0 < count < 15, count


def test_the_table_under_each_timeline_has_the_same_facts(desk: Desk, everyone: Page) -> None:
    """Every mark of the chart, on every row page, is a row of the table under it (same
    kind, id and status, with the status in words), and the table has no other row;
    every mark carries its words in a <title> and an aria-label as well."""
    for currency, path in ROWS.items():
        page = opened(everyone, desk, path)
        marks = page.evaluate(
            """() => [...document.querySelectorAll('svg.timeline-chart g.mark')].map((m) => [
                 m.getAttribute('data-kind'), m.getAttribute('data-id'),
                 m.getAttribute('data-status'),
                 (m.querySelector(':scope > title') || {textContent: ''}).textContent.trim(),
                 (m.getAttribute('aria-label') || '').trim()])"""
        )
        rows = page.evaluate(
            """() => [...document.querySelectorAll('table.timeline-facts tbody tr[data-kind]')]
                 .map((r) => [r.getAttribute('data-kind'), r.getAttribute('data-id'),
                              r.getAttribute('data-status'),
                              r.querySelector('.status').textContent.trim()])"""
        )
        assert marks, currency
        assert sorted(m[:3] for m in marks) == sorted(r[:3] for r in rows), currency
        for kind, ident, status, title, label in marks:
            assert title, (currency, kind, ident, status)
            assert label == title, (currency, kind, ident)
        for kind, ident, status, words in rows:
            assert words, (currency, kind, ident, status)
