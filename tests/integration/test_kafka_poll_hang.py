"""A Kafka poll that never returns (a known kafka-python 3.0.x hang) ends the worker with
status 75 and one line, and a restart finishes the stream exactly once.

The hang is made real inside the worker process: a `sitecustomize` module, found first
on its PYTHONPATH, wraps `KafkaConsumer.poll` so that once some records were returned
the next call blocks for ever, as the library's does. Nothing else is changed.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli_process import SLA_LEDGER, environment, succeeded
from tests.infrastructure import sqlite_url
from tests.integration.test_kafka_intake import (
    Ingest,
    build_stream,
    caught_up,
    ingest_args,
    new_group,
    new_topics,
    progress,
    stored_event_ids,
)

pytestmark = pytest.mark.integration

HANGING_POLL = """
import os
import threading

import kafka

_poll = kafka.KafkaConsumer.poll
_returned = [0]
_after = int(os.environ["SLA_LEDGER_TEST_HANG_AFTER"])


def poll(self, *args, **kwargs):
    if _returned[0] >= _after:
        threading.Event().wait()  # never returns, like the hung library call
    polled = _poll(self, *args, **kwargs)
    _returned[0] += sum(len(records) for records in polled.values())
    return polled


kafka.KafkaConsumer.poll = poll
"""


def test_hung_poll_exits_75_and_a_restart_loses_nothing(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = new_topics(kafka_bootstrap, "hang")
    stream = build_stream(
        topics, 600, seed=11, contracts=5, duplicates=20, conflicts=3, poison_each=1
    )
    stream.produce(kafka_bootstrap)
    store = sqlite_url(tmp_path)
    group = new_group()
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(HANGING_POLL)
    env = environment()
    env["PYTHONPATH"] = os.pathsep.join([str(hook), env.get("PYTHONPATH", "")])
    env["SLA_LEDGER_TEST_HANG_AFTER"] = "150"
    args = ingest_args(kafka_bootstrap, store, topics, group, batch_size=50)
    hung = subprocess.run(
        [*SLA_LEDGER, "ingest", *args, "--poll-hang-seconds", "2"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert hung.returncode == 75, hung.stderr
    [line] = [x for x in hung.stderr.splitlines() if "poll has not returned" in x]
    assert line.startswith("error: a Kafka poll has not returned in 2s"), line
    assert "exiting with status 75" in line
    recorded = progress(store)
    assert 0 < recorded < len(stream.messages), recorded

    restarted = Ingest(ingest_args(kafka_bootstrap, store, topics, group, idle=5), tmp_path, "r")
    counts = restarted.result()
    assert counts["consumed"] == len(stream.messages) - recorded, counts
    assert caught_up(store, stream)
    ids = stored_event_ids(store)
    assert len(ids) == len(set(ids))
    assert set(ids) == stream.valid_ids
    listed = json.loads(succeeded("rejections", "--store", store, "--format", "json"))
    assert len(listed["rejections"]) == stream.rejected
