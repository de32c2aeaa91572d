"""ISO 4217 active currency codes and their minor units (spec: events.md, `currency`).

The table is ISO 4217 *List One* (current currency and funds), with the minor unit ISO
gives each code: the number of decimal places of the currency's minor unit. These are
ISO's figures, not CLDR's display digits (CLDR says 0 for IQD, IRR, LAK, MMK, RSD, ...;
ISO says 3 for IQD and 2 for the others).

Codes whose minor unit ISO gives as "N.A." are left out, because an amount in them has
no minor unit to round to and no SLA is priced in them: the precious metals (XAU, XAG,
XPD, XPT), the bond-market units (XBA, XBB, XBC, XBD), XDR, XSU, XUA, XAD, the testing
code XTS and XXX ("no currency").

Withdrawn codes are left out too (no longer in List One): HRK (2023, euro), CUC (Cuba),
SLL (replaced by SLE), ZWL (replaced by ZWG), ANG (replaced by XCG in 2025) and BGN
(Bulgaria joined the euro on 2026-01-01).
"""

from __future__ import annotations

from typing import Final

_TWO_DECIMALS = """
    AED AFN ALL AMD AOA ARS AUD AWG AZN BAM BBD BDT BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB
    EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES
    KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR
    MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD
    RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP
    TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG
"""
_NO_DECIMALS = """
    BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF
"""
_THREE_DECIMALS = """
    BHD IQD JOD KWD LYD OMR TND
"""
_FOUR_DECIMALS = """
    CLF UYW
"""

MINOR_UNITS: Final[dict[str, int]] = {
    code: places
    for places, codes in (
        (2, _TWO_DECIMALS),
        (0, _NO_DECIMALS),
        (3, _THREE_DECIMALS),
        (4, _FOUR_DECIMALS),
    )
    for code in codes.split()
}
"""Active ISO 4217 code -> number of decimal places of its minor unit."""

CURRENCIES: Final = frozenset(MINOR_UNITS)


def minor_units(code: str) -> int:
    """Decimal places of `code`'s minor unit; KeyError if `code` is not an active code."""
    try:
        return MINOR_UNITS[code]
    except KeyError:
        raise KeyError(f"unknown ISO 4217 currency code {code!r}") from None
