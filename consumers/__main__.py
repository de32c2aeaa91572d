"""`python -m consumers` is `sla-ledger` (and `entry` is the `sla-ledger` script).

The signal handlers go in before anything heavy is imported: loading the CLI (the
domain, eventsourcing, and for some commands pydantic, psycopg, kafka-python) takes a
noticeable moment, more on a busy machine, and a SIGINT there would end the process
with a traceback, a SIGTERM by the signal itself. A signal in that moment is only
recorded; the command then does nothing and says so. `main()` installs its own
handlers first thing (consumers/interrupts.py).
"""

import signal
import sys
from types import FrameType

_received: list[int] = []


def _record(signum: int, _frame: FrameType | None) -> None:
    _received.append(signum)


def entry() -> int:
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _record)
    from consumers.cli.main import main  # only now: a signal is recorded

    if _received:
        print(
            f"sla-ledger: interrupted by {signal.Signals(_received[0]).name} while starting: "
            "nothing was done",
            file=sys.stderr,
        )
        return 128 + _received[0]
    return main()


if __name__ == "__main__":
    sys.exit(entry())
