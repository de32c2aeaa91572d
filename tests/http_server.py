"""`sla-ledger serve` as a client meets it: a real server process on a free loopback
port, over real sockets, with one API key per role (and one holding every role).

`serving` starts it on a store and stops it with SIGTERM, as an operator would; its
output is collected so a test can read it, and so a full pipe never stalls the server.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from consumers.http.keys import config_entry, new_key
from consumers.http.roles import Role
from tests.cli_process import environment

ALL = "all"  # the key holding every role
SERVING = re.compile(r"serving .* on (http://\S+) ")


@dataclass
class Served:
    base: str
    keys: dict[str, str]  # role (or ALL) -> its key
    process: subprocess.Popen[bytes]
    output: list[str] = field(default_factory=list)

    def client(self, role: str | None = ALL, **options: Any) -> httpx.Client:
        """A client sending `role`'s key (None: no key)."""
        headers = {} if role is None else {"Authorization": f"Bearer {self.keys[role]}"}
        return httpx.Client(base_url=self.base, headers=headers, timeout=120, **options)

    def get(self, path: str, role: str | None = ALL, **params: Any) -> httpx.Response:
        with self.client(role) as client:
            return client.get(path, params=params)

    def log(self) -> str:
        return "".join(self.output)


def keys_file(directory: Path) -> tuple[Path, dict[str, str]]:
    """A keys file with one key per role and one with every role; the keys themselves."""
    keys = {role.value: new_key() for role in Role} | {ALL: new_key()}
    entries = [config_entry(role.value, [role], keys[role.value]) for role in Role]
    entries.append(config_entry(ALL, list(Role), keys[ALL]))
    path = directory / "api-keys.json"
    path.write_text(json.dumps({"keys": entries}))
    return path, keys


def _collect(stream: Any, into: list[str], seen: threading.Event, found: list[str]) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace")
        into.append(line)
        match = SERVING.search(line)
        if match and not found:
            found.append(match.group(1))
            seen.set()
    seen.set()


def start(store_url: str, directory: Path, *extra: str) -> Served:
    """Start `serve` on `store_url` and wait until it answers /healthz."""
    path, keys = keys_file(directory)
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "consumers", "serve", "--store", store_url),
            *("--listen", "127.0.0.1:0", "--keys", str(path), *extra),
        ],
        env=environment(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    output: list[str] = []
    seen = threading.Event()
    found: list[str] = []
    for stream in (process.stdout, process.stderr):
        threading.Thread(target=_collect, args=(stream, output, seen, found), daemon=True).start()
    seen.wait(60)
    if not found:
        process.kill()
        raise AssertionError(f"serve did not start: {''.join(output)}")
    served = Served(found[0], keys, process, output)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(served.base + "/healthz", timeout=5).status_code == 200:
                return served
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise AssertionError(f"serve never answered /healthz: {served.log()}")


def stop(served: Served, timeout: float = 60) -> int:
    """SIGTERM, as an operator stops it; its exit status."""
    if served.process.poll() is None:
        served.process.send_signal(signal.SIGTERM)
    try:
        return served.process.wait(timeout)
    except subprocess.TimeoutExpired:
        served.process.kill()
        served.process.wait()
        raise AssertionError(f"serve did not stop on SIGTERM: {served.log()}") from None


@contextmanager
def serving(store_url: str, directory: Path, *extra: str) -> Iterator[Served]:
    served = start(store_url, directory, *extra)
    try:
        yield served
    finally:
        stop(served)
