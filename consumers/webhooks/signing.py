"""One webhook request: its body and its Standard Webhooks headers.

The body is the entry as a CloudEvent in structured mode (`credit_events.structured`):
the entry document under `data`, its type and id beside it, so a receiver needs no
headers to know what it holds. The signature is the `standardwebhooks` package's, over
`webhook-id.webhook-timestamp.body`; the id is the entry id, the same on every attempt
and every redelivery (receivers de-duplicate by it), the timestamp the moment of the
attempt (receivers refuse one more than five minutes off).
"""

from __future__ import annotations

import json
from datetime import datetime

from standardwebhooks import Webhook

from consumers.credit_events import structured
from consumers.webhooks.config import Subscription
from ledger.credits import CreditEntry

CONTENT_TYPE = "application/cloudevents+json"


def body(entry: CreditEntry, source: str) -> str:
    return json.dumps(structured(entry, source), separators=(",", ":"))


def signed_headers(
    subscription: Subscription, entry_id: str, text: str, now: datetime
) -> dict[str, str]:
    """The headers of one attempt to send `text` (`now`: an aware UTC instant)."""
    signature = Webhook(subscription.secret).sign(entry_id, now, text)
    return {
        "content-type": CONTENT_TYPE,
        "webhook-id": entry_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
