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
  which the tests compare with the API).
"""

from __future__ import annotations

import json
from decimal import Decimal
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

# The pages of the navigation: (label, path, the operation its reader needs).
NAVIGATION = (
    ("Periods", "/web/periods", "list_periods"),
    ("Audit", "/web/audit", "audit_verify"),
)


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
    money=money, local=local, grouped=digits, as_answered=as_answered, segment=segment
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
        path=request.url.path,
        query=request.url.query,
        **context,
    )
    return HTMLResponse(page, status_code=status, headers=HEADERS)
