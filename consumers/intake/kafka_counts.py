"""What a Kafka ingest run did, counted (a file ingest's are `file_ingest.IntakeSummary`):
the line the CLI and the demo print, the JSON document `ingest --format json` prints,
and the rate a benchmark reads."""

from __future__ import annotations

import time
from dataclasses import dataclass, field


@dataclass
class IngestCounts:
    consumed: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    redelivered_skipped: int = 0
    credits_published: int = 0
    alerts_published: int = 0
    dead_letters_published: int = 0
    started: float = field(default_factory=time.monotonic)
    first_message_at: float | None = None  # the rate excludes the group join before it
    last_message_at: float | None = None

    def rate(self) -> float:
        if self.first_message_at is None or self.last_message_at is None:
            return 0.0
        return self.consumed / max(self.last_message_at - self.first_message_at, 1e-3)

    def line(self) -> str:
        return (
            f"consumed {self.consumed}: accepted {self.accepted}, duplicates "
            f"{self.duplicates}, rejected {self.rejected} ({self.rate():,.0f}/s)"
        )

    def as_dict(self) -> dict[str, int | float]:
        return {
            "consumed": self.consumed,
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "redelivered_skipped": self.redelivered_skipped,
            "credits_published": self.credits_published,
            "alerts_published": self.alerts_published,
            "dead_letters_published": self.dead_letters_published,
            "events_per_second": round(self.rate(), 1),
            "seconds": round(time.monotonic() - self.started, 3),
        }
