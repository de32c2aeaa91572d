"""The intake room: raw inputs in, accepted events or kept rejections out, and what the
ledger recorded published back to Kafka.

- `validation`: one message's bytes to an event, or to a rejection to keep (`classify`).
- `input_lines`: a JSON Lines file (or standard input) read line by line, bounded memory.
- `batch_writer`: batch writes on a background thread, in order, beside the reading.
- `file_ingest`: `ingest --from-file`, one transaction per batch.
- `kafka_ingest`: `ingest --bootstrap-servers`, the worker; each batch's Kafka offset is
  stored in the same transaction as its events. `kafka_counts`, `retry` and `stopping`
  are its counts, its waiting out an outage, and its background work's stop.
- `outbox`: credit entries and rejected inputs published to Kafka, at least once.
- `publish`: `publish --from-file`, a file's lines onto the inbound topics.
- `kafka_config`: topic names and client settings shared by all of the above.

It imports neither the CLI nor the demo (an import-linter contract keeps it so): the
CLI, the demo and the coming HTTP API all drive the same intake.
"""
