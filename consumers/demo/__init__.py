"""`sla-ledger demo`: one realistic month, end to end, through Kafka into the ledger.

- `month`: the month of October 2026 as shipped data files (`month.jsonl`,
  `late-correction.jsonl`, `misbehaving-producer.jsonl`), what is in them and why.
- `run`: the steps: publish, ingest exactly once, close, correct late, report, audit.
- `findings`: what it prints once the month is in, and the commands to run next.
- `destination`: where it may write (its own directory's files; a new or empty store).
- `broker`: the embedded Kafka-protocol broker it starts when given none; production
  never starts it (docker/compose.yaml runs Apache Kafka).

The demo drives the same intake as the CLI (`consumers.intake`), never the reverse.
"""
