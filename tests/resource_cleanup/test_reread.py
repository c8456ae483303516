"""The re-read just before a delete: what changed since the run's inventory, or since the mark,
saves the resource, and the report says why (issue 20)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import time_machine
from botocore.exceptions import ClientError
from moto.ec2.models import ec2_backends
from moto.elbv2.models import elbv2_backends

from tests.conftest import ACCOUNT, REGION, FakeLambdaContext
from tests.resource_cleanup.fakes import EventHistory
from tests.resource_cleanup.runs import TAG, actions_of, after_first, ec2_tags, elb_tags, run
from tests.resource_cleanup.seed import AZ, LONG_AGO, idle_balancer_with_a_group

pytestmark = pytest.mark.usefixtures("live")
DUE = "2026-11-30T05:00:00Z"




def test_a_target_registered_during_the_run_saves_the_balancer(
        lambda_context: FakeLambdaContext, reports: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCE_TYPES", "load-balancer")
    balancer, group = idle_balancer_with_a_group()
    run(lambda_context)
    assert elb_tags(balancer) == {TAG: "2026-11-30"}

    def register() -> None:  # a deployment registers a target after the run read the group
        elbv2_backends[ACCOUNT][REGION].register_targets(group, [{"Id": "10.0.0.5"}])

    with after_first("DescribeTargetHealth", register):
        run(lambda_context, when=DUE)
    assert [lb["LoadBalancerArn"] for lb in boto3.client("elbv2").describe_load_balancers()[
        "LoadBalancers"]] == [balancer]
    assert elb_tags(balancer) == {}
    report = reports[-1]
    assert {(a["action"], a["status"]): a["details"].get("note", a["reason"])
            for a in actions_of(report, balancer)} == {
        ("unmark", "done"): "in use again (1 target(s) registered in target group shop): the "
                            "mark is removed",
        ("delete", "skipped"): "in use at the re-read: 1 target(s) registered in target group "
                               "shop"}


def test_a_mark_removed_during_the_run_cancels_the_delete(
        lambda_context: FakeLambdaContext, reports: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCE_TYPES", "ebs-volume")
    ec2 = boto3.client("ec2")
    with time_machine.travel(LONG_AGO, tick=False):
        volume = ec2.create_volume(AvailabilityZone=AZ, Size=10)["VolumeId"]
    run(lambda_context)

    def unmark() -> None:  # someone cancels while the run is under way
        ec2_backends[ACCOUNT][REGION].delete_tags([volume], {TAG: "2026-11-30"})

    with after_first("DescribeVolumes", unmark):
        run(lambda_context, when=DUE)
    assert volume in {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    assert ec2.describe_snapshots(Filters=[{"Name": "tag:opskit:final-snapshot-of",
                                            "Values": [volume]}])["Snapshots"] == []
    (skipped,) = actions_of(reports[-1], volume)
    assert (skipped["action"], skipped["status"], skipped["details"]["note"]) == (
        "delete", "skipped", "the mark was removed before the delete: cancelled")


def test_an_elastic_ip_used_between_two_runs_gets_a_new_grace_period(
        lambda_context: FakeLambdaContext, reports: list[dict[str, Any]],
        event_history: EventHistory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Associated on the 25th at 10:00 and released at 18:00: no daily run saw it in use."""
    monkeypatch.setenv("RESOURCE_TYPES", "elastic-ip")
    ec2 = boto3.client("ec2")
    with time_machine.travel(LONG_AGO, tick=False):
        address = ec2.allocate_address(Domain="vpc")["AllocationId"]
        instance = ec2.run_instances(ImageId=ec2.describe_images(Owners=["amazon"])[
            "Images"][0]["ImageId"], MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    run(lambda_context)
    used = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    with time_machine.travel(used, tick=False):
        association = ec2.associate_address(AllocationId=address, InstanceId=instance)
        event_history.record("AssociateAddress", {"allocationId": address,
                                                  "instanceId": instance})
    with time_machine.travel(datetime(2026, 11, 25, 18, 0, tzinfo=UTC), tick=False):
        ec2.disassociate_address(AssociationId=association["AssociationId"])
    run(lambda_context, when=DUE)
    assert address in {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]}
    assert ec2_tags(address) == {TAG: "2026-12-07"}
    (renewed,) = [a for a in actions_of(reports[-1], address)
                  if a["action"] == "mark-for-cleanup"]
    assert "AssociateAddress at 2026-11-25 10:00 UTC (CloudTrail): a new grace period" in (
        renewed["reason"])


