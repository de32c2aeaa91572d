"""`explain`: one row's derivation, as the ledger knew it at a moment.

The figures and decisions are the row computation's own (`ledger.attainment` records
them as `ledger.derivation`'s trace); these modules only gather and word them:

- `query`: the question (contract, service, period, as of) and its JSON serialiser;
- `inputs`: what was recorded by the moment, and each entry's row at its recording;
- `document`: the trace laid out as the document `explain --format json` prints;
- `availability`: that document's availability sections (maintenance, exclusions,
  outages, downtime, the tier);
- `histories`: each subject's raw events, for the corrections the document lists;
- `wording`: how quantities are written (durations, instants, percents, money), shared
  with the text form (`consumers.cli.explain_text`).
"""
