"""The cleanup on moto with a frozen clock: detection per type, mark -> grace -> delete -> cancel,
exemptions, the age guard, the savings estimate and API calls for a large account."""

from __future__ import annotations

from datetime import UTC, datetime

import boto3
import pytest
import time_machine

from tests.conftest import AlertInbox, ApiCalls, FakeLambdaContext
from tests.resource_cleanup.runs import TAG, ec2_tags, run
from tests.resource_cleanup.seed import AZ, LONG_AGO, sample_account

pytestmark = pytest.mark.usefixtures("live")


@pytest.fixture(autouse=True)
def _log_retention(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_RETENTION_PREFIXES", "/aws/lambda/")  # the seed's log groups


def test_first_run_marks_each_unused_type_and_deletes_nothing(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox, api_calls: ApiCalls) -> None:
    ids = sample_account()
    api_calls.reset()
    run(lambda_context)
    deletes = [op for (_, op) in api_calls.counts if op.startswith(("Delete", "Release",
                                                                    "Deregister", "Put"))]
    assert deletes == []
    for key in ("idle_volume", "idle_address", "orphan_snapshot", "idle_interface"):
        assert ec2_tags(ids[key]) == {TAG: "2026-11-30"}, key
    for key in ("used_volume", "used_address", "kept_snapshot"):
        assert TAG not in ec2_tags(ids[key]), key
    balancer_tags = boto3.client("elbv2").describe_tags(ResourceArns=[ids["idle_balancer"]])
    assert {t["Key"]: t["Value"] for t in balancer_tags["TagDescriptions"][0]["Tags"]} == {
        TAG: "2026-11-30"}
    assert boto3.client("logs").list_tags_for_resource(resourceArn=ids["log_group"])["tags"] == {
        TAG: "2026-11-30"}
    (report,) = alert_inbox.received()
    assert report["by_type"] == {
        "ebs-snapshot": {"mark-for-cleanup": 1}, "ebs-volume": {"mark-for-cleanup": 1},
        "elastic-ip": {"mark-for-cleanup": 1}, "load-balancer": {"mark-for-cleanup": 1},
        "log-group": {"mark-for-cleanup": 1}, "network-interface": {"mark-for-cleanup": 1},
        "stopped-instance": {"report-unused": 1}}
    stopped = next(a for a in report["actions"] if a["resource"] == ids["instance"])
    assert stopped["reason"] == "stopped since 2026-09-01"


def test_after_the_grace_period_marked_resources_are_deleted(
        lambda_context: FakeLambdaContext, alert_inbox: AlertInbox) -> None:
    ids = sample_account()
    run(lambda_context)
    run(lambda_context, when="2026-11-30T05:00:00Z")
    ec2 = boto3.client("ec2")
    volumes = {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    assert ids["idle_volume"] not in volumes
    assert ids["used_volume"] in volumes
    finals = ec2.describe_snapshots(Filters=[{"Name": "tag:opskit:final-snapshot-of",
                                              "Values": [ids["idle_volume"]]}])["Snapshots"]
    assert len(finals) == 1  # SNAPSHOT_BEFORE_DELETE: a last copy first
    addresses = {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]}
    assert addresses == {ids["used_address"]}
    assert boto3.client("elbv2").describe_load_balancers()["LoadBalancers"] == []
    groups = {g["logGroupName"]: g.get("retentionInDays")
              for g in boto3.client("logs").describe_log_groups()["logGroups"]}
    assert groups == {"/aws/lambda/forgotten": 30, "/aws/lambda/tidy": 14}
    reports = alert_inbox.received()
    assert reports[-1]["title"].startswith("Unused resources: 5 deleted, 1 log retention(s) "
                                           "set, 1 reported")


def test_before_the_date_nothing_is_deleted(lambda_context: FakeLambdaContext) -> None:
    ids = sample_account()
    run(lambda_context)
    run(lambda_context, when="2026-11-29T05:00:00Z")
    assert ids["idle_volume"] in {v["VolumeId"]
                                  for v in boto3.client("ec2").describe_volumes()["Volumes"]}


def test_removing_the_tag_cancels_the_deletion(lambda_context: FakeLambdaContext) -> None:
    ids = sample_account()
    run(lambda_context)
    ec2 = boto3.client("ec2")
    ec2.delete_tags(Resources=[ids["idle_volume"]], Tags=[{"Key": TAG}])
    run(lambda_context, when="2026-11-30T05:00:00Z")
    assert ids["idle_volume"] in {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    assert ec2_tags(ids["idle_volume"]) == {TAG: "2026-12-07"}  # marked again, a new grace


def test_a_resource_in_use_again_loses_its_mark(lambda_context: FakeLambdaContext) -> None:
    ids = sample_account()
    run(lambda_context)
    ec2 = boto3.client("ec2")
    ec2.start_instances(InstanceIds=[ids["instance"]])
    ec2.associate_address(AllocationId=ids["idle_address"], InstanceId=ids["instance"])
    run(lambda_context, when="2026-11-30T05:00:00Z")
    assert ec2_tags(ids["idle_address"]) == {}
    assert ids["idle_address"] in {a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]}


def test_exempt_and_young_resources_are_never_marked(lambda_context: FakeLambdaContext,
                                                     alert_inbox: AlertInbox) -> None:
    ec2 = boto3.client("ec2")
    with time_machine.travel(LONG_AGO, tick=False):
        exempt = ec2.create_volume(AvailabilityZone=AZ, Size=10, TagSpecifications=[
            {"ResourceType": "volume", "Tags": [{"Key": "opskit:exempt", "Value": "true"}]}])
    with time_machine.travel(datetime(2026, 11, 23, 3, 0, tzinfo=UTC), tick=False):
        young = ec2.create_volume(AvailabilityZone=AZ, Size=10)  # two hours before the run
    run(lambda_context)
    assert ec2_tags(exempt["VolumeId"]) == {"opskit:exempt": "true"}
    assert ec2_tags(young["VolumeId"]) == {}
    assert alert_inbox.received() == []  # skips alone are not news


def test_report_only_types_and_dry_run_change_nothing(lambda_context: FakeLambdaContext,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      api_calls: ApiCalls,
                                                      alert_inbox: AlertInbox) -> None:
    monkeypatch.setenv("REPORT_ONLY_TYPES", "ebs-volume")
    ids = sample_account()
    run(lambda_context)
    assert ec2_tags(ids["idle_volume"]) == {}
    (report,) = alert_inbox.received()
    assert report["by_type"]["ebs-volume"] == {"report-unused": 1}
    monkeypatch.setenv("DRY_RUN", "true")
    api_calls.reset()
    run(lambda_context)
    assert [op for (_, op) in api_calls.counts
            if not op.startswith(("Describe", "List", "Get", "Publish"))] == []


def test_the_savings_estimate_uses_the_price_table(lambda_context: FakeLambdaContext,
                                                   alert_inbox: AlertInbox) -> None:
    sample_account()
    run(lambda_context)
    (report,) = alert_inbox.received()
    saving = report["monthly_saving_usd"]
    # eu-west-1 is priced at 1.1 x us-east-1: 100 GiB gp3 = 8.80, an idle address = 3.96,
    # a 50 GiB snapshot = 2.75, an application load balancer = 18.07, an interface = 0.
    assert saving["by_type"] == {"ebs-volume": 8.8, "elastic-ip": 3.96, "ebs-snapshot": 2.75,
                                 "load-balancer": 18.07, "network-interface": 0.0,
                                 "log-group": 0.0, "stopped-instance": 0.0}
    assert saving["total"] == 33.58
    assert report["title"].endswith("; about $33.58/month")


def test_unknown_resource_types_are_refused_before_any_call(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        api_calls: ApiCalls) -> None:
    from opskit.config import ConfigError

    monkeypatch.setenv("RESOURCE_TYPES", "ebs-volume,rds-instance")
    with pytest.raises(ConfigError, match="RESOURCE_TYPES='ebs-volume,rds-instance' is invalid: "
                                          r"expected resource types among .* \('rds-instance'"):
        run(lambda_context)
    assert api_calls.total == 0


def test_a_large_account_costs_pages_and_one_tag_call_per_200(
        lambda_context: FakeLambdaContext, monkeypatch: pytest.MonkeyPatch,
        api_calls: ApiCalls) -> None:
    monkeypatch.setenv("RESOURCE_TYPES", "ebs-volume,elastic-ip")
    ec2 = boto3.client("ec2")
    with time_machine.travel(LONG_AGO, tick=False):
        for _ in range(450):
            ec2.create_volume(AvailabilityZone=AZ, Size=1)
        for _ in range(5):
            ec2.allocate_address(Domain="vpc")
    api_calls.reset()
    result = run(lambda_context)
    assert result["counts"]["done"] == 455
    assert api_calls.of("ec2", "DescribeVolumes") == 1  # moto answers in one page
    assert api_calls.of("ec2", "DescribeAddresses") == 1
    assert api_calls.of("ec2", "CreateTags") == 4  # 450 volumes in 3 batches, 5 addresses in 1


def test_the_last_copy_of_a_removed_volume_is_kept(lambda_context: FakeLambdaContext) -> None:
    ids = sample_account()
    run(lambda_context)
    run(lambda_context, when="2026-11-30T05:00:00Z")  # the volume goes, its last copy stays
    run(lambda_context, when="2027-02-01T05:00:00Z")  # long after SNAPSHOT_AGE_DAYS
    finals = boto3.client("ec2").describe_snapshots(Filters=[
        {"Name": "tag:opskit:final-snapshot-of", "Values": [ids["idle_volume"]]}])["Snapshots"]
    assert len(finals) == 1
    assert TAG not in {t["Key"] for t in finals[0].get("Tags", [])}


def test_an_unreadable_mark_starts_a_new_grace_period(lambda_context: FakeLambdaContext) -> None:
    ids = sample_account()
    ec2 = boto3.client("ec2")
    ec2.create_tags(Resources=[ids["idle_volume"]], Tags=[{"Key": TAG, "Value": "soon"}])
    run(lambda_context)
    assert ids["idle_volume"] in {v["VolumeId"] for v in ec2.describe_volumes()["Volumes"]}
    assert ec2_tags(ids["idle_volume"]) == {TAG: "2026-11-30"}
