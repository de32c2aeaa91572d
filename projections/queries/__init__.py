"""The query layer: the questions the ledger answers (a report, the credit entries, the
rejections, the incidents, a row's derivation, a diff), each a function that takes a
store and typed parameters and returns a typed result, and each result with one
serialiser, the document a program reads (outputs.md).

The command line, the audit bundle and an HTTP API call these same functions and write
these same documents; what they add is only their own edge: parsing their input, and
tables or sentences for people. The rules every question shares live here once: which
moment "now" is and which moments may be asked about (`as_of`), and which commands may
create or change a store (`store_access`).
"""
