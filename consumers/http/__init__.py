"""The HTTP API (`sla-ledger serve`): the ledger for finance, dispute and compliance
systems that speak HTTP.

It asks the same queries as the command line (`projections.queries`), each request in a
read snapshot of its own, and answers with their serialisers, so a JSON answer is the
command line's `--format json` to the byte. Its rooms: `roles` (who may do what),
`keys` (API keys, held hashed), `problems` (RFC 9457 errors), `params` (query values
read the way the command line reads its options), `cursors` (pages that cannot lie),
`answers` (a document with its chain position and ETag), `stores` (the stores a server
reads and writes), `schemas` (the OpenAPI shapes), `routes/` (one module per resource
group) and `app` (assembly).
"""
