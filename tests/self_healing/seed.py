"""The instances, group, service and alarms the sample events name, with the recorded ids.

Targets opt in by their own tag `opskit:heal`; the Lambda function, which has no tags read, by a
mapping. moto has no DescribeAlarmHistory: `quiet_history` answers how many times the alarm fired.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from unittest.mock import patch

import boto3
import moto.ec2.models.instances as moto_instances

from self_healing.healing import Guards

WEB = "i-0a1b2c3d4e5f60718"
PEER = "i-0c3d4e5f60718293a"  # web-2, beside web-1 in the metric math alarm
WORKER = "i-0b2c3d4e5f6071829"
OPTED_IN = {"opskit:heal": "auto"}
# The sample Lambda alarm opts in by name: a report is all a function can get.
MAPPINGS = '{"thumbnailer-*": "report"}'


def image_id() -> str:
    return str(boto3.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"])


def instance(instance_id: str = WEB, tags: dict[str, str] | None = None,
             instance_type: str = "t3.micro") -> str:
    spec = ([{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v}
                                                  for k, v in tags.items()]}] if tags else [])
    with patch.object(moto_instances, "random_instance_id", return_value=instance_id):
        boto3.client("ec2").run_instances(ImageId=image_id(), MinCount=1, MaxCount=1,
                                          InstanceType=instance_type,  # type: ignore[arg-type]
                                          TagSpecifications=spec)  # type: ignore[arg-type]
    return instance_id


def worker_group(tags: dict[str, str] | None = None, *, protected: bool = False) -> str:
    """The group `workers` and its one instance; `tags` on the group, given to its instances."""
    autoscaling = boto3.client("autoscaling")
    autoscaling.create_launch_configuration(LaunchConfigurationName="workers",
                                            ImageId=image_id(), InstanceType="t3.micro")
    with patch.object(moto_instances, "random_instance_id", return_value=WORKER):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="workers", LaunchConfigurationName="workers", MinSize=1,
            MaxSize=1, DesiredCapacity=1, AvailabilityZones=["eu-west-1a"],
            NewInstancesProtectedFromScaleIn=protected,
            Tags=[{"ResourceId": "workers", "ResourceType": "auto-scaling-group", "Key": key,
                   "Value": value, "PropagateAtLaunch": True}
                  for key, value in (OPTED_IN if tags is None else tags).items()])
    return WORKER


def service(tags: dict[str, str] | None = None) -> str:
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(family="orders-api", containerDefinitions=[
        {"name": "api", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 256}])
    return str(ecs.create_service(
        cluster="prod", serviceName="orders-api", taskDefinition="orders-api", desiredCount=2,
        tags=[{"key": k, "value": v} for k, v in (OPTED_IN if tags is None else tags).items()],
    )["service"]["serviceArn"])


def alarm(name: str, request: str | None = None) -> None:
    """An alarm; `request` its own tag opskit:heal, which may only narrow the target's."""
    tags = [{"Key": "opskit:heal", "Value": request}] if request else []
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=name, MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
        Period=300, EvaluationPeriods=3, Threshold=90, ComparisonOperator="GreaterThanThreshold",
        Tags=tags)  # type: ignore[arg-type]


def quiet_history(count: int = 1) -> AbstractContextManager[Any]:
    return patch.object(Guards, "history", lambda self, alarm: count)


@contextmanager
def _around() -> Iterator[None]:
    with quiet_history(), patch.dict(os.environ, {"HEAL_MAPPINGS": MAPPINGS}):
        yield


def seed(name: str) -> AbstractContextManager[Any]:
    instance(tags=OPTED_IN)
    instance(PEER, tags=OPTED_IN)
    worker_group()
    service()
    for alarm_name in ("web-1-cpu-high", "web-1-system-check", "workers-i-0b2c-memory",
                       "orders-api-5xx", "thumbnailer-errors", "web-pair-cpu-high"):
        alarm(alarm_name)
    # Alarms with no single target to tag ask by their own tag, so their refusal is reported.
    for alarm_name in ("workers-group-cpu", "queue-backlog"):
        alarm(alarm_name, request="auto")
    return _around()
