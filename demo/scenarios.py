"""One demo scenario per automation: seed sample resources, then run it like its trigger would."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3

from opskit.actions import Action, Executor
from opskit.aws import Target
from opskit.config import CommonConfig
from opskit.runner import TargetRun, run_automation
from opskit.tags import tags_to_dict


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    seed: Callable[[], None]
    run: Callable[[], dict[str, Any]]


# ---------------------------------------------------------------- the layer on its own
def _seed_layer() -> None:
    ec2 = boto3.client("ec2")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    for name, exempt in (("web-1", "false"), ("web-2", "false"), ("db-legacy", "true")):
        ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="t3.micro",
                          TagSpecifications=[{"ResourceType": "instance", "Tags": [
                              {"Key": "Name", "Value": name},
                              {"Key": "opskit:exempt", "Value": exempt}]}])


def _tag_owner(target: Target, executor: Executor) -> TargetRun:
    """Tag every untagged instance with an owner: plan, exemption, dry-run, batching, report."""
    ec2 = target.session.client("ec2")
    plan = [
        Action(instance["InstanceId"], "ec2:instance", "tag", "no Owner tag",
               details={"Owner": "platform-team"}, tags=tags_to_dict(instance.get("Tags")))
        for page in ec2.get_paginator("describe_instances").paginate()
        for reservation in page["Reservations"]
        for instance in reservation["Instances"]
        if "Owner" not in tags_to_dict(instance.get("Tags"))
    ]

    def apply(batch: Sequence[Action]) -> None:
        ec2.create_tags(Resources=[a.resource for a in batch],
                        Tags=[{"Key": "Owner", "Value": "platform-team"}])

    executor.run(plan, apply, batch_size=50)
    return TargetRun(title=f"Owner tag for {len(plan)} instances")


def _run_layer() -> dict[str, Any]:
    return run_automation(CommonConfig.from_env("layer_demo"), _tag_owner, run_id="demo")


SCENARIOS: list[Scenario] = [
    Scenario("layer_demo", "the shared layer on its own (plan, exemption, dry-run, report)",
             _seed_layer, _run_layer),
]
