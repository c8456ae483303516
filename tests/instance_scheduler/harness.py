"""Running the scheduler on moto at a given time, and reading back what it left."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import time_machine

from instance_scheduler.scheduler import schedule_target
from instance_scheduler.settings import SchedulerConfig
from opskit.runner import run_automation

# 2026-11-20 is a Friday; every test starts then, and its clock only moves forward.
START = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MONDAY_NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SATURDAY_NOON = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
NEXT_MONDAY_NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
# The test's frozen clock (tests/instance_scheduler/conftest.py), moved by each run.
CLOCK: list[time_machine.Traveller] = []


def at(when: datetime) -> None:
    """Move the test's clock to `when` (what people do then happens at that time)."""
    CLOCK[-1].move_to(when)


def run(now: datetime, **env: str) -> dict[str, Any]:
    """One scheduler run at `now`, the clock moved there first (the Lambda reads the clock)."""
    config = SchedulerConfig.from_env({"AWS_REGION": "eu-west-1", "DRY_RUN": "false", **env})
    at(now)
    return run_automation(config.common, lambda t, e: schedule_target(t, e, config, now),
                          run_id="test")


def states(ids: list[str]) -> set[str]:
    ec2 = boto3.client("ec2")
    pages = ec2.get_paginator("describe_instances").paginate(InstanceIds=ids)
    return {i["State"]["Name"] for p in pages for r in p["Reservations"] for i in r["Instances"]}


def instance_tags(instance_id: str) -> dict[str, str]:
    found = boto3.client("ec2").describe_tags(
        Filters=[{"Name": "resource-id", "Values": [instance_id]}])["Tags"]
    return {t["Key"]: t["Value"] for t in found}


def group(name: str) -> dict[str, Any]:
    found: dict[str, Any] = boto3.client("autoscaling").describe_auto_scaling_groups(
        AutoScalingGroupNames=[name])["AutoScalingGroups"][0]
    return found


def size(name: str) -> tuple[int, int, int]:
    found = group(name)
    return found["MinSize"], found["MaxSize"], found["DesiredCapacity"]


def group_tags(name: str) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in group(name)["Tags"]}


def entries(reports: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(a["resource"], a["action"], a["status"]) for r in reports for a in r["actions"]]


def notes(report: dict[str, Any]) -> dict[str, str]:
    return {a["resource"]: a["details"].get("note", "") for a in report["actions"]}
