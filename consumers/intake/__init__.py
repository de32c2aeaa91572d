"""The intake room: raw inputs in, accepted events or kept rejections out, and what the
ledger recorded published back to Kafka.

It imports neither the CLI nor the demo (an import-linter contract keeps it so): the
CLI, the demo and the coming HTTP API all drive the same intake.
"""
