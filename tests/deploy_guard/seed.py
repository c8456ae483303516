"""What the sample events refer to (tests/test_events.py runs each through the handler, dry
run): the checks in SSM, the deployments CodeDeploy would describe, the answers moto lacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3

from tests.conftest import load_event
from tests.deploy_guard.fakes import APPLICATION, GROUP, Answers, answering, put_checks


def _create() -> None:
    """The alarm and the checks: made when seed() is called, so that a built function run in
    another process (tests/artifact) finds them too."""
    boto3.client("cloudwatch", region_name="eu-west-1").put_metric_alarm(
        AlarmName="orders-api-errors", Namespace="AWS/Lambda", MetricName="Errors",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold")
    put_checks({"checks": [{"type": "alarms", "name": "errors",
                            "alarm_names": ["orders-api-errors"],
                            "allow_insufficient_data": True}]})


@contextmanager
def _seeded(stem: str) -> Iterator[Any]:
    # The continuation sample's job holds the sample's token (GetJobDetails).
    job = load_event("deploy_guard/codepipeline-job-continuation.json")["CodePipeline.job"]
    answers = Answers(deployments={"d-4X7Y2Z9QA": (APPLICATION, GROUP),
                                   "d-8BQK3M1TZ": (APPLICATION, GROUP)},
                      tokens={job["id"]: job["data"]["continuationToken"]})
    with answering(answers):
        yield answers
    # Whatever the sample, the hook or job was answered, and a dry run answers success.
    sent = answers.of("PutLifecycleEventHookExecutionStatus") or answers.of(
        "PutJobSuccessResult")
    assert sent, f"{stem}: nothing was answered"
    assert answers.of("PutJobFailureResult") == []
    assert all(s.get("status", "Succeeded") == "Succeeded" for s in sent)


def seed(stem: str) -> Any:
    _create()
    return _seeded(stem)
