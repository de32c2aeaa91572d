"""Credit entries and alerts to webhook subscribers, signed as Standard Webhooks says."""

from consumers.webhooks.config import CONFIG_ENV, Subscription, load_subscriptions
from consumers.webhooks.delivery import DeliveryFailedError, RetryPolicy, deliver_pending, redeliver
from consumers.webhooks.runner import WebhookDeliverer

__all__ = [
    "CONFIG_ENV",
    "DeliveryFailedError",
    "RetryPolicy",
    "Subscription",
    "WebhookDeliverer",
    "deliver_pending",
    "load_subscriptions",
    "redeliver",
]
