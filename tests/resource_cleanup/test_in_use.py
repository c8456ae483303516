"""Never delete what is still needed: what uses a snapshot, an AMI or a balancer although
nothing looks attached, and what belongs to another service (issue 20)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
import time_machine

from tests.conftest import AlertInbox, FakeLambdaContext
from tests.resource_cleanup.runs import TAG, actions_of, ec2_tags, elb_tags, run
from tests.resource_cleanup.seed import AZ, LONG_AGO, idle_balancer_with_a_group, image_id

pytestmark = pytest.mark.usefixtures("live")


def orphan_snapshot(ec2: Any, size: int = 10) -> str:
    """A snapshot whose volume is gone, from long ago: unused unless something refers to it."""
    with time_machine.travel(LONG_AGO, tick=False):
        volume = ec2.create_volume(AvailabilityZone=AZ, Size=size)["VolumeId"]
        snapshot = str(ec2.create_snapshot(VolumeId=volume)["SnapshotId"])
        ec2.delete_volume(VolumeId=volume)
    return snapshot


def test_a_snapshot_in_any_launch_template_version_is_kept(
        lambda_context: FakeLambdaContext) -> None:
    ec2 = boto3.client("ec2")
    pinned, loose = orphan_snapshot(ec2), orphan_snapshot(ec2)
    with time_machine.travel(LONG_AGO, tick=False):
        ec2.create_launch_template(LaunchTemplateName="web", LaunchTemplateData={
            "ImageId": image_id(), "BlockDeviceMappings": [
                {"DeviceName": "/dev/sdf", "Ebs": {"SnapshotId": pinned}}]})
        # Version 2 ($Latest and $Default) no longer has the disk: version 1 can still launch.
        ec2.create_launch_template_version(LaunchTemplateName="web",
                                           LaunchTemplateData={"ImageId": image_id()})
        ec2.modify_launch_template(LaunchTemplateName="web", DefaultVersion="2")
    run(lambda_context)
    assert TAG not in ec2_tags(pinned)
    assert ec2_tags(loose) == {TAG: "2026-11-30"}  # what nothing refers to is still marked


def test_the_snapshot_of_a_disabled_ami_is_kept(lambda_context: FakeLambdaContext) -> None:
    """DescribeImages leaves disabled AMIs out unless IncludeDisabled: their snapshots looked
    orphaned, were marked, then failed to delete (InvalidSnapshot.InUse) every day."""
    ec2 = boto3.client("ec2")
    with time_machine.travel(LONG_AGO, tick=False):
        instance = ec2.run_instances(ImageId=image_id(), MinCount=1, MaxCount=1,
                                     Placement={"AvailabilityZone": AZ})["Instances"][0]
        ami = ec2.create_image(InstanceId=instance["InstanceId"], Name="golden-2026-09")
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])  # its volume goes
        ec2.disable_image(ImageId=ami["ImageId"])
    (snapshot,) = [m["Ebs"]["SnapshotId"] for m in ec2.describe_images(
        ImageIds=[ami["ImageId"]], IncludeDisabled=True)["Images"][0]["BlockDeviceMappings"]]
    run(lambda_context)
    run(lambda_context, when="2026-11-30T05:00:00Z")
    assert TAG not in ec2_tags(snapshot)
    assert snapshot in {s["SnapshotId"] for s in ec2.describe_snapshots(
        SnapshotIds=[snapshot])["Snapshots"]}


def cross_region_copy() -> tuple[str, str, str]:
    """(volume, snapshot, copy): a volume in us-east-1, its snapshot, and that snapshot's copy
    in eu-west-1, as DR copies are made (all long ago)."""
    west, east = boto3.client("ec2"), boto3.client("ec2", region_name="us-east-1")
    with time_machine.travel(LONG_AGO, tick=False):
        volume = east.create_volume(AvailabilityZone="us-east-1a", Size=20)["VolumeId"]
        source = east.create_snapshot(VolumeId=volume)["SnapshotId"]
        copy = west.copy_snapshot(SourceSnapshotId=source, SourceRegion="us-east-1",
                                  Description=f"[Copied {source} from us-east-1]")["SnapshotId"]
    return volume, source, copy


@pytest.mark.parametrize("covered", ["eu-west-1,us-east-1", "eu-west-1"])
def test_a_cross_region_copy_of_a_live_volume_is_kept(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        covered: str) -> None:
    """A DR copy in eu-west-1 of a volume that lives in us-east-1. With us-east-1 covered,
    the volume is found there; without, the copy's source cannot be checked: kept either way."""
    monkeypatch.setenv("TARGET_REGIONS", covered)
    _, source, copy = cross_region_copy()
    run(lambda_context)
    assert TAG not in ec2_tags(copy)
    assert TAG not in ec2_tags(source, "us-east-1")


