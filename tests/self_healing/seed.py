"""The instances, group, service and alarms the sample events name, with the recorded ids.

moto has no DescribeAlarmHistory: `quiet_history` answers how many times the alarm fired.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any
from unittest.mock import patch

import boto3
import moto.ec2.models.instances as moto_instances

from self_healing.healing import Guards

WEB = "i-0a1b2c3d4e5f60718"
WORKER = "i-0b2c3d4e5f6071829"


def image_id() -> str:
    return str(boto3.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"])


def instance(instance_id: str = WEB, tags: dict[str, str] | None = None) -> str:
    spec = ([{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v}
                                                  for k, v in tags.items()]}] if tags else [])
    with patch.object(moto_instances, "random_instance_id", return_value=instance_id):
        boto3.client("ec2").run_instances(ImageId=image_id(), MinCount=1, MaxCount=1,
                                          TagSpecifications=spec)  # type: ignore[arg-type]
    return instance_id


def worker_group() -> str:
    autoscaling = boto3.client("autoscaling")
    autoscaling.create_launch_configuration(LaunchConfigurationName="workers",
                                            ImageId=image_id(), InstanceType="t3.micro")
    with patch.object(moto_instances, "random_instance_id", return_value=WORKER):
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="workers", LaunchConfigurationName="workers", MinSize=1,
            MaxSize=1, DesiredCapacity=1, AvailabilityZones=["eu-west-1a"])
    return WORKER


def service() -> str:
    ecs = boto3.client("ecs")
    ecs.create_cluster(clusterName="prod")
    ecs.register_task_definition(family="orders-api", containerDefinitions=[
        {"name": "api", "image": "public.ecr.aws/nginx/nginx:1.27", "memory": 256}])
    return str(ecs.create_service(cluster="prod", serviceName="orders-api",
                                  taskDefinition="orders-api",
                                  desiredCount=2)["service"]["serviceArn"])


def alarm(name: str, remedy: str | None = "auto") -> None:
    tags = [{"Key": "opskit:heal", "Value": remedy}] if remedy else []
    boto3.client("cloudwatch").put_metric_alarm(
        AlarmName=name, MetricName="CPUUtilization", Namespace="AWS/EC2", Statistic="Average",
        Period=300, EvaluationPeriods=3, Threshold=90, ComparisonOperator="GreaterThanThreshold",
        Tags=tags)


def quiet_history(count: int = 1) -> AbstractContextManager[Any]:
    return patch.object(Guards, "history", lambda self, alarm: count)


def seed(name: str) -> AbstractContextManager[Any]:
    instance()
    worker_group()
    service()
    for alarm_name in ("web-1-cpu-high", "web-1-system-check", "workers-i-0b2c-memory",
                       "orders-api-5xx", "thumbnailer-errors", "workers-group-cpu",
                       "queue-backlog"):
        alarm(alarm_name)
    return quiet_history()
