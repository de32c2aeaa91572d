"""Keys for caches of what is parsed from JSON values (terms, business hours)."""

from __future__ import annotations

import marshal
from typing import Any


def value_key(value: Any) -> bytes | str:
    """A key that tells any two parsed JSON values apart (dicts, lists, text, numbers,
    booleans, null): their `marshal` form, which loads back to the value with its types
    (`True` is not `1`, `1.0` not `1`), so values with one key are equal. Version 2 writes
    no references between objects, so equal values get one key (but for text marked
    interned, written apart: a key missed, no harm). About three times as fast as `repr`,
    which keys what `marshal` cannot write (text, so never equal to a `marshal` key)."""
    try:
        return marshal.dumps(value, 2)
    except ValueError:
        return repr(value)
