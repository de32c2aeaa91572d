"""The dispute desk: the ledger's web view, served by `sla-ledger serve` beside the API.

Server-rendered HTML (autoescaped templates, `templating`), each page drawn from the
same query documents the API answers with, so a figure on a page is the API's figure by
construction. Signing in with an API key (`session`) opens a session whose roles decide
which pages it may read (`access`, by the API's one table, `consumers.http.roles`).
Every asset is served by the ledger itself: no network, no build chain.
"""
