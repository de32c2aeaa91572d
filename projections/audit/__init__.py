"""The audits of the ledger's history: `verify` (the hash chain), `rebuild` (every
projection replayed from the log and compared), `bundle` (a period's self-contained
export, and its offline check). Light on purpose: the audits' worker processes import
`chain_walk` and `replay_derivation` through it, with the standard library only."""
