"""`sla-ledger webhooks ...`: credit entries and alerts to webhook subscribers.

- `webhooks deliver --config FILE` delivers every subscription's pending entries and
  alerts, then each new one, until SIGTERM or Ctrl-C (`consumers.webhooks.WebhookDeliverer`).
- `webhooks redeliver --subscription NAME --from-entry ID --to-entry ID` sends that
  range of the credits outbox (or, given alert ids, of the alerts) to that subscription
  again, and exits.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path
from typing import Any

from consumers import interrupts
from consumers.cli.common import open_store, say, store_url
from consumers.cloud_events import FEEDS, Feed, ledger_source
from consumers.errors import UsageError
from consumers.webhooks import (
    CONFIG_ENV,
    Subscription,
    WebhookDeliverer,
    load_subscriptions,
    redeliver,
)
from ledger.wording import counted
from projections.store import LedgerStore

STOP_POLL_SECONDS = 0.2


def add_parser(sub: Any, common: argparse.ArgumentParser) -> None:
    webhooks = sub.add_parser(
        "webhooks",
        help="deliver credit entries and alerts to webhook subscribers (Standard Webhooks)",
        description="Deliver credit entries and alerts to the webhook subscriptions of a JSON "
        f"configuration (--config FILE, else ${CONFIG_ENV}), signed as Standard Webhooks "
        "says; of the store, only how far each subscription was delivered is written. "
        "`sla-ledger webhooks ACTION --help` tells more about each.",
    )
    actions = webhooks.add_subparsers(
        dest="action", required=True, parser_class=type(webhooks), title="actions", metavar="ACTION"
    )
    deliver = actions.add_parser(
        "deliver",
        parents=[common],
        help="deliver pending and new entries until SIGTERM or Ctrl-C",
        description="Deliver each subscription's pending credit entries and alerts (those "
        "of the event_types it lists), then every new one, until SIGTERM or Ctrl-C, "
        "writing to the store only how far each subscription was delivered. At least "
        "once: a restart re-sends what was not acknowledged; receivers de-duplicate by "
        "webhook-id (the entry or alert id).",
    )
    _config_option(deliver)
    again = actions.add_parser(
        "redeliver",
        parents=[common],
        help="send a range of entries or alerts to one subscription again",
        description="Send the credit entries (or the alerts, given two alert ids) from "
        "--from-entry to --to-entry (both included, in the order they were recorded) to "
        "one subscription again, whatever it received before; changes nothing in the "
        "store (the subscription's delivery position stays).",
    )
    _config_option(again)
    again.add_argument(
        "--subscription", required=True, metavar="NAME", help="the subscription to send to"
    )
    again.add_argument(
        "--from-entry", required=True, metavar="ID", help="first entry id (or alert id)"
    )
    again.add_argument(
        "--to-entry", required=True, metavar="ID", help="last entry id (or alert id)"
    )


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help=f"the subscriptions, as JSON (default: ${CONFIG_ENV})",
    )


def _subscriptions(args: argparse.Namespace) -> list[Subscription]:
    found = load_subscriptions(args.config)
    if not found:
        raise UsageError(f"no webhook subscriptions: give --config FILE or set ${CONFIG_ENV}")
    return found


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(format="sla-ledger: %(message)s", stream=sys.stderr)
    return _deliver(args) if args.action == "deliver" else _redeliver(args)


def _deliver(args: argparse.Namespace) -> int:
    subscriptions = _subscriptions(args)
    open_store(args).close()  # a missing or unreadable store is said now, not retried
    deliverer = WebhookDeliverer(store_url(args), subscriptions)
    with interrupts.deferred() as stop:
        deliverer.start()
        while not stop.requested:  # the main thread only waits for a signal
            time.sleep(STOP_POLL_SECONDS)
        deliverer.stop()
    assert stop.signum is not None
    say(
        f"stopped by {interrupts.signal_name(stop.signum)}: "
        f"{counted(deliverer.delivered, 'entry or alert', 'entries and alerts')} "
        "delivered; a restart continues after the last one each subscription acknowledged"
    )
    return 0


def _seq(store: LedgerStore, option: str, record_id: str) -> tuple[Feed, int]:
    """The feed holding a credit entry or alert id, and its position there."""
    for feed in FEEDS:
        seq = feed.position_of(store, record_id)
        if seq is not None:
            return feed, seq
    raise UsageError(f"{option}: no credit entry or alert {record_id} in this store")


def _redeliver(args: argparse.Namespace) -> int:
    by_name = {s.name: s for s in _subscriptions(args)}
    subscription = by_name.get(args.subscription)
    if subscription is None:
        raise UsageError(f"--subscription: none named {args.subscription} (have {sorted(by_name)})")
    store = open_store(args)
    try:
        feed, first = _seq(store, "--from-entry", args.from_entry)
        other, last = _seq(store, "--to-entry", args.to_entry)
        if feed is not other:
            raise UsageError(
                "--from-entry and --to-entry: give two credit entry ids or two alert ids"
            )
        if first > last:
            raise UsageError("--from-entry was recorded after --to-entry: give them in order")
        sent = redeliver(store, subscription, first, last, source=ledger_source(store), feed=feed)
    finally:
        store.close()
    noun = ("entry", "entries") if feed.name == "credits" else ("alert", "alerts")
    print(f"redelivered {counted(sent, *noun)} to {subscription.name}")
    return 0
