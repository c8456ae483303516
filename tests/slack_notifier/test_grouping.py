"""Dispatch mode: the per-target reports of one run arrive together and leave as one message."""

from __future__ import annotations

import json
from typing import Any

from slack_notifier.app import deliver_batch
from slack_notifier.renderers import Incoming


def test_the_reports_of_one_dispatched_run_become_one_message() -> None:
    """Three targets' reports of one dispatched run in a batch: one Slack message."""
    sent: list[Any] = []

    class FakeNotifier:
        def send(self, incoming: Incoming) -> dict[str, Any]:
            sent.append(incoming)
            return {}

    def report(account: str, failed: int) -> str:
        return json.dumps({"schema": "opskit.report/1", "automation": "instance_scheduler",
                            "account": account, "region": "eu-west-1", "run_id": "w",
                            "dry_run": False, "severity": "critical" if failed else "info",
                            "title": f"Stopped 2 EC2 in {account}",
                            "counts": {"done": 2, "planned": 0, "skipped": 0, "failed": failed},
                            "actions": [], "truncated": False,
                            "dispatch": {"run_id": "run-1", "targets": 3}})

    records = [{"messageId": f"m{n}", "body": report(f"11111111111{n}", int(n == 2)),
                "awsRegion": "eu-west-1", "eventSource": "aws:sqs"} for n in range(3)]
    records.append({"messageId": "other", "body": '{"hello": "world"}',
                    "awsRegion": "eu-west-1", "eventSource": "aws:sqs"})
    result = deliver_batch(FakeNotifier(), records)  # type: ignore[arg-type]
    assert result == {"batchItemFailures": []}
    assert len(sent) == 2
    merged = sent[0].payload
    assert merged["title"] == "instance_scheduler: 3 of 3 targets reported (6 done, 1 failed)"
    assert merged["severity"] == "critical"
    assert [a["resource"] for a in merged["actions"]] == [
        "111111111110/eu-west-1", "111111111111/eu-west-1", "111111111112/eu-west-1"]
    assert sent[1].payload == {"hello": "world"}  # anything else stays one message a record
