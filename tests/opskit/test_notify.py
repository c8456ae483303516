from __future__ import annotations

import json

import boto3
import pytest

from opskit.actions import Action, Outcome, Status
from opskit.notify import RunContext, build_report, fit_report, publish_report

RUN = RunContext("instance_scheduler", "123456789012", "eu-west-1", "req-1", dry_run=True)


def _outcome(i: int, status: Status, note: str = "") -> Outcome:
    return Outcome(Action(f"i-{i:05d}", "ec2:instance", "stop", "outside office hours",
                          details={"schedule": "office-hours"}), status, note)


def test_report_has_the_contract_shape() -> None:
    outcomes = [_outcome(1, Status.PLANNED), _outcome(2, Status.FAILED, "boom")]
    report = build_report(RUN, outcomes, title="Would stop 1 EC2 instance")
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
    report = build_report(RUN, outcomes)
    assert report["truncated"] is True
    assert report["counts"]["planned"] == 5000
    assert 0 < len(report["actions"]) < 5000
    assert len(json.dumps(report).encode()) <= 256 * 1024 - 2048
    small = fit_report(report, max_bytes=2000)
    assert len(json.dumps(small).encode()) <= 2000


@pytest.mark.usefixtures("aws")
def test_publish_sends_json_with_filterable_attributes() -> None:
    sns = boto3.client("sns")
    sqs = boto3.client("sqs")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue_url = sqs.create_queue(QueueName="inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)

    report = build_report(RUN, [_outcome(1, Status.PLANNED)], title="Would stop 1 instance")
    assert publish_report(sns, topic, report) is not None
    envelope = json.loads(sqs.receive_message(QueueUrl=queue_url)["Messages"][0]["Body"])
    assert json.loads(envelope["Message"]) == report
    assert envelope["Subject"] == "Would stop 1 instance"
    assert envelope["MessageAttributes"]["automation"]["Value"] == "instance_scheduler"
    assert envelope["MessageAttributes"]["severity"]["Value"] == "info"


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
    assert report["counts"]["skipped"] == 1
    assert publish_report(NoSns(), "arn", report) is None  # type: ignore[arg-type]
