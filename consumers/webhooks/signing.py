"""One webhook request: its body and its Standard Webhooks headers.

The body is the entry or alert as a CloudEvent in structured mode
(`cloud_events.structured`): its document under `data`, its type and id beside it, so a
receiver needs no headers to know what it holds. The signature is the `standardwebhooks`
package's, over `webhook-id.webhook-timestamp.body`; the id is the entry or alert id,
the same on every attempt and every redelivery (receivers de-duplicate by it), the
timestamp the moment of the attempt (receivers refuse one more than five minutes off).
"""

from __future__ import annotations

import json
from datetime import datetime

from standardwebhooks import Webhook

from consumers.cloud_events import LedgerEvent, structured
from consumers.webhooks.config import Subscription

CONTENT_TYPE = "application/cloudevents+json"


def body(event: LedgerEvent, source: str) -> str:
    return json.dumps(structured(event, source), separators=(",", ":"))


def signed_headers(
    subscription: Subscription, event_id: str, text: str, now: datetime
) -> dict[str, str]:
    """The headers of one attempt to send `text` (`now`: an aware UTC instant)."""
    signature = Webhook(subscription.secret).sign(event_id, now, text)
    return {
        "content-type": CONTENT_TYPE,
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }
