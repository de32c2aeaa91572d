"""`sla-ledger demo`: one realistic month, end to end, on the embedded default.

Four contracts in four timezones and currencies for October 2026: a SaaS vendor that
pays cash back below 99.9% if claimed in time, a CRM provider with a tiered credit
schedule, a managed service provider that refunds 5% of the fee when response times are
missed (if claimed in time) and promises resolutions in business hours, and a host
measured over the year. The month brings a full outage, a 50% degradation, maintenance
with enough notice (excluded) and with too little (counted), a customer-caused outage
(excluded), a false alarm (retracted), a P1 raised on a Friday evening and answered on
Monday, an incident paused while the provider waits on the customer, a duplicate and a
malformed line (the data: `month`). The period is closed; then the post-incident
review's correction arrives and the ledger posts a reversal and a re-issue, and the
customers' claims arrive: one in time (its credit is issued), one too late. The store
and an audit bundle stay behind for the user to query, with commands that run as
printed (`findings`).

The demo writes only into its directory, and only over what it wrote there itself;
a store given with --store must be new or empty (`destination`).
"""

from __future__ import annotations

import uuid
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

from consumers.demo.broker import embedded_broker
from consumers.demo.destination import (
    BUNDLE_DIR,
    CORRECTION_FILE,
    LEDGER_FILE,
    MONTH_FILES,
    DemoDirectory,
    refuse_a_store_in_use,
)
from consumers.demo.findings import (
    DESK_ADDRESS,
    desk_commands,
    follow_up_commands,
    print_audit,
    print_beyond_the_month,
    print_claims,
    print_early_warning,
    print_results,
)
from consumers.demo.month import (
    CORRECTION_DATA,
    DEMO_PERIOD,
    MISBEHAVING_DATA,
    PART_WAY,
    data_lines,
    month_parts,
    shipped,
)
from consumers.intake.kafka_config import (
    ALERTS_TOPIC,
    CREDITS_TOPIC,
    DEAD_LETTER_TOPIC,
    INBOUND_TOPICS,
    TOPIC_OF_FAMILY,
    KafkaSettings,
)
from consumers.intake.kafka_counts import IngestCounts
from consumers.intake.kafka_ingest import KafkaIngest
from consumers.intake.publish import publish_file, send_raw
from consumers.shell_commands import command_line, shown_path
from ledger.periods import Period
from ledger.wording import counted
from projections.credit_entries import close_period
from projections.store import LedgerStore, redact, sqlite_url


