"""`sla-ledger demo`: one realistic month, end to end (see `run`)."""
