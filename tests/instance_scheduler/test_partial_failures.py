"""Partial failures and stale state around the newer scheduler features (period instance
types, stop snapshots, ECS saved counts): a call that fails half-way never leaves a resource
stopped, a snapshot unowned or a person's change undone; and the resize permission is limited
to the instance type."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import boto3
import botocore.handlers
import pytest
from botocore.awsrequest import AWSResponse

from instance_scheduler.stop_snapshots import MANAGED_BY, MANAGED_BY_KEY
from opskit import aws
from tests.iam_roles import function_role, member_role
from tests.instance_scheduler.harness import NEXT_MONDAY_NOON, SATURDAY_NOON, at, run
from tests.instance_scheduler.seed import make_db, make_instances
from tests.instance_scheduler.test_more_types import make_service, service, service_tags

SAVED = "opskit:saved-capacity"
LAST = "opskit:scheduler-last"
WEEK = timedelta(days=7)
EC2 = {"RESOURCE_TYPES": "ec2"}
ECS = {"RESOURCE_TYPES": "ecs"}
SNAPSHOTS = {"RDS_SNAPSHOT_ON_STOP": "true", "RESOURCE_TYPES": "rds"}


@contextmanager
def refused(event: str, code: str, when: Callable[[dict[str, Any]], bool]) -> Iterator[None]:
    """`event`'s calls whose params satisfy `when` fail with `code` (before reaching moto)."""
    body = (f"<Response><Errors><Error><Code>{code}</Code><Message>refused</Message></Error>"
            f"</Errors><RequestID>partial-0001</RequestID></Response>").encode()
    raw: Any = type("Raw", (), {"stream": lambda self, **_: iter([body])})()

    def refuse(params: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        # before-call sees the serialized request: a query protocol's body is a dict.
        body = params.get("body")
        if not when(body if isinstance(body, dict) else {}):
            return None
        return (AWSResponse("https://aws.amazon.com/", 400, {}, raw),
                {"Error": {"Code": code, "Message": "refused"},
                 "ResponseMetadata": {"HTTPStatusCode": 400}})

    entry = (f"before-call.{event}", refuse)
    botocore.handlers.BUILTIN_HANDLERS.insert(0, entry)
    aws.forget()
    try:
        yield
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(entry)
        aws.forget()


def instance(instance_id: str) -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("ec2").describe_instances(
        InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return found


def _instance_type_now(params: dict[str, Any]) -> str:
    instance_id = params.get("InstanceId.1")
    return str(instance(instance_id)["InstanceType"]) if instance_id else ""


# ---------------------------------------------------------------- period instance types
@pytest.mark.usefixtures("clock", "aws")
def test_no_capacity_for_the_periods_type_still_starts_the_instance() -> None:
    """EC2 accepts the type change but has no capacity for it at StartInstances
    (InsufficientInstanceCapacity): the instance goes back to its own type and starts."""
    (instance_id,) = make_instances(1, "mon-fri 08:00-19:00@t3.large UTC")
    run(SATURDAY_NOON, **EC2)
    with refused("ec2.StartInstances", "InsufficientInstanceCapacity",
                 lambda p: _instance_type_now(p) == "t3.large"):
        run(NEXT_MONDAY_NOON, **EC2)
        run(NEXT_MONDAY_NOON + timedelta(minutes=5), **EC2)
    assert instance(instance_id)["State"]["Name"] == "running"
    assert instance(instance_id)["InstanceType"] == "t3.micro"


@pytest.mark.usefixtures("clock", "aws")
def test_a_refused_resize_is_reported_as_failed(reports: list[dict[str, Any]]) -> None:
    """ModifyInstanceAttribute refused: the resize is reported failed with EC2's code, never
    as done; the start, with the instance's own type, is done."""
    (instance_id,) = make_instances(1, "mon-fri 08:00-19:00@t3.large UTC")
    run(SATURDAY_NOON, **EC2)
    with refused("ec2.ModifyInstanceAttribute", "Unsupported", lambda p: True):
        run(NEXT_MONDAY_NOON, **EC2)
    assert instance(instance_id)["InstanceType"] == "t3.micro"
    by_action = {a["action"]: a for a in reports[-1]["actions"]}
    assert by_action["resize"]["status"] == "failed"
    assert "Unsupported" in str(by_action["resize"])
    assert by_action["start"]["status"] == "done"
    assert "resize" not in by_action["start"]["details"]


@pytest.mark.parametrize("role", [function_role, member_role])
def test_resize_statement_allows_only_the_instance_type_attribute(role: Any) -> None:
    """ModifyInstanceAttribute also sets UserData, security groups, shutdown behaviour...; the
    tag condition is one the role itself can satisfy (OnlyTheSchedulerTags lets it write
    opskit:scheduler-last): the statement is limited to the InstanceType attribute."""
    (statement,) = [s for s in role("instance_scheduler")
                    if s.get("Sid") == "ResizeWhatTheSchedulerStopped"]
    assert "ec2:Attribute/InstanceType" in str(statement.get("Condition", {}))


# ---------------------------------------------------------------- stop snapshots
@pytest.mark.usefixtures("clock", "aws")
def test_the_stop_snapshot_is_tagged_even_when_the_last_action_tag_fails() -> None:
    """StopDBInstance took the snapshot; the last-action tag on the DB then fails. The snapshot
    is tagged first, so it is still ours and counted by retention."""
    arn = make_db("orders")
    with refused("rds.AddTagsToResource", "Throttling", lambda p: p.get("ResourceName") == arn):
        run(SATURDAY_NOON, **SNAPSHOTS)
    found = boto3.client("rds").describe_db_snapshots(
        DBInstanceIdentifier="orders", SnapshotType="manual")["DBSnapshots"]
    assert len(found) == 1
    tags = {t["Key"]: t["Value"] for t in found[0].get("TagList", [])}
    assert tags.get(MANAGED_BY_KEY) == MANAGED_BY


# ---------------------------------------------------------------- ECS
@pytest.mark.usefixtures("clock", "aws")
def test_ecs_a_stale_saved_count_does_not_replace_the_desired_count_at_the_next_stop() -> None:
    """The service is stopped (saved 3), a person opts it out (removes Schedule) and runs it
    at 5, later opts it back in. The saved tag left from before was not written in this stop
    window: the next stop saves 5, which the following start restores."""
    arn = make_service("web", desired=3)
    ecs = boto3.client("ecs")
    run(SATURDAY_NOON, **ECS)
    assert service_tags("web")[SAVED] == "3"
    at(SATURDAY_NOON + timedelta(hours=1))
    ecs.untag_resource(resourceArn=arn, tagKeys=["Schedule"])
    ecs.update_service(cluster="apps", service="web", desiredCount=5)
    run(NEXT_MONDAY_NOON, **ECS)  # not scheduled: nothing
    at(NEXT_MONDAY_NOON + timedelta(hours=1))
    ecs.tag_resource(resourceArn=arn, tags=[{"key": "Schedule",
                                             "value": "mon-fri 08:00-19:00 UTC"}])
    run(SATURDAY_NOON + WEEK, **ECS)
    assert service("web")["desiredCount"] == 0
    assert service_tags("web")[SAVED] == "5"
    run(NEXT_MONDAY_NOON + WEEK, **ECS)
    assert service("web")["desiredCount"] == 5


@pytest.mark.usefixtures("clock", "aws")
def test_ecs_a_failed_untag_at_start_does_not_undo_a_later_change_by_hand() -> None:
    """The start restores 3 but the saved tag's removal fails. The start was recorded before
    the removal, so a person who then scales to 6 is left alone."""
    make_service("web", desired=3)
    run(SATURDAY_NOON, **ECS)
    with refused("ecs.UntagResource", "ThrottlingException", lambda p: True):
        run(NEXT_MONDAY_NOON, **ECS)
    assert service("web")["desiredCount"] == 3
    at(NEXT_MONDAY_NOON + timedelta(minutes=1))
    boto3.client("ecs").update_service(cluster="apps", service="web", desiredCount=6)
    run(NEXT_MONDAY_NOON + timedelta(minutes=5), **ECS)
    assert service("web")["desiredCount"] == 6
