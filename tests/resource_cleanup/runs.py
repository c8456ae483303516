"""Running the cleanup's handler as its schedule does, and reading what it left."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import boto3
import botocore.handlers
import time_machine

from opskit import aws
from resource_cleanup import app
from tests.conftest import FakeLambdaContext, load_event

EVENT = load_event("resource_cleanup/daily-cleanup.json")  # 2026-11-23T05:00:00Z
TAG = "opskit:cleanup-after"


def run(context: FakeLambdaContext, when: str = "2026-11-23T05:00:00Z") -> dict[str, Any]:
    """A scheduled run: the event dated `when`, and the Lambda's clock at that time."""
    with time_machine.travel(datetime.fromisoformat(when), tick=False):
        result: dict[str, Any] = app.lambda_handler({**EVENT, "time": when}, context)
    return result


def ec2_tags(resource: str, region: str = "eu-west-1") -> dict[str, str]:
    tags = boto3.client("ec2", region_name=region).describe_tags(
        Filters=[{"Name": "resource-id", "Values": [resource]}])["Tags"]
    return {t["Key"]: t["Value"] for t in tags}


def elb_tags(arn: str) -> dict[str, str]:
    (described,) = boto3.client("elbv2").describe_tags(ResourceArns=[arn])["TagDescriptions"]
    return {t["Key"]: t["Value"] for t in described.get("Tags", [])}


def actions_of(report: dict[str, Any], resource: str) -> list[dict[str, Any]]:
    return [a for a in report["actions"] if a["resource"] == resource]


@contextmanager
def after_first(operation: str, change: Callable[[], None]) -> Iterator[None]:
    """`change` made once, right after the first `operation` call of the sessions created
    meanwhile (the run's inventory): something that happens while the run is under way.
    It changes moto's backend directly, so the run's calls alone are the run's."""
    done: list[bool] = []

    def hook(**_: Any) -> None:
        if not done:
            done.append(True)
            change()

    handler = (f"after-call.*.{operation}", hook)
    botocore.handlers.BUILTIN_HANDLERS.append(handler)
    aws.forget()  # sessions are kept for a container's life: the run's are made with the hook
    try:
        yield
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(handler)
