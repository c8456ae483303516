"""The required-tags sweep on moto: report only, grouped by creator."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from auto_tagger import app
from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext

SWEEP_EVENT = {"version": "0", "id": "5c8e2f10-7a3b-4d6e-9f01-23456789abcd",
               "detail-type": "Scheduled Run", "source": "aws.scheduler",
               "account": "123456789012", "time": "2026-11-23T06:00:00Z", "region": "eu-west-1",
               "resources": [], "detail": {}}


def _instance(tags: dict[str, str]) -> str:
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    spec = [{"ResourceType": "instance",
             "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}] if tags else []
    return ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1,
                             TagSpecifications=spec)["Instances"][0]["InstanceId"]  # type: ignore[arg-type]


def test_sweep_reports_missing_required_tags_by_creator(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox,
        monkeypatch: pytest.MonkeyPatch, api_calls: ApiCalls) -> None:
    monkeypatch.setenv("DRY_RUN", "false")
    monkeypatch.setenv("REQUIRED_TAGS", "Owner,CostCenter")
    monkeypatch.setenv("ALERT_TOPIC_ARN", alert_inbox.topic_arn)
    complete = _instance({"Owner": "data", "CostCenter": "42"})
    by_alice = _instance({"Owner": "data", "opskit:creator": "alice"})
    # The Tagging API lists only resources that have (or once had) a tag.
    unknown = _instance({"Name": "scratch"})
    _instance({})
    api_calls.reset()
    result: dict[str, Any] = app.lambda_handler(SWEEP_EVENT, lambda_context)
    assert result["counts"]["done"] == 2
    mutating = [op for (_, op) in api_calls.counts if not op.startswith(("Get", "Describe",
                                                                          "List", "Publish"))]
    assert mutating == []
    (report,) = alert_inbox.received()
    assert report["severity"] == "warning"
    assert report["title"].startswith("2 resources miss required tags (")
    assert {creator: [arn.rsplit("/", 1)[-1] for arn in arns]
            for creator, arns in report["by_creator"].items()} == {
        "alice": [by_alice], "unknown": [unknown]}
    reasons = {a["resource"].rsplit("/", 1)[-1]: a["reason"] for a in report["actions"]}
    assert reasons == {by_alice: "missing CostCenter", unknown: "missing Owner, CostCenter"}
    assert complete not in reasons


@pytest.mark.usefixtures("aws")
def test_no_required_tags_means_nothing_to_report(lambda_context: FakeLambdaContext) -> None:
    _instance({"Name": "scratch"})
    result: dict[str, Any] = app.lambda_handler(SWEEP_EVENT, lambda_context)
    assert result["counts"] == {"done": 0, "planned": 0, "skipped": 0, "failed": 0}