def test_a_cross_region_copy_of_a_deleted_volume_is_marked(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TARGET_REGIONS", "eu-west-1,us-east-1")
    volume, source, copy = cross_region_copy()
    with time_machine.travel(LONG_AGO, tick=False):
        boto3.client("ec2", region_name="us-east-1").delete_volume(VolumeId=volume)
    run(lambda_context)
    assert ec2_tags(copy) == {TAG: "2026-11-30"}
    assert ec2_tags(source, "us-east-1") == {TAG: "2026-11-30"}


def test_an_ami_pinned_by_an_auto_scaling_group_or_a_launch_configuration_is_kept(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCE_TYPES", "ami")
    monkeypatch.setenv("IMAGE_AGE_DAYS", "30")
    ec2, autoscaling = boto3.client("ec2"), boto3.client("autoscaling")
    with time_machine.travel(LONG_AGO, tick=False):
        instance = ec2.run_instances(ImageId=image_id(), MinCount=1, MaxCount=1,
                                     Placement={"AvailabilityZone": AZ})["Instances"][0]
        pinned, latest, configured, unused = (
            ec2.create_image(InstanceId=instance["InstanceId"], Name=name)["ImageId"]
            for name in ("web-v1", "web-v2", "batch", "old"))
        ec2.create_launch_template(LaunchTemplateName="web",
                                   LaunchTemplateData={"ImageId": pinned})
        ec2.create_launch_template_version(LaunchTemplateName="web",
                                           LaunchTemplateData={"ImageId": latest})
        ec2.modify_launch_template(LaunchTemplateName="web", DefaultVersion="2")
        autoscaling.create_auto_scaling_group(
            AutoScalingGroupName="web", MinSize=0, MaxSize=0, DesiredCapacity=0,
            LaunchTemplate={"LaunchTemplateName": "web", "Version": "1"},
            AvailabilityZones=[AZ])
        autoscaling.create_launch_configuration(LaunchConfigurationName="batch",
                                                ImageId=configured, InstanceType="t3.micro")
    run(lambda_context)
    for kept in (pinned, latest, configured):
        assert TAG not in ec2_tags(kept), kept
    assert ec2_tags(unused) == {TAG: "2026-11-30"}


def balancer_behind_a_group(*, desired: int = 0) -> tuple[str, str]:
    """A balancer whose listener forwards to a target group attached to an Auto Scaling
    group scaled to 0/0/0, as the instance scheduler leaves one overnight."""
    ec2 = boto3.client("ec2")
    balancer, group = idle_balancer_with_a_group("web")
    with time_machine.travel(LONG_AGO, tick=False):
        ec2.create_launch_template(LaunchTemplateName="web",
                                   LaunchTemplateData={"ImageId": image_id()})
        boto3.client("autoscaling").create_auto_scaling_group(
            AutoScalingGroupName="web", MinSize=desired, MaxSize=desired,
            DesiredCapacity=desired, TargetGroupARNs=[group], AvailabilityZones=[AZ],
            LaunchTemplate={"LaunchTemplateName": "web", "Version": "$Latest"})
    return balancer, group


def test_a_balancer_of_an_auto_scaling_group_scaled_to_zero_is_kept(
        lambda_context: FakeLambdaContext) -> None:
    balancer, _ = balancer_behind_a_group()
    run(lambda_context)
    run(lambda_context, when="2026-11-30T05:00:00Z")
    assert TAG not in elb_tags(balancer)
    assert [lb["LoadBalancerArn"] for lb in boto3.client("elbv2").describe_load_balancers()[
        "LoadBalancers"]] == [balancer]


@pytest.mark.parametrize(("kind", "tag"), [
    ("volume", "aws:cloudformation:stack-id"),
    ("snapshot", "aws:backup:source-resource"),
])
def test_what_cloudformation_or_aws_backup_owns_is_left_to_it(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox,
        monkeypatch: pytest.MonkeyPatch, kind: str, tag: str) -> None:
    ec2 = boto3.client("ec2")
    with time_machine.travel(LONG_AGO, tick=False):
        volume = ec2.create_volume(AvailabilityZone=AZ, Size=10)["VolumeId"]
        if kind == "snapshot":
            resource = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
            ec2.delete_volume(VolumeId=volume)
        else:
            resource = volume
        ec2.create_tags(Resources=[resource], Tags=[{"Key": tag, "Value": "arn:aws:x"}])
    run(lambda_context)
    assert TAG not in ec2_tags(resource)
    assert alert_inbox.received() == []  # a skip is not news
    monkeypatch.setenv("CLEAN_MANAGED_RESOURCES", "true")
    run(lambda_context)
    assert ec2_tags(resource)[TAG] == "2026-11-30"


def test_a_marked_resource_found_owned_by_cloudformation_loses_its_mark(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    ec2 = boto3.client("ec2")
    with time_machine.travel(LONG_AGO, tick=False):
        volume = ec2.create_volume(AvailabilityZone=AZ, Size=10, TagSpecifications=[{
            "ResourceType": "volume", "Tags": [
                {"Key": "aws:cloudformation:stack-id", "Value": "arn:aws:x"},
                {"Key": TAG, "Value": "2026-11-25"}]}])["VolumeId"]
    run(lambda_context)
    assert ec2_tags(volume) == {"aws:cloudformation:stack-id": "arn:aws:x"}
    (report,) = alert_inbox.received()
    assert [a["action"] for a in actions_of(report, volume)] == ["unmark", "mark-for-cleanup"]


def test_a_region_that_cannot_be_read_counts_as_one_the_run_does_not_cover() -> None:
    """A covered region not enabled in the account, or denied by a policy: a copy from there
    is kept, and the run goes on."""
    from botocore.stub import Stubber

    from resource_cleanup.finders import Finder
    from resource_cleanup.inventory import Inventory
    from resource_cleanup.lineage import Lineage, live_origin
    from resource_cleanup.settings import CleanupConfig

    east = boto3.client("ec2", region_name="ap-east-1")
    stub = Stubber(east)
    stub.add_client_error("describe_volumes", "AuthFailure", "not enabled")
    here = Inventory(boto3.client("ec2"), boto3.client("autoscaling"), "eu-west-1")
    there = Inventory(east, boto3.client("autoscaling", region_name="ap-east-1"), "ap-east-1")
    finder = Finder(boto3.client("elbv2"), boto3.client("logs"),
                    CleanupConfig.from_env({"AWS_REGION": "eu-west-1"}), "123456789012",
                    LONG_AGO, here, lambda: [here, there])
    with stub:
        assert finder.other_regions() == []
    copy = Lineage(sources=(("ap-east-1", "snap-0e0e0e0e0e0e0e0e0"),), copied=True)
    assert live_origin(copy, finder.origins()) == (
        "a copy of snap-0e0e0e0e0e0e0e0e0 from ap-east-1, a region this run does not read")