def test_an_elastic_ip_idle_since_its_mark_is_released(
        lambda_context: FakeLambdaContext, event_history: EventHistory,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """An association before the mark, or of another address, does not count."""
    monkeypatch.setenv("RESOURCE_TYPES", "elastic-ip")
    ec2 = boto3.client("ec2")
    with time_machine.travel(LONG_AGO, tick=False):
        address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    event_history.record("AssociateAddress", {"allocationId": address},
                         when=datetime(2026, 11, 20, tzinfo=UTC))
    event_history.record("AssociateAddress", {"allocationId": "eipalloc-0other"},
                         when=datetime(2026, 11, 26, tzinfo=UTC))
    run(lambda_context)
    run(lambda_context, when=DUE)
    assert address not in {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]}


class Refusing:
    """A CloudTrail client without the permission."""

    def lookup_events(self, **_: Any) -> dict[str, Any]:
        raise ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}},
                          "LookupEvents")


def test_an_elastic_ip_is_not_released_when_its_use_cannot_be_checked() -> None:
    from opskit.actions import Action
    from resource_cleanup.finders import Candidate
    from resource_cleanup.inventory import Inventory
    from resource_cleanup.lifecycle import DELETE, confirm
    from resource_cleanup.reread import Rereader
    from resource_cleanup.settings import ADDRESS, CleanupConfig

    config = CleanupConfig.from_env({"AWS_REGION": REGION})
    now = datetime(2026, 11, 30, 5, tzinfo=UTC)
    ec2 = boto3.client("ec2")
    address = ec2.allocate_address(Domain="vpc")
    candidate = Candidate(ADDRESS, address["AllocationId"], "Elastic IP not associated", None,
                          {TAG: "2026-11-30"}, details={"public_ip": address["PublicIp"]})
    ec2.create_tags(Resources=[candidate.resource], Tags=[{"Key": TAG, "Value": "2026-11-30"}])
    rereader = Rereader(boto3.client("elbv2"), boto3.client("logs"), Refusing(), config, now,
                        Inventory(ec2, boto3.client("autoscaling"), REGION))
    fresh = rereader.reread(ADDRESS, [candidate])[candidate.resource]
    action = Action(candidate.resource, ADDRESS, DELETE, "idle", {}, candidate.tags)
    decided = confirm(action, candidate, fresh, now, config)
    assert decided.actions == []
    assert decided.failed == [(action, "not deleted: CloudTrail's event history could not be "
                                       "read (AccessDeniedException): a use since the mark "
                                       "cannot be ruled out")]


def test_a_launch_template_created_during_the_run_saves_the_snapshot(
        lambda_context: FakeLambdaContext, reports: list[dict[str, Any]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESOURCE_TYPES", "ebs-snapshot")
    ec2 = boto3.client("ec2")
    with time_machine.travel(LONG_AGO, tick=False):
        volume = ec2.create_volume(AvailabilityZone=AZ, Size=10)["VolumeId"]
        snapshot = ec2.create_snapshot(VolumeId=volume)["SnapshotId"]
        ec2.delete_volume(VolumeId=volume)
    run(lambda_context)
    assert ec2_tags(snapshot) == {TAG: "2026-11-30"}

    def template() -> None:  # a restore test starts from the snapshot
        ec2_backends[ACCOUNT][REGION].create_launch_template(
            "restore", "", {"BlockDeviceMappings": [
                {"DeviceName": "/dev/sdf", "Ebs": {"SnapshotId": snapshot}}]}, {})

    with after_first("DescribeLaunchTemplates", template):
        run(lambda_context, when=DUE)
    assert ec2_tags(snapshot) == {}
    (skipped,) = [a for a in actions_of(reports[-1], snapshot) if a["status"] == "skipped"]
    assert skipped["details"]["note"].startswith(
        "in use at the re-read: used by launch template restore (lt-")