def run_demo(
    directory: Path,
    store_url: str | None,
    bootstrap_servers: str | None = None,
    *,
    force: bool = False,
) -> int:
    """The month goes through Kafka: published, consumed exactly once, closed, corrected.

    Without `bootstrap_servers` an embedded broker is started for the run. The demo
    writes into `directory` only over what it wrote there itself (see `DemoDirectory`),
    and into `store_url` only if that store is new or empty.
    """
    demo_dir = DemoDirectory(directory)
    demo_dir.claim(force=force)
    if store_url is not None:
        refuse_a_store_in_use(store_url)
    demo_dir.start(with_store=store_url is None)
    if store_url is None:
        store_url = sqlite_url(str((directory / LEDGER_FILE).resolve()))
        shown_store = sqlite_url(shown_path(directory / LEDGER_FILE))
        password_hidden = False
    else:
        # The printed commands land in terminals, logs and scrollback: no password.
        shown_store = redact(store_url)
        password_hidden = shown_store != store_url
    noise = data_lines(MISBEHAVING_DATA)
    month_files = [directory / name for name in MONTH_FILES]
    for path, part in zip(month_files, month_parts(), strict=True):
        path.write_bytes(part)
    correction_file = directory / CORRECTION_FILE
    correction_file.write_bytes(shipped(CORRECTION_DATA))
    bundle = directory / BUNDLE_DIR

    period = Period.parse(DEMO_PERIOD)
    broker = nullcontext(bootstrap_servers) if bootstrap_servers else embedded_broker()
    with broker as servers:
        where = servers if bootstrap_servers else f"{servers} (embedded broker)"
        settings, renamed = demo_settings(servers, uuid.uuid4().hex[:12])
        store = LedgerStore(store_url, access="create")
        try:
            print(f"== 1. Publish the month of {DEMO_PERIOD} to Kafka at {where}")
            print(
                f"   on topics of this run only: {', '.join(settings.topics)}; credit "
                f"entries to {settings.credits_topic}, rejected messages to "
                f"{settings.dead_letter_topic}; consumer group {settings.group_id}"
            )
            print(f"   up to part-way through the month ({PART_WAY}):")
            print("   " + publish_file(month_files[0], settings, topic_override=renamed).line())
            send_raw(settings, renamed[TOPIC_OF_FAMILY["outage"]], b"OUT-X", noise)
            print(
                f"   and {len(noise)} messages from a misbehaving producer "
                "(a re-sent event, an impossible impact, bytes that are not text)"
            )
            print("\n== 2. Ingest from Kafka (exactly once: positions stored with the events)")
            first = _consume(store, settings)
            print("   " + first.line())
            print_early_warning(store, period)
            print(f"\n== 3. The rest of {DEMO_PERIOD} arrives")
            print("   " + publish_file(month_files[1], settings, topic_override=renamed).line())
            rest = _consume(store, settings)
            print("   " + rest.line())
            print(f"\n== 4. Close {DEMO_PERIOD}: credit entries are issued")
            outcome = close_period(store, period, datetime.now(UTC))
            print(
                f"   {counted(len(outcome.entries), 'entry', 'entries')} issued"
                if outcome.newly_closed
                else "   (already closed)"
            )
            print(
                "\n== 5. After the close: the post-incident review's correction and the "
                "customers' claims arrive"
            )
            print("   " + publish_file(correction_file, settings, topic_override=renamed).line())
            counts = _consume(store, settings)
            print("   " + counts.line())
            print_claims(store, period)
            runs = (first, rest, counts)
            print(
                f"   outboxes: {sum(r.credits_published for r in runs)} credit "
                f"entries published to {settings.credits_topic}, "
                f"{sum(r.dead_letters_published for r in runs)} rejected "
                f"messages to {settings.dead_letter_topic}"
            )
            print_results(store, period)
            print_beyond_the_month(store, period)
            closed_at = outcome.closed_at
            checkpoint = print_audit(store, period, closed_at, bundle)
        finally:
            store.close()
    demo_dir.finish()
    if password_hidden:
        print("\nThe password of --store is not printed: put it in place of *** to run these.")
    print("\nSee the month in a browser (the dispute desk): make a key, serve the store, then")
    print(f"open http://{DESK_ADDRESS}/web and sign in with the key it printed:")
    for command in desk_commands(shown_store):
        print("   " + command_line(*command))
    print("\nThe store stays behind; ask it yourself from this directory, e.g.:")
    for command in follow_up_commands(shown_store, bundle, closed_at, checkpoint):
        print("   " + command_line(*command))
    return 0


def demo_settings(servers: str, run_id: str) -> tuple[KafkaSettings, dict[str, str]]:
    """The demo's Kafka settings, on topics and a group of this run only; and the
    production topic each event family goes to -> this run's topic for it.

    Never the production names (`sla.contracts`..., `sla.credits`, `sla.alerts`, `sla.rejected`,
    group `sla-ledger`): on a shared broker a worker would ingest the demo's fictitious
    contracts and finance would book its credit entries; and the demo would read what
    earlier runs and others left there, and no longer tell its story.
    """
    prefix = f"sla-demo-{run_id}"
    renamed = {topic: f"{prefix}.{topic.removeprefix('sla.')}" for topic in INBOUND_TOPICS}
    settings = KafkaSettings(
        servers,
        topics=tuple(renamed[topic] for topic in INBOUND_TOPICS),
        group_id=prefix,
        dead_letter_topic=f"{prefix}.{DEAD_LETTER_TOPIC.removeprefix('sla.')}",
        credits_topic=f"{prefix}.{CREDITS_TOPIC.removeprefix('sla.')}",
        alerts_topic=f"{prefix}.{ALERTS_TOPIC.removeprefix('sla.')}",
    )
    return settings, renamed


def _consume(store: LedgerStore, settings: KafkaSettings) -> IngestCounts:
    return KafkaIngest(store, settings, idle_timeout_seconds=1.5, log=lambda _line: None).run()
