"""The pages' templates and how they write values for people.

Templates are autoescaped Jinja2 (`templates/`); a page renders with `render`, which
adds what every page shows (who is signed in, the pages their roles open, the moment
asked about) and the headers every page carries: no caching of figures by the browser
or a proxy, and a content policy that lets the page load only the ledger's own assets.

Filters write values as people read them; none computes a figure:

- `money`: an amount (already rounded by the ledger to its currency's minor unit) as
  that currency is written, e.g. `A$300.00`, `¥1,200`, `BHD1.500`, `HUF12,345.67`
  (symbols and grouping from Babel's CLDR data, decimals from ISO 4217);
- `local`: an instant as the contract's wall time with its zone named, then UTC;
- `grouped`: exact digits with thousands separators;
- `as_answered`: a figure exactly as the API's JSON has it (the pages' `data-value`,
  which the tests compare with the API);
- `budget`: how much of a row's error budget is consumed, in words with its level and
  the length of its bar (`Budget`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_FLOOR, Decimal
from typing import Any
from urllib.parse import quote

from babel.numbers import format_currency
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from consumers.http.keys import ApiKey
from consumers.http.roles import may
from ledger.currencies import minor_units
from ledger.periods import to_us
from ledger.timeformat import parse_utc
from projections.queries.explain.wording import grouped, local_text

LOCALE = "en"

HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'none'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

# The pages of the navigation: (label, path, the operation its reader needs). A page
# belongs to the last entry whose path begins its own (`current_entry`); a period's
# exposure (`/web/periods/{p}/exposure`) belongs to "Exposure".
NAVIGATION = (
    ("Periods", "/web/periods", "list_periods"),
    ("Exposure", "/web/exposure", "period_exposure"),
    ("Audit", "/web/audit", "audit_verify"),
)
EXPOSURE_PAGE = "/web/exposure"


def current_entry(path: str) -> str | None:
    """The navigation's path the page at `path` belongs to (None: none)."""
    if path.startswith("/web/periods/") and path.endswith("/exposure"):
        return EXPOSURE_PAGE
    found = [target for _, target, _ in NAVIGATION if path.startswith(target)]
    return found[-1] if found else None


# The levels of a row's error budget consumed the desk names (the alerts' thresholds,
# sla-math §8), each with its words; below the first, "within budget".
BUDGET_LEVELS = (
    (Decimal(100), "spent", "spent"),
    (Decimal(90), "90", "nearly spent"),
    (Decimal(75), "75", "over three quarters"),
    (Decimal(50), "50", "over half"),
)


@dataclass(frozen=True)
class Budget:
    """A row's error budget consumed, as the desk shows it: `label` ("budget 67%", the
    percent cut to a whole number, never rounded up to a level not reached), its
    `level` (a class: "spent", "90", "75", "50" or "low") and its `words`, and the
    bar's length out of 100 (`bar`, full at 100% and beyond)."""

    label: str
    level: str
    words: str
    bar: str


def budget(percent: str | None) -> Budget | None:
    """The budget of a row whose `budget_consumed_percent` (as the API answers it) is
    `percent`; None when it has none (no availability terms, a zero budget)."""
    if percent is None:
        return None
    value = Decimal(percent)
    whole = value.to_integral_value(rounding=ROUND_FLOOR)
    level, words = "low", "within budget"
    for bound, name, said in BUDGET_LEVELS:
        if value >= bound:
            level, words = name, said
            break
    bar = min(max(value, Decimal(0)), Decimal(100))
    return Budget(f"budget {whole}%", level, words, str(bar))


def money(amount: str | Decimal | None, currency: str) -> str:
    """The amount with its currency's symbol and grouping (CLDR, through Babel), and
    exactly its digits: as many decimals as the currency's ISO 4217 minor units (the
    ledger's own table, `ledger.currencies`, not CLDR's, which differs for some), never
    rounded (the ledger rounded it once already; finer digits are kept, not hidden)."""
    if amount is None:
        return "–"
    places = minor_units(currency)
    return format_currency(
        Decimal(amount),
        currency,
        format="¤#,##0" + ("." + "0" * places if places else ""),
        locale=LOCALE,
        currency_digits=False,
        decimal_quantization=False,
    )


def local(instant: str | None, timezone: str) -> str:
    if instant is None:
        return "–"
    return local_text(to_us(parse_utc(instant)), timezone)


def as_answered(value: object) -> str:
    """A figure as the API's JSON answer writes it, for a `data-value` attribute: a
    string as it is, anything else (a number, a boolean, null) as its JSON text."""
    return value if isinstance(value, str) else json.dumps(value)


def segment(text: object) -> str:
    """An id as one segment of a link's path: every character that is not plain
    (`/`, `?`, `#`, `%`, spaces, ...) escaped, so an id never reaches another page."""
    return quote(str(text), safe="")


def event_href(event_id: str, as_of: str | None = None) -> str:
    """The link to an event's envelope, as of the moment the page shows (if asked)."""
    return f"/web/events/{segment(event_id)}" + (f"?as_of={quote(as_of)}" if as_of else "")


def digits(text: str | None) -> str:
    return "–" if text is None else grouped(text)


ENVIRONMENT = Environment(
    loader=PackageLoader("consumers.http.web", "templates"),
    autoescape=select_autoescape(default=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
ENVIRONMENT.filters.update(
    money=money,
    local=local,
    grouped=digits,
    as_answered=as_answered,
    segment=segment,
    budget=budget,
)
ENVIRONMENT.globals.update(event_href=event_href)


def navigation(holder: ApiKey | None) -> list[tuple[str, str]]:
    if holder is None:
        return []
    return [(label, path) for label, path, op in NAVIGATION if may(holder.roles, op)]


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    status: int = 200,
    holder: ApiKey | None = None,
) -> HTMLResponse:
    page = ENVIRONMENT.get_template(template).render(
        holder=holder,
        navigation=navigation(holder),
        current_entry=current_entry(request.url.path),
        path=request.url.path,
        query=request.url.query,
        **context,
    )
    return HTMLResponse(page, status_code=status, headers=HEADERS)
