"""An account with used and unused resources, created weeks before the sample event (05:00 UTC
on 2026-11-23), so the age guard lets them through."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import time_machine

EVENT_TIME = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)
LONG_AGO = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
AZ = "eu-west-1a"


def image_id() -> str:
    return str(boto3.client("ec2").describe_images(Owners=["amazon"])["Images"][0]["ImageId"])


def sample_account() -> dict[str, Any]:
    """Returns the ids: each unused resource once, each used twin once."""
    ec2, elbv2, logs = boto3.client("ec2"), boto3.client("elbv2"), boto3.client("logs")
    ids: dict[str, Any] = {}
    with time_machine.travel(LONG_AGO, tick=False):
        instance = ec2.run_instances(ImageId=image_id(), MinCount=1, MaxCount=1,
                                     Placement={"AvailabilityZone": AZ})["Instances"][0]
        ids["instance"] = instance["InstanceId"]
        ids["idle_volume"] = ec2.create_volume(AvailabilityZone=AZ, Size=100,
                                               VolumeType="gp3")["VolumeId"]
        ids["used_volume"] = ec2.create_volume(AvailabilityZone=AZ, Size=8)["VolumeId"]
        ec2.attach_volume(VolumeId=ids["used_volume"], InstanceId=ids["instance"],
                          Device="/dev/sdf")
        ids["idle_address"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ids["used_address"] = ec2.allocate_address(Domain="vpc")["AllocationId"]
        ec2.associate_address(AllocationId=ids["used_address"], InstanceId=ids["instance"])
        gone = ec2.create_volume(AvailabilityZone=AZ, Size=50)["VolumeId"]
        ids["orphan_snapshot"] = ec2.create_snapshot(VolumeId=gone)["SnapshotId"]
        ec2.delete_volume(VolumeId=gone)
        ids["kept_snapshot"] = ec2.create_snapshot(VolumeId=ids["used_volume"])["SnapshotId"]
        subnet = ec2.describe_subnets()["Subnets"][0]
        ids["idle_interface"] = ec2.create_network_interface(
            SubnetId=subnet["SubnetId"])["NetworkInterface"]["NetworkInterfaceId"]
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
        ids["idle_balancer"] = elbv2.create_load_balancer(
            Name="old-campaign", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        logs.create_log_group(logGroupName="/aws/lambda/forgotten")
        logs.create_log_group(logGroupName="/aws/lambda/tidy")
        logs.put_retention_policy(logGroupName="/aws/lambda/tidy", retentionInDays=14)
        ec2.stop_instances(InstanceIds=[ids["instance"]])
    ids["log_group"] = "arn:aws:logs:eu-west-1:123456789012:log-group:/aws/lambda/forgotten"
    return ids


def seed(name: str) -> None:
    sample_account()


def idle_balancer_with_a_group(name: str = "shop") -> tuple[str, str]:
    """A balancer whose listener forwards to an empty target group (made long ago)."""
    ec2, elbv2 = boto3.client("ec2"), boto3.client("elbv2")
    with time_machine.travel(LONG_AGO, tick=False):
        vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
        balancer = elbv2.create_load_balancer(Name=name, Subnets=subnets)[
            "LoadBalancers"][0]["LoadBalancerArn"]
        group = elbv2.create_target_group(Name=name, Protocol="HTTP", Port=80, VpcId=vpc)[
            "TargetGroups"][0]["TargetGroupArn"]
        elbv2.create_listener(LoadBalancerArn=balancer, Protocol="HTTP", Port=80,
                              DefaultActions=[{"Type": "forward", "TargetGroupArn": group}])
    return balancer, group
