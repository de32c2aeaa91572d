"""`sla-ledger serve`: the HTTP API (FastAPI on uvicorn); and `sla-ledger keys new`, an
API key and the configuration entry that admits it.

SIGTERM or Ctrl-C stops accepting connections, lets the requests in flight finish (up to
`--drain-seconds`), then exits 0.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from contextlib import suppress
from pathlib import Path
from typing import Any

from consumers import interrupts
from consumers.cli.common import store_url
from consumers.errors import UsageError
from ledger.wording import counted
from projections.store import redact

DEFAULT_LISTEN = "127.0.0.1:8080"
READ_STORE_ENV = "SLA_LEDGER_READ_STORE"


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    from consumers.http.keys import KEYS_ENV
    from consumers.webhooks import CONFIG_ENV as WEBHOOKS_ENV

    serve = sub.add_parser(
        "serve",
        parents=[common],
        help="serve the HTTP API (reads, events in, closes) until SIGTERM",
        description="Serve the HTTP API, which writes to the store only what its requests "
        "ask (events in, closes): every read of the command line as JSON, with as-of, "
        "ETags and paging. OpenAPI at /openapi.json, docs at /docs.",
    )
    serve.add_argument(
        "--read-store",
        metavar="URL",
        default=os.environ.get(READ_STORE_ENV),
        help="where reads go, in the forms of --store: a database role that may only "
        f"read (default ${READ_STORE_ENV}, else --store)",
    )
    serve.add_argument(
        "--listen",
        default=DEFAULT_LISTEN,
        metavar="HOST:PORT",
        help="the address to listen on, [::1]:PORT for IPv6; port 0 picks a free one "
        "(default %(default)s)",
    )
    serve.add_argument(
        "--keys",
        type=Path,
        metavar="FILE",
        help=f"the API keys (JSON, keys held as SHA-256; see `keys new`); default ${KEYS_ENV}, "
        "else none (every protected call is then refused with 401)",
    )
    serve.add_argument(
        "--webhooks",
        type=Path,
        metavar="FILE",
        help=f"deliver credit entries to these webhook subscriptions while serving (JSON, "
        f"as `webhooks deliver --config`; default ${WEBHOOKS_ENV}, else none)",
    )
    serve.add_argument(
        "--drain-seconds",
        type=int,
        default=30,
        metavar="N",
        help="on SIGTERM, wait at most N seconds for requests in flight (default %(default)s)",
    )

    keys = sub.add_parser(
        "keys",
        help="make an API key for `serve`",
        description="Make an API key; changes nothing (it writes no file and opens no "
        "store): prints the key (give it to its holder; it is shown once) and the entry to "
        "add to the keys file, which holds only its SHA-256.",
    )
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    new = actions.add_parser(
        "new",
        help="a new key",
        description="Make a new API key with its roles and print it; changes nothing "
        "unless --add-to names a keys file, which then gains its entry (its SHA-256, never "
        "the key).",
    )
    new.add_argument("--name", required=True, help="who holds it, e.g. billing")
    new.add_argument(
        "--role",
        action="append",
        required=True,
        metavar="ROLE",
        help="a role: finance, disputes, compliance, operator or ingest (repeatable)",
    )
    new.add_argument(
        "--add-to",
        type=Path,
        metavar="FILE",
        help="add the key's entry to this keys file for `serve --keys` (made if missing, "
        "readable by its owner only); default: only print it",
    )


def listen_address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not host or not port.isdigit() or int(port) > 65535:
        raise UsageError(f"--listen {text}: expected HOST:PORT, e.g. {DEFAULT_LISTEN}")
    return host, int(port)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from consumers.http.app import Settings, create_app
    from consumers.http.keys import load_keyring
    from consumers.webhooks import load_subscriptions

    host, port = listen_address(args.listen)
    keyring = load_keyring(args.keys, os.environ)
    url = store_url(args)
    subscriptions = load_subscriptions(args.webhooks)
    app = create_app(Settings(url, args.read_store, keyring, subscriptions))
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named, not left 0: asyncio turns Nagle's algorithm off only on sockets
    # that say they are TCP, and with it on, every small answer on a kept-alive connection
    # waited ~40 ms for the client's delayed acknowledgement.
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((host, port))
    except OSError as exc:
        raise UsageError(f"--listen {args.listen}: cannot listen there: {exc.strerror}") from None
    bound = listener.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    print(
        f"sla-ledger: serving {redact(url)} on http://{shown}:{bound} "
        f"({counted(len(keyring), 'API key')}, "
        f"{counted(len(subscriptions), 'webhook subscription')}; docs at /docs)",
        file=sys.stderr,
        flush=True,
    )
    config = uvicorn.Config(
        app,
        log_level="info",
        timeout_graceful_shutdown=args.drain_seconds,
        server_header=False,
    )
    server = uvicorn.Server(config)
    # uvicorn drains, then passes the signal on to the handler it found: a stop asked for.
    with suppress(interrupts.Interrupted):
        server.run(sockets=[listener])
    print("sla-ledger: stopped; requests in flight were answered", file=sys.stderr, flush=True)
    return 0


def cmd_keys(args: argparse.Namespace) -> int:
    from consumers.http.keys import add_entry, config_entry, new_key
    from consumers.http.roles import parse_role

    try:
        roles = [parse_role(r) for r in args.role]
    except ValueError as exc:
        raise UsageError(f"--role: {exc}") from None
    key = new_key()
    entry = config_entry(args.name, roles, key)
    if args.add_to is not None:
        add_entry(args.add_to, entry)
    print(f"key (give it to {args.name}; it is not kept anywhere): {key}")
    if args.add_to is not None:
        print(f"added its entry (its SHA-256) to {args.add_to}")
        return 0
    print('add to the keys file\'s "keys" list:')
    print(json.dumps(entry))
    return 0
