"""`sla-ledger`, the command line of outputs.md: `main` parses and dispatches, one module
per command group parses its options, calls the query or command, and prints; what the
command modules share is in `common` and `options`, and none imports another (nor
`main`)."""
