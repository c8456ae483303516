from __future__ import annotations

import json
from typing import Any

import boto3

from opskit.actions import Action, Outcome, Status
from opskit.notify import RunContext, build_report, fit_report, publish_report
from tests.conftest import AlertInbox

RUN = RunContext("instance_scheduler", "123456789012", "eu-west-1", "req-1", dry_run=True)


def _outcome(i: int, status: Status, note: str = "") -> Outcome:
    return Outcome(Action(f"i-{i:05d}", "ec2:instance", "stop", "outside office hours",
                          details={"schedule": "office-hours"}), status, note)


def test_report_has_the_contract_shape() -> None:
    outcomes = [_outcome(1, Status.PLANNED), _outcome(2, Status.FAILED, "boom")]
    report = build_report(RUN, outcomes, title="Would stop 1 EC2 instance").to_dict()
    assert report["schema"] == "opskit.report/1"
    assert report["counts"] == {"done": 0, "planned": 1, "skipped": 0, "failed": 1}
    assert report["severity"] == "warning"
    assert report["truncated"] is False
    assert report["dry_run"] is True
    assert report["actions"][0]["status"] == "failed"  # failures first
    assert report["actions"][0]["details"] == {"schedule": "office-hours", "note": "boom"}
    assert set(report) == {"schema", "automation", "account", "region", "run_id", "dry_run",
                           "severity", "title", "counts", "actions", "truncated"}


def test_truncation_keeps_counts_exact_and_fits() -> None:
    outcomes = [_outcome(i, Status.PLANNED, "x" * 200) for i in range(5000)]
    built = build_report(RUN, outcomes)
    report = built.to_dict()
    assert report["truncated"] is True
    assert report["counts"]["planned"] == 5000
    assert 0 < len(report["actions"]) < 5000
    assert len(json.dumps(report).encode()) <= 256 * 1024 - 2048
    small = fit_report(built, max_bytes=2000)
    assert len(json.dumps(small.to_dict()).encode()) <= 2000


def test_publish_sends_json_with_filterable_attributes(alert_inbox: AlertInbox) -> None:
    sns = boto3.client("sns")
    sent: list[dict[str, Any]] = []
    real_publish = sns.publish

    def spy(**kwargs: Any) -> Any:
        sent.append(kwargs)
        return real_publish(**kwargs)

    sns.publish = spy  # type: ignore[method-assign]
    report = build_report(RUN, [_outcome(1, Status.PLANNED)], title="Would stop 1 instance")
    assert publish_report(sns, alert_inbox.topic_arn, report) is not None
    assert sent[0]["Subject"] == "Would stop 1 instance"
    sqs = boto3.client("sqs")
    (message,) = sqs.receive_message(QueueUrl=alert_inbox.queue_url,
                                     MessageAttributeNames=["All"])["Messages"]
    assert json.loads(message["Body"]) == report.to_dict()
    attributes = message["MessageAttributes"]
    assert attributes["automation"]["StringValue"] == "instance_scheduler"
    assert attributes["severity"]["StringValue"] == "info"


def test_nothing_found_publishes_nothing() -> None:
    class NoSns:
        def publish(self, **_: object) -> dict[str, str]:
            raise AssertionError("must not publish")

    assert publish_report(NoSns(), "arn", build_report(RUN, [])) is None  # type: ignore[arg-type]


def test_skips_alone_publish_nothing() -> None:
    class NoSns:
        def publish(self, **_: object) -> dict[str, str]:
            raise AssertionError("must not publish")

    report = build_report(RUN, [_outcome(1, Status.SKIPPED, "exempt")])
    assert report.counts["skipped"] == 1
    assert publish_report(NoSns(), "arn", report) is None  # type: ignore[arg-type]
